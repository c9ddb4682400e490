# Over 400 lines: the chain, its HMAC seal, the checkpoints and verify() are read together to be trusted.
"""Append-only audit log (操作日志), chained and sealed so tampering is detectable.

Every write operation calls `record_change(actor, action, record, before, after, comment)`, once
per record it changes. Each entry stores the previous entry's hash, its own hash over its fields
and that link, and a MAC: HMAC-SHA256 of the hash under `AUDIT_KEY`, a key that lives outside the
database (the environment, or instance/audit_key). Checkpoints (entry count, last id, head hash,
their MAC) are appended to a file outside the database by the worker every minute and by
`flask audit checkpoint`. `verify()` (CLI: `flask audit verify`) reports an edited entry (hash),
a deleted middle entry (link), a recomputed chain (MAC) and a deleted tail (checkpoint).
Appends are serialised (PostgreSQL advisory lock; SQLite write transactions are IMMEDIATE), so
concurrent writers never fork the chain; in PostgreSQL a trigger refuses UPDATE and DELETE.
"""
from __future__ import annotations

import enum
import hashlib
import hmac
import json
import os
import secrets
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
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
    mac: Mapped[str | None] = mapped_column(sa.String(64))  # NULL only on entries written before sealing

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


def audit_value(value):
    """A field value as an audit entry stores it: enums by code, dates in ISO form, amounts as
    text (a whole amount without its zeros: 300.00 → "300", 12.50 stays "12.50")."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    return value


def snapshot(record, fields: list[str]) -> dict:
    """The values of `fields` on `record`, for before/after."""
    return {f: getattr(record, f) for f in fields}


def record_change(actor, action: str, record, *, before: dict | None = None, after: dict | None = None,
                  comment: str | None = None) -> AuditEntry | None:
    pending = db.session.info.get("audit_deferred")
    if pending is not None:  # inside `deferred()`: written, chained, when the block ends
        pending.append((clock.now(), actor, action, record, _dump(before), _dump(after), comment))
        return None
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
    entry.mac = seal(entry.hash)
    session.add(entry)
    session.flush()
    return entry


def append_many(actor, action: str, changes: list[tuple]) -> list[AuditEntry]:
    """One entry per (record, after) of a batch (an import), chained exactly as `append` would,
    one after the other: the chain's lock and its head read once, the entries inserted together."""
    at = clock.now()
    return _write_chain([(at, actor, action, *record_key(record), None, _dump(after), None)
                         for record, after in changes])


@contextmanager
def deferred():
    """Within it, `record_change` keeps its entries (values taken at the call) and writes them,
    chained in call order, when the block ends — one lock and one head read for a whole import
    instead of one per entry. An exception discards them (the transaction rolls back)."""
    session = db.session
    if "audit_deferred" in session.info:  # nested: the outer block writes
        yield
        return
    session.info["audit_deferred"] = []
    try:
        yield
        pending = session.info.pop("audit_deferred")
        _write_chain([(at, actor, action, *record_key(record), before, after, comment)
                      for at, actor, action, record, before, after, comment in pending])
    finally:
        session.info.pop("audit_deferred", None)


def _write_chain(items: list[tuple], batch: int = 1000) -> list[AuditEntry]:
    """(at, actor, action, record_type, record_id, before, after, comment) → chained entries."""
    session = db.session
    session.flush()
    if not items:
        return []
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    last = session.execute(sa.select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).scalar() or GENESIS
    entries = []
    for at, actor, action, record_type, record_id, before, after, comment in items:
        entry = AuditEntry(at=at, actor_id=getattr(actor, "id", None),
                           actor_name=getattr(actor, "display_name", "") or ("系统" if actor is None else str(actor)),
                           record_type=record_type, record_id=record_id, action=action, before=before,
                           after=after, comment=comment, prev_hash=last)
        entry.hash = entry.compute_hash()
        entry.mac = seal(entry.hash)
        last = entry.hash
        entries.append(entry)
    for start in range(0, len(entries), batch):
        session.add_all(entries[start:start + batch])
        session.flush()  # ids in insertion order (the chain's order)
    return entries


def history(record) -> list[AuditEntry]:
    """A record's history, oldest first."""
    return list(db.session.execute(
        sa.select(AuditEntry)
        .where(AuditEntry.record_type == record.__tablename__, AuditEntry.record_id == str(record.id))
        .order_by(AuditEntry.id)
    ).scalars())


