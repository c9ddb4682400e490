"""Login limits without a lock-out weapon.

Failed sign-ins are counted under three keys, each in one row updated by SQL arithmetic (an
upsert, so parallel guesses all count):

- `pair`: the username and the client address — LOGIN_FREE_FAILURES free, then a growing delay
  (2, 4, 8 … seconds, at most LOGIN_MAX_DELAY_SECONDS) before that address may try that name again;
- `address`: the client address, whatever the name — LOGIN_ADDRESS_FREE_FAILURES free, then the
  same growing delay (password spraying from one place);
- `account`: the username from anywhere — LOGIN_ACCOUNT_FREE_FAILURES free, then a short delay of
  at most LOGIN_ACCOUNT_MAX_DELAY_SECONDS (a slow, distributed guess), never long enough to keep
  the owner out.

So wrong passwords typed somewhere else never stop the owner from their own address. The key is
the username as typed (lower-cased), known or not, so an unknown name answers exactly like a
known one. A counter starts again after LOGIN_FAILURE_WINDOW_HOURS without failures."""
from __future__ import annotations

import math
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from portal.accounts.models import LoginThrottle
from portal.core import clock
from portal.extensions import db


def normalise(username: str) -> str:
    return (username or "").strip().lower()[:60]


def keys(username: str, address: str) -> list[tuple[str, str, int, int]]:
    """(scope, key, free failures, longest delay) for one attempt."""
    cfg = current_app.config
    name, addr = normalise(username), (address or "?")[:64]
    longest = cfg["LOGIN_MAX_DELAY_SECONDS"]
    return [("pair", f"{name}|{addr}", cfg["LOGIN_FREE_FAILURES"], longest),
            ("address", addr, cfg["LOGIN_ADDRESS_FREE_FAILURES"], longest),
            ("account", name, cfg["LOGIN_ACCOUNT_FREE_FAILURES"], cfg["LOGIN_ACCOUNT_MAX_DELAY_SECONDS"])]


def wait_seconds(username: str, address: str) -> int:
    """Seconds this address must still wait before trying this name (0: go ahead)."""
    now = clock.now()
    pairs = [(scope, key) for scope, key, _free, _longest in keys(username, address)]
    rows = db.session.execute(
        sa.select(LoginThrottle.blocked_until)
        .where(sa.tuple_(LoginThrottle.scope, LoginThrottle.key).in_(pairs),
               LoginThrottle.blocked_until > now)).scalars().all()
    return max((math.ceil((until - now).total_seconds()) for until in rows), default=0)


def delay(failures: int, free: int, longest: int) -> int:
    over = failures - free
    return 0 if over <= 0 else min(longest, 2 ** min(over, 20))


def _upsert(scope: str, key: str) -> int:
    """failures + 1 for (scope, key), starting again after the window; returns the new count."""
    now = clock.now()
    window_start = now - timedelta(hours=current_app.config["LOGIN_FAILURE_WINDOW_HOURS"])
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = LoginThrottle.__table__
    stmt = insert(table).values(scope=scope, key=key, failures=1, last_failure_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.scope, table.c.key],
        set_={"failures": sa.case((table.c.last_failure_at < window_start, 1), else_=table.c.failures + 1),
              "last_failure_at": now},
    ).returning(table.c.failures)
    return db.session.execute(stmt).scalar_one()


def record_failure(username: str, address: str) -> None:
    now = clock.now()
    for scope, key, free, longest in keys(username, address):
        failures = _upsert(scope, key)
        seconds = delay(failures, free, longest)
        if seconds:
            db.session.execute(sa.update(LoginThrottle)
                               .where(LoginThrottle.scope == scope, LoginThrottle.key == key)
                               .values(blocked_until=now + timedelta(seconds=seconds)))


def record_success(username: str, address: str) -> None:
    """A right password from this address clears this name's count from this address only."""
    scope, key, *_rest = keys(username, address)[0]
    db.session.execute(sa.delete(LoginThrottle).where(LoginThrottle.scope == scope, LoginThrottle.key == key))


def active(limit: int = 200) -> list[LoginThrottle]:
    """What an administrator sees: counters with failures in the window, the blocked first."""
    window_start = clock.now() - timedelta(hours=current_app.config["LOGIN_FAILURE_WINDOW_HOURS"])
    return list(db.session.execute(
        sa.select(LoginThrottle).where(LoginThrottle.last_failure_at >= window_start)
        .order_by(LoginThrottle.blocked_until.desc().nulls_last(), LoginThrottle.failures.desc())
        .limit(limit)).scalars())
