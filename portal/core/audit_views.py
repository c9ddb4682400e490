"""The audit log (操作日志), filtered by record type and actor."""
from __future__ import annotations

import sqlalchemy as sa
from flask import render_template, request
from flask_login import current_user

from portal.core.audit import AuditEntry
from portal.core.blueprint import bp
from portal.core.pagination import paginate
from portal.core.permissions import require


@bp.get("/audit")
def audit_log():
    require(current_user, "view", AuditEntry)
    stmt = sa.select(AuditEntry).order_by(AuditEntry.id.desc())
    record_type = request.args.get("record_type", "").strip()
    if record_type:
        stmt = stmt.where(AuditEntry.record_type == record_type[:64])
    actor = request.args.get("actor", "").strip()
    if actor:
        stmt = stmt.where(AuditEntry.actor_name.contains(actor[:60]))
    return render_template("portal/core/audit_log.html", page=paginate(stmt), record_type=record_type, actor=actor)