def audit_key() -> bytes:
    """AUDIT_KEY from the configuration, else generated once into instance/audit_key."""
    configured = current_app.config.get("AUDIT_KEY")
    if configured:
        return configured.encode("utf-8")
    path = Path(current_app.config["INSTANCE_DIR"]) / "audit_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return path.read_text().strip().encode("utf-8")


def seal(text: str) -> str:
    return hmac.new(audit_key(), text.encode("utf-8"), hashlib.sha256).hexdigest()


def checkpoint_file() -> Path:
    return Path(current_app.config.get("AUDIT_CHECKPOINT_FILE")
                or Path(current_app.config["INSTANCE_DIR"]) / "audit-checkpoints.jsonl")


def _head() -> tuple[int, int, str]:
    count, last_id = db.session.execute(sa.select(sa.func.count(), sa.func.max(AuditEntry.id))).one()
    head = db.session.execute(sa.select(AuditEntry.hash).where(AuditEntry.id == last_id)).scalar() if last_id else GENESIS
    return count, last_id or 0, head


def _checkpoint_payload(count: int, last_id: int, head: str) -> str:
    return f"{count}:{last_id}:{head}"


def write_checkpoint() -> dict | None:
    """Append the chain's count and head to the checkpoint file, when they moved on."""
    count, last_id, head = _head()
    db.session.rollback()
    previous = last_checkpoint()
    if previous is not None and previous["last_id"] == last_id and previous["count"] == count:
        return previous
    point = {"at": clock.now().isoformat(timespec="seconds"), "count": count, "last_id": last_id, "head": head,
             "mac": seal(_checkpoint_payload(count, last_id, head))}
    path = checkpoint_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(point) + "\n")
    return point


def last_checkpoint() -> dict | None:
    path = checkpoint_file()
    if not path.exists():
        return None
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return json.loads(lines[-1]) if lines else None


@dataclass
class Report:
    checked: int = 0
    legacy: int = 0  # entries written before sealing (no MAC)
    problems: list[str] = field(default_factory=list)
    first_bad: AuditEntry | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, message: str, entry: AuditEntry | None = None) -> None:
        self.problems.append(message)
        if entry is not None and self.first_bad is None:
            self.first_bad = entry


# ---- retention (entries kept at least 180 days; older ones purged only by command) -----------

MIN_RETENTION_DAYS = 180


@dataclass
class Purge:
    deleted: int
    first_kept_id: int | None
    genesis: str


def purge_genesis() -> dict | None:
    """The newest sealed purge note of the checkpoint file: where the chain starts now."""
    path = checkpoint_file()
    if not path.exists():
        return None
    for line in reversed([line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]):
        point = json.loads(line)
        genesis = point.get("genesis")
        if genesis and point.get("mac") == seal(_purge_payload(point)):
            return genesis
    return None


def _purge_payload(point: dict) -> str:
    g = point["genesis"]
    return f"purge:{point['count']}:{point['last_id']}:{point['head']}:{g['first_id']}:{g['prev_hash']}:{g['deleted']}"


