"""The project list's bulk bar (issue 18): 批复 or 退回修改 the submitted goals of the ticked
projects, each through `review_goal`; a project whose goal is not awaiting review is named with
the reason, the others are done."""
import sqlalchemy as sa

from portal.core.audit import AuditEntry, record_key
from portal.performance.models import GoalState, Grade, PerformanceGoal
from tests.factories import make_goal, make_project


def _goal(db, goal):
    db.session.expire_all()
    return db.session.get(PerformanceGoal, goal.id)


def _entries(db, goal, action):
    record_type, record_id = record_key(goal)
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.action == action, AuditEntry.record_type == record_type, AuditEntry.record_id == record_id))


def _submitted(world, name):
    return make_goal(make_project(world.subunit, name=name), state=GoalState.SUBMITTED)


def test_approve_the_ticked_goals_and_name_the_refused(db, world, client, login):
    first, second = _submitted(world, "职业技能培训补贴"), _submitted(world, "校舍维修改造")
    draft = make_goal(make_project(world.subunit, name="教师培训经费"))
    bare = make_project(world.subunit, name="学生资助")
    db.session.commit()
    login(world.finance)
    listing = client.get("/projects").get_data(as_text=True)
    assert 'action="/projects/bulk"' in listing and f'name="ids" value="{first.project_id}"' in listing
    response = client.post("/projects/bulk", data={
        "action": "approve", "grade": "good", "comment": "指标完整",
        "ids": [first.project_id, second.project_id, draft.project_id, bare.id, 999_999], "back": "/projects?year=2026"},
        follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.request.path == "/projects"
    assert "已办理 2 项。" in page
    assert f"{draft.project.code} 教师培训经费 未办理：当前状态" in page and "不能执行" in page
    assert f"{bare.code} 学生资助 未办理：尚未填报绩效目标。" in page
    assert "1 项所选记录不存在或无权办理。" in page  # the unknown id counted, not named
    for goal in (first, second):
        now = _goal(db, goal)
        assert (now.state, now.review_grade, now.review_comment) == (GoalState.APPROVED, Grade.GOOD, "指标完整")
        assert _entries(db, goal, "goal.approve") == 1  # one audit entry per goal
    assert _goal(db, draft).state == GoalState.DRAFT and _entries(db, draft, "goal.approve") == 0


def test_a_return_needs_the_opinion_and_a_fair_grade_is_not_approved(db, world, client, login):
    goal = _submitted(world, "职业技能培训补贴")
    db.session.commit()
    login(world.finance)
    page = client.post("/projects/bulk", data={"action": "approve", "grade": "fair", "ids": [goal.project_id]},
                       follow_redirects=True).get_data(as_text=True)
    assert "未办理" in page and "不能批复" in page and _goal(db, goal).state == GoalState.SUBMITTED
    page = client.post("/projects/bulk", data={"action": "return", "grade": "fair", "ids": [goal.project_id]},
                       follow_redirects=True).get_data(as_text=True)
    assert "需要填写理由" in page and "已办理" not in page and _goal(db, goal).state == GoalState.SUBMITTED
    page = client.post("/projects/bulk", data={"action": "return", "grade": "fair", "comment": "成本指标需细化",
                                               "ids": [goal.project_id]}, follow_redirects=True).get_data(as_text=True)
    assert "已办理 1 项。" in page
    now = _goal(db, goal)
    assert now.state == GoalState.RETURNED and now.review_comment == "成本指标需细化"
    assert _entries(db, goal, "goal.return") == 1


def test_a_unit_has_no_bar_and_is_refused(db, world, client, login):
    goal = _submitted(world, "职业技能培训补贴")
    db.session.commit()
    login(world.unit)
    assert 'action="/projects/bulk"' not in client.get("/projects").get_data(as_text=True)
    assert client.post("/projects/bulk", data={"action": "approve", "grade": "good",
                                               "ids": [goal.project_id]}).status_code == 403
    assert _goal(db, goal).state == GoalState.SUBMITTED


def test_a_tampered_bar_changes_nothing(db, world, client, login):
    goal = _submitted(world, "职业技能培训补贴")
    db.session.commit()
    login(world.finance)
    for data in ({"action": "delete", "grade": "good"}, {"action": "approve", "grade": "best"}):
        assert client.post("/projects/bulk", data={**data, "ids": [goal.project_id]}).status_code == 400
    assert _goal(db, goal).state == GoalState.SUBMITTED
