"""The performance forms at the edge (WTForms + portal/core/parsing.py): a value out of bounds or
a text over its limit is refused with a Chinese message and 422, what was typed comes back and
nothing is stored; monitoring opens on the current month and warns of execution above budget."""
from datetime import date

import pytest

from portal.core import clock
from portal.performance.models import Evaluation, GoalState, Indicator, MonitoringReport, PerformanceGoal
from tests.factories import make_project
from tests.performance.conftest import settings_versions, with_version
from tests.performance.factories import ROWS, make_goal


def _selected_month(html: str) -> str:
    start = html.index('name="month"')
    return html[start:].split(" selected")[0].rsplit('value="', 1)[1].split('"')[0]


@pytest.mark.parametrize("today, year, expected", [
    (date(2026, 12, 2), 2026, "12"),  # December: 1—12月, not 1—7月
    (date(2026, 3, 15), 2026, "3"),
    (date(2027, 2, 1), 2026, "12"),  # the project's year is over
    (date(2026, 5, 1), 2027, "1"),  # a project of next year
])
def test_monitoring_opens_on_the_month_of_today(client, db, world, login, today, year, expected):
    project = make_project(world.department, year=year)
    make_goal(project, state=GoalState.APPROVED)
    db.session.commit()
    with clock.frozen(today):
        login(world.unit)
        html = client.get(f"/projects/{project.id}/monitoring").get_data(as_text=True)
        assert _selected_month(html) == expected
        # a chosen month still wins
        html = client.get(f"/projects/{project.id}/monitoring?month=5").get_data(as_text=True)
        assert _selected_month(html) == "5"


def test_execution_above_the_budget_is_a_warning(client, db, world, login):
    project = make_project(world.department, budget="1500000")
    goal = make_goal(project, state=GoalState.APPROVED)
    db.session.commit()
    values = {f"v{i.id}": "1000" for i in goal.indicators if not i.is_qualitative}
    values.update({f"t{i.id}": "achieved" for i in goal.indicators if i.is_qualitative})
    login(world.unit)
    response = client.post(f"/projects/{project.id}/monitoring",
                           data={"month": "12", "executed": "3000000", **values})
    assert response.status_code == 302
    db.session.expire_all()
    report = db.session.query(MonitoringReport).filter_by(project_id=project.id, month=12).one()
    assert report.over_budget and report.warning and not report.lag_warning
    page = client.get(f"/projects/{project.id}/monitoring?month=12").get_data(as_text=True)
    assert "执行数超过全年预算数" in page and "超过全年预算数 150.00万元" in page
    client.post("/logout")
    login(world.finance)
    listed = client.get("/monitoring/warnings").get_data(as_text=True)
    assert project.name in listed and "超预算" in listed
    assert "超预算" in client.get(f"/projects/{project.id}").get_data(as_text=True)


def test_monitoring_refuses_out_of_bounds_values_and_keeps_the_input(client, db, world, login):
    project = make_project(world.department)
    goal = make_goal(project, state=GoalState.APPROVED)
    db.session.commit()
    first = goal.indicators[0]
    login(world.unit)
    for data, message in [
        ({"month": "13", "executed": "1"}, "月份应为 1 到 12 之间的整数"),
        ({"month": "7", "executed": "三十万"}, "执行数应为数字"),
        ({"month": "7", "executed": "1e999"}, "执行数超出允许范围"),
        ({"month": "7", "executed": "-5"}, "执行数超出允许范围"),
        ({"month": "7", "executed": "1", f"v{first.id}": "9" * 30}, "已完成值超出允许范围"),
        ({"month": "7", "executed": "1", "note": "说" * 5001}, "最多 5000 个字"),
        ({"month": "7", "executed": "1", f"r{first.id}": "因" * 2001}, "最多 2000 个字"),
    ]:
        response = client.post(f"/projects/{project.id}/monitoring", data=data)
        page = response.get_data(as_text=True)
        assert response.status_code == 422 and message in page, (data.keys(), message)
        assert f'value="{data["executed"]}"' in page  # what was typed is shown again
    assert db.session.query(MonitoringReport).count() == 0


