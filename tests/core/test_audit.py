import sqlalchemy as sa

from portal.core.audit import GENESIS, AuditEntry, history, record_change, verify_chain


def test_chain_links_every_entry_and_verifies(db, world):
    for i in range(3):
        record_change(world.admin, "user.update", world.unit, before={"n": i}, after={"n": i + 1})
    db.session.commit()
    entries = db.session.execute(sa.select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
    assert entries[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(entries, entries[1:], strict=False))
    checked, bad = verify_chain()
    assert (checked, bad) == (3, None)
    assert [e.after_dict["n"] for e in history(world.unit)] == [1, 2, 3]


def test_an_edited_entry_is_reported(db, world, app):
    for i in range(4):
        record_change(world.admin, "user.update", world.unit, after={"n": i})
    db.session.commit()
    second = db.session.execute(sa.select(AuditEntry.id).order_by(AuditEntry.id).offset(1).limit(1)).scalar()
    db.session.execute(sa.update(AuditEntry).where(AuditEntry.id == second).values(after='{"n": 99}'))
    db.session.commit()
    checked, bad = verify_chain()
    assert checked == 1 and bad.id == second

    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"#{second}" in result.output


def test_a_deleted_entry_breaks_the_chain(db, world):
    for i in range(3):
        record_change(world.admin, "x", world.unit, after={"n": i})
    db.session.commit()
    first = db.session.execute(sa.select(sa.func.min(AuditEntry.id))).scalar()
    db.session.execute(sa.delete(AuditEntry).where(AuditEntry.id == first))
    db.session.commit()
    _checked, bad = verify_chain()
    assert bad is not None
