"""Two officers running the same bulk step (确认完成) on overlapping ticked actions at once, on real
connections: every action is moved once, audited once, and neither request dies on a deadlock
(each request takes its rows' locks in id order before the first step writes anything)."""
import pytest
import sqlalchemy as sa

from portal.accounts.models import Role
from portal.conference.models import Action, ActionState
from portal.core.audit import AuditEntry
from tests.concurrency import in_parallel, signed_in
from tests.factories import make_action, make_meeting, make_user


def _entries(action_ids, name):
    from portal.extensions import db

    return db.session.execute(sa.select(AuditEntry.record_id, sa.func.count()).where(
        AuditEntry.action == name, AuditEntry.record_id.in_([str(i) for i in action_ids]))
        .group_by(AuditEntry.record_id)).all()


@pytest.mark.commits
def test_two_officers_completing_overlapping_actions_move_each_once(app, db, world):
    colleague = make_user(world.audit_bureau, Role.CONFERENCE_MEMBER, username="t_conf2", display_name="赵敏")
    meeting = make_meeting(world)
    ids = [make_action(world, meeting, text=f"议定事项{n}").id for n in range(12)]
    db.session.commit()
    clients = [signed_in(app, world.conference), signed_in(app, colleague)]
    db.session.rollback()
    # A ticks the first eight, B the last eight, listed in the opposite order: eight rows overlap
    ticked = [ids[:8], list(reversed(ids[4:]))]
    for _round in range(3):  # a deadlock between the two is a matter of timing: give it chances
        responses = in_parallel([lambda c=c, t=t: c.post("/conference/actions/bulk", data={
            "action": "complete", "ids": t, "back": "/conference/actions"}) for c, t in zip(clients, ticked, strict=True)])
        assert [r.status_code for r in responses] == [302, 302], [r.get_data(as_text=True)[:300] for r in responses]
        db.session.expire_all()
        states = db.session.scalars(sa.select(Action.state).where(Action.id.in_(ids))).all()
        assert set(states) == {ActionState.DONE}
        done = _entries(ids, "conference.action.complete")
        assert sorted(int(i) for i, _n in done) == ids and {n for _i, n in done} == {_round + 1}
        # back to open for the next round (one reopen each, by one officer)
        assert clients[0].post("/conference/actions/bulk", data={
            "action": "reopen", "ids": ids, "comment": "再次核对"}).status_code == 302
        db.session.rollback()
