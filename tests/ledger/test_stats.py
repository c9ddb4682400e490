"""整改率 against hand-worked figures (see docs/ledger.md for the rule), 清零, overdue, chart, xlsx."""
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.core import clock
from portal.core.excel import read_rows
from portal.ledger.models import ProblemSource, ProblemState
from portal.ledger.queries import overall, rates
from tests.ledger.conftest import make_problem

S = ProblemState
L = date(2026, 3, 1)


def _fixture(world):
    make_problem(world, state=S.CLOSED, amount="100000", rectified="100000", listed_on=L)  # p1
    make_problem(world, state=S.IN_PROGRESS, amount="200000", rectified="50000", listed_on=L,
                 deadline=date(2026, 5, 1))  # p2: partly rectified, overdue on 2026-06-01
    make_problem(world, state=S.LONG_TERM, amount="0", listed_on=L, deadline=date(2027, 12, 31))  # p3
    make_problem(world, state=S.SUBMITTED, amount="100000", rectified="150000", listed_on=L)  # p4: capped
    make_problem(world, unit=world.other_department, state=S.CLOSED, amount="50000", rectified="50000",
                 source=ProblemSource.EVALUATION, listed_on=L)  # p5
    make_problem(world, unit=world.subunit, state=S.CLOSED, amount="0", year=2025, listed_on=L)  # p6


def _by(rows):
    return {r.key: r for r in rows}


def test_rates_match_hand_worked_figures(db, world):
    _fixture(world)
    with clock.frozen(date(2026, 6, 1)):
        units = _by(rates(world.finance, "unit"))
        departments = _by(rates(world.finance, "department"))
        sources = _by(rates(world.finance, "source"))
        years = _by(rates(world.finance, "year"))
        total = overall(world.finance)
    dept = units[world.department.id]
    # count: 1 closed of 4; amount: (100,000 + 50,000 + 0 + min(150,000, 100,000)) / 400,000
    assert (dept.total, dept.closed, dept.count_rate) == (4, 1, Decimal("0.25"))
    assert dept.amount == Decimal("400000") and dept.rectified == Decimal("250000")
    assert dept.amount_rate == Decimal("0.625")
    assert dept.overdue == 1 and not dept.cleared
    assert units[world.subunit.id].cleared and units[world.subunit.id].amount_rate is None
    assert units[world.other_department.id].cleared
    d = departments[world.department.id]  # the department includes its subordinate unit
    assert (d.total, d.closed, d.count_rate, d.amount_rate) == (5, 2, Decimal("0.4"), Decimal("0.625"))
    assert sources[ProblemSource.AUDIT].count_rate == Decimal("0.4")
    assert sources[ProblemSource.EVALUATION].count_rate == Decimal(1)
    assert years[2025].count_rate == Decimal(1) and years[2026].closed == 2 and years[2026].total == 5
    assert (total.total, total.closed, total.overdue) == (6, 3, 1)
    assert total.amount_rate == Decimal("300000") / Decimal("450000")


def test_stats_page_chart_and_download(db, world, client, login, frozen_today):
    _fixture(world)
    login(world.finance)
    page = client.get("/ledger/stats?by=unit").get_data(as_text=True)
    assert "<svg" in page and "25.0%" in page and "62.5%" in page and "已清零" in page
    svg = client.get("/ledger/stats/chart.svg?by=department")
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    rows = list(read_rows(client.get("/ledger/stats.xlsx?by=unit").data))
    assert rows[0][1][0] == "责任单位"
    by_name = {r[0]: r for _n, r in rows[1:] if r}  # (the definitions follow the figures)
    assert by_name[world.department.name][5] == 0.25 and by_name[world.department.name][8] == 0.625


def test_recurrence_is_flagged(db, world):
    first = make_problem(world, year=2025, category="资金管理", description="专项资金未按规定用途使用，挤占挪用50万元",
                         listed_on=date(2025, 3, 1))
    again = make_problem(world, year=2026, category="资金管理", description="专项资金未按规定用途使用，挤占挪用80万元")
    different = make_problem(world, year=2026, category="资金管理", description="会计凭证装订不规范")
    other_unit = make_problem(world, unit=world.other_department, year=2026, category="资金管理",
                              description="专项资金未按规定用途使用，挤占挪用80万元")
    assert again.recurrence_of_id == first.id
    assert different.recurrence_of_id is None and other_unit.recurrence_of_id is None


# ---- 整改率 over all problems and 到期整改率 over the problems already due (issue 19) ------

