from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.core.bulk import BulkForm
from portal.publishing.models import PublicationKind


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SelectionForm(FlaskForm):
    class Meta:
        csrf = False  # the selection is a GET (preview permalink); publishing re-posts it with a token

    year = IntegerField(_l("年度"), validators=[DataRequired(_l("请填写年度。")), NumberRange(2000, 2100)])
    department = SelectField(_l("主管部门"), coerce=int, validators=[Optional()])
    kinds = MultiCheckboxField(_l("公开内容"), choices=[(k.value, k.label) for k in PublicationKind])
    note = TextAreaField(_l("更正说明"), validators=[Optional(), Length(max=2000)],
                         description=_l("重新公开已变化的内容时必填，将向公众公示。"))


class WithdrawForm(FlaskForm):
    note = TextAreaField(_l("撤回说明"), validators=[DataRequired(_l("请填写撤回说明（将向公众公示）。")), Length(max=2000)])


class SnapshotBulkForm(BulkForm):
    """The published list's bulk bar: 撤回 the ticked snapshots with one public note."""

    comment = TextAreaField(_l("撤回说明"), validators=[Optional(), Length(max=2000)])


def figure_kinds() -> list[tuple[str, str]]:
    from portal.core.registry import YEAR_FIGURES

    return [(f.name, str(f.label)) for f in YEAR_FIGURES.values()]


class FiguresForm(FlaskForm):
    """公开年度统计: which figures, which year, and the public note of a correction."""
    kind = SelectField(_l("统计内容"), validators=[DataRequired(_l("请选择统计内容。"))])
    year = IntegerField(_l("年度"), validators=[DataRequired(_l("请填写年度。")), NumberRange(2000, 2100)])
    note = TextAreaField(_l("更正说明"), validators=[Optional(), Length(max=2000)],
                         description=_l("重新公开已变化的统计时必填，将向公众公示。"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = figure_kinds()
