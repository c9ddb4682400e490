"""Publishing pages: choose → preview (exactly what the public will see) → publish; the list of
published snapshots with withdrawal; the publication log."""
from __future__ import annotations

from types import SimpleNamespace

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.models import Role
from portal.core import clock
from portal.core.errors import DomainError
from portal.core.pagination import paginate
from portal.core.permissions import load_or_404, require, visible
from portal.extensions import db
from portal.publishing import operations
from portal.publishing.forms import SelectionForm, WithdrawForm
from portal.publishing.models import PublicationKind, PublicationLog, Snapshot
from portal.publishing.policies import may_publish

bp = Blueprint("publishing", __name__, url_prefix="/publishing")


@bp.before_request
def finance_only():
    if not (current_user.is_finance or current_user.has_role(Role.ADMIN)):
        abort(403)


def _selection_form(data=None):
    form = SelectionForm(data or request.args, meta={"csrf": False})
    form.department.choices = [(0, _("全部部门"))] + [(o.id, o.name) for o in operations.departments()]
    if not form.year.data and not (data or request.args).get("year"):
        form.year.data = clock.today().year
    return form


def _preview_sections(plan):
    """Objects shaped like public snapshots, for the shared public template."""
    out = []
    for project, candidates in plan.by_project():
        sections = [SimpleNamespace(kind=c.kind, payload=c.data, version=(c.current.version + 1 if c.current and
                                                                           c.change != "same" else
                                                                           (c.current.version if c.current else 1)),
                                    note="", withdrawn=False, published_at=None, project_ref=project.id,
                                    change=c.change)
                    for c in candidates]
        out.append((project, candidates[0].data["project"], sections))
    return out


@bp.get("/")
def index():
    form = _selection_form()
    plan = None
    if request.args.get("year") and form.validate():
        try:
            plan = operations.plan(form.year.data, form.department.data or None, form.kinds.data)
        except DomainError as error:
            form.kinds.errors = [error.message]
    preview = _preview_sections(plan) if plan else []
    return render_template("portal/publishing/index.html", form=form, plan=plan, preview=preview[:50],
                           more=max(0, len(preview) - 50), may_publish=may_publish(current_user))


@bp.post("/publish")
def publish():
    require(current_user, "publish", Snapshot)
    form = _selection_form(request.form)
    if not form.validate():
        flash(_("请检查选择的年度、部门和公开内容。"), "error")
        return redirect(url_for("publishing.index"))
    try:
        written = operations.publish(form.year.data, form.department.data or None, form.kinds.data,
                                     actor=current_user, note=form.note.data)
    except DomainError as error:
        getattr(form, error.field or "kinds").errors = [error.message]
        plan = operations.plan(form.year.data, form.department.data or None, form.kinds.data or ["goals"])
        preview = _preview_sections(plan)
        return render_template("portal/publishing/index.html", form=form, plan=plan, preview=preview[:50],
                               more=max(0, len(preview) - 50), may_publish=True), 422
    db.session.commit()
    _apply_search()
    flash(_("已公开 %(n)d 项内容。", n=len(written)), "success")
    return redirect(url_for("publishing.published", year=form.year.data))


def _apply_search():
    from public_site.search import apply_quietly

    apply_quietly()


@bp.get("/published")
def published():
    stmt = visible(current_user, Snapshot, sa.select(Snapshot).where(Snapshot.current.is_(True)))
    year = request.args.get("year", type=int)
    kind = request.args.get("kind", "")
    q = request.args.get("q", "").strip()
    if year:
        stmt = stmt.where(Snapshot.year == year)
    if kind in {k.value for k in PublicationKind}:
        stmt = stmt.where(Snapshot.kind == PublicationKind(kind))
    if q:
        stmt = stmt.where(Snapshot.project_name.contains(q) | Snapshot.project_code.contains(q))
    page = paginate(stmt.order_by(Snapshot.published_at.desc(), Snapshot.id.desc()))
    return render_template("portal/publishing/published.html", page=page, year=year or "", kind=kind, q=q,
                           kinds=list(PublicationKind), may_publish=may_publish(current_user))


@bp.route("/snapshots/<int:snapshot_id>/withdraw", methods=["GET", "POST"])
def withdraw(snapshot_id: int):
    snapshot = load_or_404(Snapshot, snapshot_id, "withdraw")
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            operations.withdraw(snapshot, actor=current_user, note=form.note.data)
        except DomainError as error:
            form.note.errors = [error.message]
        else:
            db.session.commit()
            _apply_search()
            flash(_("已撤回，公众将看到撤回说明。"), "success")
            return redirect(url_for("publishing.published"))
    return render_template("portal/publishing/withdraw.html", form=form, snapshot=snapshot)


@bp.get("/log")
def log():
    stmt = visible(current_user, PublicationLog)
    page = paginate(stmt.order_by(PublicationLog.at.desc(), PublicationLog.id.desc()))
    return render_template("portal/publishing/log.html", page=page)
