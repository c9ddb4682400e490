"""Forms of the performance pages (CSRF via Flask-WTF; rules live in operations)."""
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.core import parsing
from portal.core.bulk import BulkForm
from portal.core.forms import EditForm, FiltersForm, IdField, choice_rules
from portal.performance.models import BudgetType, Grade, Operator, ProjectKind, StandardSource
from portal.performance.queries import AMOUNT_BANDS, SORTS


class ProjectForm(EditForm):
    """New and edit; on edit the hidden lock_version is the project's version the form was built on."""

    code = StringField(_l("项目编码"), validators=[DataRequired(_l("请填写项目编码。")), Length(max=40)])
    name = StringField(_l("项目名称"), validators=[DataRequired(_l("请填写项目名称。")), Length(max=200)])
    year = StringField(_l("年度"), validators=[DataRequired(_l("请填写年度。"))])
    kind = SelectField(_l("项目类型"), choices=[])
    budget_type = SelectField(_l("预算类型"), choices=[])
    unit_id = SelectField(_l("责任单位"), coerce=int, choices=[])
    initial_budget = StringField(_l("年初预算数（元）"), validators=[Optional()])
    annual_budget = StringField(_l("全年预算数（元）"), validators=[Optional()])
    executed = StringField(_l("全年执行数（元）"), validators=[Optional()])
    description = TextAreaField(_l("项目概况"), validators=[Optional()])

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = ProjectKind.choices()
        self.budget_type.choices = BudgetType.choices()
        self.unit_id.choices = [(u.id, u.name) for u in units]


class StopForm(FlaskForm):
    reason = TextAreaField(_l("终止理由"), validators=[DataRequired(_l("请填写终止理由。"))])


class LibraryItemForm(EditForm):
    """One library indicator (指标库): the words and the suggested value; its levels and operator
    stay as imported (a different indicator is a new row)."""

    direction = StringField(_l("支出方向"), validators=[Optional(), Length(max=100)])
    name = StringField(_l("三级指标"), validators=[DataRequired(_l("请填写三级指标名称。")), Length(max=200)])
    suggested_value = StringField(_l("建议指标值"), validators=[Optional(), Length(max=100)])
    unit = StringField(_l("度量单位"), validators=[Optional(), Length(max=20)])
    source = SelectField(_l("指标值确定依据"), choices=[])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.source.choices = StandardSource.choices()


# ---- the goal editor, goal review, monitoring, evaluation and settings forms ------------------
# These pages post fields named after their rows (v12, e12, t12 … per indicator; a7, s7 … per
# evaluation line), so their forms are built per record by the factories below. The values are
# checked with the edge parsers (portal/core/parsing.py); the rules that need the database
# (levels that belong together, weights adding up, states) stay in operations.py.

MEASURE_MAX = Decimal("99999999999999.9999")  # Numeric(18, 4): indicator values and progress
WEIGHT_MAX = Decimal(100)


def _limit(n: int) -> Length:
    return Length(max=n, message=_l("最多 %(n)s 个字。", n=n))


def _measure(label, *, positive: bool = True):
    return parsing.Parsed(parsing.parse_amount, label=label, lo=Decimal(0) if positive else -MEASURE_MAX,
                          hi=MEASURE_MAX, places=4)


def _amount(label, **options):
    return parsing.Parsed(parsing.parse_amount, label=label, lo=Decimal(0), **options)


class OverallGoalForm(EditForm):
    overall_goal = TextAreaField(_l("总体目标"), validators=[_limit(5000)])


