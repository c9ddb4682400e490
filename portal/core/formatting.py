"""How officials write dates, money and numbers. Registered as Jinja filters."""
from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from portal.core.enums import current_language

WAN = Decimal(10000)


def cn_date(value: date | datetime | None) -> str:
    """2026年11月22日 (English: 2026-11-22)."""
    if value is None:
        return ""
    if current_language() == "en":
        return value.strftime("%Y-%m-%d")
    return f"{value.year}年{value.month}月{value.day}日"


def cn_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    if current_language() == "en":
        return value.strftime("%Y-%m-%d %H:%M")
    return f"{value.year}年{value.month}月{value.day}日 {value:%H:%M}"


def to_decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def wan(value, places: int = 2, unit: bool = True) -> str:
    """Yuan shown as 万元: 1234567.89 → '123.46万元'."""
    amount = to_decimal(value)
    if amount is None:
        return ""
    q = Decimal(1).scaleb(-places)
    text = f"{(amount / WAN).quantize(q, rounding=ROUND_HALF_UP):,}"
    if not unit:
        return text
    return f"{text} 万元" if current_language() == "en" else f"{text}万元"


def yuan(value) -> str:
    amount = to_decimal(value)
    if amount is None:
        return ""
    text = f"{amount.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,}"
    return f"{text} yuan" if current_language() == "en" else f"{text}元"


def percent(value, places: int = 1) -> str:
    """0.8734 → '87.3%'."""
    number = to_decimal(value)
    if number is None:
        return "—"
    return f"{(number * 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)}%"


MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
             "October", "November", "December")


def month_range(month) -> str:
    """Monitoring to the end of `month`: '1—7月' in Chinese, 'January–July' in English ('January')."""
    from flask_babel import get_locale

    m = int(month)
    if str(get_locale() or "zh").startswith("en"):
        return MONTHS_EN[0] if m == 1 else f"{MONTHS_EN[0]}–{MONTHS_EN[m - 1]}"
    return f"1—{m}月"


def register(app) -> None:
    from portal.core.markdown import render_markdown

    app.jinja_env.filters.update(cn_date=cn_date, cn_datetime=cn_datetime, wan=wan, yuan=yuan,
                                 percent=percent, markdown=render_markdown, month_range=month_range)
