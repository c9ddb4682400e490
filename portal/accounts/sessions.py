"""Revocable sessions (会话管理).

Every sign-in is a row (`AuthSession`). The signed session cookie carries only the row's random
token (as Flask-Login's `_user_id`) and the time of the last request; every request looks the
token's hash up, so ending the row ends the session at once. A remember-me cookie is
`selector.validator` (random, the validator stored hashed, a new one on every use, `HttpOnly`,
`SameSite=Lax`, `Secure` with SESSION_COOKIE_SECURE=1, `Path` the portal's own path).

Limits: SESSION_IDLE_MINUTES without a request ends a session; SESSION_LIFETIME_HOURS after it
began it ends whatever happens; a remember token lasts REMEMBER_DAYS. Logout ends its own row;
a password change, a change of roles, deactivation, a 2FA reset and an administrator's
"sign out everywhere" end every row of the user (`end_all`)."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, g, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface

from portal.accounts.models import AuthSession, User
from portal.core import clock
from portal.extensions import db

REMEMBER_COOKIE = "portal_remember"
SEEN_KEY = "_seen"


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass
class Started:
    token: str
    remember: str | None  # the remember cookie's value, when asked for


def _lifetime() -> timedelta:
    return timedelta(hours=current_app.config["SESSION_LIFETIME_HOURS"])


def start(user: User, *, remember: bool = False, address: str = "", user_agent: str = "") -> Started:
    """A new session row for `user` (in the caller's transaction)."""
    now = clock.now()
    token = secrets.token_urlsafe(32)
    row = AuthSession(user_id=user.id, token_hash=digest(token), created_at=now, expires_at=now + _lifetime(),
                      address=(address or "")[:64], user_agent=(user_agent or "")[:200])
    cookie = None
    days = current_app.config["REMEMBER_DAYS"]
    if remember and days > 0:
        selector, validator = secrets.token_hex(16), secrets.token_urlsafe(32)
        row.remember_selector, row.remember_hash = selector, digest(validator)
        row.remember_until = now + timedelta(days=days)
        cookie = f"{selector}.{validator}"
    db.session.add(row)
    db.session.flush()
    return Started(token, cookie)


def end(token: str | None, reason: str = "logout") -> bool:
    """End the session whose token this is; True when one was open."""
    if not token:
        return False
    result = db.session.execute(
        sa.update(AuthSession).where(AuthSession.token_hash == digest(token), AuthSession.ended_at.is_(None))
        .values(ended_at=clock.now(), end_reason=reason).execution_options(synchronize_session=False))
    return result.rowcount > 0


def end_all(user: User, reason: str) -> int:
    """End every open session (and so every remember token) of `user`; returns how many."""
    result = db.session.execute(
        sa.update(AuthSession).where(AuthSession.user_id == user.id, AuthSession.ended_at.is_(None))
        .values(ended_at=clock.now(), end_reason=reason).execution_options(synchronize_session=False))
    return result.rowcount


def open_sessions(user: User) -> list[AuthSession]:
    now = clock.now()
    return list(db.session.execute(
        sa.select(AuthSession).where(AuthSession.user_id == user.id, AuthSession.ended_at.is_(None),
                                     sa.or_(AuthSession.expires_at > now, AuthSession.remember_until > now))
        .order_by(AuthSession.id.desc())).scalars())


# ---- request side --------------------------------------------------------------------------

def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _idle_limit() -> timedelta:
    return timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])


def load_from_session(token: str):
    """Flask-Login's user_loader: the session cookie's token → its user, or None when the row
    is ended, past its lifetime, idle too long or its user is inactive."""
    now = clock.now()
    seen = session.get(SEEN_KEY)
    if not isinstance(seen, int) or now - datetime.fromtimestamp(seen) > _idle_limit():
        session.pop("_user_id", None)
        return None
    row = db.session.execute(
        sa.select(AuthSession).where(AuthSession.token_hash == digest(str(token)), AuthSession.ended_at.is_(None),
                                     AuthSession.expires_at > now)).scalar_one_or_none()
    if row is None:
        session.pop("_user_id", None)
        return None
    user = db.session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    g.auth_session_id = row.id
    session[SEEN_KEY] = _epoch(now)
    return user


