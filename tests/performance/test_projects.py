"""Projects: create/edit/stop over HTTP, the list's filters, and who sees what (pages and API)."""
from decimal import Decimal

import pytest

from portal.core.api import create_token
from portal.performance.models import EvaluationMode, Project, ProjectStatus
from tests.factories import make_evaluation, make_project
from tests.performance.factories import make_goal


def test_finance_creates_edits_and_stops_a_project(client, db, world, login):
    login(world.finance)
    data = {"code": "2026-001", "name": "农村饮水安全巩固提升工程", "year": "2026", "kind": "project",
            "budget_type": "general", "unit_id": world.subunit.id, "initial_budget": "5000000",
            "annual_budget": "5200000.50", "executed": "0", "description": ""}
    assert client.post("/projects/new", data=data).status_code == 302
    project = db.session.query(Project).filter_by(code="2026-001").one()
    assert project.department_id == world.department.id and project.annual_budget == Decimal("5200000.50")
    # a duplicate code in the same year and a bad amount are shown on their fields, nothing lost
    page = client.post("/projects/new", data=dict(data, name="重复")).get_data(as_text=True)
    assert "已有编码为 2026-001 的项目" in page and 'value="重复"' in page
    page = client.post("/projects/new", data=dict(data, code="2026-002", annual_budget="五百万")).get_data(as_text=True)
    assert "必须是数字" in page
    client.post(f"/projects/{project.id}/edit", data=dict(data, name="农村饮水安全工程",
                                                          lock_version=str(project.lock_version)))
    db.session.refresh(project)
    assert project.name == "农村饮水安全工程"
    client.post(f"/projects/{project.id}/stop", data={"reason": ""})
    db.session.refresh(project)
    assert project.status == ProjectStatus.ACTIVE
    client.post(f"/projects/{project.id}/stop", data={"reason": "执行严重滞后，收回资金"})
    db.session.refresh(project)
    assert project.status == ProjectStatus.STOPPED and "收回" in project.stop_reason
    assert "已终止" in client.get(f"/projects/{project.id}").get_data(as_text=True)


def test_unit_creates_only_for_its_own_subtree_and_cannot_stop(client, db, world, login):
    login(world.unit)
    base = {"code": "U-1", "name": "义务教育薄弱环节改善", "year": "2026", "kind": "project",
            "budget_type": "general", "initial_budget": "1", "annual_budget": "1", "executed": "0"}
    assert client.post("/projects/new", data=dict(base, unit_id=world.subunit.id)).status_code == 302
    page = client.post("/projects/new", data=dict(base, code="U-2", unit_id=world.other_department.id))
    assert page.status_code == 422 and db.session.query(Project).filter_by(code="U-2").count() == 0
    project = db.session.query(Project).filter_by(code="U-1").one()
    client.post(f"/projects/{project.id}/stop", data={"reason": "x"})
    db.session.refresh(project)
    assert project.status == ProjectStatus.ACTIVE
    client.post("/logout")
    login(world.subunit_user)  # a subordinate unit cannot create for its parent
    client.post("/projects/new", data=dict(base, code="U-3", unit_id=world.department.id))
    assert db.session.query(Project).filter_by(code="U-3").count() == 0


