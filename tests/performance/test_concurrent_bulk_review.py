"""The project list's bulk 批复 under real concurrency: two officers approving overlapping ticked
projects at once approve each goal once (one audit entry, one notification set) and neither
request dies on a deadlock — the ticked projects and their goals are locked in id order before
the first step, and a single review of one of the goals meanwhile is refused, not deadlocked."""
import pytest
import sqlalchemy as sa

from portal.core.audit import AuditEntry
from portal.performance.models import GoalState, PerformanceGoal
from tests.concurrency import in_parallel, signed_in
from tests.factories import make_goal, make_project


@pytest.mark.commits
def test_two_officers_approving_overlapping_projects_approve_each_goal_once(app, db, world):
    goals = [make_goal(make_project(world.subunit, name=f"项目{n}"), state=GoalState.SUBMITTED) for n in range(8)]
    db.session.commit()
    projects, goal_ids = [g.project_id for g in goals], [g.id for g in goals]
    clients = [signed_in(app, world.finance), signed_in(app, world.finance_signer), signed_in(app, world.finance)]
    db.session.rollback()
    ticked = [projects[:6], list(reversed(projects[2:]))]
    data = {"action": "approve", "grade": "good", "comment": "指标完整"}
    calls = [lambda c=c, t=t: c.post("/projects/bulk", data={**data, "ids": t})
             for c, t in zip(clients, ticked, strict=False)]
    # and one officer reviewing a goal in the overlap on its own page at the same time
    calls.append(lambda: clients[2].post(f"/goals/{goal_ids[4]}/review", data={
        "decision": "approve", "grade": "good", "comment": "同意", "state": "submitted"}))
    responses = in_parallel(calls)
    assert [r.status_code for r in responses[:2]] == [302, 302], [r.get_data(as_text=True)[:300] for r in responses]
    assert responses[2].status_code in (302, 422)
    db.session.expire_all()
    assert set(db.session.scalars(sa.select(PerformanceGoal.state).where(PerformanceGoal.id.in_(goal_ids)))) == {
        GoalState.APPROVED}
    rows = db.session.execute(sa.select(AuditEntry.record_id, sa.func.count()).where(
        AuditEntry.action == "goal.approve", AuditEntry.record_id.in_([str(i) for i in goal_ids]))
        .group_by(AuditEntry.record_id)).all()
    assert {int(i): n for i, n in rows} == dict.fromkeys(goal_ids, 1)
