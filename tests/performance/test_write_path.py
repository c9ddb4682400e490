"""The performance module on the core write path: stale saves refused (A/B through HTTP, for every
editable record type), parallel transitions on real connections, idempotent form submissions,
complete audit entries, and the bulk API's version checks."""
from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from portal.accounts.models import Role
from portal.core.api import create_token
from portal.core.audit import AuditEntry, history
from portal.core.notifications import Notification
from portal.performance import settings
from portal.performance.models import (
    Evaluation,
    EvaluationMode,
    GoalState,
    Indicator,
    LibraryIndicator,
    PerformanceGoal,
    PerformanceSetting,
    Project,
)
from tests.concurrency import in_parallel, signed_in
from tests.factories import make_project, make_user
from tests.performance.conftest import settings_versions, version
from tests.performance.factories import ROWS, make_goal

HX = {"HX-Request": "true"}
STALE = "已被"  # 该记录已被…于…修改（…），您的修改未保存


def _version_in(html: str, form_id: str | None = None) -> str:
    """The lock_version a page's form carries (the form with `form_id`, else the first)."""
    if form_id is not None:
        html = html[html.index(f'id="{form_id}"'):]
    return re.search(r'name="lock_version"[^>]*value="(\d+)"', html).group(1)


def _entries(action: str) -> list[AuditEntry]:
    from portal.extensions import db

    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def _project_form(project, **changes) -> dict:
    data = {"code": project.code, "name": project.name, "year": str(project.year), "kind": project.kind.value,
            "budget_type": project.budget_type.value, "unit_id": project.unit_id,
            "initial_budget": str(project.initial_budget), "annual_budget": str(project.annual_budget),
            "executed": str(project.executed), "description": project.description or ""}
    return {**data, **changes}


# ---- A/B stale saves -------------------------------------------------------------------------

def test_stale_project_edit_is_refused_and_keeps_both_sides(app, db, world):
    project = make_project(world.subunit, name="校舍维修项目")
    db.session.commit()
    a, b = signed_in(app, world.unit), signed_in(app, world.subunit_user)
    va = _version_in(a.get(f"/projects/{project.id}/edit").get_data(as_text=True))
    vb = _version_in(b.get(f"/projects/{project.id}/edit").get_data(as_text=True))
    assert va == vb == str(project.lock_version)
    assert a.post(f"/projects/{project.id}/edit", data=_project_form(project, name="校舍维修改造项目",
                                                                      lock_version=va)).status_code == 302
    response = b.post(f"/projects/{project.id}/edit", data=_project_form(project, description="B 写的概况",
                                                                          lock_version=vb))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert STALE in page and world.unit.display_name in page and "修改（项目名称）" in page  # who changed what
    assert "B 写的概况" in page  # B's input is still on the page
    db.session.expire_all()
    project = db.session.get(Project, project.id)
    assert project.name == "校舍维修改造项目" and project.description == ""  # A's change intact, B's not saved


def test_stale_goal_overall_is_refused(app, db, world):
    project = make_project(world.subunit)
    goal = make_goal(project)
    db.session.commit()
    a, b = signed_in(app, world.unit), signed_in(app, world.subunit_user)
    va = _version_in(a.get(f"/projects/{project.id}/goal").get_data(as_text=True))
    vb = _version_in(b.get(f"/projects/{project.id}/goal").get_data(as_text=True))
    assert a.post(f"/goals/{goal.id}/overall", data={"overall_goal": "A 的总体目标", "lock_version": va}).status_code == 302
    response = b.post(f"/goals/{goal.id}/overall", data={"overall_goal": "B 的总体目标", "lock_version": vb})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and STALE in page and "修改（总体目标）" in page
    assert "B 的总体目标" in page
    db.session.expire_all()
    assert db.session.get(PerformanceGoal, goal.id).overall_goal == "A 的总体目标"


