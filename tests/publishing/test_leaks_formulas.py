"""Spreadsheet formulas (issue 15, item 8): a project named `=1+HYPERLINK("x")` is neutralised
in every CSV and XLSX export, on the public site and in the portal (portal.core.excel)."""
import csv
import io

import openpyxl

from portal.core.excel import DANGEROUS_PREFIXES
from portal.performance.models import EvaluationMode
from portal.publishing import operations, search
from tests import factories
from tests.publishing.corpus import add_evaluation, add_goal

FORMULA = '=1+HYPERLINK("x")'
OTHERS = ["+1+1", "-2+3", "@SUM(A1)", "\t=1+2", "\r=1+2"]


def _cells_of(response) -> list:
    data = response.get_data()
    if response.mimetype == "text/csv":
        return [cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for cell in row]
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    cells = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (cell.coordinate, cell.value)  # never a formula cell
                cells.append(cell.value)
    return cells


def _assert_neutralised(response, expected_names):
    assert response.status_code == 200
    cells = [c for c in _cells_of(response) if isinstance(c, str)]
    assert not [c for c in cells if c.startswith(DANGEROUS_PREFIXES)], cells
    for name in expected_names:
        assert "'" + name in cells, (name, cells[:40])


def _make(db, world):
    from portal.performance.models import Operator

    projects = []
    for name in [FORMULA, *OTHERS]:
        project = factories.make_project(world.subunit, name=name, budget="1000000")
        add_goal(project, f"{name} 目标", [(f"{name}指标", Operator.GE, "1", "个", "")])
        add_evaluation(project, 90, conclusion=f"{name}结论", mode=EvaluationMode.FINANCE, agency=world.agency_org)
        add_evaluation(project, 88, conclusion=f"{name}自评", mode=EvaluationMode.SELF)
        projects.append(project)
    db.session.commit()
    return projects


def test_every_public_export_neutralises_formulas(db, world, public_app, index_dir):
    _make(db, world)
    operations.publish(2026, None, ["goals", "self_evaluation", "finance_evaluation"], actor=world.finance)
    db.session.commit()
    search.apply_queue()
    client = public_app.test_client()
    names = [FORMULA, *OTHERS]
    for url in ("/goals", "/results", "/search?year=2026"):
        for fmt in ("csv", "xlsx"):
            joiner = "&" if "?" in url else "?"
            _assert_neutralised(client.get(f"{url}{joiner}format={fmt}"), names)


def test_every_portal_export_neutralises_formulas(db, world, client, login):
    projects = _make(db, world)
    login(world.finance)
    _assert_neutralised(client.get("/projects/export"), [FORMULA, *OTHERS])
    for project in projects:
        goal = project.goals[-1]
        _assert_neutralised(client.get(f"/goals/{goal.id}/export"), [f"{project.name}指标"])
        self_eval = [e for e in project.evaluations if e.mode == EvaluationMode.SELF][0]
        response = client.get(f"/evaluations/{self_eval.id}/export")
        _assert_neutralised(response, [])