def purge(older_than_days: int) -> Purge:
    """Delete the entries older than `older_than_days` (at least MIN_RETENTION_DAYS), from the
    start of the chain only, then commit. The deliberate path around the append-only trigger:
    on PostgreSQL the trigger is disabled inside this one transaction (DDL is transactional: no
    other session ever writes while it is off; it needs the table owner's rights) and enabled
    again before the commit. The purge leaves a sealed note in the checkpoint file with the new
    genesis (the first kept entry's prev_hash), so `verify()` starts from it, and an audit entry
    `audit.purge` of its own. A log that does not verify is not purged."""
    from datetime import timedelta

    if older_than_days < MIN_RETENTION_DAYS:
        raise ValueError(f"audit entries are kept at least {MIN_RETENTION_DAYS} days (asked: {older_than_days})")
    report = verify()
    db.session.rollback()
    if not report.ok:
        raise ValueError("the audit log does not verify; it is not purged: " + "; ".join(report.problems[:3]))
    session = db.session
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    cutoff = clock.now() - timedelta(days=older_than_days)
    first_kept = session.execute(sa.select(AuditEntry.id, AuditEntry.prev_hash).where(AuditEntry.at >= cutoff)
                                 .order_by(AuditEntry.id).limit(1)).first()
    older = sa.select(AuditEntry.id).where(AuditEntry.id < first_kept.id) if first_kept else sa.select(AuditEntry.id)
    doomed = session.scalar(sa.select(sa.func.count()).select_from(older.subquery())) or 0
    if not doomed:
        session.rollback()
        return Purge(0, first_kept.id if first_kept else None, purge_genesis_hash())
    last_deleted = session.scalar(sa.select(AuditEntry.hash).where(AuditEntry.id.in_(older))
                                  .order_by(AuditEntry.id.desc()).limit(1))
    delete = sa.delete(AuditEntry).where(AuditEntry.id < first_kept.id) if first_kept else sa.delete(AuditEntry)
    if postgres:
        session.execute(sa.text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only"))
    session.execute(delete)
    if postgres:
        session.execute(sa.text("ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_append_only"))
    entry = append(None, "audit.purge", "audit_entries", "purge", comment=f"older than {older_than_days} days",
                   after={"older_than_days": older_than_days, "deleted": doomed, "cutoff": cutoff.isoformat(),
                          "last_deleted_hash": last_deleted})
    # the chain now starts at the first kept entry (or, when every entry was older, at the
    # purge's own entry, which follows an empty table)
    kept_id, genesis = (first_kept.id, first_kept.prev_hash) if first_kept else (entry.id, entry.prev_hash)
    count, last_id, head = _head()
    point = {"at": clock.now().isoformat(timespec="seconds"), "count": count, "last_id": last_id, "head": head,
             "note": f"purge: {doomed} entries older than {older_than_days} days deleted",
             "genesis": {"first_id": kept_id, "prev_hash": genesis, "deleted": doomed}}
    point["mac"] = seal(_purge_payload(point))
    session.commit()
    path = checkpoint_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(point) + "\n")
    return Purge(doomed, kept_id, genesis)


def purge_genesis_hash() -> str:
    genesis = purge_genesis()
    return genesis["prev_hash"] if genesis else GENESIS


def verify(batch: int = 5000) -> Report:
    """Check every entry (hash, link, MAC) and the chain against the newest checkpoint. After a
    purge the chain starts at the genesis its sealed note recorded."""
    report = Report()
    key = audit_key()
    genesis = purge_genesis()
    prev, last_id, sealed_seen = (genesis["prev_hash"] if genesis else GENESIS), 0, False
    positions: dict[int, str] = {}
    point = last_checkpoint()
    while True:
        rows = db.session.execute(sa.select(AuditEntry).where(AuditEntry.id > last_id)
                                  .order_by(AuditEntry.id).limit(batch)).scalars().all()
        if not rows:
            break
        for entry in rows:
            where = f"#{entry.id} ({entry.at:%Y-%m-%d %H:%M} {entry.action} {entry.record_type}:{entry.record_id})"
            if entry.compute_hash() != entry.hash:
                report.fail(f"entry {where} was edited: its hash does not match its content", entry)
            if entry.prev_hash != prev:
                report.fail(f"entry {where} does not follow the entry before it: an entry was deleted", entry)
            if entry.mac is None:
                if sealed_seen:
                    report.fail(f"entry {where} has lost its seal (MAC)", entry)
                report.legacy += 1
            else:
                sealed_seen = True
                if not hmac.compare_digest(entry.mac, hmac.new(key, entry.hash.encode(), hashlib.sha256).hexdigest()):
                    report.fail(f"entry {where} is not sealed with this installation's key: the chain was recomputed",
                                entry)
            if point is not None and entry.id == point["last_id"]:
                positions[entry.id] = entry.hash
            prev, last_id = entry.hash, entry.id
            report.checked += 1
            db.session.expunge(entry)  # keep memory flat on long chains
        if len(report.problems) > 50:
            break
    if point is not None:
        sealed = _purge_payload(point) if point.get("genesis") else _checkpoint_payload(
            point["count"], point["last_id"], point["head"])
        if point.get("mac") != seal(sealed):
            report.fail("the newest checkpoint is not sealed with this installation's key")
        elif point["last_id"] and positions.get(point["last_id"]) != point["head"]:
            report.fail(f"entry #{point['last_id']}, the head at the checkpoint of {point['at']}, is missing or "
                        "changed: entries were deleted from the end of the log")
        elif report.checked < point["count"]:
            report.fail(f"the checkpoint of {point['at']} counted {point['count']} entries, the log now has "
                        f"{report.checked}: entries were deleted")
    return report


def verify_chain(batch: int = 5000) -> tuple[int, AuditEntry | None]:
    """(entries checked, first bad entry or None): the short form of `verify()`."""
    report = verify(batch)
    return report.checked, report.first_bad
