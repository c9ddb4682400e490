from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.core import parsing
from portal.core.bulk import BulkForm
from portal.core.forms import EditForm, FiltersForm, IdField, choice_rules
from portal.ledger.models import MONEY_CATEGORIES, ProblemSource, ProblemState, RectificationType
from portal.ledger.operations import BULK_ACTIONS
from portal.ledger.queries import BUCKETS, SORTS

_date_msg = _l("日期格式应为 年-月-日。")


class ProblemFields(FlaskForm):
    """What a problem says, shared by listing one (ProblemForm) and correcting it (EditProblemForm)."""

    source_ref = StringField(_l("来源依据（文号等）"), validators=[Optional(), Length(max=200)])
    category = StringField(_l("问题类别"), validators=[DataRequired(_l("请填写问题类别。")), Length(max=60)])
    description = TextAreaField(_l("问题描述"), validators=[DataRequired(_l("请填写问题描述。")), Length(max=5000)])
    amount = StringField(_l("问题金额（元）"), validators=[Optional(), Length(max=30)])
    policy_basis = TextAreaField(_l("法规政策依据"), validators=[Optional(), Length(max=5000)])
    requirement = TextAreaField(_l("整改要求"), validators=[Optional(), Length(max=5000)])
    completion_standard = TextAreaField(_l("整改完成标准"), validators=[Optional(), Length(max=5000)])
    rect_type = SelectField(_l("整改类型"), choices=[])
    deadline = DateField(_l("整改时限"), validators=[DataRequired(_date_msg)])
    person_responsible = StringField(_l("整改责任人"), validators=[Optional(), Length(max=60)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rect_type.choices = RectificationType.choices()


class ProblemForm(ProblemFields):
    source = SelectField(_l("问题来源"), choices=[])
    year = IntegerField(_l("年度"), validators=[Optional(), NumberRange(2000, 2100, _l("年度不正确。"))])
    unit_id = SelectField(_l("责任单位"), coerce=int, choices=[])
    project_code = StringField(_l("项目编码（可选）"), validators=[Optional(), Length(max=40)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.source.choices = ProblemSource.choices()


class FromFindingsForm(FlaskForm):
    findings = SelectMultipleField(_l("评价发现的问题"), coerce=int, choices=[])
    rect_type = SelectField(_l("整改类型"), choices=[])
    deadline = DateField(_l("整改时限"), validators=[DataRequired(_date_msg)])
    requirement = TextAreaField(_l("整改要求（留空则采用评价建议）"), validators=[Optional(), Length(max=5000)])
    person_responsible = StringField(_l("整改责任人"), validators=[Optional(), Length(max=60)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rect_type.choices = RectificationType.choices()


class ProgressForm(FlaskForm):
    state = HiddenField()
    text = TextAreaField(_l("整改进展情况"), validators=[DataRequired(_l("请填写整改进展情况。")), Length(max=10000)])
    measures = TextAreaField(_l("已采取措施"), validators=[Optional(), Length(max=10000)])
    not_done_reason = TextAreaField(_l("未完成原因及下一步措施"), validators=[Optional(), Length(max=10000)])
    accountability = TextAreaField(_l("追责情况"), validators=[Optional(), Length(max=10000)])
    rules_improved = TextAreaField(_l("完善制度情况"), validators=[Optional(), Length(max=10000)])
    evidence_date = DateField(_l("佐证材料形成日期"), validators=[Optional()])
    files = MultipleFileField(_l("佐证材料"))
    rect_recovered = StringField(_l("追缴资金（元）"), validators=[Optional(), Length(max=30)])
    rect_returned = StringField(_l("归还原渠道（元）"), validators=[Optional(), Length(max=30)])
    rect_reallocated = StringField(_l("统筹盘活（元）"), validators=[Optional(), Length(max=30)])
    rect_disbursed = StringField(_l("加快拨付（元）"), validators=[Optional(), Length(max=30)])
    rect_adjusted = StringField(_l("调整账表（元）"), validators=[Optional(), Length(max=30)])
    rect_other = StringField(_l("其他（元）"), validators=[Optional(), Length(max=30)])

    def money(self) -> dict:
        return {f"rect_{k}": getattr(self, f"rect_{k}").data for k, _zh, _en in MONEY_CATEGORIES}

    def money_fields(self):
        return [getattr(self, f"rect_{k}") for k, _zh, _en in MONEY_CATEGORIES]


class ExtensionForm(FlaskForm):
    new_deadline = DateField(_l("申请延期至"), validators=[DataRequired(_date_msg)])
    reason = TextAreaField(_l("延期理由"), validators=[DataRequired(_l("请填写延期理由。")), Length(max=5000)])


class DecisionForm(FlaskForm):
    comment = TextAreaField(_l("审批意见"), validators=[Optional(), Length(max=5000)])


class VerifyForm(FlaskForm):
    state = HiddenField()
    decision = StringField(validators=[Length(max=20)])  # signoff | return (the view refuses any other)
    comment = TextAreaField(_l("核实意见 / 退回理由"), validators=[Optional(), Length(max=5000)])


class LongTermForm(FlaskForm):
    state = HiddenField()
    reason = TextAreaField(_l("转为长期整改的理由"), validators=[DataRequired(_l("请填写理由。")), Length(max=5000)])
    milestone_title = StringField(_l("第一个阶段目标"), validators=[Optional(), Length(max=200)])
    milestone_due = DateField(_l("阶段目标日期"), validators=[Optional()])


class MilestoneForm(FlaskForm):
    title = StringField(_l("阶段目标"), validators=[DataRequired(_l("请填写阶段目标。")), Length(max=200)])
    due_date = DateField(_l("日期"), validators=[DataRequired(_date_msg)])


class ImportForm(FlaskForm):
    file = FileField(_l("Excel 文件（.xlsx）"))


class SavedFilterForm(FlaskForm):
    name = StringField(_l("名称"), validators=[DataRequired(_l("请填写筛选名称。")), Length(max=60)])
    query = HiddenField()


class EditProblemForm(EditForm, ProblemFields):
    """The bureaus' correction of a problem; `lock_version` (EditForm) refuses a stale save."""


class LedgerBulkForm(BulkForm):
    """The ledger's bulk bar: the action, and the person or the deadline it sets."""

    action = StringField(_l("批量操作"), validators=[parsing.Parsed(
        parsing.parse_choice, choices=BULK_ACTIONS, label=_l("批量操作"))])
    person = StringField(_l("整改责任人"), validators=[Optional(), Length(max=60)])
    deadline = StringField(_l("整改时限"), validators=[Optional(), parsing.Parsed(
        parsing.parse_date, label=_l("整改时限"), required=False)])


class LedgerFiltersForm(FiltersForm):
    """The ledger's filters as posted by 导出全部 (hidden fields copied from the list): each is
    checked as the list's query string would be, and a tampered one is refused."""

    year = StringField(_l("年度"), validators=[Optional(), parsing.Parsed(parsing.parse_year, required=False)])
    unit = IdField(_l("责任单位"))
    department = IdField(_l("主管部门"))
    source = StringField(_l("问题来源"), validators=choice_rules([s.value for s in ProblemSource], _l("问题来源")))
    category = StringField(_l("问题类别"), validators=[Optional(), Length(max=60)])
    state = StringField(_l("状态"), validators=choice_rules([s.value for s in ProblemState], _l("状态")))
    bucket = StringField(_l("时限"), validators=choice_rules(BUCKETS, _l("时限")))
    q = StringField(_l("关键词"), validators=[Optional(), Length(max=100)])
    sort = StringField(_l("排序"), validators=choice_rules([p + s for s in SORTS for p in ("", "-")], _l("排序")))
