from datetime import date

from portal.inquiries.workdays import add_workdays, is_workday, load_holidays, unknown_years, workdays_between


def test_national_day_break_and_the_10_october_saturday(db):
    load_holidays([2026])
    assert not is_workday(date(2026, 10, 1)) and not is_workday(date(2026, 10, 7))
    assert is_workday(date(2026, 10, 10))  # 调休 Saturday
    assert not is_workday(date(2026, 10, 11))  # an ordinary Sunday
    assert is_workday(date(2026, 9, 20))  # 调休 Sunday before the break
    # Monday 28 Sep: 29, 30 Sep count, 1–7 Oct do not, 8, 9 Oct (Thu, Fri), 10 Oct (Sat, worked)
    assert add_workdays(date(2026, 9, 28), 2) == date(2026, 9, 30)
    assert add_workdays(date(2026, 9, 28), 3) == date(2026, 10, 8)
    assert add_workdays(date(2026, 9, 28), 5) == date(2026, 10, 10)
    assert add_workdays(date(2026, 9, 28), 6) == date(2026, 10, 12)
    assert workdays_between(date(2026, 9, 30), date(2026, 10, 10)) == 3


def test_spring_festival_and_year_end(db):
    load_holidays()
    assert is_workday(date(2026, 2, 14)) and is_workday(date(2026, 2, 28))
    assert not is_workday(date(2026, 2, 23))
    assert add_workdays(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert add_workdays(date(2026, 2, 14), 1) == date(2026, 2, 24)
    assert add_workdays(date(2025, 12, 30), 2) == date(2026, 1, 4)  # 31 Dec, then 4 Jan (worked Sunday)


def test_unknown_year_is_reported_and_counted_on_weekdays(db):
    load_holidays([2026])
    assert unknown_years(date(2026, 5, 1), date(2027, 10, 1)) == [2027]
    assert add_workdays(date(2027, 9, 28), 2) == date(2027, 9, 30)  # no table: weekdays…
    assert add_workdays(date(2027, 9, 30), 1) == date(2027, 10, 4)  # …and the fixed 国庆节 days


def test_loading_keeps_an_administrators_edits(db):
    from portal.inquiries.models import Holiday

    db.session.add(Holiday(day=date(2026, 10, 10), is_workday=False, name="本地调整"))
    db.session.flush()
    load_holidays([2026])
    assert not is_workday(date(2026, 10, 10))


# ---- years without a schedule, the official source, warnings (issue 19) ----------------------

import pytest  # noqa: E402

from portal.core import clock  # noqa: E402
from portal.inquiries.reminders import holiday_schedule  # noqa: E402
from portal.inquiries.workdays import (  # noqa: E402
    FIXED_HOLIDAYS,
    calendar_rows,
    deadline_notice,
    official_years,
    unknown_years_between,
)

# (start, n working days, expected deadline, schedules loaded: years, [] for none, "all")
DEADLINES = [
    (date(2026, 12, 31), 1, date(2027, 1, 4), [2026]),  # 1 Jan 2027 is 元旦 even without a 2027 schedule
    (date(2026, 12, 28), 5, date(2027, 1, 5), [2026]),  # 29, 30, 31 Dec, (1 Jan off), 4, 5 Jan
    (date(2027, 4, 29), 1, date(2027, 4, 30), [2026]),
    (date(2027, 4, 29), 2, date(2027, 5, 3), [2026]),  # 30 Apr, (1 May Sat, 2 May Sun) 3 May Mon
    (date(2027, 9, 30), 1, date(2027, 10, 4), [2026]),  # 1 Oct Fri off; 2, 3 weekend
    (date(2027, 10, 1), 1, date(2027, 10, 4), [2026]),
    (date(2028, 4, 28), 1, date(2028, 5, 3), [2026]),  # 2028: 1–2 May are Mon–Tue
    (date(2028, 9, 29), 1, date(2028, 10, 4), [2026]),  # 2028: 1–3 Oct are Sun–Tue
    (date(2026, 12, 31), 1, date(2027, 1, 4), []),  # nothing loaded at all: the fixed days still hold
    (date(2026, 9, 30), 1, date(2026, 10, 8), "all"),  # loaded: the whole 1–7 Oct break
    (date(2025, 12, 31), 1, date(2026, 1, 4), "all"),  # 2026's 元旦 break and its worked Sunday
]


@pytest.mark.parametrize(("start", "n", "expected", "years"), DEADLINES)
def test_deadlines_in_and_across_years_without_a_schedule(db, start, n, expected, years):
    if years:
        load_holidays(None if years == "all" else years)
    assert add_workdays(start, n) == expected


def test_a_loaded_schedule_replaces_the_fixed_day_rule(db):
    """Once 2027's schedule is in the table it decides (an administrator's rows, or a newer
    chinese-calendar): e.g. a bridge day off and a worked Saturday."""
    from portal.inquiries.models import Holiday

    load_holidays([2026])
    assert add_workdays(date(2026, 12, 31), 1) == date(2027, 1, 4)
    db.session.add_all([Holiday(day=date(2027, 1, 1), is_workday=False, name="元旦"),
                        Holiday(day=date(2027, 1, 4), is_workday=False, name="元旦（假定调休）"),
                        Holiday(day=date(2027, 1, 9), is_workday=True, name="元旦调休上班")])
    db.session.flush()
    assert add_workdays(date(2026, 12, 31), 1) == date(2027, 1, 5)
    assert unknown_years_between(date(2026, 12, 31), date(2027, 1, 5)) == []
    # with a schedule loaded, a fixed date that the schedule does not list is an ordinary day
    db.session.add(Holiday(day=date(2028, 1, 3), is_workday=False, name="元旦"))
    db.session.flush()
    assert is_workday(date(2028, 5, 2)) is True


def test_the_official_schedules_come_from_chinese_calendar(db):
    import chinese_calendar

    years = official_years()
    assert years[0] <= 2025 and years[-1] >= 2026 and years == list(range(years[0], years[-1] + 1))
    rows = dict((d, (w, name)) for d, w, name in calendar_rows(2026))
    assert rows[date(2026, 10, 10)] == (True, "国庆节调休上班") and rows[date(2026, 10, 1)] == (False, "国庆节")
    assert rows[date(2026, 2, 15)][1] == "春节"
    added = load_holidays()
    assert added == sum(len(calendar_rows(y)) for y in years)
    for day in (date(2026, 1, 2), date(2026, 2, 14), date(2025, 10, 8), date(years[0], 1, 1)):
        assert is_workday(day) == chinese_calendar.is_workday(day), day


def test_fixed_statutory_days():
    assert sorted(FIXED_HOLIDAYS) == [(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)]


# (today, deadline or N working days, years warned about)
WARNINGS = [
    (date(2026, 12, 1), {"workdays": 10}, []),  # 15 Dec 2026: known
    (date(2026, 12, 21), {"workdays": 10}, [2027]),  # crosses into 2027
    (date(2026, 12, 1), {"deadline": date(2027, 1, 8)}, [2027]),
    (date(2026, 12, 1), {"deadline": date(2028, 3, 1)}, [2027, 2028]),  # crosses 2027 too
    (date(2026, 6, 1), {"deadline": date(2026, 7, 1)}, []),
]


@pytest.mark.parametrize(("today", "given", "warned"), WARNINGS)
def test_the_warning_wherever_a_deadline_is_set(db, today, given, warned):
    load_holidays([2025, 2026])
    assert deadline_notice(today, **given)["unknown_years"] == warned


def test_administrators_are_reminded_each_november(db, world):
    from datetime import datetime

    from portal.core.notifications import run_reminders

    load_holidays([2026])
    assert list(holiday_schedule(datetime(2026, 10, 15, 9))) == []
    with clock.frozen(date(2026, 11, 2)):
        assert run_reminders(datetime(2026, 11, 2, 9))["holidays"] == 1
        assert run_reminders(datetime(2026, 11, 3, 9))["holidays"] == 0  # once a month
    from portal.core.notifications import Notification

    titles = [n.title for n in db.session.query(Notification).filter_by(user_id=world.admin.id)]
    assert any("2027" in t and "节假日" in t for t in titles)
    assert not db.session.query(Notification).filter_by(user_id=world.finance.id).count()
    from portal.inquiries.models import Holiday

    db.session.add(Holiday(day=date(2027, 1, 1), is_workday=False, name="元旦"))
    db.session.flush()
    assert list(holiday_schedule(datetime(2026, 12, 1, 9))) == []  # 2027 now loaded: quiet