def test_stale_indicator_target_is_refused_in_the_htmx_table(app, db, world):
    project = make_project(world.subunit)
    goal = make_goal(project)
    db.session.commit()
    row = goal.indicators[0]
    a, b = signed_in(app, world.unit), signed_in(app, world.subunit_user)
    va = _version_in(a.get(f"/indicators/{row.id}/edit", headers=HX).get_data(as_text=True), f"row-{row.id}")
    vb = _version_in(b.get(f"/indicators/{row.id}/edit", headers=HX).get_data(as_text=True), f"row-{row.id}")
    response = a.post(f"/indicators/{row.id}", data=dict(ROWS[0], target_value="1500", lock_version=va), headers=HX)
    assert response.status_code == 200
    # the re-rendered table carries fresh versions: the goal's moved on (a row is a part of it)
    fresh = response.get_data(as_text=True)
    assert f'name="lock_version" form="goal-overall" value="{version(db, goal)}"' in fresh
    response = b.post(f"/indicators/{row.id}", data=dict(ROWS[0], target_value="1300", lock_version=vb), headers=HX)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and STALE in page and "修改（指标值）" in page and world.unit.display_name in page
    assert 'value="1300"' in page and 'id="indicator-table"' in page and "<html" not in page
    assert _version_in(page, f"row-{row.id}") == str(version(db, row))  # the table shown again is current
    db.session.expire_all()
    assert db.session.get(Indicator, row.id).target_value == 1500
    # another row of the same goal, from B's table as it was: still saved (rows are versioned one by one)
    other = goal.indicators[1]
    vb_other = _version_in(b.get(f"/indicators/{other.id}/edit", headers=HX).get_data(as_text=True), f"row-{other.id}")
    assert b.post(f"/indicators/{other.id}", data=dict(ROWS[1], target_value="98", lock_version=vb_other),
                  headers=HX).status_code == 200


def test_stale_reorder_and_delete_are_refused(app, db, world):
    project = make_project(world.subunit)
    goal = make_goal(project)
    db.session.commit()
    first, second = goal.indicators[0], goal.indicators[1]
    a, b = signed_in(app, world.unit), signed_in(app, world.subunit_user)
    old_goal_version = str(version(db, goal))
    assert a.post(f"/indicators/{second.id}/move", data={"direction": "up", "lock_version": old_goal_version},
                  headers=HX).status_code == 200
    response = b.post(f"/indicators/{first.id}/move", data={"direction": "down", "lock_version": old_goal_version},
                      headers=HX)
    assert response.status_code == 422 and STALE in response.get_data(as_text=True)
    db.session.expire_all()
    assert [i.name for i in db.session.get(PerformanceGoal, goal.id).indicators[:2]] == [second.name, first.name]
    # a row edited by A since B's table was built is not deleted by B
    row_version = str(version(db, first))
    assert a.post(f"/indicators/{first.id}", data=dict(ROWS[0], name="培训人次（线上）", lock_version=row_version),
                  headers=HX).status_code == 200
    response = b.post(f"/indicators/{first.id}/delete", data={"lock_version": row_version}, headers=HX)
    assert response.status_code == 422 and STALE in response.get_data(as_text=True)
    assert db.session.get(Indicator, first.id) is not None


def test_stale_evaluation_is_refused(app, db, world):
    from portal.performance import operations as ops

    project = make_project(world.department)
    evaluation = ops.start_framework_evaluation(project, EvaluationMode.FINANCE, actor=world.finance)
    db.session.commit()
    lines = evaluation.lines
    a, b = signed_in(app, world.finance), signed_in(app, world.finance_signer)
    va = _version_in(a.get(f"/evaluations/{evaluation.id}").get_data(as_text=True))
    vb = _version_in(b.get(f"/evaluations/{evaluation.id}").get_data(as_text=True))
    scores = {f"s{ln.id}": s for ln, s in zip(lines, ["14", "12", "30", "29"], strict=True)}
    assert a.post(f"/evaluations/{evaluation.id}", data=dict(scores, conclusion="A 的结论", lock_version=va)
                  ).status_code == 302
    response = b.post(f"/evaluations/{evaluation.id}", data=dict(scores, suggestions="B 的建议", lock_version=vb))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and re.search(STALE + r"[^（]*修改（[^）]*综合评价结论", page)
    assert "B 的建议" in page
    db.session.expire_all()
    evaluation = db.session.get(Evaluation, evaluation.id)
    assert evaluation.conclusion == "A 的结论" and evaluation.suggestions == ""


SETTINGS = {"red_below": "60", "green_from": "80", "blue_from": "120", "lag_points": "20",
            "w_decision": "15", "w_process": "15", "w_output": "35", "w_benefit": "35"}


def test_stale_settings_are_refused(app, db, world):
    second_admin = make_user(world.finance_bureau, Role.ADMIN, username="t_admin2")
    db.session.commit()
    a, b = signed_in(app, world.admin), signed_in(app, second_admin)
    a.get("/performance/settings")
    page_b = b.get("/performance/settings").get_data(as_text=True)
    versions_b = dict(re.findall(r'name="(v_\w+)" value="(\d+)"', page_b))
    assert set(versions_b) == {"v_thresholds", "v_framework", "v_rules"}
    assert a.post("/performance/settings", data={**SETTINGS, "red_below": "55", **settings_versions()}
                  ).status_code == 302
    response = b.post("/performance/settings", data={**SETTINGS, "w_decision": "20", "w_output": "30",
                                                     **versions_b})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and STALE in page and "修改（红灯阈值）" in page
    assert 'name="w_decision" value="20"' in page  # B's input kept
    db.session.expire_all()
    assert settings.thresholds().red_below == 55 and settings.framework_weights()["decision"] == 15


