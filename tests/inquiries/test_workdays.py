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
    assert add_workdays(date(2027, 9, 30), 1) == date(2027, 10, 1)  # no table: plain weekday rule


def test_loading_keeps_an_administrators_edits(db):
    from portal.inquiries.models import Holiday

    db.session.add(Holiday(day=date(2026, 10, 10), is_workday=False, name="本地调整"))
    db.session.flush()
    load_holidays([2026])
    assert not is_workday(date(2026, 10, 10))
