"""The published list's bulk 撤回 under real concurrency: two officers withdrawing overlapping
ticked snapshots at once withdraw each once; a bulk withdrawal meeting a correction of the same
snapshots is serialised by the publishing lock (taken before the rows' locks), never deadlocked,
and never leaves two current versions."""
import pytest
import sqlalchemy as sa

from portal.core.audit import AuditEntry
from portal.publishing import operations
from portal.publishing.models import Snapshot, SnapshotState
from tests.concurrency import in_parallel, signed_in

NOTE = "评价报告正在复核，暂时撤回。"


def _publish_all(db, world):
    operations.publish(2026, None, ["goals", "finance_evaluation"], actor=world.finance)
    db.session.commit()
    return db.session.scalars(sa.select(Snapshot.id).where(Snapshot.current.is_(True)).order_by(Snapshot.id)).all()


def _no_two_current(db):
    db.session.expire_all()
    rows = db.session.execute(sa.select(Snapshot.project_ref, Snapshot.kind, sa.func.count()).where(
        Snapshot.current.is_(True)).group_by(Snapshot.project_ref, Snapshot.kind)).all()
    assert rows and all(n == 1 for *_key, n in rows)


@pytest.mark.commits
def test_two_officers_withdrawing_overlapping_snapshots_withdraw_each_once(app, db, world, corpus, index_dir):
    ids = _publish_all(db, world)
    assert len(ids) >= 3
    officers = [signed_in(app, world.finance), signed_in(app, world.finance_signer)]
    ticked = [ids[:-1], list(reversed(ids[1:]))]
    responses = in_parallel([lambda c=c, t=t: c.post("/publishing/published/withdraw", data={"ids": t, "comment": NOTE})
                             for c, t in zip(officers, ticked, strict=True)])
    assert [r.status_code for r in responses] == [302, 302]
    _no_two_current(db)
    withdrawn = db.session.scalars(sa.select(Snapshot).where(Snapshot.current.is_(True))).all()
    assert {s.state for s in withdrawn} == {SnapshotState.WITHDRAWN} and {s.version for s in withdrawn} == {2}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "publishing.withdraw")) == len(ids)


@pytest.mark.commits
def test_a_bulk_withdrawal_meeting_a_correction_is_serialised(app, db, world, corpus, index_dir):
    ids = _publish_all(db, world)
    for evaluation in corpus["projects"]["shack"].evaluations:
        evaluation.conclusion = "更正后的结论。"
    db.session.commit()
    officers = [signed_in(app, world.finance), signed_in(app, world.finance_signer)]
    correction = {"year": 2026, "department": 0, "kinds": ["finance_evaluation"], "note": "数据有误，予以更正。"}
    for _round in range(2):
        responses = in_parallel([
            lambda t=ids: officers[0].post("/publishing/published/withdraw", data={"ids": t, "comment": NOTE}),
            lambda: officers[1].post("/publishing/publish", data=correction)])
        assert responses[0].status_code == 302 and responses[1].status_code in (302, 422)
        _no_two_current(db)
        ids = db.session.scalars(sa.select(Snapshot.id).where(
            Snapshot.current.is_(True), Snapshot.state == SnapshotState.PUBLISHED).order_by(Snapshot.id)).all()
        if not ids:
            break
