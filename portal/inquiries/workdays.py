"""Chinese working days (工作日): Monday–Friday, minus public holidays, plus the weekend days
worked in exchange (调休上班), from the administrator-editable table `Holiday`.

The table is seeded from the `chinese-calendar` package for every year it knows (the State
Council publishes the next year's schedule each autumn; a newer release of the package, or the
administrator's holiday page, adds it). A year with no rows is "unknown": counting still works,
on the weekend rule plus the holidays fixed by date in every year (`FIXED_HOLIDAYS`: 元旦 1 January,
劳动节 1–2 May, 国庆节 1–3 October, under the 2024 revision of the national holiday rules), and
every page that sets or shows such a deadline warns (`unknown_years_between`). Each November and
December the administrators are reminded to load the coming year (`reminders.holiday_schedule`)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from portal.extensions import db
from portal.inquiries.models import Holiday

# Holidays fixed by the Gregorian date (全体公民放假的节日, 2024 revision): holidays in any year,
# even one whose schedule (with its bridges and 调休 days) is not yet known. The lunar ones
# (春节, 清明节, 端午节, 中秋节) move every year and are only known from the published schedule.
FIXED_HOLIDAYS = {(1, 1): "元旦", (5, 1): "劳动节", (5, 2): "劳动节",
                  (10, 1): "国庆节", (10, 2): "国庆节", (10, 3): "国庆节"}

# chinese-calendar's English names → the names the State Council's notices use
NAMES = {"New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
         "Labour Day": "劳动节", "Dragon Boat Festival": "端午节", "National Day": "国庆节",
         "Mid-autumn Festival": "中秋节", "Anti-Fascist 70th Day": "中国人民抗日战争胜利70周年纪念日"}


def _package():
    import chinese_calendar

    return chinese_calendar


def official_years() -> list[int]:
    """The years whose schedule the installed `chinese-calendar` knows."""
    cc = _package()
    years = {d.year for d in cc.holidays} | {d.year for d in cc.workdays}
    return sorted(years)


def calendar_rows(year: int) -> list[tuple[date, bool, str]]:
    """(day, is_workday, name) of `year` from `chinese-calendar`: days off and 调休 working days."""
    cc = _package()
    rows = [(d, False, NAMES.get(name, name)) for d, name in cc.holidays.items() if d.year == year]
    rows += [(d, True, f"{NAMES.get(name, name)}调休上班") for d, name in cc.workdays.items() if d.year == year]
    return sorted(rows)


def load_holidays(years=None) -> int:
    """Insert the official calendars for `years` (default: every year `chinese-calendar` knows);
    keeps existing rows (an administrator's edits win). Returns the number of rows added. The
    caller commits."""
    added = 0
    for year in years or official_years():
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
            sa.select(Holiday.day, Holiday.is_workday, Holiday.name)
            .where(Holiday.day.between(date(first_year, 1, 1), date(last_year, 12, 31)))).all()
        self.special = {day: worked for day, worked, _name in rows}
        self.names = {day: name for day, _worked, name in rows}
        self.known_years = {day.year for day in self.special}

    def name_of(self, day: date) -> str:
        """The holiday table's name for `day` (or the fixed holiday's, in a year not yet loaded)."""
        if day in self.names:
            return self.names[day]
        return FIXED_HOLIDAYS.get((day.month, day.day), "") if day.year not in self.known_years else ""

    def is_workday(self, day: date) -> bool:
        if day in self.special:
            return self.special[day]
        if day.year not in self.known_years and (day.month, day.day) in FIXED_HOLIDAYS:
            return False  # 元旦, 劳动节, 国庆节 are holidays even before the year's schedule is out
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


def unknown_years_between(start: date | None, end: date | None) -> list[int]:
    """Years without a schedule that a deadline counted from `start` to `end` falls in or
    crosses (every year from start's to end's)."""
    if start is None or end is None:
        return unknown_years(start, end)
    first, last = sorted((start.year, end.year))
    cal = Calendar(first, last)
    return [y for y in range(first, last + 1) if y not in cal.known_years]


def deadline_notice(today: date | None = None, *, deadline: date | None = None, workdays: int | None = None) -> dict:
    """What a page that sets or shows a deadline tells the user: the date (for "N working days",
    if signed today) and the years without a schedule it falls in or crosses."""
    from portal.core import clock

    today = today or clock.today()
    if workdays:
        try:
            deadline = add_workdays(today, int(workdays))
        except (TypeError, ValueError):
            return {"deadline": None, "unknown_years": []}
    return {"deadline": deadline, "unknown_years": unknown_years_between(today, deadline) if deadline else []}


def last_known_year() -> int | None:
    last = db.session.scalar(sa.select(sa.func.max(Holiday.day)))
    return last.year if last else None


REMIND_MONTHS = (11, 12)  # the State Council's notice for the next year usually comes out in autumn


@dataclass
class Count:
    """How the working days from `start` (not counted) to `end` (counted) were counted: the days
    off deducted (weekends, holidays from the table) and the weekend days worked (调休上班)."""
    start: date
    end: date
    workdays: int
    weekends: list[date]
    holidays: list[tuple[date, str]]
    swapped: list[tuple[date, str]]
    known_years: list[int]
    unknown_years: list[int]

    @property
    def deducted(self) -> int:
        return len(self.weekends) + len(self.holidays)


def count(start: date, end: date) -> Count:
    """Working days after `start` up to and including `end` (as `workdays_between`), with the
    days that were left out or worked in exchange."""
    first, last = sorted((start.year, end.year))
    cal = _cached_calendar(first, last)
    worked, weekends, holidays, swapped = 0, [], [], []
    for i in range(1, max((end - start).days, 0) + 1):
        day = start + timedelta(days=i)
        if cal.is_workday(day):
            worked += 1
            if day.weekday() >= 5:
                swapped.append((day, cal.name_of(day)))
        elif cal.name_of(day) or day in cal.special:
            holidays.append((day, cal.name_of(day)))
        else:
            weekends.append(day)
    years = range(first, last + 1)
    return Count(start, end, worked, weekends, holidays, swapped,
                 known_years=[y for y in years if y in cal.known_years],
                 unknown_years=[y for y in years if y not in cal.known_years])


def _cached_calendar(first: int, last: int) -> Calendar:
    """One read of the holiday table per request and range of years (a list counts every row)."""
    from flask import g, has_request_context

    if not has_request_context():
        return Calendar(first, last)
    cache = g.setdefault("inquiry_calendars", {})
    if (first, last) not in cache:
        cache[(first, last)] = Calendar(first, last)
    return cache[(first, last)]
