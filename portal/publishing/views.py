"""Publishing pages: choose → preview (exactly what the public will see) → publish; the list of
published snapshots with withdrawal; the publication log."""
from __future__ import annotations

from types import SimpleNamespace

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.core import clock, parsing
from portal.core.bulk import carry_out
from portal.core.errors import DomainError
from portal.core.pagination import paginate
from portal.core.permissions import load_or_404, require, visible
from portal.core.writes import status, submit
from portal.publishing import operations, queries
from portal.publishing.forms import FiguresForm, SelectionForm, SnapshotBulkForm, WithdrawForm
from portal.publishing.lists import PUBLICATION_LOG
from portal.publishing.models import PublicationKind, PublicationLog, PublishedFigures, Snapshot
from portal.publishing.policies import may_publish

bp = Blueprint("publishing", __name__, url_prefix="/publishing")


@bp.before_request
def may_read_publishing():
    """Every page here shows unpublished content: the snapshot policy decides (no guard of its own)."""
    require(current_user, "view", Snapshot)


def _selection_form(data=None):
    form = SelectionForm(data or request.args, meta={"csrf": False})
    form.department.choices = [(0, _("全部部门"))] + [(o.id, o.name) for o in queries.departments()]
    if not form.year.data and not (data or request.args).get("year"):
        form.year.data = clock.today().year
    return form


def _preview_sections(plan, changes=("new", "changed", "same")):
    """Objects shaped like public snapshots, for the shared public template."""
    out = []
    for project, candidates in plan.by_project(changes):
        sections = [SimpleNamespace(kind=c.kind, payload=c.data, version=(c.current.version + 1 if c.current and
                                                                           c.change != "same" else
                                                                           (c.current.version if c.current else 1)),
                                    note="", withdrawn=False, published_at=None, project_ref=project.id,
                                    change=c.change)
                    for c in candidates]
        out.append((project, candidates[0].data["project"], sections))
    return out


PREVIEW_PROJECTS = 50  # projects whose public pages the preview opens at once


def _preview_page(form, plan, *, may: bool):
    """The preview: the summary of new, changed and withdrawn items against what is published now
    (each a filter, ?show=), the new and changed items as the public will see them, the withdrawn
    ones listed, the unchanged folded with their count."""
    show = parsing.arg_choice("show", queries.CHANGES) if request.method == "GET" else None
    preview, unchanged = [], []
    if plan:
        opened = [c for c in ("new", "changed") if show in (None, c)]
        preview = _preview_sections(plan, opened) if opened else []
        unchanged = plan.by_project(("same",)) if show in (None, "same") else []
    return render_template("portal/publishing/index.html", form=form, plan=plan, show=show,
                           counts=plan.counts() if plan else {}, preview=preview[:PREVIEW_PROJECTS],
                           more=max(0, len(preview) - PREVIEW_PROJECTS), unchanged=unchanged,
                           withdrawn=plan.withdrawn if plan and show in (None, "withdrawn") else [],
                           may_publish=may)


@bp.get("/")
def index():
    form = _selection_form()
    plan = None
    if request.args.get("year") and form.validate():
        try:
            plan = queries.plan(form.year.data, form.department.data or None, form.kinds.data)
        except DomainError as error:
            form.kinds.errors = [error.message]
    return _preview_page(form, plan, may=may_publish(current_user))


@bp.post("/publish")
def publish():
    require(current_user, "publish", Snapshot)
    form = _selection_form(request.form)
    if not form.validate():
        flash(_("请检查选择的年度、部门和公开内容。"), "error")
        return redirect(url_for("publishing.index"))
    done = submit(operations.publish, form.year.data, form.department.data or None, form.kinds.data,
                  actor=current_user, note=form.note.data, form=form,
                  redirect_to=url_for("publishing.published", year=form.year.data),
                  success=lambda written: _("已公开 %(n)d 项内容。", n=len(written)))
    if done:
        return done
    # Refused (e.g. nothing new, or a correction without its note): the preview again, with the message.
    plan = queries.plan(form.year.data, form.department.data or None, form.kinds.data or ["goals"])
    return _preview_page(form, plan, may=True), status(form)


