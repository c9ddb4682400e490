"""The portal shell's own pages: dashboard, notifications, file downloads, audit log,
language switch, API tokens."""
from __future__ import annotations

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from portal.core import clock
from portal.core.api import ApiToken, create_token, revoke_token
from portal.core.attachments import Attachment, linked_records
from portal.core.audit import AuditEntry
from portal.core.notifications import Notification
from portal.core.pagination import paginate
from portal.core.permissions import can
from portal.core.registry import DASHBOARD, register_nav
from portal.extensions import db

bp = Blueprint("core", __name__)


def init_app(app):
    app.register_blueprint(bp)
    # api_bp is registered by create_app, after every module's init_app has added its routes.
    register_nav(_l("工作台"), "core.dashboard", order=0)
    register_nav(_l("操作日志"), "core.audit_log", order=950, roles={"admin"})


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


@bp.get("/notifications")
def notifications():
    page = paginate(sa.select(Notification).where(Notification.user_id == current_user.id)
                    .order_by(Notification.id.desc()))
    return render_template("portal/core/notifications.html", page=page)


@bp.post("/notifications/<int:notification_id>/read")
def read_notification(notification_id):
    note = db.session.get(Notification, notification_id)
    if note is None or note.user_id != current_user.id:
        abort(404)
    if note.read_at is None:
        note.read_at = clock.now()
        db.session.commit()
    target = note.link if note.link.startswith("/") and not note.link.startswith("//") else None
    return redirect(target or url_for("core.notifications"))


@bp.post("/notifications/read-all")
def read_all_notifications():
    db.session.execute(sa.update(Notification).where(Notification.user_id == current_user.id,
                                                     Notification.read_at.is_(None)).values(read_at=clock.now()))
    db.session.commit()
    flash(_("已全部标为已读。"), "success")
    return redirect(url_for("core.notifications"))


@bp.get("/files/<int:attachment_id>")
def download(attachment_id):
    """A file is readable by whoever may view one of the records it is linked to."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None:
        abort(404)
    if not any(can(current_user, "view", record) for record in linked_records(attachment)):
        abort(403)
    if not attachment.path.exists():
        abort(404)
    inline = request.args.get("inline") == "1" and attachment.kind in ("pdf", "png", "jpeg")
    response = send_file(attachment.path, mimetype=attachment.mimetype, as_attachment=not inline,
                         download_name=attachment.filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/audit")
def audit_log():
    if not current_user.has_role("admin"):
        abort(403)
    stmt = sa.select(AuditEntry).order_by(AuditEntry.id.desc())
    record_type = request.args.get("record_type", "").strip()
    if record_type:
        stmt = stmt.where(AuditEntry.record_type == record_type[:64])
    actor = request.args.get("actor", "").strip()
    if actor:
        stmt = stmt.where(AuditEntry.actor_name.contains(actor[:60]))
    return render_template("portal/core/audit_log.html", page=paginate(stmt), record_type=record_type, actor=actor)


@bp.post("/markdown/preview")
def markdown_preview():
    """Live preview for Markdown fields (htmx posts the textarea; sanitised HTML comes back)."""
    from portal.core.markdown import render_markdown

    text = request.form.get("text") or next(iter(request.form.values()), "")
    return str(render_markdown(text[:200_000]))


@bp.get("/lang/<code>")
def set_language(code):
    if code not in ("zh", "en"):
        abort(404)
    target = request.args.get("next", "")
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("core.dashboard")
    response = make_response(redirect(target))
    response.set_cookie("lang", code, max_age=365 * 86400, samesite="Lax", httponly=True)
    return response


@bp.route("/tokens", methods=["GET", "POST"])
def tokens():
    new_secret = None
    if request.method == "POST":
        name = (request.form.get("name") or "").strip()
        if not name or len(name) > 100:
            flash(_("请填写令牌用途（不超过100字）。"), "error")
        else:
            _token, new_secret = create_token(current_user, name)
            db.session.commit()
    rows = db.session.execute(sa.select(ApiToken).where(ApiToken.user_id == current_user.id)
                              .order_by(ApiToken.id.desc())).scalars().all()
    return render_template("portal/core/tokens.html", tokens=rows, new_secret=new_secret)


@bp.post("/tokens/<int:token_id>/revoke")
def revoke(token_id):
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    if token.revoked_at is None:
        revoke_token(token, actor=current_user)
        db.session.commit()
        flash(_("令牌已吊销。"), "success")
    return redirect(url_for("core.tokens"))