# ---- parallel transitions on real connections ------------------------------------------------

def test_parallel_goal_submissions_make_one_transition(app, db, world):
    project = make_project(world.department)
    goal = make_goal(project)
    db.session.commit()
    url = f"/goals/{goal.id}/submit"  # (threads never touch this session's objects)
    clients = [signed_in(app, world.unit) for _ in range(6)]
    responses = in_parallel([lambda c=c: c.post(url, data={"state": "draft"}) for c in clients])
    assert all(r.status_code in (302, 422) for r in responses)
    db.session.expire_all()
    assert db.session.get(PerformanceGoal, goal.id).state == GoalState.SUBMITTED
    assert len(_entries("goal.submit")) == 1
    notified = db.session.scalar(sa.select(sa.func.count()).select_from(Notification)
                                 .where(Notification.title.contains("待审核")))
    assert notified == 2  # one notification per finance officer (finance, finance_signer): one set


def test_parallel_approvals_make_one_transition(app, db, world):
    project = make_project(world.department)
    goal = make_goal(project, state=GoalState.SUBMITTED)
    db.session.commit()
    url = f"/goals/{goal.id}/review"
    clients = [signed_in(app, world.finance), signed_in(app, world.finance_signer)] * 2
    responses = in_parallel([lambda c=c: c.post(url, data={
        "decision": "approve", "grade": "excellent", "comment": "同意", "state": "submitted"}) for c in clients])
    assert all(r.status_code in (302, 422) for r in responses)
    db.session.expire_all()
    assert db.session.get(PerformanceGoal, goal.id).state == GoalState.APPROVED
    entries = _entries("goal.approve")
    assert len(entries) == 1
    assert entries[0].before_dict["state"] == "submitted" and entries[0].after_dict["state"] == "approved"


def test_parallel_goal_starts_make_one_goal(app, db, world):
    project = make_project(world.department)
    db.session.commit()
    url = f"/projects/{project.id}/goal"
    clients = [signed_in(app, world.unit) for _ in range(4)]
    in_parallel([lambda c=c: c.post(url) for c in clients])
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PerformanceGoal)
                             .where(PerformanceGoal.project_id == project.id)) == 1
    assert len(_entries("goal.create")) == 1


# ---- a form posted twice ---------------------------------------------------------------------

def test_project_form_posted_twice_creates_one_project(client, db, world, login):
    login(world.finance)
    data = {"code": "2026-900", "name": "重复提交测试项目", "year": "2026", "kind": "project",
            "budget_type": "general", "unit_id": world.subunit.id, "annual_budget": "100", "form_key": "k-project-1"}
    first = client.post("/projects/new", data=data)
    again = client.post("/projects/new", data=data)
    assert first.status_code == again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]  # the repeat goes where the first went
    assert db.session.query(Project).filter_by(code="2026-900").count() == 1
    assert len(_entries("project.create")) == 1


def test_goal_form_posted_twice_creates_one_goal(app, db, world):
    project = make_project(world.department)
    db.session.commit()
    url = f"/projects/{project.id}/goal"
    clients = [signed_in(app, world.unit) for _ in range(3)]
    responses = in_parallel([lambda c=c: c.post(url, data={"form_key": "k-goal-1"}) for c in clients])
    assert [r.status_code for r in responses] == [302, 302, 302]
    db.session.expire_all()
    assert db.session.query(PerformanceGoal).filter_by(project_id=project.id).count() == 1


# ---- audit -----------------------------------------------------------------------------------

