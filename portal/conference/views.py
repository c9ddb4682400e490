"""Joint conference pages: meetings, actions, the shared library, plans, the joint overview."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from portal.accounts.models import Organisation, OrgKind, User
from portal.conference import operations as ops
from portal.conference import queries
from portal.conference.forms import (
    ActionForm,
    DocumentForm,
    LinkForm,
    MeetingForm,
    NoteForm,
    PlanItemForm,
    TransitionForm,
)
from portal.conference.models import (
    Action,
    ActionLink,
    ActionState,
    DocumentKind,
    LibraryAccess,
    Meeting,
    PlanBureau,
    PlanItem,
    SharedDocument,
)
from portal.conference.policies import is_reader, plan_bureau_of
from portal.core import clock
from portal.core.attachments import attachments_of
from portal.core.audit import history
from portal.core.errors import DomainError
from portal.core.htmx import is_htmx
from portal.core.pagination import paginate
from portal.core.permissions import can, load_or_404, require, visible
from portal.core.registry import OVERVIEW_SECTIONS, RECORD_TYPES
from portal.core.web import N_
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
    try:
        value = int(request.args.get(name, ""))
    except ValueError:
        return None
    return value if 0 < value < 2**63 else None


def _form_error(form, error: DomainError, default: str) -> None:
    target = getattr(form, error.field, None) if error.field else None
    if target is None:
        target = getattr(form, default)
    target.errors = list(target.errors) + [error.message]


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
    require(current_user, "view", Meeting)
    year = _int_arg("year")
    stmt = visible(current_user, Meeting)
    if year:
        stmt = stmt.where(Meeting.year == year)
    page = paginate(stmt.order_by(Meeting.year.desc(), Meeting.number.desc()))
    return render_template("portal/conference/meetings.html", page=page, year=year or "",
                           can_create=can(current_user, "create", Meeting))


@bp.route("/meetings/new", methods=["GET", "POST"])
def new_meeting():
    require(current_user, "create", Meeting)
    form = MeetingForm()
    _meeting_choices(form)
    if request.method == "GET":
        form.held_on.data = clock.today()
        form.convening_org_id.data = current_user.organisation_id
        form.attendee_ids.data = [current_user.id]
    if form.validate_on_submit():
        try:
            meeting = ops.create_meeting(actor=current_user, **_meeting_values(form))
        except DomainError as error:
            db.session.rollback()
            _form_error(form, error, "place")
        else:
            db.session.commit()
            flash(_("已登记%(title)s。", title=meeting.title), "success")
            return redirect(url_for("conference.meeting_detail", meeting_id=meeting.id))
    return render_template("portal/conference/meeting_form.html", form=form, meeting=None)


def _meeting_values(form: MeetingForm) -> dict:
    attendees = db.session.execute(sa.select(User).where(User.id.in_(form.attendee_ids.data or []))).scalars().all()
    return {"held_on": form.held_on.data, "place": form.place.data or "",
            "convening_org": db.session.get(Organisation, form.convening_org_id.data or 0),
            "attendees": list(attendees), "agenda": form.agenda.data or "", "minutes": form.minutes.data or "",
            "distribution": form.distribution.data or ""}


@bp.route("/meetings/<int:meeting_id>/edit", methods=["GET", "POST"])
def edit_meeting(meeting_id):
    meeting = load_or_404(Meeting, meeting_id, "edit")
    form = MeetingForm(obj=meeting)
    _meeting_choices(form)
    if request.method == "GET":
        form.attendee_ids.data = [u.id for u in meeting.attendees]
    if form.validate_on_submit():
        try:
            ops.update_meeting(meeting, actor=current_user, **_meeting_values(form))
        except DomainError as error:
            db.session.rollback()
            meeting = db.session.get(Meeting, meeting_id)
            _form_error(form, error, "place")
        else:
            db.session.commit()
            flash(_("会议信息已保存。"), "success")
            return redirect(url_for("conference.meeting_detail", meeting_id=meeting.id))
    return render_template("portal/conference/meeting_form.html", form=form, meeting=meeting)


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


def _meeting_page(meeting: Meeting, action_form: ActionForm | None = None, status: int = 200):
    if action_form is None:
        action_form = ActionForm(formdata=None)
        _action_choices(action_form)
    return render_template("portal/conference/meeting_detail.html", meeting=meeting, action_form=action_form,
                           attachments=attachments_of(meeting), can_edit=can(current_user, "edit", meeting),
                           history=history(meeting), today=clock.today()), status


@bp.get("/meetings/<int:meeting_id>")
def meeting_detail(meeting_id):
    meeting = load_or_404(Meeting, meeting_id, "view")
    return _meeting_page(meeting)


@bp.post("/meetings/<int:meeting_id>/actions")
def add_action(meeting_id):
    meeting = load_or_404(Meeting, meeting_id, "edit")
    form = ActionForm()
    _action_choices(form)
    if form.validate_on_submit():
        try:
            action = ops.add_action(meeting, actor=current_user, text=form.text.data,
                                    owner_org=db.session.get(Organisation, form.owner_org_id.data or 0),
                                    owner_user=db.session.get(User, form.owner_user_id.data or 0),
                                    due_date=form.due_date.data)
        except DomainError as error:
            db.session.rollback()
            meeting = db.session.get(Meeting, meeting_id)
            _form_error(form, error, "text")
        else:
            db.session.commit()
            flash(_("已添加议定事项%(n)s。", n=action.position), "success")
            return redirect(url_for("conference.meeting_detail", meeting_id=meeting.id) + "#actions")
    return _meeting_page(meeting, form, 422)


@bp.post("/meetings/<int:meeting_id>/attachments")
def upload_meeting_file(meeting_id):
    meeting = load_or_404(Meeting, meeting_id, "edit")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("请选择要上传的文件。"), "error")
    else:
        try:
            attachment = ops.attach_to_meeting(meeting, upload, actor=current_user)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(_("已上传附件“%(name)s”。", name=attachment.filename), "success")
    return redirect(url_for("conference.meeting_detail", meeting_id=meeting_id) + "#files")


@bp.get("/meetings/<int:meeting_id>/minutes.docx")
def minutes_docx(meeting_id):
    from portal.conference.minutes_docx import minutes_document

    meeting = load_or_404(Meeting, meeting_id, "view")
    buffer = minutes_document(meeting)
    return send_file(buffer, as_attachment=True, download_name=f"{meeting.title}纪要.docx",
                     mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document")


# ---- actions -------------------------------------------------------------------------------------

STATE_FILTERS = [("", N_("全部")), ("unfinished", N_("未办结")), ("overdue", N_("已逾期")), ("due_soon", N_("7日内到期"))]


@bp.get("/actions")
def actions():
    # the scope decides: readers see every action, units and agencies their own
    args = {"state": request.args.get("state", "")[:20], "year": _int_arg("year") or "",
            "owner": _int_arg("owner") or "", "meeting": _int_arg("meeting") or "",
            "q": request.args.get("q", "").strip()[:100]}
    stmt = queries.filter_actions(current_user, state=args["state"], year=args["year"] or None,
                                  owner_org_id=args["owner"] or None, meeting_id=args["meeting"] or None,
                                  q=args["q"])
    owners = db.session.execute(sa.select(Organisation).where(Organisation.id.in_(
        visible(current_user, Action, sa.select(Action.owner_org_id)))).order_by(Organisation.id)).scalars().all()
    states = [(v, _(label)) for v, label in STATE_FILTERS] + [(s.value, s.label) for s in ActionState]
    return render_template("portal/conference/actions.html", page=paginate(stmt), args=args, owners=owners,
                           states=states, today=clock.today())


def _action_page(action: Action, *, note_form=None, link_form=None, transition_error: str = "", status=200):
    note_form = note_form or NoteForm(formdata=None)
    link_form = link_form or LinkForm(formdata=None)
    link_form.record_type.choices = _link_type_choices()
    links = []
    for link in action.links:
        record = link.resolve()
        visible_record = record is not None and can(current_user, "view", record)
        links.append({"link": link, "type": _link_type_label(link.record_type),
                      "title": str(record) if visible_record else None, "missing": record is None})
    transitions = ops.ACTION_MACHINE.available(action, current_user)
    return render_template("portal/conference/action_detail.html", action=action, note_form=note_form,
                           link_form=link_form, links=links, transitions=transitions,
                           transition_form=TransitionForm(formdata=None), transition_error=transition_error,
                           can_progress=can(current_user, "progress", action)
                           and action.state in (ActionState.OPEN, ActionState.IN_PROGRESS),
                           can_link=can(current_user, "link", action), can_see_meeting=can(current_user, "view",
                                                                                           action.meeting),
                           history=history(action), today=clock.today()), status


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
    action = load_or_404(Action, action_id, "view")
    return _action_page(action)


@bp.post("/actions/<int:action_id>/transition")
def transition_action(action_id):
    action = load_or_404(Action, action_id, "view")
    name = request.form.get("action", "")
    form = TransitionForm()
    try:
        ops.transition_action(action, name, actor=current_user, comment=form.comment.data or "",
                              expected_state=request.form.get("state") or None)
    except DomainError as error:
        db.session.rollback()
        action = db.session.get(Action, action_id)
        return _action_page(action, transition_error=error.message, status=422)
    db.session.commit()
    flash(_("议定事项状态已更新为“%(state)s”。", state=action.state.label), "success")
    return redirect(url_for("conference.action_detail", action_id=action_id))


@bp.post("/actions/<int:action_id>/notes")
def add_note(action_id):
    action = load_or_404(Action, action_id, "progress")
    form = NoteForm()
    if form.validate_on_submit():
        try:
            ops.add_progress(action, actor=current_user, text=form.text.data)
        except DomainError as error:
            db.session.rollback()
            action = db.session.get(Action, action_id)
            _form_error(form, error, "text")
        else:
            db.session.commit()
            if is_htmx():  # only the notes section changes (and the state badge, out of band)
                return _notes_partial(action, NoteForm(formdata=None), oob_state=True)
            flash(_("已记录进展。"), "success")
            return redirect(url_for("conference.action_detail", action_id=action_id) + "#notes")
    if is_htmx():  # htmx swaps 200 responses only: the form comes back with its message and text
        return _notes_partial(action, form)
    return _action_page(action, note_form=form, status=422)


def _notes_partial(action: Action, note_form: NoteForm, oob_state: bool = False):
    return render_template("portal/conference/_notes.html", action=action, note_form=note_form,
                           oob_state=oob_state, today=clock.today(),
                           transitions=ops.ACTION_MACHINE.available(action, current_user), transition_error="",
                           can_progress=action.state in (ActionState.OPEN, ActionState.IN_PROGRESS))


@bp.post("/actions/<int:action_id>/links")
def add_link(action_id):
    action = load_or_404(Action, action_id, "link")
    form = LinkForm()
    form.record_type.choices = _link_type_choices()
    if form.validate_on_submit():
        try:
            ops.link_record(action, actor=current_user, record_type=form.record_type.data,
                            record_id=form.record_id.data.strip())
        except DomainError as error:
            db.session.rollback()
            action = db.session.get(Action, action_id)
            _form_error(form, error, "record_id")
        else:
            db.session.commit()
            flash(_("已添加关联。"), "success")
            return redirect(url_for("conference.action_detail", action_id=action_id) + "#links")
    return _action_page(action, link_form=form, status=422)


@bp.post("/actions/<int:action_id>/links/<int:link_id>/delete")
def delete_link(action_id, link_id):
    action = load_or_404(Action, action_id, "link")
    link = db.session.get(ActionLink, link_id)
    if link is None or link.action_id != action.id:
        abort(404)
    ops.unlink_record(link, actor=current_user)
    db.session.commit()
    flash(_("已取消关联。"), "success")
    return redirect(url_for("conference.action_detail", action_id=action_id) + "#links")


# ---- shared library ------------------------------------------------------------------------------

@bp.get("/library")
def library():
    require(current_user, "view", SharedDocument)
    args = {"q": request.args.get("q", "").strip()[:200], "kind": request.args.get("kind", "")[:32],
            "year": _int_arg("year") or ""}
    if args["kind"] and args["kind"] not in {k.value for k in DocumentKind}:
        args["kind"] = ""
    stmt = queries.search_documents(current_user, args["q"], kind=args["kind"], year=args["year"] or None)
    page = paginate(stmt)
    snippets = {d.id: queries.snippet(d, args["q"]) for d in page.items} if args["q"] else {}
    return render_template("portal/conference/library.html", page=page, args=args, snippets=snippets,
                           kinds=DocumentKind, can_share=can(current_user, "share", SharedDocument))


def _document_choices(form: DocumentForm) -> None:
    projects = db.session.execute(sa.select(Project).order_by(Project.year.desc(), Project.id)
                                  .limit(2000)).scalars().all()
    form.project_ids.choices = [(p.id, f"{p.year} {p.name}") for p in projects]
    units = db.session.execute(sa.select(Organisation).where(Organisation.kind == OrgKind.BUDGET_UNIT)
                               .order_by(Organisation.id)).scalars().all()
    form.unit_ids.choices = [(o.id, o.name) for o in units]


@bp.route("/library/new", methods=["GET", "POST"])
def share_document():
    require(current_user, "share", SharedDocument)
    form = DocumentForm()
    _document_choices(form)
    if request.method == "GET":
        form.year.data = clock.today().year
    if form.validate_on_submit():
        projects = db.session.execute(sa.select(Project).where(Project.id.in_(form.project_ids.data or []))).scalars()
        units = db.session.execute(sa.select(Organisation).where(Organisation.id.in_(form.unit_ids.data or []),
                                                                 Organisation.kind == OrgKind.BUDGET_UNIT)).scalars()
        try:
            document = ops.share_document(actor=current_user, title=form.title.data, kind=DocumentKind(form.kind.data),
                                          year=form.year.data, note=form.note.data, projects=list(projects),
                                          units=list(units), files=request.files.getlist("files"))
        except DomainError as error:
            db.session.rollback()
            _form_error(form, error, "files")
        else:
            db.session.commit()
            flash(_("资料已共享，并已通知对方。"), "success")
            return redirect(url_for("conference.document_detail", document_id=document.id))
    return render_template("portal/conference/document_form.html", form=form), 422 if form.errors else 200


@bp.get("/library/<int:document_id>")
def document_detail(document_id):
    document = load_or_404(SharedDocument, document_id, "view")
    ops.log_open(document, current_user)
    db.session.commit()
    log = db.session.execute(sa.select(LibraryAccess).where(LibraryAccess.document_id == document.id)
                             .order_by(LibraryAccess.id.desc()).limit(50)).scalars().all()
    return render_template("portal/conference/document_detail.html", document=document,
                           attachments=attachments_of(document), log=log)


# ---- plans (计划共商) -----------------------------------------------------------------------------

def _plan_choices(form: PlanItemForm, year: int) -> None:
    projects = db.session.execute(sa.select(Project).where(Project.year == year).order_by(Project.id)
                                  .limit(3000)).scalars().all()
    form.project_id.choices = [(0, _("（不指定项目）"))] + [(p.id, f"{p.code} {p.name}") for p in projects]
    units = db.session.execute(sa.select(Organisation).where(Organisation.kind == OrgKind.BUDGET_UNIT)
                               .order_by(Organisation.id)).scalars().all()
    form.unit_id.choices = [(0, _("（不指定单位）"))] + [(o.id, o.name) for o in units]


def _plans_page(year: int, form: PlanItemForm | None = None, status: int = 200):
    if form is None:
        form = PlanItemForm(formdata=None, year=year)
        _plan_choices(form, year)
    plans = queries.plan_items(year)
    return render_template("portal/conference/plans.html", year=year, plans=plans,
                           overlaps=queries.plan_overlaps(year), form=form, my_bureau=plan_bureau_of(current_user),
                           can_add=can(current_user, "create", PlanItem), bureaus=PlanBureau), status


@bp.get("/plans")
def plans():
    require(current_user, "view", PlanItem)
    return _plans_page(_year_arg())


@bp.post("/plans")
def add_plan_item():
    require(current_user, "create", PlanItem)
    form = PlanItemForm()
    year = form.year.data if isinstance(form.year.data, int) and 2000 <= form.year.data <= 2100 \
        else clock.today().year
    _plan_choices(form, year)
    if form.validate_on_submit():
        try:
            ops.add_plan_item(actor=current_user, year=form.year.data, title=form.title.data,
                              project=db.session.get(Project, form.project_id.data or 0),
                              unit=db.session.get(Organisation, form.unit_id.data or 0), note=form.note.data)
        except DomainError as error:
            db.session.rollback()
            _form_error(form, error, "title")
        else:
            db.session.commit()
            flash(_("已加入计划。"), "success")
            return redirect(url_for("conference.plans", year=form.year.data))
    return _plans_page(year, form, 422)


@bp.post("/plans/<int:item_id>/delete")
def delete_plan_item(item_id):
    item = load_or_404(PlanItem, item_id, "delete")
    year = item.year
    ops.delete_plan_item(item, actor=current_user)
    db.session.commit()
    flash(_("已从计划中删除。"), "success")
    return redirect(url_for("conference.plans", year=year))


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


def overview_section(user, year: int) -> str | None:
    """The conference's own section of the joint overview."""
    if not is_reader(user):
        return None
    figures = queries.overview_figures(user, year)
    chart = queries.bar_chart([(s.label, figures["by_state"][s], s.value) for s in ActionState]
                              + [(_("已逾期"), figures["overdue"], "overdue")])
    return render_template("portal/conference/_overview_section.html", f=figures, year=year, chart=chart,
                           states=ActionState)


def dashboard_panel(user) -> str | None:
    """我的议定事项: unfinished actions the user owns (or their organisation owns)."""
    stmt = queries.filter_actions(user, state="unfinished")
    if is_reader(user):  # bureau staff: the ones assigned to them or their organisation
        stmt = stmt.where(sa.or_(Action.owner_user_id == user.id, Action.owner_org_id == user.organisation_id))
    items = db.session.execute(stmt.limit(8)).scalars().all()
    if not items:
        return None
    return render_template("portal/conference/_dashboard_panel.html", items=items, today=clock.today())
