"""The portal shell's own writes: marking notifications read (API tokens: `portal.core.tokens`).

Reading a notification changes only the reader's own inbox, not a record of the portal's
business, so it writes no audit entry (an entry per click would bury the log)."""
from __future__ import annotations

import sqlalchemy as sa

from portal.core import clock
from portal.core.notifications import Notification
from portal.extensions import db


def mark_read(note: Notification, *, user) -> Notification:
    """Idempotent: a second click (or another tab) leaves the first time it was read."""
    if note.user_id != user.id:
        raise PermissionError("a notification is read by its own user only")
    db.session.execute(sa.update(Notification).where(Notification.id == note.id, Notification.read_at.is_(None))
                       .values(read_at=clock.now()))
    return note


def mark_all_read(user) -> int:
    result = db.session.execute(sa.update(Notification).where(Notification.user_id == user.id,
                                                             Notification.read_at.is_(None))
                                .values(read_at=clock.now()))
    return result.rowcount
