"""整改率 against hand-worked figures (see docs/ledger.md for the rule), 清零, overdue, chart, xlsx."""
from datetime import date
from decimal import Decimal

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
    by_name = {r[0]: r for _n, r in rows[1:]}
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
