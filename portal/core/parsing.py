"""Parsing at the edge, once: every value that comes from a URL, a query string or a form goes
through one of these before it reaches a query or an operation.

Two families:
- `arg_*` read the query string of a list or search page. Junk in a filter is ignored (the
  default comes back), so a hand-edited or stale link still shows the list: `?page=abc` is
  page 1, `?year=-1` or `?project=10**26` is "no filter".
- `parse_*` turn one submitted value into a typed one and raise `InvalidValue` (a DomainError:
  the write path re-renders the form with status 422 and the Chinese message) when it is out
  of bounds; `require_*` do the same for a request argument and answer 400.

Bounds (one place):
    ids          1 … 2**31 − 1 (id columns are INTEGER; converters.py bounds path ids the same way)
    page         1 … MAX_PAGE;  per-page 1 … MAX_PER_PAGE
    year         YEAR_MIN … YEAR_MAX (app config, default 2000 … 2100)
    month        1 … 12
    amount       Decimal, |x| ≤ 10**13 (the Numeric(15, 2) money columns), at most 2 decimals
    text         control characters other than tab / newline / CR are removed from every query
                 and form value (CleanMultiDict below); lengths: core/forms.py TEXT_LIMITS.
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from flask import Request, abort, current_app, has_app_context, request
from flask_babel import gettext as _
from werkzeug.datastructures import ImmutableMultiDict, MultiDict

from portal.core.converters import DB_INTEGER_MAX
from portal.core.errors import DomainError

MAX_PAGE = 100_000
MAX_PER_PAGE = 200
YEAR_MIN, YEAR_MAX = 2000, 2100
AMOUNT_MAX = Decimal(10) ** 13
MAX_INT_DIGITS = 19  # a longer string of digits is not an id, whatever it says

# C0 controls except \t \n \r, DEL, the C1 block, and the surrogates/non-characters that XML
# (docx, xlsx) refuses.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


class InvalidValue(DomainError):
    """A submitted value out of its bounds; shown beside the form like any refused rule."""


# ---- text ----------------------------------------------------------------------------------

def clean_text(value: str) -> str:
    """The text without control characters (tab, newline and CR stay)."""
    return _CONTROL.sub("", value) if _CONTROL.search(value) else value


def has_control(value: str) -> bool:
    return bool(_CONTROL.search(value))


class CleanMultiDict(ImmutableMultiDict):
    """Query and form values (and keys) with control characters removed: NUL and friends never
    reach a template, a LIKE pattern or PostgreSQL (which refuses NUL in text)."""

    def __init__(self, mapping=None):
        if mapping is None:
            super().__init__()
            return
        pairs = MultiDict(mapping).items(multi=True)
        super().__init__([(clean_text(k) if isinstance(k, str) else k,
                           clean_text(v) if isinstance(v, str) else v) for k, v in pairs])


def init_app(app) -> None:
    """Both faces: cleaned query/form values and the form text rules (core/forms.py).
    Set on flask.Request itself, because extensions replace `app.request_class` with their
    own subclass after this runs (htmx-flask does); every subclass inherits it."""
    from portal.core import forms

    Request.parameter_storage_class = CleanMultiDict
    forms.install_text_rules()


# ---- numbers -------------------------------------------------------------------------------

def to_int(raw, *, lo: int = -DB_INTEGER_MAX, hi: int = DB_INTEGER_MAX) -> int | None:
    """An int within [lo, hi], or None for anything else (never raises)."""
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    else:
        text = str(raw).strip()
        digits = text.lstrip("+-")
        if not digits.isascii() or not digits.isdigit() or len(digits) > MAX_INT_DIGITS:
            return None
        value = int(text)
    return value if lo <= value <= hi else None


def to_id(raw) -> int | None:
    return to_int(raw, lo=1)


def to_ids(values, limit: int = 1000) -> list[int]:
    """The valid ids of a list of submitted values (junk dropped, duplicates removed, in order)."""
    seen: dict[int, None] = {}
    for raw in list(values or [])[: limit * 2]:
        value = to_id(raw)
        if value is not None:
            seen.setdefault(value)
    return list(seen)[:limit]


def year_window() -> tuple[int, int]:
    if has_app_context():
        return current_app.config.get("YEAR_MIN", YEAR_MIN), current_app.config.get("YEAR_MAX", YEAR_MAX)
    return YEAR_MIN, YEAR_MAX


def to_year(raw) -> int | None:
    lo, hi = year_window()
    return to_int(raw, lo=lo, hi=hi)


def to_month(raw) -> int | None:
    return to_int(raw, lo=1, hi=12)


# ---- query-string filters: junk is ignored ---------------------------------------------------

def arg_int(name: str, default=None, *, lo: int = -DB_INTEGER_MAX, hi: int = DB_INTEGER_MAX):
    value = to_int(request.args.get(name), lo=lo, hi=hi)
    return default if value is None else value


def arg_id(name: str, default=None):
    value = to_id(request.args.get(name))
    return default if value is None else value


def arg_ids(name: str) -> list[int]:
    return to_ids(request.args.getlist(name))


def arg_year(name: str = "year", default=None):
    value = to_year(request.args.get(name))
    return default if value is None else value


def arg_month(name: str = "month", default=None):
    value = to_month(request.args.get(name))
    return default if value is None else value


def arg_page(name: str = "page") -> int:
    return to_int(request.args.get(name), lo=1, hi=MAX_PAGE) or 1


def arg_per_page(name: str = "per_page", default: int = 20) -> int:
    return to_int(request.args.get(name), lo=1, hi=MAX_PER_PAGE) or default


def arg_choice(name: str, choices, default=None):
    """The value if it is one of `choices` (strings, or an enum class by value), else default."""
    raw = request.args.get(name)
    return to_choice(raw, choices, default)


def arg_text(name: str, max_length: int = 200, default: str = "") -> str:
    return clean_text(request.args.get(name, default) or "").strip()[:max_length]


def to_choice(raw, choices, default=None):
    if raw is None:
        return default
    if isinstance(choices, type):  # an enum
        for member in choices:
            if member.value == raw or member.name == raw:
                return member
        return default
    return raw if raw in choices else default


# ---- submitted values: out of bounds is refused with a message ------------------------------

def parse_int(raw, *, label: str = "", lo: int = -DB_INTEGER_MAX, hi: int = DB_INTEGER_MAX,
              field: str | None = None, required: bool = True) -> int | None:
    if raw is None or str(raw).strip() == "":
        if required:
            raise InvalidValue(_("请填写%(label)s。", label=label or _("数值")), field)
        return None
    value = to_int(raw, lo=lo, hi=hi)
    if value is None:
        raise InvalidValue(_("%(label)s应为 %(lo)s 到 %(hi)s 之间的整数。", label=label or _("数值"), lo=lo, hi=hi),
                           field)
    return value


def parse_id(raw, *, label: str = "", field: str | None = None, required: bool = True) -> int | None:
    if raw is None or str(raw).strip() == "":
        if required:
            raise InvalidValue(_("请选择%(label)s。", label=label or _("记录")), field)
        return None
    value = to_id(raw)
    if value is None:
        raise InvalidValue(_("所选%(label)s不存在。", label=label or _("记录")), field)
    return value


def parse_year(raw, *, field: str | None = None, required: bool = True) -> int | None:
    lo, hi = year_window()
    return parse_int(raw, label=_("年度"), lo=lo, hi=hi, field=field, required=required)


def parse_month(raw, *, field: str | None = None, required: bool = True) -> int | None:
    return parse_int(raw, label=_("月份"), lo=1, hi=12, field=field, required=required)


def parse_amount(raw, *, label: str = "", lo: Decimal = -AMOUNT_MAX, hi: Decimal = AMOUNT_MAX,
                 places: int = 2, field: str | None = None, required: bool = False) -> Decimal | None:
    """A money or measure value: Decimal, finite, within bounds, at most `places` decimals.
    Thousands separators and a trailing 元 are accepted."""
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        if required:
            raise InvalidValue(_("请填写%(label)s。", label=label or _("金额")), field)
        return None
    if isinstance(raw, Decimal | int) and not isinstance(raw, bool):
        value = Decimal(raw)
    else:
        text = str(raw).strip().replace(",", "").replace("，", "").removesuffix("元").strip()
        if len(text) > 40:
            value = None
        else:
            try:
                value = Decimal(text)
            except (InvalidOperation, ValueError):
                value = None
    if value is None or not value.is_finite():
        raise InvalidValue(_("%(label)s应为数字。", label=label or _("金额")), field)
    if not lo <= value <= hi:
        raise InvalidValue(_("%(label)s超出允许范围。", label=label or _("金额")), field)
    if value.as_tuple().exponent < -places:
        raise InvalidValue(_("%(label)s最多保留 %(n)s 位小数。", label=label or _("金额"), n=places), field)
    return value


def to_date(raw) -> date | None:
    """An ISO date (YYYY-MM-DD) within the year window, or None."""
    if isinstance(raw, date):
        return raw
    text = str(raw or "").strip()
    if len(text) != 10:
        return None
    try:
        value = date.fromisoformat(text)
    except ValueError:
        return None
    lo, hi = year_window()
    return value if lo <= value.year <= hi else None


def parse_date(raw, *, label: str = "", field: str | None = None, required: bool = True) -> date | None:
    if raw is None or str(raw).strip() == "":
        if required:
            raise InvalidValue(_("请填写%(label)s。", label=label or _("日期")), field)
        return None
    value = to_date(raw)
    if value is None:
        raise InvalidValue(_("%(label)s应为有效日期（如 2026-03-31）。", label=label or _("日期")), field)
    return value


def parse_choice(raw, choices, *, label: str = "", field: str | None = None):
    value = to_choice(raw, choices)
    if value is None:
        raise InvalidValue(_("%(label)s的取值无效。", label=label or _("选项")), field)
    return value


# ---- request arguments that must be valid: a clear 400 -------------------------------------

def require_month(name: str = "month", default: int | None = None) -> int:
    raw = request.values.get(name)
    if (raw is None or raw == "") and default is not None:
        return default
    value = to_month(raw)
    if value is None:
        abort(400, description=_("月份应为 1 到 12 之间的整数。"))
    return value


def require_year(name: str = "year", default: int | None = None) -> int:
    raw = request.values.get(name)
    if (raw is None or raw == "") and default is not None:
        return default
    value = to_year(raw)
    if value is None:
        lo, hi = year_window()
        abort(400, description=_("年度应为 %(lo)s 到 %(hi)s 之间的整数。", lo=lo, hi=hi))
    return value


# ---- forms: the same parsers as WTForms validators, and a refused form as a refused rule -------
# Forms whose fields depend on the record (one per indicator, per rubric criterion, per letter
# item) are built by a factory in the module's forms.py; their values are checked here with the
# parsers above, so a field of a form and a value of the API or an import are held to one rule.

class Parsed:
    """A WTForms validator running one of the parse_* functions above on the field's text:
    `StringField(validators=[Parsed(parse_amount, label="执行数", lo=0)])`. The parsed value is
    put on `field.parsed` (None for an empty optional value)."""

    def __init__(self, parser, **options):
        self.parser, self.options = parser, options

    def __call__(self, form, field):
        from wtforms.validators import StopValidation

        try:
            field.parsed = self.parser(field.data, **self.options)
        except InvalidValue as error:
            raise StopValidation(error.message) from None


def refusal(form) -> InvalidValue | None:
    """Validate a submitted form: None when it is valid, else its first message as an
    InvalidValue naming the field, for the view to show like any refused rule (422, what the user
    typed kept on the page)."""
    if form.validate():
        return None
    name, messages = next(iter(form.errors.items()))
    message = messages[0] if isinstance(messages, list | tuple) and messages else str(messages)
    label = getattr(getattr(form, name, None), "label", None)
    text = str(message)
    if label is not None and label.text and str(label.text) not in text:
        text = _("%(label)s：%(message)s", label=label.text, message=text)
    return InvalidValue(text, name)


def check(form) -> None:
    """`refusal()` raised: for views that already turn a DomainError into the page again."""
    error = refusal(form)
    if error is not None:
        raise error


def accepted(form) -> bool:
    """True when the submitted form is valid. Otherwise its message is shown at the top of the
    page the view renders next (the request is marked refused, so `writes.status()` answers 422)
    and False: `return (parsing.accepted(form) and submit(...)) or page_again()`."""
    from portal.core.writes import show_error

    error = refusal(form)
    if error is None:
        return True
    show_error(error)
    return False


def require_valid(form) -> None:
    """A refused form with no page of its own (a bulk bar, hidden filters): 400, its message."""
    if (error := refusal(form)) is not None:
        abort(400, description=error.message)


def typed(form) -> dict:
    """What the user typed into a submitted form, to show it again: field name → value ('' for a
    field that was not sent)."""
    return {name: ("" if field.data is None else field.data) for name, field in form._fields.items()}


# ---- the same text limits in imports and the API ---------------------------------------------

def text_limit(form_class, name: str) -> int:
    """The length limit the form gives its field: its own Length, else the default of its type
    (core/forms.py TEXT_LIMITS). An import column or an API field that fills the same column is
    held to it, so a text the form refuses is never let in another way."""
    from wtforms import TextAreaField
    from wtforms.validators import Length

    from portal.core.forms import TEXT_LIMITS

    unbound = getattr(form_class, name)
    validators = unbound.kwargs.get("validators") or (unbound.args[1] if len(unbound.args) > 1 else [])
    for validator in validators:
        if isinstance(validator, Length) and validator.max not in (None, -1):
            return validator.max
    return TEXT_LIMITS["long" if issubclass(unbound.field_class, TextAreaField) else "short"]


def cell_text(value) -> str:
    """An imported cell as text: stripped, control characters removed (as from a form)."""
    return "" if value is None else clean_text(str(value)).strip()


def too_long(text: str, limit: int):
    """None when `text` fits, else the message an import shows on the cell."""
    if len(text) <= limit:
        return None
    return _("最多 %(n)s 个字（此处 %(m)s 个字）。", n=limit, m=len(text))