def test_indicator_rows_refuse_long_texts_and_huge_values(client, db, world, login):
    project = make_project(world.department)
    goal = make_goal(project, rows=ROWS[:2])
    db.session.commit()
    login(world.unit)
    for row, message in [(dict(ROWS[2], name="指" * 201), "最多 200 个字"),
                         (dict(ROWS[2], target_value="1e20"), "指标值超出允许范围"),
                         (dict(ROWS[2], weight="1e999"), "分值不能超过 100"),
                         (dict(ROWS[2], unit="元" * 21), "最多 20 个字")]:
        response = client.post(f"/goals/{goal.id}/rows", data=with_version(db, goal, row),
                               headers={"HX-Request": "true"})
        html = response.get_data(as_text=True)
        assert response.status_code == 422 and message in html, message
    assert db.session.query(Indicator).filter_by(goal_id=goal.id).count() == 2
    ind = goal.indicators[0]
    response = client.post(f"/indicators/{ind.id}", data=with_version(db, ind, dict(ROWS[0], name="名" * 300)),
                           headers={"HX-Request": "true"})
    assert response.status_code == 422 and "最多 200 个字" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Indicator, ind.id).name == ROWS[0]["name"]
    response = client.post(f"/goals/{goal.id}/overall", data=with_version(db, goal, overall_goal="目" * 5001))
    assert response.status_code == 422 and "最多 5000 个字" in response.get_data(as_text=True)
    assert db.session.get(PerformanceGoal, goal.id).overall_goal == "完成培训任务，促进就业。"


def test_goal_review_and_settings_refuse_over_long_and_out_of_range_input(client, db, world, login):
    project = make_project(world.department)
    goal = make_goal(project, state=GoalState.SUBMITTED)
    db.session.commit()
    login(world.finance)
    response = client.post(f"/goals/{goal.id}/review", data={"decision": "approve", "grade": "excellent",
                                                             "comment": "审" * 5001, "state": "submitted"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "最多 5000 个字" in page
    db.session.expire_all()
    assert db.session.get(PerformanceGoal, goal.id).state == GoalState.SUBMITTED
    client.post("/logout")
    login(world.admin)
    form = {"red_below": "60", "green_from": "80", "blue_from": "120", "lag_points": "20", "w_decision": "十五",
            "w_process": "20", "w_output": "40", "w_benefit": "25", **settings_versions()}
    response = client.post("/performance/settings", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "分值应为数字" in page and 'value="十五"' in page


def test_framework_scores_and_findings_are_bounded(client, db, world, login):
    project = make_project(world.department)
    db.session.commit()
    login(world.finance)
    started = client.post(f"/projects/{project.id}/evaluations", data={"mode": "finance", "agency_id": "9" * 30})
    assert started.status_code == 422 and "所选第三方机构不存在" in started.get_data(as_text=True)
    started = client.post(f"/projects/{project.id}/evaluations", data={"mode": "finance"})
    evaluation = db.session.get(Evaluation, int(started.headers["Location"].rsplit("/", 1)[1]))
    line = evaluation.lines[0]
    response = client.post(f"/evaluations/{evaluation.id}",
                           data=with_version(db, evaluation, {f"s{line.id}": "9" * 25}))
    assert response.status_code == 422 and "得分超出允许范围" in response.get_data(as_text=True)
    response = client.post(f"/evaluations/{evaluation.id}/findings",
                           data={"description": "问题" * 3000, "category": "资金", "amount": "12万"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "最多 5000 个字" in page
    assert 'value="资金"' in page and 'value="12万"' in page and "问题" * 3000 + "</textarea>" in page
    assert client.post(f"/evaluations/{evaluation.id}/findings",
                       data={"description": "资金闲置", "amount": "1e999"}).status_code == 422
    response = client.post(f"/evaluations/{evaluation.id}/findings",
                           data={"description": "资金闲置", "category": "资金", "amount": "120000"})
    assert response.status_code == 302
    assert [f.description for f in db.session.get(Evaluation, evaluation.id).findings] == ["资金闲置"]
