"""What every portal form shares: the optimistic version of the record it edits.

    class EditProblemForm(EditForm): ...
    form = EditProblemForm(obj=problem)        # GET: lock_version comes from the record
    ops.update_problem(problem, version=form.lock_version.data, ...)

Templates render it with `form.lock_version` (or `form.hidden_tag()`); the one-time form key
that makes a submission idempotent is `{{ form_key() }}` beside the CSRF token (core/writes.py).
"""
from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, StringField, TextAreaField
from wtforms.validators import Length, Optional
from wtforms.widgets import HiddenInput


class EditForm(FlaskForm):
    lock_version = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A submitted form without its version must not borrow the record's current one (from
        # `obj=`): that would let any save pass the check. It is then refused as stale.
        if request.method in ("POST", "PUT", "PATCH") and self.lock_version.name not in request.form:
            self.lock_version.data = None


# ---- text rules of every form (installed by parsing.init_app for both faces) ------------------
# Length limits, in one place. A field that declares its own Length keeps it (the per-field
# limits in each module's forms.py follow the column sizes: names 200, descriptions 5,000,
# progress texts 10,000, letters 20,000, minutes 200,000). Every other text field gets the
# default of its type below; imports and the API use the same TEXT_LIMITS through the
# operations. Control characters never get this far: parsing.CleanRequest removes them from
# every query and form value, and `clean_text` below filters any other data a form is given.
TEXT_LIMITS = {
    "short": 200,       # StringField: names, codes, titles, one-line answers
    "long": 20_000,     # TextAreaField: descriptions, opinions, letter bodies
    "search": 200,      # the q= of a list or search page
}


def _clean_filter(value):
    from portal.core.parsing import clean_text

    return clean_text(value) if isinstance(value, str) else value


class TextLength(Length):
    """Length that measures text only: a field still holding its object's number (a form built
    with obj= and posted without that field) is left to the field's own checks."""

    def __call__(self, form, field):
        if isinstance(field.data, str):
            super().__call__(form, field)


def _text_rules_bind_field(meta, form, unbound_field, options):
    from wtforms import StringField, TextAreaField
    from wtforms.fields.core import UnboundField

    field_class = unbound_field.field_class
    if issubclass(field_class, StringField):
        args, kwargs = list(unbound_field.args), dict(unbound_field.kwargs)
        if "validators" not in kwargs and len(args) >= 2:  # StringField(label, [validators])
            kwargs["validators"] = args.pop(1)
        validators = list(kwargs.get("validators") or [])
        if not any(isinstance(v, Length) and v.max not in (None, -1) for v in validators):
            limit = TEXT_LIMITS["long" if issubclass(field_class, TextAreaField) else "short"]
            validators.append(TextLength(max=limit, message=_text_length_message(limit)))
        kwargs["validators"] = validators
        kwargs["filters"] = [_clean_filter, *(kwargs.get("filters") or [])]
        unbound_field = UnboundField(field_class, *args, name=unbound_field.name, **kwargs)
    return unbound_field.bind(form=form, **options)


def _text_length_message(limit: int):
    return _l("最多 %(n)s 个字。", n=limit)


def install_text_rules() -> None:
    """Every FlaskForm of the project (both faces) binds its text fields with the length limit
    and the control-character filter above: one rule, no form can forget it."""
    meta = FlaskForm.Meta
    if getattr(meta, "_text_rules", False):
        return
    meta.bind_field = _text_rules_bind_field
    meta._text_rules = True


# ---- fields for values that are not one line of text ------------------------------------------
# A form reads every submitted value through a field: these are the ones a view used to read
# from request.form itself (ticked ids, rows of a table, a pressed button). Each refuses what it
# cannot hold (the message is on the field: the form is shown again with 422), so nothing
# unparsed reaches an operation.

class IdField(Field):
    """One record id (1 … 2**31 − 1, the INTEGER id columns); `data` is the int, None when empty.
    A huge, negative or non-integer value refuses the form."""

    widget = HiddenInput()

    def process_formdata(self, valuelist):
        from portal.core.parsing import to_id

        raw = valuelist[0] if valuelist else ""
        if raw is None or not str(raw).strip():
            self.data = None
            return
        self.data = to_id(raw)
        if self.data is None:
            raise ValueError(_l("所选记录不存在。"))

    def _value(self):
        return "" if self.data is None else str(self.data)


