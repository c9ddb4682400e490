# Over 400 lines: meetings, actions, the library, plans and the overview; to be split by record kind.
"""Joint conference pages: meetings, actions, the shared library, plans, the joint overview."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, after_this_request, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from portal.accounts.models import Organisation, OrgKind, User
from portal.conference import models, operations, queries
from portal.conference.forms import (
    ActionBulkForm,
    ActionForm,
    DocumentForm,
    LinkForm,
    MeetingForm,
    NoteForm,
    PlanItemForm,
    TransitionForm,
)
from portal.conference.lists import ACTIONS, DOCUMENTS
from portal.conference.policies import is_reader, plan_bureau_of
from portal.core import clock, parsing
from portal.core.attachments import attachments_of
from portal.core.audit import history
from portal.core.bulk import carry_out
from portal.core.errors import DomainError
from portal.core.htmx import is_htmx
from portal.core.locale import N_
from portal.core.pagination import paginate
from portal.core.permissions import can, load_or_404, require, visible
from portal.core.registry import OVERVIEW_SECTIONS, RECORD_TYPES
from portal.core.writes import perform, show_error, status, submit, submitted
from portal.extensions import db
from portal.performance.models import Project

bp = Blueprint("conference", __name__, url_prefix="/conference")

# Record types an action may link to, in the order offered (others registered later follow).
LINK_TYPE_LABELS = {
    "inquiries": N_("函询"), "letters": N_("函询"), "review_rounds": N_("同审"), "reviews": N_("同审"),
    "reports": N_("评价报告"), "problems": N_("问题台账"), "projects": N_("项目"), "evaluations": N_("绩效评价"),
}


def _year_arg() -> int:
    try:
        year = int(request.args.get("year", ""))
    except ValueError:
        return clock.today().year
    return year if 2000 <= year <= 2100 else clock.today().year


def _int_arg(name: str) -> int | None:
    return parsing.arg_year(name) if name == "year" else parsing.arg_id(name)


# ---- meetings ----------------------------------------------------------------------------------

def _bureaus():
    return db.session.execute(sa.select(Organisation).where(Organisation.kind.in_(
        [OrgKind.FINANCE_BUREAU, OrgKind.AUDIT_BUREAU]), Organisation.is_active.is_(True))
        .order_by(Organisation.kind.desc(), Organisation.id)).scalars().all()


def _meeting_choices(form: MeetingForm) -> None:
    bureaus = _bureaus()
    form.convening_org_id.choices = [(o.id, o.name) for o in bureaus]
    users = db.session.execute(sa.select(User).where(User.organisation_id.in_([o.id for o in bureaus]),
                                                     User.is_active_account.is_(True))
                               .order_by(User.organisation_id, User.id)).scalars().all()
    form.attendee_ids.choices = [(u.id, f"{u.display_name}（{u.organisation.short_name or u.organisation.name}"
                                        f"{' ' + u.title if u.title else ''}）") for u in users]


@bp.get("/")
def meetings():
    require(current_user, "view", models.Meeting)
    year = _int_arg("year")
    stmt = visible(current_user, models.Meeting)
    if year:
        stmt = stmt.where(models.Meeting.year == year)
    page = paginate(stmt.order_by(models.Meeting.year.desc(), models.Meeting.number.desc()))
    return render_template("portal/conference/meetings.html", page=page, year=year or "",
                           can_create=can(current_user, "create", models.Meeting))


@bp.route("/meetings/new", methods=["GET", "POST"])
def new_meeting():
    require(current_user, "create", models.Meeting)
    form = MeetingForm()
    _meeting_choices(form)
    if request.method == "GET":
        form.held_on.data = clock.today()
        form.convening_org_id.data = current_user.organisation_id
        form.attendee_ids.data = [current_user.id]
    done = submitted(form, operations.create_meeting, actor=current_user, **_meeting_values(form),
                     redirect_to=lambda m: url_for("conference.meeting_detail", meeting_id=m.id),
                     success=lambda m: _("已登记%(title)s。", title=m.title))
    return done or (render_template("portal/conference/meeting_form.html", form=form, meeting=None), status(form))


def _meeting_values(form: MeetingForm) -> dict:
    return {"held_on": form.held_on.data, "place": form.place.data or "",
            "convening_org": form.convening_org_id.data or None, "attendees": form.attendee_ids.data or [],
            "agenda": form.agenda.data or "", "minutes": form.minutes.data or "",
            "distribution": form.distribution.data or ""}


@bp.route("/meetings/<int:meeting_id>/edit", methods=["GET", "POST"])
def edit_meeting(meeting_id):
    meeting = load_or_404(models.Meeting, meeting_id, "edit")
    form = MeetingForm(obj=meeting) if request.method == "GET" else MeetingForm()  # a POST: only what was sent
    _meeting_choices(form)
    if request.method == "GET":
        form.attendee_ids.data = [u.id for u in meeting.attendees]
    done = submitted(form, operations.update_meeting, meeting, actor=current_user, version=form.lock_version.data,
                     **_meeting_values(form),
                     redirect_to=url_for("conference.meeting_detail", meeting_id=meeting_id),
                     success=_("会议信息已保存。"))
    return done or (render_template("portal/conference/meeting_form.html", form=form, meeting=meeting), status(form))


def _action_choices(form: ActionForm) -> None:
    orgs = db.session.execute(sa.select(Organisation).where(Organisation.is_active.is_(True),
                                                            Organisation.kind != OrgKind.CONGRESS)
                              .order_by(Organisation.kind.desc(), Organisation.id)).scalars().all()
    form.owner_org_id.choices = [(0, _("请选择"))] + [(o.id, o.name) for o in orgs]
    users = db.session.execute(sa.select(User).join(Organisation, User.organisation_id == Organisation.id)
                               .where(User.is_active_account.is_(True), Organisation.kind != OrgKind.CONGRESS)
                               .order_by(User.organisation_id, User.id)).scalars().all()
    form.owner_user_id.choices = [(0, _("（不指定）"))] + [
        (u.id, f"{u.display_name}（{u.organisation.short_name or u.organisation.name}）") for u in users]


def _meeting_page(meeting: models.Meeting, action_form: ActionForm | None = None):
    if action_form is None:
        action_form = ActionForm(formdata=None)
        _action_choices(action_form)
    return render_template("portal/conference/meeting_detail.html", meeting=meeting, action_form=action_form,
                           attachments=attachments_of(meeting), can_edit=can(current_user, "edit", meeting),
                           history=history(meeting), today=clock.today()), status(action_form)


@bp.get("/meetings/<int:meeting_id>")
def meeting_detail(meeting_id):
    meeting = load_or_404(models.Meeting, meeting_id, "view")
    return _meeting_page(meeting)


@bp.post("/meetings/<int:meeting_id>/actions")
def add_action(meeting_id):
    meeting = load_or_404(models.Meeting, meeting_id, "edit")
    form = ActionForm()
    _action_choices(form)
    done = submitted(form, operations.add_action, meeting, actor=current_user, text=form.text.data,
                     owner_org=form.owner_org_id.data or None, owner_user=form.owner_user_id.data or None,
                     due_date=form.due_date.data,
                     redirect_to=url_for("conference.meeting_detail", meeting_id=meeting_id) + "#actions",
                     success=lambda a: _("已添加议定事项%(n)s。", n=a.position))
    return done or _meeting_page(meeting, form)


@bp.post("/meetings/<int:meeting_id>/attachments")
def upload_meeting_file(meeting_id):
    meeting = load_or_404(models.Meeting, meeting_id, "edit")
    back = url_for("conference.meeting_detail", meeting_id=meeting_id) + "#files"
    # a refused upload: the page again, with the message (a file input cannot be kept)
    return submit(operations.attach_to_meeting, meeting, request.files.get("file"), actor=current_user, redirect_to=back,
                  success=lambda a: _("已上传附件“%(name)s”。", name=a.filename)) or _meeting_page(meeting)


@bp.get("/meetings/<int:meeting_id>/minutes.docx")
def minutes_docx(meeting_id):
    from portal.conference.minutes_docx import minutes_document
    from portal.core.excel import safe_filename

    meeting = load_or_404(models.Meeting, meeting_id, "view")
    buffer = minutes_document(meeting)
    return send_file(buffer, as_attachment=True, download_name=safe_filename(f"{meeting.title}纪要.docx"),
                     mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document")


# ---- actions -------------------------------------------------------------------------------------

@bp.get("/actions")
def actions():
    # the scope decides: readers see every action, units and agencies their own
    require(current_user, "view", models.Action)
    state = ACTIONS.read(request.args)
    f = state.filters
    stmt = state.order(queries.filter_actions(current_user, state=f["state"], year=f["year"], owner_org_id=f["owner"],
                                              meeting_id=f["meeting"], q=f["q"]))
    if state.export_format:
        return state.export(stmt, _("议定事项"))
    return render_template("portal/conference/actions.html", page=state.page(stmt), state=state,
                           can_bulk=can(current_user, "bulk", models.Action),
                           steps=[(t.action, _(t.label)) for t in operations.ACTION_MACHINE.transitions])


@bp.post("/actions/bulk")
def bulk_actions():
    """One step for the ticked actions; each action the step refuses is named above the list."""
    require(current_user, "bulk", models.Action)
    return carry_out(ActionBulkForm(), operations.bulk_transition, back=url_for("conference.actions"))


def _action_page(action: models.Action, *, note_form=None, link_form=None, transition_error: str = ""):
    note_form = note_form or NoteForm(formdata=None)
    link_form = link_form or LinkForm(formdata=None)
    link_form.record_type.choices = _link_type_choices()
    links = []
    for link in action.links:
        record = link.resolve()
        visible_record = record is not None and can(current_user, "view", record)
        links.append({"link": link, "type": _link_type_label(link.record_type),
                      "title": str(record) if visible_record else None, "missing": record is None})
    transitions = operations.ACTION_MACHINE.available(action, current_user)
    return render_template("portal/conference/action_detail.html", action=action, note_form=note_form,
                           link_form=link_form, links=links, transitions=transitions,
                           transition_form=TransitionForm(formdata=None), transition_error=transition_error,
                           can_progress=can(current_user, "progress", action)
                           and action.state in (models.ActionState.OPEN, models.ActionState.IN_PROGRESS),
                           can_link=can(current_user, "link", action), can_see_meeting=can(current_user, "view",
                                                                                           action.meeting),
                           can_edit=can(current_user, "edit", action),
                           history=history(action), today=clock.today()), max(status(note_form), status(link_form))


# Other modules' table names are not fixed yet: any registered type whose name contains one of
# these words is offered too (e.g. "ledger_problems", "inquiry_letters", "review_rounds").
LINK_TYPE_HINTS = (("problem", N_("问题台账")), ("inquir", N_("函询")), ("letter", N_("函询")),
                   ("review", N_("同审")))


def _link_type_label(record_type: str) -> str:
    if record_type in LINK_TYPE_LABELS:
        return _(LINK_TYPE_LABELS[record_type])
    for word, label in LINK_TYPE_HINTS:
        if word in record_type:
            return _(label)
    return record_type


def _link_type_choices():
    known = [t for t in LINK_TYPE_LABELS if t in RECORD_TYPES]
    hinted = sorted(t for t in RECORD_TYPES if t not in LINK_TYPE_LABELS
                    and any(word in t for word, _label in LINK_TYPE_HINTS))
    return [(t, _link_type_label(t)) for t in hinted + known]


@bp.get("/actions/<int:action_id>")
def action_detail(action_id):
    action = load_or_404(models.Action, action_id, "view")
    return _action_page(action)


@bp.route("/actions/<int:action_id>/edit", methods=["GET", "POST"])
def edit_action(action_id):
    action = load_or_404(models.Action, action_id, "edit")
    form = ActionForm(obj=action) if request.method == "GET" else ActionForm()
    _action_choices(form)
    if request.method == "GET":
        form.owner_org_id.data, form.owner_user_id.data = action.owner_org_id, action.owner_user_id or 0
    done = submitted(form, operations.update_action, action, actor=current_user, version=form.lock_version.data,
                     text=form.text.data, owner_org=form.owner_org_id.data or None,
                     owner_user=form.owner_user_id.data or None, due_date=form.due_date.data,
                     redirect_to=url_for("conference.action_detail", action_id=action_id),
                     success=_("议定事项已保存。"))
    return done or (render_template("portal/conference/action_form.html", form=form, action=action), status(form))


@bp.post("/actions/<int:action_id>/transition")
def transition_action(action_id):
    action = load_or_404(models.Action, action_id, "view")
    form = TransitionForm()
    done = parsing.accepted(form) and submit(
        operations.transition_action, action, form.action.data, actor=current_user, comment=form.comment.data or "",
        expected_state=form.state.data or None, form=form,
        redirect_to=url_for("conference.action_detail", action_id=action_id),
        success=lambda a: _("议定事项状态已更新为“%(state)s”。", state=a.state.label))
    if done:
        return done
    return _action_page(action, transition_error=" ".join(form.comment.errors))  # the refusal is flashed


@bp.post("/actions/<int:action_id>/notes")
def add_note(action_id):
    action = load_or_404(models.Action, action_id, "progress")
    form = NoteForm()
    if form.validate_on_submit():
        if is_htmx():  # only the notes section changes (and the state badge, out of band)
            try:
                perform(operations.add_progress, action, actor=current_user, text=form.text.data)
            except DomainError as error:
                show_error(error, form)
            else:
                return _notes_partial(action, NoteForm(formdata=None), oob_state=True, saved=_("已记录进展。"))
        else:
            done = submit(operations.add_progress, action, actor=current_user, text=form.text.data, form=form,
                          redirect_to=url_for("conference.action_detail", action_id=action_id) + "#notes",
                          success=_("已记录进展。"))
            if done:
                return done
    if is_htmx():  # htmx swaps 200 responses only: the form comes back with its message and text
        return _notes_partial(action, form)
    return _action_page(action, note_form=form)


def _notes_partial(action: models.Action, note_form: NoteForm, oob_state: bool = False, saved: str = ""):
    return render_template("portal/conference/_notes.html", action=action, note_form=note_form,
                           oob_state=oob_state, today=clock.today(), saved=saved, history=history(action),
                           transitions=operations.ACTION_MACHINE.available(action, current_user), transition_error="",
                           can_progress=action.state in (models.ActionState.OPEN, models.ActionState.IN_PROGRESS))


@bp.post("/actions/<int:action_id>/links")
def add_link(action_id):
    action = load_or_404(models.Action, action_id, "link")
    form = LinkForm()
    form.record_type.choices = _link_type_choices()
    if form.validate_on_submit():
        done = submit(operations.link_record, action, actor=current_user, record_type=form.record_type.data,
                      record_id=form.record_id.data.strip(), form=form,
                      redirect_to=url_for("conference.action_detail", action_id=action_id) + "#links",
                      success=_("已添加关联。"))
        if done:
            return done
    return _action_page(action, link_form=form)


@bp.post("/actions/<int:action_id>/links/<int:link_id>/delete")
def delete_link(action_id, link_id):
    action = load_or_404(models.Action, action_id, "link")
    link = db.session.get(models.ActionLink, link_id)
    if link is None or link.action_id != action.id:
        abort(404)
    back = url_for("conference.action_detail", action_id=action_id) + "#links"
    return submit(operations.unlink_record, link, actor=current_user, action=action, redirect_to=back,
                  success=_("已取消关联。")) or _action_page(action)


# ---- shared library ------------------------------------------------------------------------------

@bp.get("/library")
def library():
    require(current_user, "view", models.SharedDocument)
    state = DOCUMENTS.read(request.args)
    f = state.filters
    stmt = state.order(queries.search_documents(current_user, f["q"], kind=f["kind"], year=f["year"]))
    if state.export_format:
        return state.export(stmt, _("共享资料"))
    return render_template("portal/conference/library.html", page=state.page(stmt), state=state,
                           can_share=can(current_user, "share", models.SharedDocument))


def _document_choices(form: DocumentForm) -> None:
    projects = db.session.execute(sa.select(Project).order_by(Project.year.desc(), Project.id)
                                  .limit(2000)).scalars().all()
    form.project_ids.choices = [(p.id, f"{p.year} {p.name}") for p in projects]
    units = db.session.execute(sa.select(Organisation).where(Organisation.kind == OrgKind.BUDGET_UNIT)
                               .order_by(Organisation.id)).scalars().all()
    form.unit_ids.choices = [(o.id, o.name) for o in units]


@bp.route("/library/new", methods=["GET", "POST"])
def share_document():
    require(current_user, "share", models.SharedDocument)
    form = DocumentForm()
    _document_choices(form)
    if request.method == "GET":
        form.year.data = clock.today().year
    done = submitted(form, operations.share_document, actor=current_user, title=form.title.data, kind=form.kind.data,
                     year=form.year.data, note=form.note.data, project_ids=form.project_ids.data or [],
                     unit_ids=form.unit_ids.data or [], files=request.files.getlist("files"),
                     redirect_to=lambda d: url_for("conference.document_detail", document_id=d.id),
                     success=_("资料已共享，并已通知对方。"))
    return done or (render_template("portal/conference/document_form.html", form=form, document=None), status(form))


@bp.route("/library/<int:document_id>/edit", methods=["GET", "POST"])
def edit_document(document_id):
    document = load_or_404(models.SharedDocument, document_id, "edit")
    form = DocumentForm(obj=document) if request.method == "GET" else DocumentForm()
    _document_choices(form)
    if request.method == "GET":
        form.kind.data = document.kind.value
        form.project_ids.data = [p.id for p in document.projects]
        form.unit_ids.data = [u.id for u in document.units]
    done = submitted(form, operations.update_document, document, actor=current_user, version=form.lock_version.data,
                     title=form.title.data, kind=form.kind.data, year=form.year.data, note=form.note.data,
                     project_ids=form.project_ids.data or [], unit_ids=form.unit_ids.data or [],
                     redirect_to=url_for("conference.document_detail", document_id=document_id),
                     success=_("资料信息已保存。"))
    return done or (render_template("portal/conference/document_form.html", form=form, document=document), status(form))


@bp.get("/library/<int:document_id>")
def document_detail(document_id):
    document = load_or_404(models.SharedDocument, document_id, "view")
    record_open = operations.opened_later(document, current_user)  # after the response: a GET never writes

    @after_this_request
    def log_the_opening(response):
        response.call_on_close(record_open)
        return response

    log = db.session.execute(sa.select(models.LibraryAccess).where(models.LibraryAccess.document_id == document.id)
                             .order_by(models.LibraryAccess.id.desc()).limit(50)).scalars().all()
    return render_template("portal/conference/document_detail.html", document=document,
                           attachments=attachments_of(document), log=log,
                           can_edit=can(current_user, "edit", document))


# ---- plans (计划共商) -----------------------------------------------------------------------------

def _plan_choices(form: PlanItemForm, year: int) -> None:
    projects = db.session.execute(sa.select(Project).where(Project.year == year).order_by(Project.id)
                                  .limit(3000)).scalars().all()
    form.project_id.choices = [(0, _("（不指定项目）"))] + [(p.id, f"{p.code} {p.name}") for p in projects]
    units = db.session.execute(sa.select(Organisation).where(Organisation.kind == OrgKind.BUDGET_UNIT)
                               .order_by(Organisation.id)).scalars().all()
    form.unit_id.choices = [(0, _("（不指定单位）"))] + [(o.id, o.name) for o in units]


def _plans_page(year: int, form: PlanItemForm | None = None):
    if form is None:
        form = PlanItemForm(formdata=None, year=year)
        _plan_choices(form, year)
    plans = queries.plan_items(year)
    return render_template("portal/conference/plans.html", year=year, plans=plans,
                           overlaps=queries.plan_overlaps(year), form=form, my_bureau=plan_bureau_of(current_user),
                           can_add=can(current_user, "create", models.PlanItem),
                           bureaus=models.PlanBureau), status(form)


@bp.get("/plans")
def plans():
    require(current_user, "view", models.PlanItem)
    return _plans_page(_year_arg())


@bp.post("/plans")
def add_plan_item():
    require(current_user, "create", models.PlanItem)
    form = PlanItemForm()
    year = form.year.data if isinstance(form.year.data, int) and 2000 <= form.year.data <= 2100 \
        else clock.today().year
    _plan_choices(form, year)
    done = submitted(form, operations.add_plan_item, actor=current_user, year=form.year.data, title=form.title.data,
                     project=form.project_id.data or None, unit=form.unit_id.data or None, note=form.note.data,
                     redirect_to=lambda item: url_for("conference.plans", year=item.year),
                     success=_("已加入计划。"))
    return done or _plans_page(year, form)


@bp.route("/plans/<int:item_id>/edit", methods=["GET", "POST"])
def edit_plan_item(item_id):
    item = load_or_404(models.PlanItem, item_id, "edit")
    form = PlanItemForm(obj=item) if request.method == "GET" else PlanItemForm()
    _plan_choices(form, item.year)
    if request.method == "GET":
        form.project_id.data, form.unit_id.data = item.project_id or 0, item.unit_id or 0
    done = submitted(form, operations.update_plan_item, item, actor=current_user, version=form.lock_version.data,
                     title=form.title.data, project=form.project_id.data or None, unit=form.unit_id.data or None,
                     note=form.note.data, redirect_to=url_for("conference.plans", year=item.year),
                     success=_("计划条目已保存。"))
    return done or (render_template("portal/conference/plan_form.html", form=form, item=item), status(form))


@bp.post("/plans/<int:item_id>/delete")
def delete_plan_item(item_id):
    item = load_or_404(models.PlanItem, item_id, "delete")
    year = item.year
    return submit(operations.delete_plan_item, item, actor=current_user,
                  redirect_to=lambda year: url_for("conference.plans", year=year),
                  success=_("已从计划中删除。")) or _plans_page(year)


# ---- joint overview (联席监督总览) -----------------------------------------------------------------

def can_see_overview(user) -> bool:
    return is_reader(user)


@bp.get("/overview")
def overview():
    if not can_see_overview(current_user):
        abort(403)
    year = _year_arg()
    sections = [Markup(html) for s in OVERVIEW_SECTIONS if (html := s.render(current_user, year))]
    this_year = clock.today().year
    return render_template("portal/conference/overview.html", year=year, sections=sections,
                           years=list(range(this_year + 1, this_year - 5, -1)))
