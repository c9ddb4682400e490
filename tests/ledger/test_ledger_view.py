"""Buckets with a frozen clock, filters, sorting, bulk actions, saved filters, the problem page."""
from datetime import date, timedelta

import sqlalchemy as sa

from portal.core import clock
from portal.ledger.models import Problem, ProblemState
from portal.ledger.queries import LedgerFilters, bucket_of, ledger_statement
from tests.factories import PASSWORD
from tests.ledger.conftest import make_problem

D = date(2026, 6, 1)


def test_buckets_are_derived_from_the_frozen_clock(db, world):
    listed = date(2026, 1, 5)
    deadlines = {"overdue": D - timedelta(days=1), "d10_today": D, "d10_edge": D + timedelta(days=10),
                 "d20_low": D + timedelta(days=11), "d20_edge": D + timedelta(days=20),
                 "later": D + timedelta(days=21)}
    problems = {k: make_problem(world, listed_on=listed, deadline=v) for k, v in deadlines.items()}
    closed = make_problem(world, listed_on=listed, deadline=D - timedelta(days=30), state=ProblemState.CLOSED)
    submitted = make_problem(world, listed_on=listed, deadline=D - timedelta(days=30), state=ProblemState.SUBMITTED)
    with clock.frozen(D):
        got = {k: p.bucket for k, p in problems.items()}
        assert got == {"overdue": "overdue", "d10_today": "d10", "d10_edge": "d10", "d20_low": "d20",
                       "d20_edge": "d20", "later": "later"}
        assert closed.bucket is None and submitted.bucket is None
        for bucket in ("overdue", "d10", "d20", "later"):
            stmt = ledger_statement(world.finance, LedgerFilters.from_args({"bucket": bucket}))
            found = {p.id for p in db.session.execute(stmt).unique().scalars()}
            assert found == {p.id for p in problems.values() if p.bucket == bucket}, bucket
    # a day later the edge moves: nothing stored goes stale
    with clock.frozen(D + timedelta(days=1)):
        assert bucket_of(problems["d10_today"]) == "overdue"
        assert bucket_of(problems["d20_low"]) == "d10"


def test_filters_sort_and_page_over_http(db, world, client, login, frozen_today):
    make_problem(world, category="资金管理", amount="500")
    make_problem(world, unit=world.other_department, category="政府采购", amount="900", year=2025)
    make_problem(world, unit=world.subunit, category="资金管理", amount="100")
    login(world.finance)
    page = client.get("/ledger/?category=资金管理").get_data(as_text=True)
    assert "ZG-2026-0001" in page and "ZG-2025-0001" not in page
    page = client.get(f"/ledger/?department={world.department.id}&sort=-amount").get_data(as_text=True)
    assert page.index("ZG-2026-0001") < page.index("ZG-2026-0002")
    assert "ZG-2025-0001" not in page
    page = client.get("/ledger/?year=2025").get_data(as_text=True)
    assert "ZG-2025-0001" in page and "ZG-2026-0001" not in page
    assert client.get("/ledger/?year=abc&unit=-1&sort=drop table&page=x&state=nope").status_code == 200