def test_reorder_and_row_edits_are_audited_with_what_changed(client, db, world, login):
    project = make_project(world.department)
    goal = make_goal(project)
    db.session.commit()
    names = [i.name for i in goal.indicators]
    second, first = goal.indicators[1], goal.indicators[0]
    login(world.unit)
    client.post(f"/indicators/{second.id}/move", data={"direction": "up", "lock_version": version(db, goal)},
                headers=HX)
    [moved] = _entries("goal.indicator_move")
    assert moved.record_type == "performance_goals" and moved.record_id == str(goal.id)
    assert moved.before_dict == {"order": names}
    assert moved.after_dict == {"order": [names[1], names[0], *names[2:]]}
    client.post(f"/indicators/{first.id}", data=dict(ROWS[0], target_value="1500", lock_version=version(db, first)),
                headers=HX)
    [edit] = _entries("goal.indicator_edit")
    assert edit.record_type == "indicators" and edit.record_id == str(first.id)
    assert edit.before_dict == {"target_value": "1200"} and edit.after_dict == {"target_value": "1500"}
    # the goal's history (shown on its page) has both: the goal's entries and its rows'
    from portal.performance.queries import goal_history

    assert [e.action for e in goal_history(goal)][-2:] == ["goal.indicator_move", "goal.indicator_edit"]
    assert [e.action for e in history(goal)][-1] == "goal.indicator_move"


def test_settings_changes_are_audited_with_before_and_after(client, db, world, login):
    login(world.admin)
    response = client.post("/performance/settings", data={**SETTINGS, "w_decision": "20", "w_output": "30",
                                                          "r_fair_percent": "-20", **settings_versions()})
    assert response.status_code == 302
    [weights] = _entries("settings.framework_weights")
    assert weights.record_type == "performance_settings" and weights.record_id == settings.FRAMEWORK
    assert weights.before_dict == {"decision": "15", "output": "35"}
    assert weights.after_dict == {"decision": "20", "output": "30"}
    [rules] = _entries("settings.result_rules")
    assert rules.before_dict["fair.percent"] == "-10" and rules.after_dict["fair.percent"] == "-20"
    assert all(rules.before_dict[k] != rules.after_dict[k] for k in rules.after_dict)
    assert _entries("settings.monitoring_thresholds") == []  # unchanged: not written, not audited
    assert db.session.get(PerformanceSetting, settings.THRESHOLDS) is None


def _xlsx(rows) -> bytes:
    from openpyxl import Workbook

    from portal.performance.excel_io import GOAL_COLUMNS

    wb = Workbook()
    ws = wb.active
    ws.append(GOAL_COLUMNS)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _goal_rows(code, name, unit_code, overall="目标"):
    head = [code, name, 2026, "项目支出", "一般公共预算", unit_code, 100, 100, overall]
    return [head + ["产出指标", "数量指标", "学校数", "≥", 3, "所", 50],
            [code] + [None] * 8 + ["效益指标", "社会效益指标", "受益人数", "≥", 100, "人", 30],
            [code] + [None] * 8 + ["满意度指标", "服务对象满意度指标", "满意度", "≥", 90, "%", 10]]


