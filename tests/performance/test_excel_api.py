"""Excel import (template, row-by-row errors, all-or-nothing), exports, the indicator library, and
the bulk API with the same validation."""
import io

from openpyxl import Workbook, load_workbook

from portal.core.api import create_token
from portal.performance.excel_io import GOAL_COLUMNS
from portal.performance.library import LIBRARY_COLUMNS, generate_library
from portal.performance.models import GoalState, LibraryIndicator, PerformanceGoal, Project
from tests.factories import make_project
from tests.performance.conftest import with_version
from tests.performance.factories import ROWS, make_goal


def _xlsx(rows, header=GOAL_COLUMNS) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _rows_from(response):
    return list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))


def test_template_imports_cleanly_and_export_round_trips(client, db, world, login):
    world.department.code = "LZ101"
    db.session.commit()
    login(world.finance)
    template = client.get("/projects/import?template=1")
    rows = _rows_from(template)
    assert list(rows[0]) == GOAL_COLUMNS
    response = client.post("/projects/import", data={"file": (io.BytesIO(template.data), "目标表.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    project = db.session.query(Project).filter_by(code="2026001").one()
    goal = project.current_goal
    assert goal.state == GoalState.DRAFT and [i.name for i in goal.indicators][:2] == ["改造学校数量", "工程验收合格率"]
    exported = _rows_from(client.get(f"/goals/{goal.id}/export"))
    assert [r[11] for r in exported[1:]] == [r[11] for r in rows[1:]]
    assert exported[1][0] == "2026001" and exported[1][5] == "LZ101"
    listed = _rows_from(client.get("/projects/export?year=2026"))
    assert len(listed) == 5


def test_import_reports_every_bad_row_and_writes_nothing(client, db, world, login):
    world.department.code = "D1X"
    db.session.commit()
    good = ["G1", "义务教育项目", 2026, "项目支出", "一般公共预算", "D1X", 100, 100, "目标"]
    rows = [
        good + ["产出指标", "数量指标", "学校数", "≥", 3, "所", 50],
        ["G1", None, None, None, None, None, None, None, None, "效益指标", "数量指标", "受益人数", "≥", "很多", "人", 30],
        ["G1", None, None, None, None, None, None, None, None, "满意度指标", "服务对象满意度指标", "满意度", "≥", 90, "%", 10],
        ["G2", "另一项目", "二〇二六", "项目", "一般公共预算", "NOPE", -5, 1, "", "产出指标", "数量指标", "x", "≥", 1, "", 90],
        ["G9", None, None, None, None, None, None, None, None, "产出指标", "数量指标", "孤行", "≥", 1, "", 1],
    ]
    login(world.finance)
    response = client.post("/projects/import", data={"file": (io.BytesIO(_xlsx(rows)), "bad.xlsx")},
                           content_type="multipart/form-data", follow_redirects=True)  # to the job's page
    html = response.get_data(as_text=True)
    assert "未导入任何数据" in html
    for expected in ("不属于一级指标", "必须是数字", "年度必须是四位数字", "找不到单位编码“NOPE”", "不能小于 0",
                     "没有项目 G9 的表头行", "至少需要一个效益指标", "项目类型应为"):
        assert expected in html, expected
    assert "<td>3</td>" in html  # the row number of the bad benefit row
    assert db.session.query(Project).count() == 0  # nothing half-imported
    # unit liaison importing for another department is refused per row
    client.post("/logout")
    login(world.other_unit)
    fixed = [good + ["产出指标", "数量指标", "学校数", "≥", 3, "所", 50],
             ["G1"] + [None] * 8 + ["效益指标", "社会效益指标", "受益人数", "≥", 100, "人", 30],
             ["G1"] + [None] * 8 + ["满意度指标", "服务对象满意度指标", "满意度", "≥", 90, "%", 10]]
    html = client.post("/projects/import", data={"file": (io.BytesIO(_xlsx(fixed)), "x.xlsx")},
                       content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert "只能导入本单位及下属单位的项目" in html and db.session.query(Project).count() == 0
    # not an Excel file, wrong header → clear messages
    html = client.post("/projects/import", data={"file": (io.BytesIO(b"hello"), "x.xlsx")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert ".xlsx" in html
    html = client.post("/projects/import", data={"file": (io.BytesIO(_xlsx([], header=["a", "b"])), "x.xlsx")},
                       content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert "表头与标准绩效目标表不一致" in html


def test_library_generated_imported_and_picked_into_a_goal(client, db, world, login):
    items = generate_library()
    assert len(items) >= 300 and len({(i["sector"], i["direction"], i["name"]) for i in items}) == len(items)
    login(world.finance)
    data = _xlsx([["教育", "义务教育", "产出指标", "数量指标", "新建校舍面积", "≥", "5000", "平方米", "计划标准"],
                  ["教育", "义务教育", "产出指标", "社会效益指标", "错配", "≥", "1", "", "计划标准"]],
                 header=LIBRARY_COLUMNS)
    html = client.post("/library", data={"file": (io.BytesIO(data), "lib.xlsx")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "不属于该一级指标" in html and db.session.query(LibraryIndicator).count() == 0
    data = _xlsx([["教育", "义务教育", "产出指标", "数量指标", "新建校舍面积", "≥", "5000", "平方米", "计划标准"]],
                 header=LIBRARY_COLUMNS)
    assert client.post("/library", data={"file": (io.BytesIO(data), "lib.xlsx")},
                       content_type="multipart/form-data").status_code == 302
    item = db.session.query(LibraryIndicator).one()
    client.post("/logout")
    project = make_project(world.department)
    goal = make_goal(project, rows=[])
    db.session.commit()
    login(world.unit)
    assert "新建校舍面积" in client.get(f"/projects/{project.id}/goal").get_data(as_text=True)
    client.post(f"/goals/{goal.id}/rows", data=with_version(db, goal, library_id=item.id, weight="20"),
                headers={"HX-Request": "true"})
    db.session.refresh(goal)
    ind = goal.indicators[0]
    assert (ind.name, ind.unit, ind.target_value, ind.weight) == ("新建校舍面积", "平方米", 5000, 20)


def test_api_bulk_create_update_with_form_validation(client, db, world):
    world.department.code = "D1Y"
    _t, raw = create_token(world.finance, "budget-system")
    _t2, unit_raw = create_token(world.other_unit, "x")
    db.session.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    goal = {"overall_goal": "完成培训", "indicators": [dict(r) for r in ROWS]}
    item = {"code": "API-1", "name": "就业技能培训", "year": 2026, "kind": "project", "budget_type": "general",
            "unit_code": "D1Y", "annual_budget": "1000000", "goal": goal}
    bad = dict(item, code="API-2", goal={"overall_goal": "x", "indicators": [dict(ROWS[0], level2="social")]})
    response = client.post("/api/v1/projects/bulk", json={"projects": [item, bad]}, headers=headers)
    assert response.status_code == 422
    details = response.get_json()["error"]["details"]
    assert details[0]["index"] == 1 and "不属于一级指标" in details[0]["message"]
    assert db.session.query(Project).count() == 0  # all or nothing
    response = client.post("/api/v1/projects/bulk", json={"projects": [item]}, headers=headers)
    assert response.status_code == 200, response.get_json()
    created = response.get_json()["saved"][0]
    current = client.get(f"/api/v1/projects/{created['id']}", headers=headers).get_json()
    assert current["lock_version"] == created["lock_version"]
    response = client.post("/api/v1/projects/bulk", json={"projects": [dict(
        item, name="就业技能培训（调整）", lock_version=current["lock_version"],
        goal=dict(goal, lock_version=current["goal"]["lock_version"]))]}, headers=headers)
    assert response.status_code == 200, response.get_json()
    project = db.session.query(Project).filter_by(code="API-1").one()
    assert project.name == "就业技能培训（调整）" and len(project.current_goal.indicators) == 6
    goals = client.get(f"/api/v1/projects/{project.id}/goals", headers=headers).get_json()
    assert goals[0]["indicators"][0]["name"] == "培训人次"
    assert client.post("/api/v1/projects/bulk", json={"projects": [item]},
                       headers={"Authorization": f"Bearer {unit_raw}"}).status_code == 422
    assert client.get("/api/v1/projects").status_code == 401
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/projects/bulk" in spec["paths"] and "Project" in spec["components"]["schemas"]
    assert db.session.query(PerformanceGoal).count() == 1
