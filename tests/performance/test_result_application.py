"""结果应用: suggestions from key finance evaluations first, the others labelled with their basis;
the year from the clock; the grade bands at every boundary decide the rule applied."""
from datetime import date
from decimal import Decimal

import pytest

from portal.core import clock
from portal.performance.models import EvaluationMode, Grade
from portal.performance.results import default_year, result_rows
from tests.factories import make_evaluation, make_project

M = EvaluationMode


def _projects(world):
    key = make_project(world.department, name="重点评价项目", budget="1000000", year=2025, code="K1")
    make_evaluation(key, mode=M.SELF, score="95")  # its own self-evaluation says 优 …
    make_evaluation(key, mode=M.FINANCE, score="75")  # … the key evaluation says 中: the rule follows it
    dept = make_project(world.department, name="部门评价项目", budget="600000", year=2025, code="D1")
    make_evaluation(dept, mode=M.DEPARTMENT, score="59.99")
    own = make_project(world.subunit, name="仅自评项目", budget="500000", year=2025, code="A1")
    make_evaluation(own, mode=M.SELF, score="79.99")
    make_project(world.department, name="未评价项目", budget="1", year=2025, code="Z9")
    return key, dept, own


def test_key_evaluations_first_and_the_others_labelled(db, world):
    key, dept, own = _projects(world)
    rows = result_rows(world.finance, 2025)
    assert [r.project.name for r in rows] == ["重点评价项目", "部门评价项目", "仅自评项目"]
    first, second, third = rows
    assert first.is_key and first.basis == M.FINANCE and first.grade == Grade.FAIR
    assert first.amount == Decimal("900000.00") and first.basis_label == "财政重点评价"
    assert not second.is_key and second.basis_label == "部门评价" and second.amount == Decimal("0.00")
    assert not third.is_key and third.basis_label == "单位自评（仅供参考）" and third.grade == Grade.FAIR


def test_the_page_labels_the_basis_and_defaults_to_last_year(db, world, client, login):
    _projects(world)
    db.session.commit()
    with clock.frozen(date(2026, 5, 1)):
        login(world.finance)  # signed in on the frozen clock (sessions have an idle timeout)
        assert default_year() == 2025
        html = client.get("/results").get_data(as_text=True)
    assert 'value="2025"' in html and "重点评价项目" in html
    assert html.index("重点评价项目") < html.index("仅自评项目")
    assert "单位自评（仅供参考）" in html and 'id="grade-bands"' in html and "良 [80, 90)" in html
    with clock.frozen(date(2027, 2, 1)):
        client.post("/logout")
        login(world.finance)
        assert 'value="2026"' in client.get("/results").get_data(as_text=True)
    rows = __import__("portal.core.excel", fromlist=["read_rows"]).read_rows(
        client.get("/results?year=2025&format=xlsx").data)
    rows = [r for _n, r in rows]
    assert rows[0][-1] == "依据" and rows[1][-1] == "财政重点评价" and rows[-1][-1] == "单位自评（仅供参考）"


# each boundary of the grade bands, through to the suggestion (seeds: 优 priority, 中 −10 %, 差 none)
@pytest.mark.parametrize("score, text, amount", [
    ("90.00", "优先保障", "1000000.00"), ("89.99", "维持", "1000000.00"), ("80.00", "维持", "1000000.00"),
    ("79.99", "压减10%", "900000.00"), ("60.00", "压减10%", "900000.00"), ("59.99", "原则上不予安排预算", "0.00")])
def test_every_band_boundary_reaches_the_right_suggestion(db, world, score, text, amount):
    project = make_project(world.department, name="边界项目", budget="1000000", year=2025)
    make_evaluation(project, mode=M.FINANCE, score=score)
    (row,) = result_rows(world.finance, 2025)
    assert (row.text, row.amount) == (text, Decimal(amount))
