"""Two-factor sign-in (双因素认证): TOTP (RFC 6238, pyotp) with a QR code drawn on the server
(segno, an inline SVG data URI) and one-time recovery codes stored hashed.

Required for the roles in TOTP_REQUIRED_FOR (default: the three administrators — `admin`,
`security_admin`, `audit_admin` — and `signer`; `all` for everyone, empty for no one); anyone
else may turn it on. The secret is encrypted at rest (portal/accounts/encryption.py). A code is accepted once: the time step it belongs to is
remembered (`totp_last_step`), one step either side is allowed for clock drift."""
from __future__ import annotations

import hashlib
import secrets

import pyotp
import sqlalchemy as sa
from flask import current_app

from portal.accounts.models import RecoveryCode, User
from portal.core import clock
from portal.extensions import db

RECOVERY_CODES = 10
STEP = 30


def required(user: User) -> bool:
    setting = (current_app.config.get("TOTP_REQUIRED_FOR") or "").replace(" ", "").lower()
    if not setting:
        return False
    if setting == "all":
        return True
    return any(str(role) in setting.split(",") for role in user.roles)


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, user: User) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=current_app.config["TOTP_ISSUER"])


def qr_data_uri(uri: str) -> str:
    import segno

    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def _now_ts() -> float:
    """Seconds since the epoch by the one clock (China time, stored naive; frozen in tests)."""
    return clock.now().replace(tzinfo=clock.CHINA).timestamp()


def matching_step(secret: str, code: str, after: int | None = None) -> int | None:
    """The time step `code` belongs to (now ± 1 step), if it is later than `after`."""
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = int(_now_ts() // STEP)
    for step in (current, current - 1, current + 1):
        if (after is None or step > after) and secrets.compare_digest(totp.at(step * STEP), code):
            return step
    return None


def current_code(secret: str) -> str:
    return pyotp.TOTP(secret).at(_now_ts())


def _code_digest(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").strip().lower().encode()).hexdigest()


def new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes; returns the plain codes (shown once)."""
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = secrets.token_hex(5)  # 40 bits each
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_code_digest(raw)))
    db.session.flush()
    return codes


def use_recovery_code(user: User, code: str) -> bool:
    """Spend one recovery code (an UPDATE that only one of two parallel uses wins)."""
    cleaned = "".join(ch for ch in (code or "") if ch.isalnum())
    if len(cleaned) != 10:
        return False
    result = db.session.execute(
        sa.update(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _code_digest(cleaned),
                                      RecoveryCode.used_at.is_(None))
        .values(used_at=clock.now()).execution_options(synchronize_session=False))
    return result.rowcount == 1


def recovery_codes_left(user: User) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(RecoveryCode)
                              .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).scalar_one()
