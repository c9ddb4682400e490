"""Monitoring over HTTP (lights, warnings, configurable thresholds) and evaluations (self-evaluation
scoring from the approved goal, framework evaluations with findings), result application."""
from datetime import datetime
from decimal import Decimal

from portal.core import clock
from portal.performance import operations as ops
from portal.performance.models import (
    EvaluationLine,
    EvaluationMode,
    EvaluationState,
    GoalState,
    Grade,
    MonitoringReport,
)
from tests.factories import make_evaluation, make_project
from tests.performance.conftest import settings_versions, with_version
from tests.performance.factories import make_goal


def _report(db, project, month=7):
    db.session.expire_all()
    return db.session.query(MonitoringReport).filter_by(project_id=project.id, month=month).one_or_none()


def test_monitoring_lights_warning_and_threshold_change(client, db, world, login):
    project = make_project(world.department, budget="1200000")
    goal = make_goal(project, state=GoalState.APPROVED)
    db.session.commit()
    qty, quality, cost, social, sustain, satisfaction = goal.indicators
    login(world.unit)
    form = {"month": "7", "executed": "300000",  # 25 % vs schedule 58.3 % → lag warning
            f"v{qty.id}": "400", f"e{qty.id}": "1200",  # standard 700 → 57 % → red
            f"v{quality.id}": "96", f"v{cost.id}": "520",  # cost over its ceiling → red
            f"v{social.id}": "45", f"t{sustain.id}": "partial", f"v{satisfaction.id}": "92"}
    assert client.post(f"/projects/{project.id}/monitoring", data=form).status_code == 302
    report = _report(db, project)
    lights = {v.indicator.name: v.light for v in report.values}
    assert lights == {"培训人次": "red", "培训合格率": "green", "人均培训成本": "red", "培训后就业率": "green",
                      "长效机制": "yellow", "学员满意度": "blue"}
    assert report.lag_warning and report.red_count == 2 and report.warning
    # bad input: a clear message, what was typed is kept
    page = client.post(f"/projects/{project.id}/monitoring", data=dict(form, executed="三十万")).get_data(as_text=True)
    assert "执行数应为数字" in page and 'value="三十万"' in page
    client.post("/logout")

    login(world.finance)
    warnings_page = client.get("/monitoring/warnings").get_data(as_text=True)
    assert project.name in warnings_page
    assert f"/ledger/new?project={project.id}" in warnings_page  # a warning can be listed on the ledger
    listing = client.get(f"/ledger/new?project={project.id}").get_data(as_text=True)
    assert project.code in listing and 'selected value="monitoring"' in listing
    assert project.name in client.get("/projects?warning=1").get_data(as_text=True)
    assert project.name in client.get("/").get_data(as_text=True)  # dashboard panel
    client.post("/logout")

    login(world.admin)  # lowering the thresholds recomputes stored lights
    response = client.post("/performance/settings", data={
        "red_below": "50", "green_from": "55", "blue_from": "200", "lag_points": "40",
        "w_decision": "15", "w_process": "15", "w_output": "35", "w_benefit": "35", **settings_versions()})
    assert response.status_code == 302
    report = _report(db, project)
    lights = {v.indicator.name: v.light for v in report.values}
    assert lights["培训人次"] == "green" and lights["学员满意度"] == "green"
    assert not report.lag_warning and report.red_count == 1
    page = client.post("/performance/settings", data={"red_below": "90", "green_from": "80", "blue_from": "120",
                                                     "lag_points": "20", "w_decision": "15", "w_process": "15",
                                                     "w_output": "35", "w_benefit": "35", **settings_versions()}
                       ).get_data(as_text=True)
    assert "红灯线 &lt; 绿灯线" in page or "红灯线 < 绿灯线" in page


def test_monitoring_needs_an_approved_goal_and_the_right_unit(client, db, world, login):
    project = make_project(world.department)
    make_goal(project)  # draft
    db.session.commit()
    login(world.unit)
    page = client.post(f"/projects/{project.id}/monitoring", data={"month": "7", "executed": "1"})
    assert "批复后" in page.get_data(as_text=True) and _report(db, project) is None
    client.post("/logout")
    login(world.other_unit)
    assert client.post(f"/projects/{project.id}/monitoring", data={"month": "7", "executed": "1"}).status_code == 403


