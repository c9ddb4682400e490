"""Append-only audit log (操作日志), chained by hashes so tampering is detectable.

Every write operation calls `record_change(actor, action, record, before, after, comment)`.
Each entry stores the previous entry's hash and its own hash over its fields and that link;
`verify_chain()` (CLI: `flask audit verify`) reports the first entry that does not match.
Appends are serialised (PostgreSQL advisory lock; SQLite write transactions are IMMEDIATE),
so concurrent writers never fork the chain.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.core import clock
from portal.extensions import db

GENESIS = "0" * 64
_LOCK_KEY = 7_240_001  # pg_advisory_xact_lock key for the chain


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=clock.now, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    actor_name: Mapped[str] = mapped_column(sa.String(100), default="")
    record_type: Mapped[str] = mapped_column(sa.String(64))
    record_id: Mapped[str] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(80))
    before: Mapped[str | None] = mapped_column(sa.Text)
    after: Mapped[str | None] = mapped_column(sa.Text)
    comment: Mapped[str | None] = mapped_column(sa.Text)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)

    __table_args__ = (sa.Index("ix_audit_entries_record", "record_type", "record_id"),)

    def compute_hash(self) -> str:
        payload = json.dumps(
            [self.at.isoformat(), self.actor_id, self.actor_name, self.record_type, self.record_id,
             self.action, self.before, self.after, self.comment, self.prev_hash],
            ensure_ascii=False, separators=(",", ":"),
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    @property
    def before_dict(self) -> dict:
        return json.loads(self.before) if self.before else {}

    @property
    def after_dict(self) -> dict:
        return json.loads(self.after) if self.after else {}


def _dump(data: dict | None) -> str | None:
    if data is None:
        return None
    return json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)


def record_key(record) -> tuple[str, str]:
    if getattr(record, "id", None) is None:
        db.session.flush()
    return record.__tablename__, str(record.id)


def snapshot(record, fields: list[str]) -> dict:
    """The values of `fields` on `record`, for before/after."""
    return {f: getattr(record, f) for f in fields}


def record_change(actor, action: str, record, *, before: dict | None = None, after: dict | None = None,
                  comment: str | None = None) -> AuditEntry:
    record_type, record_id = record_key(record)
    return append(actor, action, record_type, record_id, before=before, after=after, comment=comment)


def append(actor, action: str, record_type: str, record_id: str, *, before=None, after=None,
           comment=None) -> AuditEntry:
    session = db.session
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    last = session.execute(sa.select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).scalar()
    entry = AuditEntry(
        at=clock.now(),
        actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "display_name", "") or ("系统" if actor is None else str(actor)),
        record_type=record_type,
        record_id=record_id,
        action=action,
        before=_dump(before),
        after=_dump(after),
        comment=comment,
        prev_hash=last or GENESIS,
    )
    entry.hash = entry.compute_hash()
    session.add(entry)
    session.flush()
    return entry


def history(record) -> list[AuditEntry]:
    """A record's history, oldest first."""
    return list(db.session.execute(
        sa.select(AuditEntry)
        .where(AuditEntry.record_type == record.__tablename__, AuditEntry.record_id == str(record.id))
        .order_by(AuditEntry.id)
    ).scalars())


def verify_chain(batch: int = 5000) -> tuple[int, AuditEntry | None]:
    """Walk the chain in order. Returns (entries checked, first bad entry or None)."""
    prev = GENESIS
    checked = 0
    last_id = 0
    while True:
        rows = db.session.execute(
            sa.select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
        ).scalars().all()
        if not rows:
            return checked, None
        for entry in rows:
            if entry.prev_hash != prev or entry.compute_hash() != entry.hash:
                return checked, entry
            prev = entry.hash
            checked += 1
            last_id = entry.id
            db.session.expunge(entry)  # keep memory flat on long chains