class IdListField(Field):
    """Every value submitted under the name as an id (ticked rows): in order, duplicates
    dropped, at most `limit`. One value that is not an id refuses the whole list — a tampered
    list is not half-applied."""

    widget = HiddenInput()

    def __init__(self, label=None, validators=None, limit: int = 500, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.limit = limit

    def process_data(self, value):
        self.data = list(value or [])  # a post without form data (empty, JSON) ticks nothing

    def process_formdata(self, valuelist):
        from portal.core.parsing import to_id

        self.data = []
        if len(valuelist) > self.limit:
            raise ValueError(_l("一次最多选择 %(n)s 项。", n=self.limit))
        for raw in valuelist:
            value = to_id(raw)
            if value is None:
                raise ValueError(_l("所选记录不存在。"))
            if value not in self.data:
                self.data.append(value)

    def _value(self):
        return ",".join(str(i) for i in self.data or [])


class TextListField(Field):
    """Every value submitted under one name (the cells of one column of a table of rows), as
    text without control characters. Refused: more than `max_items` values, a value longer than
    `max_length`, or (with `choices`) a non-empty value that is not one of them."""

    def __init__(self, label=None, validators=None, max_length: int = TEXT_LIMITS["short"],
                 max_items: int = 100, choices=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.max_length, self.max_items = max_length, max_items
        self.choices = None if choices is None else {str(c) for c in choices}

    def process_data(self, value):
        self.data = list(value or [])

    def process_formdata(self, valuelist):
        from portal.core.parsing import clean_text

        self.data = [clean_text(v) if isinstance(v, str) else "" for v in valuelist]
        if len(self.data) > self.max_items:
            raise ValueError(_l("最多 %(n)s 行。", n=self.max_items))
        if any(len(v) > self.max_length for v in self.data):
            raise ValueError(_text_length_message(self.max_length))
        if self.choices is not None and any(v.strip() and v.strip() not in self.choices for v in self.data):
            raise ValueError(_l("选项的取值无效。"))

    def _value(self):
        return ""


class PressedField(Field):
    """A submit button of the form: `data` is True when the button's name was sent (whatever
    its value, as a browser sends `<button name="submit">` with an empty one)."""

    def process_formdata(self, valuelist):
        self.data = bool(valuelist)

    def _value(self):
        return ""


def choice_rules(choices, label) -> list:
    """The validators of an optional choice given as text (a filter, a hidden step name): empty,
    or one of `choices` (strings, or an enum class by value); anything else is refused."""
    from portal.core import parsing

    choices = choices if isinstance(choices, type) else list(choices)
    return [Optional(), parsing.Parsed(parsing.parse_choice, choices=choices, label=label)]


class FiltersForm(FlaskForm):
    """A list's filters posted back by its 导出全部 button (hidden fields copied from the list):
    each checked as a field, so a tampered one is refused instead of reaching a job."""

    def filters(self) -> dict:
        """The accepted, non-empty filters by name (what the list's query reader expects)."""
        return {name: field.data for name, field in self._fields.items()
                if name != "csrf_token" and field.data not in (None, "")}


# ---- core's own pages ----------------------------------------------------------------------

PREVIEW_MAX = 200_000  # the longest text field a preview is asked for (meeting minutes)


class MarkdownPreviewForm(FlaskForm):
    """The one field a Markdown preview is posted (htmx sends only it: `text`, a letter's `body`
    or a meeting's `minutes`)."""

    text = TextAreaField(validators=[Length(max=PREVIEW_MAX)])
    body = TextAreaField(validators=[Length(max=PREVIEW_MAX)])
    minutes = TextAreaField(validators=[Length(max=PREVIEW_MAX)])

    def source(self) -> str:
        return self.text.data or self.body.data or self.minutes.data or ""


class TokenForm(FlaskForm):
    name = StringField(_l("用途"), validators=[Length(max=100)])  # tokens.NAME_MAX