def test_self_evaluation_from_the_approved_goal_to_a_grade(client, db, world, login):
    project = make_project(world.subunit, budget="1000000", executed=Decimal("950000"))
    goal = make_goal(project, state=GoalState.APPROVED)
    db.session.commit()
    login(world.subunit_user)
    response = client.post(f"/projects/{project.id}/evaluations", data={"mode": "self"})
    evaluation_id = int(response.headers["Location"].rsplit("/", 1)[1])
    lines = db.session.query(EvaluationLine).filter_by(evaluation_id=evaluation_id).order_by(EvaluationLine.position).all()
    execution, qty, quality, cost, social, sustain, satisfaction = lines
    assert execution.label == "预算执行率" and qty.indicator_id == goal.indicators[0].id
    form = {"executed": "950000", f"a{qty.id}": "1080", f"a{quality.id}": "100", f"a{cost.id}": "550",
            f"a{social.id}": "", f"na{social.id}": "1", f"t{sustain.id}": "achieved", f"a{satisfaction.id}": "93",
            f"r{cost.id}": "教材涨价"}
    evaluation = db.session.get(type(lines[0].evaluation), evaluation_id)
    client.post(f"/evaluations/{evaluation_id}", data=with_version(db, evaluation, form))
    db.session.expire_all()
    scores = [ln.score for ln in db.session.query(EvaluationLine).filter_by(evaluation_id=evaluation_id)
              .order_by(EvaluationLine.position)]
    # 9.5 + 27 + 10 + 9.09 + n/a + 10 + 10 = 75.59 of 80 applicable → 94.49
    assert scores == [Decimal("9.50"), Decimal("27.00"), Decimal("10.00"), Decimal("9.09"), None,
                      Decimal("10.00"), Decimal("10.00")]
    evaluation = db.session.get(type(lines[0].evaluation), evaluation_id)
    assert evaluation.score == Decimal("94.49") and evaluation.grade == Grade.EXCELLENT
    assert evaluation.state == EvaluationState.DRAFT
    # completing needs every applicable actual value
    page = client.post(f"/evaluations/{evaluation_id}", data=with_version(db, evaluation, form, **{f"a{qty.id}": ""},
                                                                          complete="1"))
    assert "尚未填写实际完成值" in page.get_data(as_text=True)
    client.post(f"/evaluations/{evaluation_id}", data=with_version(db, evaluation, form, complete="1"))
    db.session.refresh(evaluation)
    assert evaluation.state == EvaluationState.COMPLETED and evaluation.completed_at is not None
    # completed: locked
    client.post(f"/evaluations/{evaluation_id}", data=with_version(db, evaluation, form, **{f"a{qty.id}": "1"}))
    db.session.refresh(evaluation)
    assert evaluation.score == Decimal("94.49")
    xlsx = client.get(f"/evaluations/{evaluation_id}/export")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_self_evaluation_needs_an_approved_goal(db, world):
    project = make_project(world.department)
    make_goal(project, state=GoalState.SUBMITTED)
    import pytest

    from portal.core.errors import DomainError
    with pytest.raises(DomainError, match="批复后"):
        ops.start_self_evaluation(project, actor=world.unit)


def test_finance_evaluation_framework_findings_and_permissions(client, db, world, login):
    project = make_project(world.department)
    db.session.commit()
    login(world.unit)  # a unit cannot open a finance evaluation
    client.post(f"/projects/{project.id}/evaluations", data={"mode": "finance"})
    assert project.evaluations == []
    client.post("/logout")
    login(world.finance)
    response = client.post(f"/projects/{project.id}/evaluations",
                           data={"mode": "finance", "agency_id": world.agency_org.id})
    evaluation_id = int(response.headers["Location"].rsplit("/", 1)[1])
    lines = db.session.query(EvaluationLine).filter_by(evaluation_id=evaluation_id).order_by(EvaluationLine.position).all()
    assert [ln.label for ln in lines] == ["决策", "过程", "产出", "效益"]
    assert [ln.weight for ln in lines] == [15, 15, 35, 35]
    scores = {f"s{ln.id}": s for ln, s in zip(lines, ["14", "12", "30", "29.5"], strict=True)}
    evaluation = lines[0].evaluation
    page = client.post(f"/evaluations/{evaluation_id}", data=with_version(db, evaluation, scores,
                                                                          **{f"s{lines[0].id}": "16"}))
    assert page.status_code == 422 and "不能超过分值 15" in page.get_data(as_text=True)
    client.post(f"/evaluations/{evaluation_id}", data=with_version(db, evaluation, scores, conclusion="总体较好",
                                                                   complete="1"))
    client.post(f"/evaluations/{evaluation_id}/findings", data={"category": "资金管理", "description": "",
                                                               "amount": ""})
    client.post(f"/evaluations/{evaluation_id}/findings", data={"category": "资金管理",
                                                               "description": "资金拨付滞后", "amount": "12000.5",
                                                               "suggestion": "加快拨付"})
    db.session.expire_all()
    evaluation = lines[0].evaluation
    assert evaluation.score == Decimal("85.50") and evaluation.grade == Grade.GOOD
    assert [f.description for f in evaluation.findings] == ["资金拨付滞后"]
    client.post("/logout")
    login(world.agency)  # the commissioned agency reads it; the other does not
    assert client.get(f"/evaluations/{evaluation_id}").status_code == 200
    client.post("/logout")
    login(world.other_agency)
    assert client.get(f"/evaluations/{evaluation_id}").status_code == 403


def test_result_application_suggestions_and_export(client, db, world, login):
    fair = make_project(world.department, name="中等项目", budget="1000000", year=2025)
    poor = make_project(world.subunit, name="较差项目", budget="500000", year=2025)
    best = make_project(world.other_department, name="优秀项目", budget="800000", year=2025)
    make_evaluation(fair, mode=EvaluationMode.SELF, score="75")
    make_evaluation(poor, mode=EvaluationMode.SELF, score="92")
    make_evaluation(poor, mode=EvaluationMode.FINANCE, score="59.99")  # finance result wins over self
    make_evaluation(best, mode=EvaluationMode.FINANCE, score="90")
    db.session.commit()
    login(world.finance)
    html = client.get("/results?year=2025").get_data(as_text=True)
    assert "压减10%" in html and "90.00" in html  # 100 万 − 10 % = 90 万
    assert "原则上不予安排预算" in html and "优先保障" in html
    xlsx = client.get("/results?year=2025&format=xlsx")
    import io

    from openpyxl import load_workbook
    rows = list(load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True))
    assert rows[0][5] == "评价等级" and {r[3]: r[5] for r in rows[1:]} == {"中等项目": "中", "较差项目": "差",
                                                                     "优秀项目": "优"}
    assert ops.suggestion_for(Grade.FAIR, Decimal("1000000"))[1] == Decimal("900000.00")
    with clock.frozen(datetime(2026, 3, 1)):
        assert ops.suggestion_for(None, Decimal(1)) == ("", None)
