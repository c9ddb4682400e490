"""Chinese working days (工作日): Monday–Friday, minus public holidays, plus the weekend days
worked in exchange (调休上班), from the administrator-editable table `Holiday`.

The table ships with the State Council calendars for 2025 and 2026 (`CALENDARS`, checked against
the `chinese-calendar` package 1.11.0). A year with no rows is "unknown": counting still works on
the plain weekday rule, and the caller shows a warning (`unknown_years`)."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from portal.extensions import db
from portal.inquiries.models import Holiday


def _span(start: str, end: str) -> list[date]:
    a, b = date.fromisoformat(start), date.fromisoformat(end)
    return [a + timedelta(days=i) for i in range((b - a).days + 1)]


# year -> [(name, first day off, last day off, [weekend days worked])]
CALENDARS = {
    2025: [
        ("元旦", "2025-01-01", "2025-01-01", []),
        ("春节", "2025-01-28", "2025-02-04", ["2025-01-26", "2025-02-08"]),
        ("清明节", "2025-04-04", "2025-04-06", []),
        ("劳动节", "2025-05-01", "2025-05-05", ["2025-04-27"]),
        ("端午节", "2025-05-31", "2025-06-02", []),
        ("国庆节、中秋节", "2025-10-01", "2025-10-08", ["2025-09-28", "2025-10-11"]),
    ],
    2026: [
        ("元旦", "2026-01-01", "2026-01-03", ["2026-01-04"]),
        ("春节", "2026-02-15", "2026-02-23", ["2026-02-14", "2026-02-28"]),
        ("清明节", "2026-04-04", "2026-04-06", []),
        ("劳动节", "2026-05-01", "2026-05-05", ["2026-05-09"]),
        ("端午节", "2026-06-19", "2026-06-21", []),
        ("中秋节", "2026-09-25", "2026-09-27", []),
        ("国庆节", "2026-10-01", "2026-10-07", ["2026-09-20", "2026-10-10"]),
    ],
}


def calendar_rows(year: int) -> list[tuple[date, bool, str]]:
    rows = []
    for name, first, last, worked in CALENDARS.get(year, []):
        rows += [(d, False, name) for d in _span(first, last)]
        rows += [(date.fromisoformat(d), True, f"{name}调休上班") for d in worked]
    return rows


def load_holidays(years=None) -> int:
    """Insert the shipped calendars for `years` (default: all shipped); keeps existing rows
    (an administrator's edits win). Returns the number of rows added. The caller commits."""
    added = 0
    for year in years or sorted(CALENDARS):
        existing = set(db.session.execute(
            sa.select(Holiday.day).where(Holiday.day.between(date(year, 1, 1), date(year, 12, 31)))).scalars())
        for day, is_workday, name in calendar_rows(year):
            if day not in existing:
                db.session.add(Holiday(day=day, is_workday=is_workday, name=name))
                added += 1
    db.session.flush()
    return added


class Calendar:
    """The holiday table for a range of years, read once."""

    def __init__(self, first_year: int, last_year: int):
        rows = db.session.execute(
            sa.select(Holiday.day, Holiday.is_workday)
            .where(Holiday.day.between(date(first_year, 1, 1), date(last_year, 12, 31)))).all()
        self.special = {day: worked for day, worked in rows}
        self.known_years = {day.year for day in self.special}

    def is_workday(self, day: date) -> bool:
        if day in self.special:
            return self.special[day]
        return day.weekday() < 5


def is_workday(day: date) -> bool:
    return Calendar(day.year, day.year).is_workday(day)


def add_workdays(start: date, n: int) -> date:
    """The n-th working day after `start` (start itself does not count)."""
    if n < 1:
        raise ValueError("n must be positive")
    cal = Calendar(start.year, start.year + 1 + n // 200)
    day, counted = start, 0
    while counted < n:
        day += timedelta(days=1)
        if cal.is_workday(day):
            counted += 1
    return day


def workdays_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 when end <= start)."""
    if end <= start:
        return 0
    cal = Calendar(start.year, end.year)
    return sum(1 for i in range(1, (end - start).days + 1) if cal.is_workday(start + timedelta(days=i)))


def unknown_years(*days: date | None) -> list[int]:
    """Years among `days` for which the holiday table has no rows."""
    years = sorted({d.year for d in days if d is not None})
    if not years:
        return []
    cal = Calendar(years[0], years[-1])
    return [y for y in years if y not in cal.known_years]
