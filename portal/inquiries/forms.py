"""Forms for letters. Requested items are rows (one input per item, rows added in the browser)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    MultipleFileField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional, ValidationError

from portal.core import parsing
from portal.core.bulk import BulkForm
from portal.core.forms import EditForm, TextListField
from portal.inquiries.models import LetterState, Marking, Urgency
from portal.inquiries.operations import CLASSIFIED, MAX_ITEM_CHARS, MAX_ITEMS

CLASSIFIED_MESSAGE = _l("涉密材料不得通过本平台办理，请按保密规定线下传递。")


def _state_field():
    """The state the page showed (a stale page is refused by the operation): a state or nothing."""
    return StringField(validators=[Optional(), parsing.Parsed(parsing.parse_choice, choices=LetterState,
                                                                 label=_l("状态"))])


class LetterForm(EditForm):
    addressee_org_id = SelectField(_l("主送机关"), coerce=int, validate_choice=False)
    title = StringField(_l("标题"), validators=[Length(max=200)])
    urgency = SelectField(_l("紧急程度"), validate_choice=False, default=Urgency.NORMAL.value, validators=[
        parsing.Parsed(parsing.parse_choice, choices=Urgency, label=_l("紧急程度"))])
    marking = SelectField(_l("公开属性"), validate_choice=False, default=Marking.INTERNAL.value)
    copies = StringField(_l("抄送"), validators=[Length(max=300)])
    body = TextAreaField(_l("正文（Markdown）"))
    deadline = DateField(_l("答复期限（日期）"), validators=[Optional()])
    deadline_workdays = IntegerField(_l("或：签发后 N 个工作日内答复"), validators=[Optional()])
    contact_person = StringField(_l("联系人"), validators=[Length(max=60)])
    contact_phone = StringField(_l("联系电话"), validators=[Length(max=40)])
    project_ids = SelectMultipleField(_l("相关项目"), coerce=int, validate_choice=False)
    files = MultipleFileField(_l("附件"))
    expected_state = _state_field()
    # blank rows are allowed beside the items (the page adds a spare one): the operation counts
    items = TextListField(_l("函询事项"), max_length=MAX_ITEM_CHARS, max_items=2 * MAX_ITEMS)
    then = StringField(validators=[Optional(), parsing.Parsed(parsing.parse_choice, choices=("save", "submit"),
                                                                label=_l("操作"))])

    def validate_marking(self, field):
        if CLASSIFIED.search(field.data or ""):
            raise ValidationError(CLASSIFIED_MESSAGE)
        parsing.Parsed(parsing.parse_choice, choices=Marking, label=_l("公开属性"))(self, field)

    def set_choices(self, addressees, projects):
        self.addressee_org_id.choices = [(o.id, o.name) for o in addressees]
        self.urgency.choices = Urgency.choices()
        self.marking.choices = Marking.choices()
        self.project_ids.choices = [(p.id, f"{p.code} {p.name}（{p.year}）") for p in projects]


class HolidayForm(FlaskForm):
    day = DateField(_l("日期"))
    is_workday = BooleanField(_l("调休上班（不勾选为放假）"))
    name = StringField(_l("名称"), validators=[Length(max=40)])


class CodeForm(EditForm):
    organisation_id = SelectField(_l("机关"), coerce=int, validate_choice=False)
    code = StringField(_l("发文机关代字"), validators=[Length(max=20)])
    header = StringField(_l("发文机关标志（版头）"), validators=[Length(max=100)])


class ExtendForm(FlaskForm):
    new_deadline = DateField(_l("新的答复期限"), validators=[Optional()])
    reason = TextAreaField(_l("延期理由"), validators=[Length(max=2000)])
    expected_state = _state_field()


class ActionForm(FlaskForm):
    """A step of the letter (submit, approve, acknowledge, return, withdraw, close): the state
    the page showed and the comment of the steps that take one."""

    expected_state = _state_field()
    comment = StringField(_l("意见"), validators=[Length(max=2000)])


class RemindForm(FlaskForm):
    comment = StringField(_l("催办附言"), validators=[Length(max=1000)])


class ReplyForm(FlaskForm):
    """A part of the answer: an outcome and a reason per open item (outcome_<id>, reason_<id>,
    added by `reply_form()`), a note and files."""

    note = TextAreaField(_l("答复说明"), validators=[Optional(), Length(max=5000)])
    expected_state = StringField(validators=[Optional(), Length(max=40)])
    # 保存复函草稿 or 提交签发 (the reply goes to the bureau's signer)
    then = StringField(validators=[Optional(), parsing.Parsed(parsing.parse_choice, choices=("save", "submit"),
                                                                label=_l("操作"))])


def reply_form(items, **kwargs) -> ReplyForm:
    fields = {}
    for item in items:
        label = _l("第 %(n)s 项", n=item.position)
        fields[f"outcome_{item.id}"] = StringField(label, validators=[Optional(), Length(max=20)])
        fields[f"reason_{item.id}"] = TextAreaField(label, validators=[Optional(), Length(max=5000)])
    return type("LetterReplyForm", (ReplyForm,), fields)(**kwargs)


class FollowUpForm(FlaskForm):
    """追问 one item."""

    item_id = StringField(_l("追问事项"))
    text = TextAreaField(_l("追问内容"), validators=[Optional(), Length(max=5000)])
    expected_state = StringField(validators=[Optional(), Length(max=40)])

    def validate_item_id(self, field):
        from portal.core import parsing

        parsing.Parsed(parsing.parse_id, label=_l("追问事项"))(self, field)


class LetterBulkForm(BulkForm):
    """The letter list's bulk bar: 催办 or 办结 the ticked letters (with an optional note)."""

    action = StringField(_l("批量操作"), validators=[parsing.Parsed(
        parsing.parse_choice, choices=("remind", "close"), label=_l("批量操作"))])
