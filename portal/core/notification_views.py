"""The user's notifications: the list, marking one read (and following its link), marking all read."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.core.blueprint import bp
from portal.core.notifications import Notification
from portal.core.operations import mark_all_read, mark_read
from portal.core.pagination import paginate
from portal.core.writes import DuplicateSubmission, perform, submit
from portal.extensions import db


@bp.get("/notifications")
def notifications():
    page = paginate(sa.select(Notification).where(Notification.user_id == current_user.id)
                    .order_by(Notification.id.desc()))
    return render_template("portal/core/notifications.html", page=page)


def _own_notification(notification_id: int) -> Notification:
    note = db.session.get(Notification, notification_id)
    if note is None or note.user_id != current_user.id:
        abort(404)  # another user's notification does not exist for you
    return note


@bp.post("/notifications/<int:notification_id>/read")
def read_notification(notification_id):
    note = _own_notification(notification_id)
    target = note.link if note.link.startswith("/") and not note.link.startswith("//") else None
    target = target or url_for("core.notifications")
    try:
        perform(mark_read, note, user=current_user, redirect_to=target)
    except DuplicateSubmission:
        pass  # clicked twice: it is read already, go where the first click went
    return redirect(target)


@bp.post("/notifications/read-all")
def read_all_notifications():
    target = url_for("core.notifications")
    return submit(mark_all_read, current_user, redirect_to=target, success=_("已全部标为已读。")) or redirect(target)