def test_bulk_assign_deadline_and_remind(db, world, client, login, frozen_today):
    a, b = make_problem(world), make_problem(world, unit=world.other_department)
    login(world.finance)
    client.post("/ledger/bulk", data={"action": "assign", "ids": [a.id, b.id], "person": "李科长"})
    db.session.expire_all()
    assert {p.person_responsible for p in db.session.scalars(sa.select(Problem))} == {"李科长"}
    # a deadline before the listing date refuses each problem, by number
    response = client.post("/ledger/bulk", data={"action": "deadline", "ids": [a.id, b.id], "deadline": "2020-01-01"},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert f"{a.number} 未办理：整改时限不能早于挂账日期" in page and f"{b.number} 未办理" in page
    db.session.expire_all()
    assert db.session.get(Problem, a.id).deadline == a.listed_on + timedelta(days=60)
    client.post("/ledger/bulk", data={"action": "deadline", "ids": [a.id, b.id], "deadline": "2026-09-30"})
    db.session.expire_all()
    assert db.session.get(Problem, b.id).deadline == date(2026, 9, 30)
    from portal.core.notifications import Notification

    client.post("/ledger/bulk", data={"action": "remind", "ids": [a.id]})
    assert db.session.scalar(sa.select(sa.func.count(Notification.id)).where(
        Notification.user_id == world.unit.id, Notification.kind == "reminder")) == 1
    client.post("/logout")
    login(world.unit)
    assert client.post("/ledger/bulk", data={"action": "remind", "ids": [a.id]}).status_code == 403


def test_a_bulk_step_refused_for_one_problem_leaves_the_others_done(db, world, client, login, frozen_today):
    """The shape of every list's bulk bar: a closed problem is named with its reason, the open
    ones get the new deadline, each with its audit entry; nothing of the closed one changes."""
    from portal.core.audit import AuditEntry

    open_one, closed = make_problem(world), make_problem(world, state=ProblemState.CLOSED)
    kept = closed.deadline
    login(world.finance)
    response = client.post("/ledger/bulk", data={"action": "deadline", "ids": [open_one.id, closed.id],
                                                  "deadline": "2026-10-31"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "已办理 1 项。" in page and f"{closed.number} 未办理：已销号，不能修改时限。" in page
    db.session.expire_all()
    assert db.session.get(Problem, open_one.id).deadline == date(2026, 10, 31)
    assert db.session.get(Problem, closed.id).deadline == kept
    entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "problem.deadline")).all()
    assert [e.record_id for e in entries] == [str(open_one.id)]
    # a reminder is refused for the closed one alike, and nobody is told about it
    response = client.post("/ledger/bulk", data={"action": "remind", "ids": [closed.id]}, follow_redirects=True)
    assert f"{closed.number} 未办理：已销号，无需催办。" in response.get_data(as_text=True)


def test_saved_filters_are_per_user(db, world, client, login):
    login(world.finance)
    client.post("/ledger/filters", data={"name": "逾期的", "query": "bucket=overdue&year=2026"})
    page = client.get("/ledger/").get_data(as_text=True)
    assert "逾期的" in page and "bucket=overdue&amp;year=2026" in page
    client.post("/logout")
    login(world.audit)
    assert "逾期的" not in client.get("/ledger/").get_data(as_text=True)


def test_problem_page_shows_full_history(db, world, client, login, frozen_today):
    problem = make_problem(world, state=ProblemState.CLOSED)
    login(world.conference)
    page = client.get(f"/ledger/{problem.id}").get_data(as_text=True)
    history = page[page.index('id="history"'):]
    for action in ("problem.list", "problem.progress", "problem.submit", "problem.signoff", "problem.close"):
        assert action not in history, action  # the code never shows: the registry's words do
    for label in ("挂账", "报送整改进展", "申请销号", "确认销号", "销号"):
        assert f'<span class="event">{label}</span>' in history, label


def _options(page: str, name: str) -> list[str]:
    """The option labels of the filter form's <select name=…> (without 全部)."""
    import re

    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S).group(1)
    return [label for label in re.findall(r"<option[^>]*>([^<]*)</option>", select) if label != "全部"]


def test_filter_options_come_from_visible_problems_and_units_follow_the_department(app, db, world, client, login,
                                                                                frozen_today):
    make_problem(world, unit=world.subunit, category="资金管理", year=2026)
    make_problem(world, unit=world.department, category="政府采购", year=2024)
    make_problem(world, unit=world.other_department, category="资产管理", year=2025)
    login(world.finance)
    page = client.get("/ledger/").get_data(as_text=True)
    assert _options(page, "year") == ["2026", "2025", "2024"]
    assert _options(page, "category") == ["政府采购", "资产管理", "资金管理"]  # text order, as SQL sorts them
    assert _options(page, "department") == ["测试市教育局", "测试市卫生健康委员会"]
    # across departments, units wait for a department to be chosen (a province has thousands)
    assert _options(page, "unit") == [] and "先选择主管部门" in page
    page = client.get(f"/ledger/?department={world.department.id}").get_data(as_text=True)
    assert _options(page, "unit") == ["测试市教育局", "测试市第一中学"]
    # a unit chosen from a link stays selectable without its department
    page = client.get(f"/ledger/?unit={world.subunit.id}").get_data(as_text=True)
    assert _options(page, "unit") == ["测试市第一中学"]

    # a liaison sees the options of its own problems only, its units listed at once
    liaison = app.test_client()
    liaison.post("/login", data={"username": world.unit.username, "password": PASSWORD})
    page = liaison.get("/ledger/").get_data(as_text=True)
    assert _options(page, "year") == ["2026", "2024"]
    assert _options(page, "category") == ["政府采购", "资金管理"]
    assert _options(page, "department") == ["测试市教育局"]
    assert _options(page, "unit") == ["测试市教育局", "测试市第一中学"] and "先选择主管部门" not in page