def load_from_remember_cookie(req):
    """Flask-Login's request_loader: a valid remember cookie starts a fresh session and rotates
    the token. Like a sign-in it writes (the new hashes) and commits them at once, before the
    request does anything else; it runs while the user is first looked up, when the request's
    transaction holds nothing of its own yet."""
    raw = req.cookies.get(REMEMBER_COOKIE, "")
    if not raw or "." not in raw or session.get("_remember") == "clear":
        return None
    selector, validator = raw.split(".", 1)
    now = clock.now()
    table = AuthSession.__table__
    conn = db.session
    row = conn.execute(sa.select(table.c.id, table.c.user_id, table.c.remember_hash, table.c.remember_until,
                                 table.c.ended_at)
                       .where(table.c.remember_selector == selector[:32])).first()
    if row is None or row.ended_at is not None or not row.remember_until or row.remember_until <= now:
        g.clear_remember = True
        return None
    if not hmac.compare_digest(row.remember_hash or "", digest(validator)):
        # A used (older) validator came back: someone holds a copy. End this sign-in.
        conn.execute(sa.update(table).where(table.c.id == row.id).values(ended_at=now, end_reason="remember_reused"))
        conn.commit()
        g.clear_remember = True
        return None
    user = db.session.get(User, row.user_id)
    if user is None or not user.is_active:
        g.clear_remember = True
        return None
    token, new_validator = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    rotated = conn.execute(sa.update(table).where(table.c.id == row.id, table.c.remember_hash == row.remember_hash)
                           .values(token_hash=digest(token), remember_hash=digest(new_validator),
                                   expires_at=now + _lifetime()))
    conn.commit()
    if rotated.rowcount != 1:  # a parallel request rotated it first
        return None
    user = db.session.get(User, row.user_id)
    session["_user_id"], session["_fresh"], session[SEEN_KEY] = token, False, _epoch(now)
    g.auth_session_id = row.id
    g.set_remember = f"{selector}.{new_validator}"
    return user


def cookie_path() -> str:
    """The portal's own path (`/portal/` behind the combined server): its cookies are never
    sent to the public site beside it."""
    return (request.script_root or "") + "/"


class PortalSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, its cookie scoped like the remember cookie: SESSION_COOKIE_PATH
    when configured, else the path the portal is mounted at (SCRIPT_NAME), not `/`. SameSite=Lax,
    HttpOnly and Secure (SESSION_COOKIE_SECURE=1) come from the configuration."""

    def get_cookie_path(self, app) -> str:
        configured = app.config.get("SESSION_COOKIE_PATH")
        if configured:
            return configured
        return cookie_path() if has_request_context() else super().get_cookie_path(app)


def set_remember_cookie(response, value: str) -> None:
    cfg = current_app.config
    response.set_cookie(REMEMBER_COOKIE, value, max_age=cfg["REMEMBER_DAYS"] * 86400, path=cookie_path(),
                        secure=cfg["SESSION_COOKIE_SECURE"], httponly=True, samesite="Lax")


def clear_remember_cookie(response) -> None:
    response.delete_cookie(REMEMBER_COOKIE, path=cookie_path(), secure=current_app.config["SESSION_COOKIE_SECURE"],
                           httponly=True, samesite="Lax")


def after_request(response):
    if g.get("set_remember"):
        set_remember_cookie(response, g.set_remember)
    elif g.get("clear_remember"):
        clear_remember_cookie(response)
    return response


def begin(started: Started, user: User) -> None:
    """Put a started session into this request's cookie session (after the commit)."""
    from flask_login import login_user

    session.pop("_2fa", None)
    login_user(user, remember=False)
    session["_user_id"] = started.token
    session[SEEN_KEY] = _epoch(clock.now())
    g.auth_session_id = None
    if started.remember:
        g.set_remember = started.remember
