from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import DateField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.conference.models import ActionState, DocumentKind
from portal.conference.operations import ACTION_MACHINE
from portal.core import parsing
from portal.core.bulk import BulkForm
from portal.core.forms import EditForm


class MeetingForm(EditForm):
    held_on = DateField(_l("会议日期"), validators=[DataRequired(_l("请填写会议日期（年-月-日）。"))])
    place = StringField(_l("会议地点"), validators=[DataRequired(_l("请填写会议地点。")), Length(max=200)])
    convening_org_id = SelectField(_l("召集单位"), coerce=int)
    attendee_ids = SelectMultipleField(_l("出席人员"), coerce=int)
    agenda = TextAreaField(_l("会议议题（每行一项）"), validators=[Length(max=5000)])
    minutes = TextAreaField(_l("会议纪要（Markdown）"), validators=[Length(max=200_000)])
    distribution = StringField(_l("分送"), validators=[Length(max=500)])


class ActionForm(EditForm):
    text = TextAreaField(_l("议定事项"), validators=[DataRequired(_l("请填写议定事项内容。")), Length(max=5000)])
    owner_org_id = SelectField(_l("牵头单位"), coerce=int)
    owner_user_id = SelectField(_l("责任人"), coerce=int)
    due_date = DateField(_l("完成时限"), validators=[Optional()])


class TransitionForm(FlaskForm):
    """A transition button of an action: which step, the state the page showed (a stale page is
    refused by the machine) and the comment."""

    action = StringField(_l("操作"), validators=[parsing.Parsed(
        parsing.parse_choice, choices=[t.action for t in ACTION_MACHINE.transitions], label=_l("操作"))])
    state = StringField(_l("状态"), validators=[Optional(), parsing.Parsed(
        parsing.parse_choice, choices=ActionState, label=_l("状态"))])
    comment = TextAreaField(_l("说明"), validators=[Length(max=5000)])


class ActionBulkForm(BulkForm):
    """The action list's bulk bar: one step of the state machine for the ticked actions."""

    action = StringField(_l("批量操作"), validators=[parsing.Parsed(
        parsing.parse_choice, choices=[t.action for t in ACTION_MACHINE.transitions], label=_l("批量操作"))])


class NoteForm(FlaskForm):
    text = TextAreaField(_l("进展情况"), validators=[DataRequired(_l("请填写进展情况。")), Length(max=5000)])


class LinkForm(FlaskForm):
    record_type = SelectField(_l("记录类型"))
    record_id = StringField(_l("记录编号"), validators=[DataRequired(_l("请填写关联记录的编号（数字）。")),
                                                     Length(max=20)])


class DocumentForm(EditForm):
    title = StringField(_l("资料标题"), validators=[DataRequired(_l("请填写资料标题。")), Length(max=300)])
    kind = SelectField(_l("资料类型"), choices=[], validators=[DataRequired(_l("请选择资料类型。"))])
    year = IntegerField(_l("年度"), validators=[DataRequired(_l("请填写年度。")),
                                                NumberRange(2000, 2100, _l("请填写正确的年度。"))])
    project_ids = SelectMultipleField(_l("相关项目"), coerce=int)
    unit_ids = SelectMultipleField(_l("相关单位"), coerce=int)
    note = TextAreaField(_l("说明"), validators=[Length(max=5000)])
    files = MultipleFileField(_l("资料文件"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = DocumentKind.choices()


class PlanItemForm(EditForm):
    year = IntegerField(_l("年度"), validators=[DataRequired(_l("请填写年度。")),
                                                NumberRange(2000, 2100, _l("请填写正确的年度。"))])
    title = StringField(_l("计划事项"), validators=[Length(max=300)])
    project_id = SelectField(_l("项目"), coerce=int)
    unit_id = SelectField(_l("单位"), coerce=int)
    note = StringField(_l("备注"), validators=[Length(max=1000)])