@bp.get("/published")
def published():
    stmt = visible(current_user, Snapshot, sa.select(Snapshot).where(Snapshot.current.is_(True)))
    year = parsing.arg_year()
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


@bp.post("/published/withdraw")
def bulk_withdraw():
    """撤回 the ticked snapshots with one note; each the step refuses is named above the list."""
    require(current_user, "bulk", Snapshot)  # the finance officers who publish and withdraw
    return carry_out(SnapshotBulkForm(), operations.bulk_withdraw, back=url_for("publishing.published"))


@bp.route("/snapshots/<int:snapshot_id>/withdraw", methods=["GET", "POST"])
def withdraw(snapshot_id: int):
    snapshot = load_or_404(Snapshot, snapshot_id, "withdraw")
    form = WithdrawForm()
    if form.validate_on_submit():
        done = submit(operations.withdraw, snapshot, actor=current_user, note=form.note.data, form=form,
                      redirect_to=url_for("publishing.published"), success=_("已撤回，公众将看到撤回说明。"))
        if done:
            return done
    return render_template("portal/publishing/withdraw.html", form=form, snapshot=snapshot), status(form)


@bp.get("/log")
def log():
    state = PUBLICATION_LOG.read(request.args)
    stmt = state.apply(visible(current_user, PublicationLog))
    if state.export_format:
        return state.export(stmt, _("公开日志"))
    return render_template("portal/publishing/log.html", page=state.page(stmt), state=state)


# ---- a year's figures (公开的年度统计) ------------------------------------------------------------

def _figures_page(form, status_code=200):
    kind, year = form.kind.data, form.year.data
    preview = current = None
    versions = []
    if kind in dict(form.kind.choices) and year:
        preview = operations.build_figures(kind, year)
        versions = queries.figures_versions(kind, year)
        current = next((v for v in versions if v.current), None)
    unchanged = bool(preview and current and not current.withdrawn
                     and operations.dumps(preview) == current.data)
    return render_template("portal/publishing/figures.html", form=form, preview=preview, current=current,
                           versions=versions, unchanged=unchanged, may_publish=may_publish(current_user)), status_code


@bp.get("/figures")
def figures():
    form = FiguresForm(request.args, meta={"csrf": False})
    if not form.kind.data and form.kind.choices:
        form.kind.data = form.kind.choices[0][0]
    if not form.year.data:
        form.year.data = clock.today().year + 1  # ex-ante assessments are of the next budget year
    return _figures_page(form)


@bp.post("/figures/publish")
def figures_publish():
    require(current_user, "publish", Snapshot)
    form = FiguresForm()
    if form.validate_on_submit():
        done = submit(operations.publish_figures, form.kind.data, form.year.data, actor=current_user,
                      note=form.note.data, form=form,
                      redirect_to=url_for("publishing.figures", kind=form.kind.data, year=form.year.data),
                      success=_("已公开，公众可在网站查看和下载。"))
        if done:
            return done
    return _figures_page(form, status(form))


@bp.route("/figures/<int:figures_id>/withdraw", methods=["GET", "POST"])
def figures_withdraw(figures_id: int):
    row = load_or_404(PublishedFigures, figures_id, "withdraw")
    form = WithdrawForm()
    back = url_for("publishing.figures", kind=row.kind, year=row.year)
    if form.validate_on_submit():
        done = submit(operations.withdraw_figures, row, actor=current_user, note=form.note.data, form=form,
                      redirect_to=back, success=_("已撤回，公众将看到撤回说明。"))
        if done:
            return done
    return render_template("portal/publishing/figures_withdraw.html", form=form, row=row, back=back), status(form)
