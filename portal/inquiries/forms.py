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
from wtforms.validators import Length, Optional

from portal.inquiries.models import Marking, Urgency


class LetterForm(FlaskForm):
    addressee_org_id = SelectField(_l("主送机关"), coerce=int, validate_choice=False)
    title = StringField(_l("标题"), validators=[Length(max=200)])
    urgency = SelectField(_l("紧急程度"), validate_choice=False, default=Urgency.NORMAL.value)
    marking = SelectField(_l("公开属性"), validate_choice=False, default=Marking.INTERNAL.value)
    copies = StringField(_l("抄送"), validators=[Length(max=300)])
    body = TextAreaField(_l("正文（Markdown）"))
    deadline = DateField(_l("答复期限（日期）"), validators=[Optional()])
    deadline_workdays = IntegerField(_l("或：签发后 N 个工作日内答复"), validators=[Optional()])
    contact_person = StringField(_l("联系人"), validators=[Length(max=60)])
    contact_phone = StringField(_l("联系电话"), validators=[Length(max=40)])
    project_ids = SelectMultipleField(_l("相关项目"), coerce=int, validate_choice=False)
    files = MultipleFileField(_l("附件"))
    expected_state = StringField()

    def set_choices(self, addressees, projects):
        self.addressee_org_id.choices = [(o.id, o.name) for o in addressees]
        self.urgency.choices = Urgency.choices()
        self.marking.choices = Marking.choices()
        self.project_ids.choices = [(p.id, f"{p.code} {p.name}（{p.year}）") for p in projects]


class HolidayForm(FlaskForm):
    day = DateField(_l("日期"))
    is_workday = BooleanField(_l("调休上班（不勾选为放假）"))
    name = StringField(_l("名称"), validators=[Length(max=40)])


class CodeForm(FlaskForm):
    organisation_id = SelectField(_l("机关"), coerce=int, validate_choice=False)
    code = StringField(_l("发文机关代字"), validators=[Length(max=20)])
    header = StringField(_l("发文机关标志（版头）"), validators=[Length(max=100)])


class ExtendForm(FlaskForm):
    new_deadline = DateField(_l("新的答复期限"), validators=[Optional()])
    reason = TextAreaField(_l("延期理由"))
