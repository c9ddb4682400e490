from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.reviews.models import ConflictKind, Decision


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


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


class ReviewForm(FlaskForm):
    """Scores, justifications and comments come as score_<id>, justification_<id>,
    comment_location_<n>, comment_text_<n> (one pair per rubric criterion / comment row)."""
    summary = TextAreaField(_l("总体意见"), validators=[Optional(), Length(max=20000)])
    expected_state = HiddenField()


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