def test_goal_import_writes_one_entry_per_project_and_goal(client, db, world, login):
    world.department.code = "IMP1"
    existing = make_project(world.department, code="I-2", name="已有项目", year=2026)
    make_goal(existing)
    db.session.commit()
    login(world.finance)
    data = _xlsx(_goal_rows("I-1", "新项目", "IMP1") + _goal_rows("I-2", "已有项目（更名）", "IMP1", "新目标"))
    response = client.post("/projects/import", data={"file": (io.BytesIO(data), "x.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    projects = _entries("project.import")
    goals = _entries("goal.import")
    assert {e.record_type for e in projects} == {"projects"} and len(projects) == 2
    assert {e.record_type for e in goals} == {"performance_goals"} and len(goals) == 2
    assert not [e for e in _entries("project.import") if e.record_type == "users"]
    updated = next(e for e in projects if e.record_id == str(existing.id))
    assert updated.after_dict["name"] == "已有项目（更名）" and "code" not in updated.after_dict  # changed fields only
    goal_entry = next(e for e in goals if e.before)
    assert goal_entry.before_dict["overall_goal"] != goal_entry.after_dict["overall_goal"] == "新目标"


def test_library_import_writes_one_entry_per_indicator(client, db, world, login):
    from openpyxl import Workbook

    from portal.performance.library import LIBRARY_COLUMNS

    wb = Workbook()
    ws = wb.active
    ws.append(LIBRARY_COLUMNS)
    ws.append(["教育", "义务教育", "产出指标", "数量指标", "新建校舍面积", "≥", "5000", "平方米", "计划标准"])
    ws.append(["教育", "义务教育", "产出指标", "质量指标", "校舍验收合格率", "≥", "100", "%", "行业标准"])
    buf = io.BytesIO()
    wb.save(buf)
    login(world.finance)
    assert client.post("/library", data={"file": (io.BytesIO(buf.getvalue()), "lib.xlsx")},
                       content_type="multipart/form-data").status_code == 302
    added = _entries("library.add")
    assert len(added) == 2 and {e.record_type for e in added} == {"indicator_library"}
    assert db.session.query(LibraryIndicator).count() == 2


# ---- the bulk API ----------------------------------------------------------------------------

@pytest.fixture()
def api(client, db, world):
    world.department.code = "APIX"
    _t, raw = create_token(world.finance, "budget-system")
    db.session.commit()
    return {"Authorization": f"Bearer {raw}"}


def test_api_update_needs_the_current_lock_version(client, db, world, api):
    item = {"code": "API-9", "name": "接口项目", "year": 2026, "kind": "project", "budget_type": "general",
            "unit_code": "APIX", "annual_budget": "1000"}
    created = client.post("/api/v1/projects/bulk", json={"projects": [item]}, headers=api).get_json()["saved"][0]
    read = created["lock_version"]
    # missing: a JSON validation error
    response = client.post("/api/v1/projects/bulk", json={"projects": [dict(item, name="x")]}, headers=api)
    assert response.status_code == 422 and response.get_json()["error"]["details"][0]["field"] == "lock_version"
    # current: saved, and the version moves on
    response = client.post("/api/v1/projects/bulk", json={"projects": [dict(item, name="接口项目（一）",
                                                                             lock_version=read)]}, headers=api)
    assert response.status_code == 200 and response.get_json()["saved"][0]["lock_version"] == read + 1
    # stale: 409, JSON, nothing saved
    response = client.post("/api/v1/projects/bulk", json={"projects": [dict(item, name="接口项目（二）",
                                                                             lock_version=read)]}, headers=api)
    body = response.get_json()
    assert response.status_code == 409 and body["error"]["code"] == "stale"
    assert STALE in body["error"]["details"][0]["message"]
    db.session.expire_all()
    assert db.session.query(Project).filter_by(code="API-9").one().name == "接口项目（一）"
    assert len(_entries("project.update")) == 1


def test_stale_library_edit_is_refused(app, db, world):
    from portal.performance.models import Level1, Level2, Operator, StandardSource

    item = LibraryIndicator(sector="教育", direction="义务教育", level1=Level1.OUTPUT, level2=Level2.QUANTITY,
                            name="新建校舍面积", operator=Operator.GE, unit="平方米", suggested_value="5000",
                            source=StandardSource.PLAN)
    db.session.add(item)
    db.session.commit()
    a, b = signed_in(app, world.finance), signed_in(app, world.finance_signer)
    va = _version_in(a.get(f"/library/{item.id}/edit").get_data(as_text=True))
    vb = _version_in(b.get(f"/library/{item.id}/edit").get_data(as_text=True))
    form = {"direction": "义务教育", "name": "新建校舍面积", "suggested_value": "5000", "unit": "平方米",
            "source": "plan"}
    assert a.post(f"/library/{item.id}/edit", data=dict(form, suggested_value="6000", lock_version=va)
                  ).status_code == 302
    response = b.post(f"/library/{item.id}/edit", data=dict(form, unit="万平方米", lock_version=vb))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "修改（建议指标值）" in page and 'value="万平方米"' in page
    db.session.expire_all()
    item = db.session.get(LibraryIndicator, item.id)
    assert (item.suggested_value, item.unit) == ("6000", "平方米")
    [entry] = _entries("library.update")
    assert entry.before_dict == {"suggested_value": "5000"} and entry.after_dict == {"suggested_value": "6000"}
    # units may read the library but not edit it
    assert signed_in(app, world.unit).get(f"/library/{item.id}/edit").status_code == 403


def test_refused_transitions_reshow_the_page_with_what_was_typed(client, db, world, login):
    project = make_project(world.department)
    login(world.finance)
    response = client.post(f"/projects/{project.id}/evaluations", data={"mode": "nonsense"})
    assert response.status_code == 422 and "请选择评价方式" in response.get_data(as_text=True)
    assert db.session.query(Evaluation).count() == 0
    client.post("/logout")
    goal = make_goal(project, state=GoalState.SUBMITTED)
    db.session.commit()
    login(world.finance)
    response = client.post(f"/goals/{goal.id}/review", data={"decision": "approve", "grade": "fair",
                                                             "comment": "成本测算依据不足", "state": "submitted"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "不能批复" in page and "成本测算依据不足</textarea>" in page
    response = client.post(f"/projects/{project.id}/stop", data={"reason": "   "})
    assert response.status_code == 422 and "请填写终止理由" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(PerformanceGoal, goal.id).state == GoalState.SUBMITTED
    assert _entries("goal.approve") == [] and _entries("project.stop") == []