def test_a_department_on_schedule_reads_100_percent_due(db, world):
    """Three problems, one closed, two not yet due: 整改率 33 %, 到期整改率 100 %."""
    make_problem(world, state=S.CLOSED, amount="90000", rectified="120000", listed_on=L,
                 deadline=date(2026, 4, 1))  # rectified more than its amount: counts 90,000
    make_problem(world, state=S.IN_PROGRESS, amount="60000", rectified="10000", listed_on=L,
                 deadline=date(2026, 9, 1))
    make_problem(world, state=S.LISTED, amount="30000", listed_on=L, deadline=date(2026, 12, 1))
    with clock.frozen(date(2026, 6, 1)):
        row = overall(world.finance)
    assert (row.total, row.closed, row.due) == (3, 1, 1)
    assert row.count_rate == Decimal(1) / Decimal(3) and row.due_count_rate == Decimal(1)
    assert row.amount_rate == Decimal("100000") / Decimal("180000")  # 90,000 capped + 10,000
    assert row.due_amount_rate == Decimal(1) and row.due_rectified == Decimal("90000")
    with clock.frozen(date(2026, 10, 1)):  # the second one is now overdue
        row = overall(world.finance)
    assert (row.due, row.overdue) == (2, 1) and row.due_count_rate == Decimal("0.5")
    assert row.due_amount_rate == Decimal("100000") / Decimal("150000")


def _independent(problems, today):
    """The rates counted again by hand from the rows, one problem at a time."""
    total = len(problems)
    closed = [p for p in problems if p.state == S.CLOSED]
    due = [p for p in problems if p.state == S.CLOSED or p.deadline < today]

    def capped(p):
        return min(p.rectified_total, p.amount)

    def ratio(a, b):
        return a / b if b else None

    return {
        "count": ratio(Decimal(len(closed)), Decimal(total)),
        "amount": ratio(sum((capped(p) for p in problems), Decimal(0)), sum((p.amount for p in problems), Decimal(0))),
        "due_count": ratio(Decimal(len(closed)), Decimal(len(due))),
        "due_amount": ratio(sum((capped(p) for p in due), Decimal(0)), sum((p.amount for p in due), Decimal(0))),
    }


def test_both_rates_agree_with_an_independent_count(db, world):
    import random

    from portal.ledger.models import Problem

    rng = random.Random(19)
    units = [world.department, world.subunit, world.other_department]
    for _i in range(24):
        state = rng.choice([S.LISTED, S.IN_PROGRESS, S.SUBMITTED, S.CLOSED, S.LONG_TERM])
        amount = rng.choice([0, 10000, 55000, 200000])
        rectified = rng.choice([None, 0, 5000, 60000, 300000]) if state != S.LISTED else None
        make_problem(world, unit=rng.choice(units), state=state, amount=str(amount),
                     rectified=None if rectified is None else str(rectified), listed_on=L,
                     deadline=L + timedelta(days=rng.randrange(10, 200)))
    today = date(2026, 6, 1)
    with clock.frozen(today):
        problems = db.session.scalars(sa.select(Problem)).all()
        total = overall(world.finance)
        by_unit = _by(rates(world.finance, "unit"))
    expected = _independent(problems, today)
    assert (total.count_rate, total.amount_rate, total.due_count_rate, total.due_amount_rate) == (
        expected["count"], expected["amount"], expected["due_count"], expected["due_amount"])
    for unit in units:
        mine = _independent([p for p in problems if p.unit_id == unit.id], today)
        row = by_unit[unit.id]
        assert (row.count_rate, row.amount_rate, row.due_count_rate, row.due_amount_rate) == (
            mine["count"], mine["amount"], mine["due_count"], mine["due_amount"]), unit.name
    # the same rule in memory (the public site's published lists) gives the same figures
    from portal.ledger.queries import RateRow

    memory = RateRow(None, "")
    for p in problems:
        memory.count(closed=p.state == S.CLOSED, open_=p.state.value in ("listed", "in_progress", "long_term"),
                     deadline=p.deadline, amount=p.amount, rectified=p.rectified_total, today=today)
    assert (memory.total, memory.closed, memory.due, memory.amount, memory.rectified, memory.due_rectified) == (
        total.total, total.closed, total.due, total.amount, total.rectified, total.due_rectified)


def test_definitions_on_the_page_the_overview_and_the_export(db, world, client, login, frozen_today):
    _fixture(world)
    login(world.finance)
    page = client.get("/ledger/stats?by=department").get_data(as_text=True)
    assert "到期整改率（按数量）" in page and 'id="rate-definitions"' in page and "到期问题指整改时限已过或已销号的问题" in page
    rows = [r for _n, r in read_rows(client.get("/ledger/stats.xlsx?by=department").data)]
    assert "到期整改率（按数量）" in rows[0] and "到期整改率（按金额）" in rows[0]
    assert any(r and r[0] == "到期整改率（按数量）" and "到期问题" in (r[1] or "") for r in rows[1:])
    login(world.conference)
    overview = client.get("/conference/overview").get_data(as_text=True)
    assert "到期整改率（按数量）" in overview and 'id="rate-definitions"' in overview