def test_list_filters_sort_and_page(client, db, world, login, app):
    a = make_project(world.department, name="棚户区改造项目", budget="20000000")
    b = make_project(world.subunit, name="义务教育项目", budget="500000", year=2025)
    c = make_project(world.other_department, name="农村饮水安全", budget="3000000")
    make_evaluation(b, mode=EvaluationMode.SELF, score="85")
    db.session.commit()
    login(world.finance)

    def names(**query):
        html = client.get("/projects", query_string=query).get_data(as_text=True)
        return [p.name for p in (a, b, c) if p.name in html]
    assert names() == ["棚户区改造项目", "义务教育项目", "农村饮水安全"]
    assert names(year=2025) == ["义务教育项目"]
    assert names(department=world.department.id) == ["棚户区改造项目", "义务教育项目"]
    assert names(unit=world.subunit.id) == ["义务教育项目"]
    assert names(band="ge1000") == ["棚户区改造项目"]
    assert names(band="lt100") == ["义务教育项目"]
    assert names(grade="good") == ["义务教育项目"]
    assert names(q="饮水") == ["农村饮水安全"]
    assert names(kind="policy") == []
    html = client.get("/projects", query_string={"sort": "-budget"}).get_data(as_text=True)
    assert html.index("棚户区改造项目") < html.index("农村饮水安全") < html.index("义务教育项目")
    for bad in ({"year": "abc"}, {"sort": "x;drop"}, {"page": "-1"}, {"grade": "<b>"}):
        assert client.get("/projects", query_string=bad).status_code == 200
    app.config["PAGE_SIZE"] = 2
    try:
        page2 = client.get("/projects", query_string={"page": 2}).get_data(as_text=True)
        assert "义务教育项目" in page2 and "棚户区改造项目" not in page2  # 2026 first, then 2025
    finally:
        app.config["PAGE_SIZE"] = 20


ROLES = ["unit", "subunit_user", "other_unit", "agency", "other_agency", "finance", "audit", "observer", "expert"]
# who sees the department's project (evaluated by world.agency_org)
SEES = {"unit": True, "subunit_user": False, "other_unit": False, "agency": True, "other_agency": False,
        "finance": True, "audit": True, "observer": True, "expert": False}  # the expert: assigned reviews only


@pytest.mark.parametrize("role", ROLES)
def test_project_visibility_through_every_url_and_the_api(client, db, world, login, role):
    project = make_project(world.department, name="机密测试项目")
    goal = make_goal(project)
    evaluation = make_evaluation(project, agency=world.agency_org, score="88")
    db.session.commit()
    user = getattr(world, role)
    login(user)
    urls = [f"/projects/{project.id}", f"/projects/{project.id}/goal", f"/projects/{project.id}/monitoring",
            f"/goals/{goal.id}/export", f"/indicators/{goal.indicators[0].id}/edit"]
    for url in urls:
        status = client.get(url).status_code
        if SEES[role]:
            assert status in (200, 403), url  # 403 only where the role may view but not edit
        else:
            assert status in (403, 404), (url, status)
    assert client.get(f"/evaluations/{evaluation.id}").status_code == (200 if SEES[role] else 403)
    listed = "机密测试项目" in client.get("/projects").get_data(as_text=True)
    assert listed is SEES[role]
    _token, raw = create_token(user, "t")
    db.session.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    api_list = client.get("/api/v1/projects", headers=headers).get_json()
    assert any(p["id"] == project.id for p in api_list["items"]) is SEES[role]
    for url in (f"/api/v1/projects/{project.id}", f"/api/v1/projects/{project.id}/goals",
                f"/api/v1/projects/{project.id}/monitoring"):
        assert client.get(url, headers=headers).status_code == (200 if SEES[role] else 404)
    evaluations = client.get("/api/v1/evaluations", headers=headers).get_json()["items"]
    assert any(e["id"] == evaluation.id for e in evaluations) is SEES[role]


def test_unit_filter_lists_the_chosen_departments_units_only(client, db, world, login):
    login(world.finance)
    page = client.get("/projects").get_data(as_text=True)
    assert f'<option value="{world.subunit.id}"' not in page and "先选择主管部门" in page
    page = client.get(f"/projects?department={world.department.id}").get_data(as_text=True)
    assert f'<option value="{world.subunit.id}"' in page
    assert f'<option value="{world.other_department.id}" selected' not in page


def test_stop_refuses_an_over_long_reason_at_the_edge(client, db, world, login):
    project = make_project(world.department)
    db.session.commit()
    login(world.finance)
    response = client.post(f"/projects/{project.id}/stop", data={"reason": "理" * 20_001})
    assert response.status_code == 422 and "最多 20000 个字" in response.get_data(as_text=True)
    db.session.refresh(project)
    assert project.status != ProjectStatus.STOPPED and project.stop_reason == ""
