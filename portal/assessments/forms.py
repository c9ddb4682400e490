from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.assessments.models import DIMENSION_LABELS, DIMENSIONS, Method
from portal.core.forms import EditForm, PressedField, TextListField
from portal.performance.models import Level1

INDICATOR_ROWS = 8  # rows offered on the form (blank ones are dropped)
MAX_INDICATOR_ROWS = 100  # rows a submitted form may carry (the page adds rows in the browser)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ApplicationForm(EditForm):
    project_id = SelectField(_l("项目"), coerce=int, choices=[], validate_choice=False)
    basis = TextAreaField(_l("立项依据"), validators=[Optional(), Length(max=20000)])
    plan = TextAreaField(_l("实施方案"), validators=[Optional(), Length(max=20000)])
    costing = TextAreaField(_l("资金测算"), validators=[Optional(), Length(max=20000)])
    overall_goal = TextAreaField(_l("总体目标（草案）"), validators=[Optional(), Length(max=5000)])
    requested_amount = StringField(_l("申请金额（元）"), validators=[Optional(), Length(max=40)])
    # the indicator table: one column per name, a row per position (blank rows are dropped by
    # the operation, which checks each row's level, texts and weight)
    ind_level1 = TextListField(_l("一级指标"), max_items=MAX_INDICATOR_ROWS, choices=[lv.value for lv in Level1])
    ind_name = TextListField(_l("三级指标"), max_length=200, max_items=MAX_INDICATOR_ROWS)
    ind_target = TextListField(_l("指标值"), max_length=100, max_items=MAX_INDICATOR_ROWS)
    ind_weight = TextListField(_l("分值"), max_length=20, max_items=MAX_INDICATOR_ROWS)

    def indicator_rows(self) -> list[dict]:
        keys = ("level1", "name", "target", "weight")
        columns = [getattr(self, f"ind_{k}").data or [] for k in keys]
        return [dict(zip(keys, values, strict=False)) for values in zip(*columns, strict=False)]


class AttachForm(FlaskForm):
    file = FileField(_l("附件（可行性研究报告、测算明细等）"))


class StepForm(FlaskForm):
    expected_state = HiddenField()
    comment = TextAreaField(_l("理由"), validators=[Optional(), Length(max=5000)])


class ArrangeForm(FlaskForm):
    expected_state = HiddenField()
    method = SelectField(_l("评估方式"), choices=Method.choices)
    assessor_ids = MultiCheckboxField(_l("评审专家"), coerce=int, choices=[])
    pool_ids = MultiCheckboxField(_l("抽签范围（本年度入库机构）"), coerce=int, choices=[])
    witnesses = StringField(_l("监督人（见证人）"), validators=[Optional(), Length(max=500)])


class ConcludeForm(FlaskForm):
    expected_state = HiddenField()
    recommended_amount = StringField(_l("建议安排金额（元）"), validators=[Optional(), Length(max=40)])
    opinion = TextAreaField(_l("评估意见"), validators=[DataRequired(_l("请填写评估意见。")), Length(max=20000)])


class SheetForm(EditForm):
    comment = TextAreaField(_l("评估意见"), validators=[Optional(), Length(max=20000)])
    submit = PressedField()  # 提交评分 (else 保存草稿)


for _dim in DIMENSIONS:
    setattr(SheetForm, f"score_{_dim}", StringField(DIMENSION_LABELS[_dim], validators=[Optional(), Length(max=20)]))


class RulesForm(EditForm):
    threshold = StringField(_l("评估金额起点（元）"), validators=[Optional(), Length(max=40)])
    from_year = StringField(_l("施行年度（起）"), validators=[Optional(), Length(max=4)])
    support_from = StringField(_l("予以支持：得分不低于"), validators=[Optional(), Length(max=10)])
    adjust_from = StringField(_l("调整后支持：得分不低于"), validators=[Optional(), Length(max=10)])


for _dim in DIMENSIONS:
    setattr(RulesForm, f"w_{_dim}", StringField(DIMENSION_LABELS[_dim], validators=[Optional(), Length(max=10)]))
