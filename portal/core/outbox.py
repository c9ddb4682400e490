"""The transactional outbox: after-commit effects written in the same transaction as the change.

An operation calls `enqueue("email", {...})` beside its other writes; the message exists exactly
when the change does. After the commit, `perform()` wakes the worker (`portal.core.jobs`), which
calls `drain()`: it claims due messages (a claim token and a lease, `FOR UPDATE SKIP LOCKED` on
PostgreSQL), runs each kind's handler, and marks a message sent only after the handler returned
(for email: after the SMTP server accepted it). A failure is retried with exponential backoff up
to `MAX_ATTEMPTS`, then kept as failed for the operator. Two drains at once never take the same
message; a drain that dies leaves its lease to expire and the next one takes the message again.
"""
from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.core import clock
from portal.extensions import db

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
LEASE = timedelta(minutes=5)
HANDLERS: dict[str, Callable] = {}


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    payload: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    due_at: Mapped[datetime] = mapped_column(default=clock.now)
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    claim: Mapped[str | None] = mapped_column(sa.String(32))
    claimed_until: Mapped[datetime | None]

    __table_args__ = (sa.Index("ix_outbox_messages_pending", "sent_at", "failed_at", "due_at"),)

    @property
    def data(self) -> dict:
        return json.loads(self.payload)


class Deferred(Exception):
    """The handler could not try now (e.g. the mail server is known to be down in this run)."""


def handler(kind: str):
    def register(fn):
        HANDLERS[kind] = fn
        return fn
    return register


def enqueue(kind: str, payload: dict) -> OutboxMessage:
    """Write an after-commit effect in the caller's transaction."""
    if kind not in HANDLERS:
        raise LookupError(f"no outbox handler for {kind!r}")
    message = OutboxMessage(kind=kind, payload=json.dumps(payload, ensure_ascii=False, default=str),
                            created_at=clock.now(), due_at=clock.now())
    db.session.add(message)
    db.session.info["outbox_pending"] = True
    return message


def wake() -> None:
    """Ask the worker to drain now (after a commit that wrote messages)."""
    from portal.core import jobs

    jobs.drain_soon()


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def _claim(token: str, limit: int) -> list[OutboxMessage]:
    now = clock.now()
    due = sa.and_(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None),
                  OutboxMessage.due_at <= now,
                  sa.or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))
    candidates = sa.select(OutboxMessage.id).where(due).order_by(OutboxMessage.id).limit(limit)
    if db.session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    # `due` again on the UPDATE itself: a row another drain claimed meanwhile no longer matches.
    db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id.in_(candidates.scalar_subquery()), due)
                       .values(claim=token, claimed_until=now + LEASE).execution_options(synchronize_session=False))
    db.session.commit()
    messages = list(db.session.execute(sa.select(OutboxMessage).where(OutboxMessage.claim == token)
                                       .order_by(OutboxMessage.id)).scalars())
    # Detached with what was read, and the read ended: no handler runs inside a transaction (on
    # SQLite an IMMEDIATE one, holding the write lock while the search handler waits for the index
    # writer lock that a rebuild holds while it waits for the database: both stall for the busy timeout).
    for message in messages:
        db.session.expunge(message)
    db.session.commit()
    return messages


def _finish(message: OutboxMessage, token: str, **values) -> None:
    db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == message.id, OutboxMessage.claim == token)
                       .values(claim=None, claimed_until=None, **values).execution_options(synchronize_session=False))
    db.session.commit()


class Run:
    """What one drain shares between its messages (an SMTP connection, a down mail server)."""

    def __init__(self):
        self.resources: dict[str, object] = {}
        self.down: set[str] = set()
        self._closers: list[Callable] = []

    def on_close(self, fn: Callable) -> None:
        self._closers.append(fn)

    def close(self) -> None:
        for fn in self._closers:
            try:
                fn()
            except Exception:  # noqa: BLE001  closing a dead connection must not stop the run
                log.debug("closing a resource failed", exc_info=True)


def drain(limit: int = 500, budget_seconds: float = 120.0) -> dict[str, int]:
    """Deliver due messages; returns counts {sent, retried, failed, deferred}."""
    counts = {"sent": 0, "retried": 0, "failed": 0, "deferred": 0}
    token = uuid.uuid4().hex
    started = time.monotonic()
    run = Run()
    try:
        for message in _claim(token, limit):
            if time.monotonic() - started > budget_seconds:
                _finish(message, token)
                counts["deferred"] += 1
                continue
            _deliver(message, token, run, counts)
    finally:
        run.close()
        db.session.rollback()
    return counts


def _deliver(message: OutboxMessage, token: str, run: Run, counts: dict) -> None:
    attempts = message.attempts + 1
    try:
        HANDLERS[message.kind](message.data, run)
    except Deferred as why:
        _finish(message, token, attempts=attempts, due_at=clock.now() + backoff(attempts), last_error=str(why)[:2000])
        counts["deferred"] += 1
    except Exception as error:  # noqa: BLE001  any failure is retried, then kept for the operator
        log.warning("outbox %s #%s failed (attempt %s): %s", message.kind, message.id, attempts, error)
        db.session.rollback()
        if attempts >= MAX_ATTEMPTS:
            _finish(message, token, attempts=attempts, failed_at=clock.now(), last_error=repr(error)[:2000])
            counts["failed"] += 1
        else:
            _finish(message, token, attempts=attempts, due_at=clock.now() + backoff(attempts),
                    last_error=repr(error)[:2000])
            counts["retried"] += 1
    else:
        _finish(message, token, attempts=attempts, sent_at=clock.now(), last_error=None)
        counts["sent"] += 1


def pending_count() -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(OutboxMessage)
                              .where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))).scalar_one()


def oldest_pending_age() -> timedelta | None:
    oldest = db.session.execute(sa.select(sa.func.min(OutboxMessage.created_at))
                                .where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))).scalar()
    return None if oldest is None else clock.now() - oldest
