"""TOTP secrets encrypted at rest (Fernet: AES-128-CBC with HMAC-SHA256, cryptography).

The key never lives in the database: TOTP_KEY from the configuration (the environment), else a
random key generated once into instance/totp_key (0600), like the audit log's key. TOTP_KEY may
list several keys separated by commas: the first encrypts, every one decrypts (key rotation —
put the new key first, then `flask totp rekey` writes every secret under it).

`EncryptedSecret` is the column type: the model reads and writes the clear secret, the
database holds only the Fernet token. Migration 0015 encrypts secrets stored before."""
from __future__ import annotations

import base64
import hashlib
import os
import secrets
from pathlib import Path

import sqlalchemy as sa

TOKEN_PREFIX = "gAAAAA"  # every Fernet token starts so (version byte 0x80, then the time)


def _key_material() -> list[str]:
    """The configured keys, or the instance key file's (made on first use)."""
    from flask import current_app, has_app_context

    if has_app_context():
        configured, instance = current_app.config.get("TOTP_KEY", ""), current_app.config["INSTANCE_DIR"]
    else:  # a migration run outside the application (tests, `alembic` by hand)
        from portal.config import _instance_dir

        configured, instance = os.environ.get("TOTP_KEY", ""), str(_instance_dir())
    keys = [k.strip() for k in (configured or "").split(",") if k.strip()]
    if keys:
        return keys
    path = Path(instance) / "totp_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32))
    return [path.read_text().strip()]


def _fernet():
    from cryptography.fernet import Fernet, MultiFernet

    # Any text is a key: SHA-256 of it is the 32 bytes Fernet wants (a Fernet key works too).
    return MultiFernet([Fernet(base64.urlsafe_b64encode(hashlib.sha256(k.encode()).digest()))
                        for k in _key_material()])


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode("ascii")


def decrypt(token: str) -> str:
    """The clear secret; a value that is no token of ours (written around the model, or under a
    key no longer configured) is refused rather than used."""
    from cryptography.fernet import InvalidToken

    if not token.startswith(TOKEN_PREFIX):
        raise ValueError("a TOTP secret is stored unencrypted: run `flask db upgrade`")
    try:
        return _fernet().decrypt(token.encode("ascii")).decode()
    except InvalidToken:
        raise ValueError("a TOTP secret does not decrypt under TOTP_KEY (wrong or removed key)") from None


def is_encrypted(value: str | None) -> bool:
    return bool(value) and value.startswith(TOKEN_PREFIX)


def rekey(token: str) -> str:
    """The same secret under the first configured key (after a key rotation)."""
    return _fernet().rotate(token.encode("ascii")).decode("ascii")


class EncryptedSecret(sa.types.TypeDecorator):
    """A string column stored as a Fernet token; the clear value exists only in memory."""

    impl = sa.String
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else encrypt(value)

    def process_result_value(self, value, dialect):
        return None if value is None else decrypt(value)


def rekey_all() -> int:
    """`flask totp rekey`: every stored secret re-encrypted under the first TOTP_KEY; returns how
    many. Reads the tokens as stored (not through the model), in one transaction."""
    from portal.extensions import db

    table = sa.table("users", sa.column("id", sa.Integer), sa.column("totp_secret", sa.String))
    rows = db.session.execute(sa.select(table.c.id, table.c.totp_secret).where(table.c.totp_secret.isnot(None))).all()
    for row in rows:
        db.session.execute(sa.update(table).where(table.c.id == row.id).values(totp_secret=rekey(row.totp_secret)))
    db.session.commit()
    return len(rows)
