"""Publishing on the core write path: parallel publications of the same projects write one
version and one audit entry per snapshot, a double submit writes once, withdrawals lock and
re-check, and the search index follows through the outbox (never in the request)."""
import sqlalchemy as sa

from portal.core import outbox
from portal.core.audit import AuditEntry
from portal.core.outbox import OutboxMessage
from portal.core.writes import commit
from portal.publishing import operations, search
from portal.publishing.models import PublicationKind, PublicationLog, SearchQueueItem, Snapshot, SnapshotState
from tests.concurrency import in_parallel, signed_in

GOALS = {"year": 2026, "department": 0, "kinds": ["goals"]}


def count(db, model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_two_officers_publishing_at_once_write_one_version(app, db, world, corpus, index_dir):
    db.session.commit()
    officers = [signed_in(app, world.finance), signed_in(app, world.finance_signer)]
    responses = in_parallel([lambda c=c: c.post("/publishing/publish", data=GOALS) for c in officers])
    assert sorted(r.status_code for r in responses) == [302, 422]
    refused = next(r for r in responses if r.status_code == 422).get_data(as_text=True)
    assert "没有新的或变化的内容" in refused
    db.session.expire_all()
    rows = db.session.scalars(sa.select(Snapshot)).all()
    assert rows and all(s.version == 1 and s.current for s in rows)
    assert len({(s.project_ref, s.kind) for s in rows}) == len(rows)
    assert count(db, AuditEntry, AuditEntry.action == "publishing.publish") == len(rows)  # one per snapshot
    assert count(db, PublicationLog) == len(rows)


def test_two_corrections_at_once_write_one_new_version(app, db, world, corpus, index_dir):
    shack = corpus["projects"]["shack"]
    operations.publish(2026, None, ["finance_evaluation"], actor=world.finance)
    evaluation = [e for e in shack.evaluations if e.mode.value == "finance"][0]
    evaluation.conclusion = "更正后的结论。"
    db.session.commit()
    data = {"year": 2026, "department": 0, "kinds": ["finance_evaluation"], "note": "数据有误，予以更正。"}
    officers = [signed_in(app, world.finance), signed_in(app, world.finance_signer)]
    responses = in_parallel([lambda c=c: c.post("/publishing/publish", data=data) for c in officers])
    assert sorted(r.status_code for r in responses) == [302, 422]
    db.session.expire_all()
    versions = db.session.execute(sa.select(Snapshot.version, Snapshot.current).where(
        Snapshot.project_ref == shack.id, Snapshot.kind == PublicationKind.FINANCE_EVALUATION)
        .order_by(Snapshot.version)).all()
    assert [tuple(v) for v in versions] == [(1, False), (2, True)]
    assert count(db, AuditEntry, AuditEntry.action == "publishing.correct") == 1


def test_a_publish_form_posted_twice_publishes_once(client, db, world, corpus, login, index_dir):
    login(world.finance)
    data = {**GOALS, "form_key": "publish-goals-1"}
    first = client.post("/publishing/publish", data=data)
    second = client.post("/publishing/publish", data=data)
    assert first.status_code == second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    assert count(db, AuditEntry, AuditEntry.action == "publishing.publish") == count(db, Snapshot)


def test_two_withdrawals_at_once_write_one_withdrawn_version(app, db, world, corpus, index_dir):
    oldtown = corpus["projects"]["oldtown"]
    operations.publish(2026, None, ["goals"], actor=world.finance)
    db.session.commit()
    target = db.session.scalars(sa.select(Snapshot).where(Snapshot.project_ref == oldtown.id)).one()
    officers = [signed_in(app, world.finance), signed_in(app, world.finance_signer)]
    url = f"/publishing/snapshots/{target.id}/withdraw"
    responses = in_parallel([lambda c=c: c.post(url, data={"note": "暂时撤回复核。"}) for c in officers])
    assert sorted(r.status_code for r in responses) == [302, 422]
    assert "只能撤回当前公开的版本" in next(r for r in responses if r.status_code == 422).get_data(as_text=True)
    db.session.expire_all()
    rows = db.session.execute(sa.select(Snapshot.version, Snapshot.state).where(Snapshot.project_ref == oldtown.id)
                              .order_by(Snapshot.version)).all()
    assert [tuple(r) for r in rows] == [(1, SnapshotState.PUBLISHED), (2, SnapshotState.WITHDRAWN)]
    assert count(db, AuditEntry, AuditEntry.action == "publishing.withdraw") == 1


def empty_index(db) -> None:
    """An index exists (a missing one is rebuilt in the background, not by the queue)."""
    db.session.commit()
    search.reindex()


def test_the_search_index_follows_through_the_outbox(client, db, world, corpus, login, index_dir):
    empty_index(db)
    login(world.finance)
    assert client.post("/publishing/publish", data=GOALS).status_code == 302
    [message] = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "search.apply")).all()
    refs = {s.project_ref for s in db.session.scalars(sa.select(Snapshot))}
    assert set(message.data["project_refs"]) == refs and message.sent_at is not None
    assert count(db, SearchQueueItem) == 0 and search.doc_count() == len(refs)  # the worker applied the queue


def test_an_index_that_cannot_be_written_loses_nothing(db, world, corpus, index_dir, monkeypatch):
    import portal.publishing.search as search_module

    def broken(*_args, **_kwargs):
        raise OSError("index volume is read-only")

    empty_index(db)
    monkeypatch.setattr(search_module, "apply_queue", broken)
    operations.publish(2026, None, ["goals"], actor=world.finance)
    commit()  # the publication stands although the index writer failed
    message = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "search.apply")).one()
    assert message.sent_at is None and message.attempts == 1 and "read-only" in message.last_error
    assert count(db, Snapshot) > 0 and count(db, SearchQueueItem) > 0 and search.doc_count() == 0
    monkeypatch.undo()
    db.session.execute(sa.update(OutboxMessage).values(due_at=message.created_at))  # the retry is due
    db.session.commit()
    assert outbox.drain()["sent"] == 1
    assert count(db, SearchQueueItem) == 0 and search.doc_count() > 0
