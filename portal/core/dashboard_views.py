"""The dashboard (工作台): the modules' panels, the user's latest notifications and own activity."""
from __future__ import annotations

import sqlalchemy as sa
from flask import render_template
from flask_login import current_user
from markupsafe import Markup

from portal.core.audit import AuditEntry
from portal.core.blueprint import bp
from portal.core.notifications import Notification
from portal.core.registry import DASHBOARD
from portal.extensions import db


@bp.get("/")
def dashboard():
    panels = [Markup(html) for panel in DASHBOARD if (html := panel.render(current_user))]
    notifications = db.session.execute(
        sa.select(Notification).where(Notification.user_id == current_user.id)
        .order_by(Notification.read_at.is_not(None), Notification.id.desc()).limit(10)
    ).scalars().all()
    activity = db.session.execute(
        sa.select(AuditEntry).where(AuditEntry.actor_id == current_user.id).order_by(AuditEntry.id.desc()).limit(10)
    ).scalars().all()
    return render_template("portal/core/dashboard.html", panels=panels, notifications=notifications,
                           activity=activity)
