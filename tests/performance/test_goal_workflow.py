"""A unit fills in its goal table in place (htmx rows), submits it; finance returns, then approves;
an approved goal is locked and a change is a new version with the old one kept."""
import pytest

from portal.core.audit import history
from portal.performance.models import GoalState, Grade, PerformanceGoal
from tests.factories import make_project
from tests.performance.conftest import with_version
from tests.performance.factories import ROWS, make_goal

HX = {"HX-Request": "true"}


def _goal(db, project):
    db.session.expire_all()
    return db.session.query(PerformanceGoal).filter_by(project_id=project.id).order_by(PerformanceGoal.version.desc()).first()


def test_unit_fills_submits_fixes_and_finance_approves(client, db, world, login):
    project = make_project(world.subunit)
    db.session.commit()
    login(world.unit)  # the department's liaison may edit its subordinate unit's project
    assert client.post(f"/projects/{project.id}/goal").status_code == 302
    goal = _goal(db, project)
    client.post(f"/goals/{goal.id}/overall", data=with_version(db, goal, overall_goal="完成培训任务，促进就业。"))

    # a bad row: level-2 not under level-1, and a non-numeric target → errors shown on the row, nothing saved
    bad = dict(ROWS[0], level2="social", target_value="很多")
    response = client.post(f"/goals/{goal.id}/rows", data=with_version(db, goal, bad), headers=HX)
    assert response.status_code == 422  # htmx is configured to swap 422: the table comes back with its errors
    html = response.get_data(as_text=True)
    assert "不属于一级指标" in html and 'id="indicator-table"' in html and "<html" not in html
    assert 'value="培训人次"' in html  # what was typed is kept
    assert _goal(db, project).indicators == []

    for row in ROWS[:-1]:
        assert client.post(f"/goals/{goal.id}/rows", data=with_version(db, goal, row), headers=HX).status_code == 200
    # without satisfaction the weights total 80: submitting is refused with the reason
    client.post(f"/goals/{goal.id}/submit", data={"state": "draft"})
    assert _goal(db, project).state == GoalState.DRAFT
    page = client.get(f"/projects/{project.id}/goal").get_data(as_text=True)
    assert "指标分值合计应为 90" in page
    client.post(f"/goals/{goal.id}/rows", data=with_version(db, goal, ROWS[-1]))  # plain form post works too (no JavaScript)

    # reorder and edit in place
    goal = _goal(db, project)
    first, second = goal.indicators[0], goal.indicators[1]
    client.post(f"/indicators/{second.id}/move", data=with_version(db, goal, direction="up"), headers=HX)
    assert [i.name for i in _goal(db, project).indicators[:2]] == [second.name, first.name]
    edit = client.get(f"/indicators/{first.id}/edit", headers=HX).get_data(as_text=True)
    assert f'form="row-{first.id}"' in edit
    response = client.post(f"/indicators/{first.id}", data=with_version(db, first, ROWS[0], target_value="abc"),
                           headers=HX)
    assert "必须是数字" in response.get_data(as_text=True)
    client.post(f"/indicators/{first.id}", data=with_version(db, first, ROWS[0], target_value="1500"), headers=HX)
    db.session.refresh(first)
    assert str(first.target_value.normalize()) == "1.5E+3" or first.target_value == 1500

    client.post(f"/goals/{goal.id}/submit", data={"state": "draft"})
    goal = _goal(db, project)
    assert goal.state == GoalState.SUBMITTED
    # a submitted goal is locked for the unit
    client.post(f"/goals/{goal.id}/rows", data=with_version(db, goal, ROWS[0]))
    assert len(_goal(db, project).indicators) == 6

    client.post("/logout")
    login(world.finance)
    # 中 cannot be approved; returning needs a comment
    client.post(f"/goals/{goal.id}/review", data={"decision": "approve", "grade": "fair", "state": "submitted"})
    assert _goal(db, project).state == GoalState.SUBMITTED
    client.post(f"/goals/{goal.id}/review", data={"decision": "return", "grade": "fair", "comment": "", "state": "submitted"})
    assert _goal(db, project).state == GoalState.SUBMITTED
    client.post(f"/goals/{goal.id}/review", data={"decision": "return", "grade": "fair",
                                                 "comment": "成本指标需细化", "state": "submitted"})
    goal = _goal(db, project)
    assert goal.state == GoalState.RETURNED and goal.review_comment == "成本指标需细化"

    client.post("/logout")
    login(world.subunit_user)
    assert "成本指标需细化" in client.get(f"/projects/{project.id}/goal").get_data(as_text=True)
    client.post(f"/indicators/{goal.indicators[2].id}", data=with_version(db, goal.indicators[2], ROWS[2],
                                                                         name="人均培训成本（含教材）"))
    client.post(f"/goals/{goal.id}/submit", data={"state": "returned"})
    assert _goal(db, project).state == GoalState.SUBMITTED

    client.post("/logout")
    login(world.finance)
    # a stale form (made when the goal was returned) is refused clearly
    response = client.post(f"/goals/{goal.id}/review", data={"decision": "approve", "grade": "excellent",
                                                            "state": "returned"}, follow_redirects=True)
    assert "已被他人处理" in response.get_data(as_text=True)
    client.post(f"/goals/{goal.id}/review", data={"decision": "approve", "grade": "excellent", "state": "submitted"})
    goal = _goal(db, project)
    assert goal.state == GoalState.APPROVED and goal.review_grade == Grade.EXCELLENT
    actions = [e.action for e in history(goal)]
    assert actions.count("goal.submit") == 2 and "goal.return" in actions and "goal.approve" in actions


@pytest.mark.commits  # starts the search index's rebuild thread (its own connection)
def test_approved_goal_is_locked_and_changed_by_a_new_version(client, db, world, login):
    project = make_project(world.department)
    goal = make_goal(project, state=GoalState.APPROVED)
    db.session.commit()
    login(world.unit)
    client.post(f"/indicators/{goal.indicators[0].id}/delete", data=with_version(db, goal.indicators[0]))
    db.session.refresh(goal)
    assert len(goal.indicators) == 6
    client.post(f"/goals/{goal.id}/revise", data={"reason": ""})
    assert _goal(db, project).version == 1
    client.post(f"/goals/{goal.id}/revise", data={"reason": "年中预算调整，任务量调减"})
    new = _goal(db, project)
    assert new.version == 2 and new.state == GoalState.DRAFT and new.change_reason.startswith("年中")
    assert len(new.indicators) == 6
    db.session.refresh(goal)
    assert goal.state == GoalState.SUPERSEDED and len(goal.indicators) == 6  # old version kept
    old_page = client.get(f"/projects/{project.id}/goal?version=1").get_data(as_text=True)
    assert "已被新版本替代" in old_page


def test_other_units_and_agencies_cannot_touch_the_goal(client, db, world, login):
    project = make_project(world.department)
    goal = make_goal(project)
    db.session.commit()
    for user in (world.other_unit, world.agency):
        login(user)
        assert client.get(f"/projects/{project.id}/goal").status_code in (403, 404)
        assert client.post(f"/goals/{goal.id}/rows", data=ROWS[0]).status_code == 403
        assert client.post(f"/indicators/{goal.indicators[0].id}/delete").status_code == 403
        assert client.post(f"/goals/{goal.id}/submit").status_code == 403
        client.post("/logout")
    login(world.audit)  # audit reads but does not edit
    assert client.get(f"/projects/{project.id}/goal").status_code == 200
    assert client.post(f"/goals/{goal.id}/rows", data=ROWS[0]).status_code == 403
