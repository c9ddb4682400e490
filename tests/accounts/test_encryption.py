"""TOTP secrets encrypted at rest (issue 15): the database holds only a Fernet token, the key
lives outside it (TOTP_KEY or instance/totp_key), a wrong key is refused, keys rotate, and
migration 0015 encrypts the clear secrets stored before it (and its downgrade gives them back).
Recovery codes are stored as hashes."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pyotp
import pytest
import sqlalchemy as sa

from portal.accounts import encryption
from portal.accounts import operations as account_operations
from portal.accounts.models import RecoveryCode, User
from portal.core.migrations_check import downgrade, upgrade
from tests import factories


def _stored(db, user) -> str | None:
    """The column as the database holds it, past the model's decryption."""
    return db.session.execute(sa.text("SELECT totp_secret FROM users WHERE id = :id"), {"id": user.id}).scalar_one()


def test_the_database_never_holds_the_clear_secret(app, db, world, client, login):
    login(world.unit)
    secret = pyotp.random_base32()
    codes = account_operations.enable_totp(world.unit, secret, pyotp.TOTP(secret).now())
    db.session.commit()
    stored = _stored(db, world.unit)
    assert stored.startswith(encryption.TOKEN_PREFIX) and secret not in stored
    db.session.expire_all()
    assert db.session.get(User, world.unit.id).totp_secret == secret  # the model reads it back
    hashes = db.session.scalars(sa.select(RecoveryCode.code_hash).where(RecoveryCode.user_id == world.unit.id)).all()
    assert len(hashes) == 10 and not {c.replace("-", "") for c in codes} & set(hashes)
    assert all(len(h) == 64 for h in hashes)  # SHA-256 digests, never the codes themselves
    # nor is the secret in the audit log
    log = " ".join(str(row) for row in db.session.execute(sa.text("SELECT before, after FROM audit_entries")).all())
    assert secret not in log


def test_the_key_is_outside_the_database_and_a_wrong_key_is_refused(app, db, world, monkeypatch):
    stored = _stored(db, world.admin)  # enrolled by the factory
    assert encryption.is_encrypted(stored)
    key_file = Path(app.config["INSTANCE_DIR"]) / "totp_key"
    assert key_file.exists() and stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert key_file.read_text().strip() not in " ".join(
        str(v) for row in db.session.execute(sa.text("SELECT * FROM users")).all() for v in row)
    monkeypatch.setitem(app.config, "TOTP_KEY", "another installation's key")
    with pytest.raises(ValueError, match="TOTP_KEY"):
        encryption.decrypt(stored)
    with pytest.raises(ValueError, match="unencrypted"):
        encryption.decrypt(factories.TOTP_SECRET)  # a clear value written around the model


def test_keys_rotate_and_rekey_moves_every_secret_to_the_new_key(app, db, world, monkeypatch):
    old_key = (Path(app.config["INSTANCE_DIR"]) / "totp_key").read_text().strip()
    monkeypatch.setitem(app.config, "TOTP_KEY", f"new-key-2027,{old_key}")
    db.session.expire_all()
    assert db.session.get(User, world.admin.id).totp_secret == factories.TOTP_SECRET  # old key still reads
    assert encryption.rekey_all() >= 2
    monkeypatch.setitem(app.config, "TOTP_KEY", "new-key-2027")  # the old key removed
    db.session.expire_all()
    assert db.session.get(User, world.admin.id).totp_secret == factories.TOTP_SECRET
    assert db.session.get(User, world.finance_signer.id).totp_secret == factories.TOTP_SECRET


@pytest.mark.commits  # the migration runs through an engine of its own
def test_migration_0015_encrypts_clear_secrets_and_its_downgrade_restores_them(app, db, world, database_url):
    user_id = world.admin.id
    db.session.commit()
    db.session.remove()
    try:
        downgrade(database_url, "0014_assessments")
        clear = db.session.execute(sa.text("SELECT totp_secret FROM users WHERE id = :id"), {"id": user_id}).scalar()
        assert clear == factories.TOTP_SECRET  # as stored before 0015
        db.session.execute(sa.text("UPDATE users SET totp_secret = :s WHERE username = 't_unit'"),
                           {"s": "JBSWY3DPEHPK3PXP"})
        db.session.commit()
        db.session.remove()
    finally:
        upgrade(database_url, "head")
    rows = dict(db.session.execute(sa.text("SELECT username, totp_secret FROM users WHERE totp_secret IS NOT NULL")).all())
    assert all(encryption.is_encrypted(value) for value in rows.values()), rows
    assert encryption.decrypt(rows["t_admin"]) == factories.TOTP_SECRET
    assert encryption.decrypt(rows["t_unit"]) == "JBSWY3DPEHPK3PXP"
    assert db.session.get(User, user_id).totp_secret == factories.TOTP_SECRET
