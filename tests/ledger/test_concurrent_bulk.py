"""Two officers (finance and audit) setting deadlines on overlapping ticked problems at once, on
real connections: every problem gets the deadline, each change is audited once, and neither
request dies on a deadlock (the bulk bar locks its rows in id order before the first step)."""
from datetime import date

import pytest
import sqlalchemy as sa

from portal.core.audit import AuditEntry
from portal.ledger.models import Problem
from tests.concurrency import in_parallel, signed_in
from tests.ledger.conftest import make_problem


@pytest.mark.commits
def test_two_officers_setting_overlapping_deadlines_change_each_problem_once(app, db, world, frozen_today):
    ids = [make_problem(world).id for _ in range(10)]
    db.session.commit()
    clients = [signed_in(app, world.finance), signed_in(app, world.audit)]
    db.session.rollback()
    ticked = [ids[:7], list(reversed(ids[3:]))]  # four rows overlap, taken in opposite orders
    for n, deadline in enumerate(("2026-10-31", "2026-11-30"), start=1):
        responses = in_parallel([lambda c=c, t=t, d=deadline: c.post("/ledger/bulk", data={
            "action": "deadline", "ids": t, "deadline": d, "back": "/ledger/"})
            for c, t in zip(clients, ticked, strict=True)])
        assert [r.status_code for r in responses] == [302, 302], [r.get_data(as_text=True)[:300] for r in responses]
        db.session.expire_all()
        assert set(db.session.scalars(sa.select(Problem.deadline).where(Problem.id.in_(ids)))) == {
            date.fromisoformat(deadline)}
        changes = db.session.execute(sa.select(AuditEntry.record_id, sa.func.count()).where(
            AuditEntry.action == "problem.deadline").group_by(AuditEntry.record_id)).all()
        # the second of two officers setting the same date changes nothing and writes nothing
        assert sorted(int(i) for i, _n in changes) == ids and {c for _i, c in changes} == {n}
        db.session.rollback()
