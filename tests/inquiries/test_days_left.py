"""Working days left on the list and the letter page, and how they were counted (issue 18):
compared with an independent count straight from the `chinese-calendar` package."""
from datetime import date, timedelta

import chinese_calendar
import pytest

from portal.core import clock
from tests.inquiries.conftest import make_letter


def independent(start: date, end: date) -> tuple[int, int]:
    """(working days, days off) after `start` up to and including `end`, by chinese-calendar."""
    days = [start + timedelta(days=i) for i in range(1, (end - start).days + 1)]
    worked = sum(1 for d in days if chinese_calendar.is_workday(d))
    return worked, len(days) - worked


def test_days_left_across_national_day_on_list_and_page(inq, client, login, db):
    letter = make_letter(inq, "sent", deadline_workdays=5)  # signed Mon 28 Sep 2026
    assert letter.deadline == date(2026, 10, 10)  # the worked Saturday after the break
    today = date(2026, 9, 29)
    worked, off = independent(today, letter.deadline)
    assert (worked, off) == (4, 7)  # 30 Sep, 8, 9, 10 Oct; 1–7 Oct off
    expected = f"剩余 {worked} 个工作日（截至 2026年10月10日，已扣除周末及法定节假日 {off} 天）"
    with clock.frozen(today):
        login(inq.audit)
        listing = client.get("/inquiries/").get_data(as_text=True)
        page = client.get(f"/inquiries/{letter.id}").get_data(as_text=True)
    assert expected in listing
    assert expected in page
    # how it was counted: the holidays by name, the worked Saturday, the table it came from
    assert "2026年10月1日（国庆节）" in page and "2026年10月7日" in page
    assert "计入调休上班的周末 1 天" in page and "2026年10月10日（国庆节调休上班）" in page
    assert "已录入：2026 年" in page and "节假日表" in page


def test_overdue_letter_counts_working_days_past_the_deadline(inq, client, login, db):
    letter = make_letter(inq, "acknowledged", deadline_workdays=5)
    today = date(2026, 10, 16)
    worked, off = independent(letter.deadline, today)
    assert worked == 5
    with clock.frozen(today):
        login(inq.finance)
        listing = client.get("/inquiries/").get_data(as_text=True)
        page = client.get(f"/inquiries/{letter.id}").get_data(as_text=True)
        export = client.get("/inquiries/?export=csv").get_data(as_text=True)
    text = f"已逾期 {worked} 个工作日（期限为 2026年10月10日，已扣除周末及法定节假日 {off} 天）"
    assert text in listing and text in page and text in export


def test_a_year_not_loaded_says_so_in_the_count(inq, client, login, db):
    with clock.frozen(date(2026, 12, 28)):
        letter = make_letter(inq, "sent", on=date(2026, 12, 28), deadline_workdays=5)
        login(inq.audit)
        page = client.get(f"/inquiries/{letter.id}").get_data(as_text=True)
    # 29–31 Dec, then 1 Jan 2027 (元旦, fixed even without the 2027 schedule), then 4, 5 Jan
    assert letter.deadline == date(2027, 1, 5)
    assert "剩余 5 个工作日（截至 2027年1月5日，已扣除周末及法定节假日 3 天）" in page
    assert "2027 年的安排尚未录入" in page and "2027年1月1日（元旦）" in page


@pytest.mark.parametrize("state", ["draft", "answered", "closed"])
def test_no_days_left_once_answered_or_before_sending(inq, client, login, db, state):
    letter = make_letter(inq, state, deadline_workdays=5)
    with clock.frozen(date(2026, 9, 29)):
        login(inq.finance)
        page = client.get(f"/inquiries/{letter.id}").get_data(as_text=True)
    assert "剩余" not in page and "已逾期" not in page