class IndicatorRowForm(EditForm):
    """One row of the indicator table (added, or edited in place)."""

    level1 = StringField(_l("一级指标"), validators=[_limit(40)])
    level2 = StringField(_l("二级指标"), validators=[_limit(40)])
    name = StringField(_l("三级指标"), validators=[_limit(200)])
    operator = StringField(_l("运算符号"), validators=[_limit(40)])
    target_value = StringField(_l("指标值"), validators=[_limit(40)])
    target_text = StringField(_l("指标值"), validators=[_limit(200)])
    unit = StringField(_l("度量单位"), validators=[_limit(20)])
    weight = StringField(_l("分值"), validators=[_limit(20)])
    library_id = StringField(_l("指标库指标"), validators=[parsing.Parsed(parsing.parse_id, label=_l("指标库指标"),
                                                                         required=False)])

    def validate_target_value(self, field):
        if self.operator.data != Operator.QUALITATIVE.value and (field.data or "").strip():
            _measure(_l("指标值"), positive=False)(self, field)

    def validate_weight(self, field):
        if (field.data or "").strip():
            parsing.Parsed(parsing.parse_amount, label=_l("分值"), lo=Decimal(0), hi=WEIGHT_MAX)(self, field)

    def row(self) -> dict:
        """The row as operations.row_errors / add_indicator take it."""
        return {k: self[k].data or "" for k in ("level1", "level2", "name", "operator", "target_value",
                                                "target_text", "unit", "weight")}


class CopyLastYearForm(EditForm):
    """复制上年指标: the goal's version the table was built on (a repeat is caught by the form key)."""


class StateForm(FlaskForm):
    """A transition button: the state the page showed (a stale page is refused)."""

    state = StringField(validators=[_limit(40)])


class GoalReviewForm(StateForm):
    decision = SelectField(_l("审核结论"), choices=[("approve", _l("批复")), ("return", _l("退回修改"))],
                           validate_choice=False, validators=[_limit(20)])
    grade = StringField(_l("审核等级"), validators=[_limit(20)])
    comment = TextAreaField(_l("审核意见"), validators=[_limit(5000)])


class ProjectBulkForm(BulkForm):
    """The project list's bulk bar: 批复 or 退回修改 the submitted goals of the ticked projects,
    with one grade and one opinion (a return needs the opinion)."""

    action = StringField(_l("批量操作"), validators=[parsing.Parsed(
        parsing.parse_choice, choices=("approve", "return"), label=_l("批量操作"))])
    grade = StringField(_l("审核等级"), validators=[parsing.Parsed(
        parsing.parse_choice, choices=Grade, label=_l("审核等级"))])
    comment = TextAreaField(_l("审核意见"), validators=[_limit(5000)])


class ReviseGoalForm(FlaskForm):
    reason = TextAreaField(_l("调整理由"), validators=[_limit(5000)])


class MonitoringForm(FlaskForm):
    month = StringField(_l("截止月份"), validators=[parsing.Parsed(parsing.parse_month)])
    executed = StringField(_l("执行数"), validators=[_amount(_l("执行数"), required=True)])
    note = TextAreaField(_l("说明"), validators=[_limit(5000)])

    def values(self, indicators) -> dict[int, dict]:
        """Indicator id → the fields operations.save_monitoring takes."""
        field = self._fields.get
        return {ind.id: {"value_so_far": _data(field(f"v{ind.id}")), "expected": _data(field(f"e{ind.id}")),
                         "tier": _data(field(f"t{ind.id}")), "reason": _data(field(f"r{ind.id}"))}
                for ind in indicators}


def _data(field):
    return field.data if field is not None else None


def monitoring_form(indicators, **kwargs) -> MonitoringForm:
    """The monitoring form of one approved goal: progress, expected value, tier and reason per row."""
    fields = {}
    for ind in indicators:
        label = _l("“%(n)s”", n=ind.name)
        if ind.is_qualitative:
            fields[f"t{ind.id}"] = StringField(label, validators=[_limit(20)])
        else:
            fields[f"v{ind.id}"] = StringField(label, validators=[_measure(_l("已完成值"), positive=False)])
            fields[f"e{ind.id}"] = StringField(label, validators=[_measure(_l("全年预计值"), positive=False)])
        fields[f"r{ind.id}"] = StringField(label, validators=[_limit(2000)])
    return type("MonitoringRowsForm", (MonitoringForm,), fields)(**kwargs)


class EvaluationForm(EditForm):
    executed = StringField(_l("全年执行数"), validators=[_amount(_l("全年执行数"))])
    conclusion = TextAreaField(_l("综合评价结论"), validators=[_limit(20000)])
    suggestions = TextAreaField(_l("建议"), validators=[_limit(20000)])
    complete = BooleanField()


