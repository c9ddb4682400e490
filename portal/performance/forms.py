"""Forms of the performance pages (CSRF via Flask-WTF; rules live in operations)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.performance.models import BudgetType, ProjectKind


class ProjectForm(FlaskForm):
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
