"""Forms of joint oversight (WTForms; the operations check the rules again)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.core import parsing
from portal.core.forms import EditForm, choice_rules
from portal.oversight.models import PackageKind, TeamRole


class MemberForm(FlaskForm):
    user_id = SelectField(_l("人员"), coerce=str, validators=[DataRequired(_l("请选择人员。"))])
    role = SelectField(_l("组内角色"), choices=[(r.value, r.label) for r in TeamRole],
                       validators=[DataRequired(_l("请选择组内角色。"))])


class OpinionForm(FlaskForm):
    text = TextAreaField(_l("意见"), validators=[DataRequired(_l("请填写意见。")), Length(max=5000)])


class FinaliseForm(EditForm):
    conclusion = TextAreaField(_l("联合评价意见"), validators=[DataRequired(_l("请填写联合评价意见。")),
                                                            Length(max=5000)])


class ComputeForm(FlaskForm):
    year = IntegerField(_l("考核年度"), validators=[DataRequired(_l("请填写年度。")),
                                                NumberRange(2000, 2100, _l("请填写正确的年度。"))])


class DatesForm(EditForm):
    budget_approved_on = DateField(_l("预算批复日期"), validators=[DataRequired(_l("请填写预算批复日期。"))])
    monitoring_due_on = DateField(_l("1–7 月监控报送截止日"), validators=[DataRequired(_l("请填写监控报送截止日。"))])
    disclosure_due_on = DateField(_l("绩效目标公开截止日"), validators=[DataRequired(_l("请填写公开截止日。"))])


MAX_SYSTEM_ROWS = 40  # rows the indicator system's form may carry (its indicators and spare rows)


def system_form(**kwargs) -> DatesForm:
    """The indicator system: its dates and a table of rows name-N, method-N, weight-N,
    guidance-N (N from 0; `rows` says how many the page showed). Each cell is checked here (its
    length, a known scoring method); the rows as a whole (total 100, no repeated name) by the
    operation."""
    from portal.oversight import indicators

    methods = [indicators.MANUAL, *indicators.AUTOMATIC]
    fields = {"rows": StringField(validators=[Optional(), parsing.Parsed(
        parsing.parse_int, label=_l("行数"), lo=0, hi=MAX_SYSTEM_ROWS, required=False)])}
    for n in range(MAX_SYSTEM_ROWS):
        fields[f"name-{n}"] = StringField(_l("第 %(n)s 行指标名称", n=n + 1), validators=[Length(max=100)])
        fields[f"method-{n}"] = StringField(_l("第 %(n)s 行计分方式", n=n + 1),
                                            validators=choice_rules(methods, _l("计分方式")))
        fields[f"weight-{n}"] = StringField(_l("第 %(n)s 行分值", n=n + 1), validators=[Length(max=20)])
        fields[f"guidance-{n}"] = StringField(_l("第 %(n)s 行评分标准", n=n + 1), validators=[Length(max=2000)])
    return type("SystemForm", (DatesForm,), fields)(**kwargs)


def system_rows(form) -> list[dict]:
    """The rows the page showed, as the operation reads them."""
    count = getattr(form.rows, "parsed", None) or 0
    return [{key: form[f"{key}-{n}"].data or "" for key in ("name", "method", "weight", "guidance")}
            for n in range(count)]


class PublishForm(EditForm):
    """通报: the version of the year's assessment the page showed (a stale page is refused)."""


class ScoreForm(FlaskForm):
    indicator_id = StringField(validators=[DataRequired()])
    score = StringField(_l("得分"), validators=[DataRequired(_l("请填写得分。")), Length(max=20)])
    note = TextAreaField(_l("评分说明"), validators=[Optional(), Length(max=2000)])


class BuildForm(FlaskForm):
    year = IntegerField(_l("年度"), validators=[DataRequired(_l("请填写年度。")),
                                              NumberRange(2000, 2100, _l("请填写正确的年度。"))])
    kind = SelectField(_l("材料类别"), choices=[(k.value, k.label) for k in PackageKind])


class SubmitForm(EditForm):
    note = TextAreaField(_l("报送说明"), validators=[Optional(), Length(max=2000)])