def evaluation_form(lines, **kwargs) -> EvaluationForm:
    """The evaluation page's form: actual value, tier, 不适用 and reason per self-evaluation line,
    or the score of each framework part (bounded by its weight in operations)."""
    fields = {}
    for line in lines:
        label = _l("“%(n)s”", n=line.label)
        fields[f"a{line.id}"] = StringField(label, validators=[_measure(_l("实际完成值"))])
        fields[f"t{line.id}"] = StringField(label, validators=[_limit(20)])
        fields[f"na{line.id}"] = BooleanField(label)
        fields[f"r{line.id}"] = StringField(label, validators=[_limit(2000)])
        fields[f"s{line.id}"] = StringField(label, validators=[parsing.Parsed(
            parsing.parse_amount, label=_l("得分"), lo=Decimal(0), hi=WEIGHT_MAX)])
    return type("EvaluationLinesForm", (EvaluationForm,), fields)(**kwargs)


class StartEvaluationForm(FlaskForm):
    mode = StringField(_l("评价方式"), validators=[_limit(20)])
    agency_id = StringField(_l("第三方机构"), validators=[parsing.Parsed(parsing.parse_id, label=_l("第三方机构"),
                                                                         required=False)])


class FindingForm(FlaskForm):
    category = StringField(_l("问题类别"), validators=[_limit(60)])
    description = TextAreaField(_l("问题描述"), validators=[_limit(5000)])
    amount = StringField(_l("问题金额"), validators=[_amount(_l("问题金额"))])
    suggestion = TextAreaField(_l("建议"), validators=[_limit(5000)])


THRESHOLD_LABELS = {"red_below": _l("红灯阈值"), "green_from": _l("绿灯起点"), "blue_from": _l("蓝灯起点"),
                    "lag_points": _l("执行滞后预警")}


def settings_form(parts, grades, version_fields, **kwargs) -> FlaskForm:
    """The administrator's rules page: thresholds, framework weights and result rules, each a
    bounded number; the versions of the three settings rows it was built on."""
    def percent(label):
        return parsing.Parsed(parsing.parse_amount, label=label, lo=Decimal(-100), hi=Decimal(1000))

    fields = {key: StringField(label, validators=[percent(label)]) for key, label in THRESHOLD_LABELS.items()}
    fields.update({f"w_{part}": StringField(label, validators=[parsing.Parsed(
        parsing.parse_amount, label=_l("分值"), lo=Decimal(0), hi=WEIGHT_MAX)]) for part, label in parts})
    for g in grades:
        fields[f"r_{g.value}_percent"] = StringField(g.label, validators=[percent(_l("预算调整比例"))])
        fields[f"r_{g.value}_none"] = BooleanField(g.label)
        fields[f"r_{g.value}_priority"] = BooleanField(g.label)
        fields[f"r_{g.value}_text"] = StringField(g.label, validators=[_limit(60)])
    fields.update({name: StringField(validators=[_limit(20)]) for name in version_fields.values()})
    return type("SettingsForm", (FlaskForm,), fields)(**kwargs)


class RowActionForm(EditForm):
    """Delete or move a row: the row's version the table was built on, and the direction."""

    direction = StringField(validators=[_limit(10)])


class ProjectFiltersForm(FiltersForm):
    """The project list's filters as posted by 导出全部 (the list's hidden fields)."""

    year = StringField(_l("年度"), validators=[Optional(), parsing.Parsed(parsing.parse_year, required=False)])
    department = IdField(_l("主管部门"))
    unit = IdField(_l("责任单位"))
    kind = StringField(_l("项目类型"), validators=choice_rules([k.value for k in ProjectKind], _l("项目类型")))
    budget_type = StringField(_l("预算类型"), validators=choice_rules([b.value for b in BudgetType], _l("预算类型")))
    band = StringField(_l("金额区间"), validators=choice_rules(AMOUNT_BANDS, _l("金额区间")))
    grade = StringField(_l("评价等级"), validators=choice_rules([g.value for g in Grade], _l("评价等级")))
    warning = StringField(_l("预警"), validators=choice_rules(("0", "1"), _l("预警")))
    q = StringField(_l("关键词"), validators=[Optional(), Length(max=200)])
    sort = StringField(_l("排序"), validators=choice_rules(SORTS, _l("排序")))
    dir = StringField(_l("排序方向"), validators=choice_rules(("asc", "desc"), _l("排序方向")))
