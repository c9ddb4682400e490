from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from portal.core import parsing
from portal.core.bulk import BulkForm
from portal.core.forms import EditForm
from portal.reviews.models import ConflictKind, Decision


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class EvaluationsBulkForm(BulkForm):
    """The evaluations list's bulk bar: 建立报告 for the ticked evaluations."""

    action = StringField(_l("批量操作"), validators=[Optional(), parsing.Parsed(
        parsing.parse_choice, choices=("commission",), label=_l("批量操作"))])


class ProfileForm(FlaskForm):
    qualifications = TextAreaField(_l("资质情况"), validators=[Optional(), Length(max=5000)])
    credit_code = StringField(_l("统一社会信用代码"), validators=[Optional(), Length(max=40)])
    contact_person = StringField(_l("联系人"), validators=[Optional(), Length(max=60)])
    contact_phone = StringField(_l("联系电话"), validators=[Optional(), Length(max=40)])
    contact_email = StringField(_l("电子邮箱"), validators=[Optional(), Length(max=200)])
    address = StringField(_l("地址"), validators=[Optional(), Length(max=200)])


class PoolForm(FlaskForm):
    agency_ids = MultiCheckboxField(_l("入库机构"), coerce=int, choices=[])


class DrawForm(FlaskForm):
    pool_ids = MultiCheckboxField(_l("抽签范围"), coerce=int, choices=[])
    witnesses = StringField(_l("监督人（见证人）"), validators=[DataRequired(_l("请填写监督人（见证人）。")),
                                                          Length(max=500)])
    reason = TextAreaField(_l("重新抽签理由"), validators=[Optional(), Length(max=2000)])


class CommissionForm(FlaskForm):
    title = StringField(_l("报告标题"), validators=[Optional(), Length(max=200)])
    due_date = DateField(_l("提交期限"), validators=[Optional()])


class UploadForm(FlaskForm):
    file = FileField(_l("报告文件（PDF 或 Word .docx）"))
    note = TextAreaField(_l("修改说明"), validators=[Optional(), Length(max=5000)])
    expected_state = HiddenField()


class OpenRoundForm(FlaskForm):
    reviewer_ids = MultiCheckboxField(_l("评审人员"), coerce=int, choices=[])
    lead_id = SelectField(_l("牵头人"), coerce=int, choices=[])
    deadline = DateField(_l("评审截止日期"), validators=[DataRequired(_l("请填写评审截止日期。"))])
    rubric_id = SelectField(_l("评分表"), coerce=int, choices=[], validate_choice=False)
    expected_state = HiddenField()


class AddReviewerForm(FlaskForm):
    user_id = SelectField(_l("补充评审人员"), coerce=int, choices=[])


class DeclareForm(FlaskForm):
    conflict = SelectField(_l("利益冲突"), choices=[("", _l("不存在利益冲突"))] + [
        (k.value, k.zh) for k in ConflictKind])
    note = TextAreaField(_l("说明"), validators=[Optional(), Length(max=2000)])
    expected_state = HiddenField()


class EditReportForm(EditForm):
    title = StringField(_l("报告标题"), validators=[DataRequired(_l("请填写报告标题。")), Length(max=200)])
    due_date = DateField(_l("提交期限"), validators=[Optional()])


class ReviewForm(EditForm):
    """Scores, justifications and comments come as score_<id>, justification_<id>,
    comment_location_<n>, comment_text_<n> (one pair per rubric criterion / comment row);
    `lock_version` is the version of the review the page was built on (two tabs, one reviewer).
    The rows are checked by `review_rows_form()`."""
    summary = TextAreaField(_l("总体意见"), validators=[Optional(), Length(max=20000)])
    expected_state = HiddenField()
    action = StringField(validators=[Optional(), Length(max=20)])


MAX_COMMENT_ROWS = 50  # 批注 rows one save keeps


class ReviewRowsForm(FlaskForm):
    """The rows of a submitted review (fields added per rubric by `review_rows_form()`)."""

    class Meta:
        csrf = False  # part of the ReviewForm's request, which carries the token

    def scores(self, criteria) -> dict:
        """Criterion id → (score text, justification), as operations.save_review takes them."""
        return {c.id: (self[f"score_{c.id}"].data or "", self[f"justification_{c.id}"].data or "")
                for c in criteria}

    def comments(self) -> list[tuple[str, str, str, str]]:
        """The comment rows that were sent, in order, as (location, text, kind, criterion id)
        (a row with none of its fields sent is left out; gaps in the numbering are fine: the
        page's script renumbers, a removed row simply is not sent)."""
        rows = []
        for i in range(MAX_COMMENT_ROWS):
            location, text = self[f"comment_location_{i}"].data, self[f"comment_text_{i}"].data
            kind, criterion = self[f"comment_kind_{i}"].data, self[f"comment_criterion_{i}"].data
            if location is not None or text is not None or criterion is not None:
                rows.append((location or "", text or "", kind or "", criterion or ""))
        return rows


def review_rows_form(criteria, **kwargs) -> ReviewRowsForm:
    """A score and a justification per criterion of the round's rubric and the comment rows,
    each with its length limit (the score itself is checked by operations.parse_score against
    the criterion's weight)."""
    fields = {}
    for c in criteria:
        fields[f"score_{c.id}"] = StringField(c.name, validators=[Optional(), Length(
            max=20, message=_l("得分须为数字。"))])
        fields[f"justification_{c.id}"] = TextAreaField(c.name, validators=[Optional(), Length(max=5000)])
    for i in range(MAX_COMMENT_ROWS):
        fields[f"comment_location_{i}"] = StringField(_l("章节或页码"), validators=[Optional(), Length(max=100)])
        fields[f"comment_text_{i}"] = TextAreaField(_l("批注内容"), validators=[Optional(), Length(max=5000)])
        fields[f"comment_kind_{i}"] = StringField(_l("类型"), validators=[Optional(), Length(max=20)])
        fields[f"comment_criterion_{i}"] = StringField(_l("所涉评分标准"), validators=[
            Optional(), Regexp(r"^\d{1,9}$", message=_l("所涉评分标准无效。"))])
    return type("RubricReviewRowsForm", (ReviewRowsForm,), fields)(**kwargs)


class OpinionForm(FlaskForm):
    opinion = TextAreaField(_l("合议意见（Markdown）"), validators=[Optional(), Length(max=50000)])
    decision = SelectField(_l("拟定结论"), choices=[("", _l("请选择"))] + [(d.value, d.zh) for d in Decision])
    expected_state = HiddenField()


class SendBackForm(FlaskForm):
    comment = TextAreaField(_l("退回理由"), validators=[Optional(), Length(max=5000)])
    expected_state = HiddenField()


class RubricForm(FlaskForm):
    name = StringField(_l("评分表名称"), validators=[DataRequired(_l("请填写评分表名称。")), Length(max=100)])
    criteria = TextAreaField(_l("评分标准（每行“名称 权重”）"), validators=[Optional(), Length(max=5000)])


class EditRubricForm(EditForm):
    name = StringField(_l("评分表名称"), validators=[DataRequired(_l("请填写评分表名称。")), Length(max=100)])
    criteria = TextAreaField(_l("评分标准（每行“名称 权重”）"), validators=[Optional(), Length(max=5000)])


class LedgerForm(FlaskForm):
    deadline = DateField(_l("整改时限"), validators=[DataRequired(_l("请填写有效的整改时限。"))])
