"""In-portal notifications (with email when SMTP is configured) and the reminder runner.

Modules register deadline checks with `register_reminder_check(name, check)`; a check is
`check(now)` yielding `Reminder(key, users, title, link, body)`. `run_reminders()` (CLI:
`flask reminders run`, safe from cron as often as wanted) sends each key once: the key is
recorded in `reminders_sent` under a unique constraint before anyone is notified.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Mapped, mapped_column

from portal.core import clock
from portal.core.mail import queue_mail
from portal.core.registry import REMINDER_CHECKS
from portal.extensions import db

log = logging.getLogger(__name__)


class Notification(db.Model):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(40), default="info")
    title: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    link: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    read_at: Mapped[datetime | None]

    __table_args__ = (sa.Index("ix_notifications_user_unread", "user_id", "read_at"),)


class ReminderSent(db.Model):
    """One row per reminder key ("inquiry:12:overdue"): the guard that sends each once."""

    __tablename__ = "reminders_sent"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    sent_at: Mapped[datetime] = mapped_column(default=clock.now)
    recipients: Mapped[int] = mapped_column(default=0)


@dataclass
class Reminder:
    key: str
    users: list = field(default_factory=list)
    title: str = ""
    link: str = ""
    body: str = ""
    kind: str = "reminder"
    record: object | None = None  # when given, the reminder is written into its history


def notify(users: Iterable, title: str, *, link: str = "", body: str = "", kind: str = "info") -> int:
    """Notify each active user once (duplicates collapse); email, through the outbox, when configured."""
    seen, count = set(), 0
    for user in users:
        if user is None or user.id in seen or not user.is_active:
            continue
        seen.add(user.id)
        db.session.add(Notification(user_id=user.id, kind=kind, title=title[:300], body=body, link=link))
        if user.email:
            queue_mail(user.email, title, f"{body}\n\n{absolute(link)}".strip())
        count += 1
    return count


def absolute(link: str) -> str:
    """A portal link (a path built by url_for, which carries the portal's prefix) as a full
    address for an email: the origin of PORTAL_BASE_URL + the path."""
    if not link or "://" in link:
        return link
    parts = urlsplit(current_app.config["PORTAL_BASE_URL"])
    return f"{parts.scheme}://{parts.netloc}{link if link.startswith('/') else '/' + link}"


def unread_count(user) -> int:
    return db.session.execute(
        sa.select(sa.func.count()).select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    ).scalar_one()


def send_once(reminder: Reminder) -> bool:
    """Claim the reminder's key and notify; False if it was already sent."""
    try:
        with db.session.begin_nested():
            db.session.add(ReminderSent(key=reminder.key, recipients=len(reminder.users)))
    except sa.exc.IntegrityError:
        return False
    notify(reminder.users, reminder.title, link=reminder.link, body=reminder.body, kind=reminder.kind)
    if reminder.record is not None:
        from portal.core.audit import record_change

        record_change(None, "reminder.sent", reminder.record, comment=reminder.title,
                      after={"key": reminder.key, "recipients": [u.display_name for u in reminder.users]})
    return True


def run_reminders(now: datetime | None = None) -> dict[str, int]:
    """Run every registered check; returns {check name: reminders sent}. Email goes through the
    outbox, so a dead mail server delays the mail and loses none of it."""
    from portal.core.links import link_context

    with link_context():
        return _run_checks(now or clock.now())


def _run_checks(now: datetime) -> dict[str, int]:
    from portal.core.writes import commit

    sent: dict[str, int] = {}
    for name, check in sorted(REMINDER_CHECKS.items()):
        count = 0
        for reminder in check(now):
            already = db.session.execute(
                sa.select(ReminderSent.id).where(ReminderSent.key == reminder.key)
            ).first()
            if already is None and send_once(reminder):
                count += 1
        commit()
        sent[name] = count
    return sent
