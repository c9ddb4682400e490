"""The audit log: sealed, chained, checkpointed — and, on PostgreSQL, append-only in the database.
Each tampering an insider with database access could try is made for real and must be reported
by `flask audit verify`; what the auditor would lose otherwise is the evidence itself."""
import hashlib

import pytest
import sqlalchemy as sa

from portal.core.audit import (
    GENESIS,
    AuditEntry,
    history,
    record_change,
    verify,
    verify_chain,
    write_checkpoint,
)


def _entries(db, world, n=4):
    for i in range(n):
        record_change(world.admin, "user.update", world.unit, before={"n": i}, after={"n": i + 1})
    db.session.commit()
    return db.session.execute(sa.select(AuditEntry).order_by(AuditEntry.id)).scalars().all()


def _as_insider(db, statement):
    """Run `statement` the way a DBA (not the application) could: with triggers off on PostgreSQL."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL session_replication_role = replica"))
    db.session.execute(statement)
    db.session.commit()


def _cli_verify(app):
    return app.test_cli_runner().invoke(args=["audit", "verify"])


def test_chain_links_and_seals_every_entry_and_verifies(db, world, app):
    entries = _entries(db, world, 3)
    assert entries[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(entries, entries[1:], strict=False))
    assert all(e.mac and e.mac != e.hash for e in entries)
    write_checkpoint()
    report = verify()
    assert report.ok and report.checked == 3
    assert verify_chain() == (3, None)
    assert [e.after_dict["n"] for e in history(world.unit)] == [1, 2, 3]
    result = _cli_verify(app)
    assert result.exit_code == 0 and "OK: 3 entries" in result.output


def test_an_edited_entry_is_reported(db, world, app):
    second = _entries(db, world)[1].id
    _as_insider(db, sa.update(AuditEntry).where(AuditEntry.id == second).values(after='{"n": 99}'))
    report = verify()
    assert not report.ok and report.first_bad.id == second
    result = _cli_verify(app)
    assert result.exit_code == 1 and f"#{second}" in result.output and "edited" in result.output


def test_a_deleted_middle_entry_is_reported(db, world, app):
    entries = _entries(db, world)
    _as_insider(db, sa.delete(AuditEntry).where(AuditEntry.id == entries[1].id))
    report = verify()
    assert not report.ok and report.first_bad.id == entries[2].id
    assert "deleted" in _cli_verify(app).output


def test_a_deleted_tail_is_reported_against_the_checkpoint(db, world, app):
    entries = _entries(db, world)
    write_checkpoint()
    _as_insider(db, sa.delete(AuditEntry).where(AuditEntry.id >= entries[2].id))
    assert verify_chain()[1] is None  # the remaining chain is consistent in itself ...
    report = verify()
    assert not report.ok  # ... but the checkpoint outside the database remembers the head
    result = _cli_verify(app)
    assert result.exit_code == 1 and "end of the log" in result.output


def test_a_recomputed_chain_is_reported(db, world, app):
    """An insider edits an entry and recomputes every hash and link after it (and fakes the MACs
    with a key of their own): the chain is consistent, but not sealed with this installation's key."""
    entries = _entries(db, world)
    prev = GENESIS
    for entry in entries:
        after = '{"n": 1000}' if entry.id == entries[1].id else entry.after
        fake = AuditEntry(at=entry.at, actor_id=entry.actor_id, actor_name=entry.actor_name,
                          record_type=entry.record_type, record_id=entry.record_id, action=entry.action,
                          before=entry.before, after=after, comment=entry.comment, prev_hash=prev)
        digest = fake.compute_hash()
        _as_insider(db, sa.update(AuditEntry).where(AuditEntry.id == entry.id).values(
            after=after, prev_hash=prev, hash=digest, mac=hashlib.sha256(b"guess" + digest.encode()).hexdigest()))
        prev = digest
    report = verify()
    assert not report.ok and report.first_bad.id == entries[0].id
    assert "recomputed" in _cli_verify(app).output


def test_postgresql_refuses_update_and_delete_on_the_audit_table(db, world, request):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's (SQLite has no other writer than the app)")
    entry = _entries(db, world, 1)[0]
    for statement in (sa.update(AuditEntry).where(AuditEntry.id == entry.id).values(after="{}"),
                      sa.delete(AuditEntry).where(AuditEntry.id == entry.id)):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            db.session.execute(statement)
        db.session.rollback()
    assert verify().ok
