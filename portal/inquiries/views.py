"""Letter pages: load → authorise → one operation → render or redirect (one commit)."""
from __future__ import annotations

import io
from datetime import date

import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.models import BUREAUS, Organisation
from portal.core import clock, parsing
from portal.core.attachments import attachments_of
from portal.core.bulk import carry_out
from portal.core.permissions import can, load_or_404, require, visible
from portal.core.writes import status, submit
from portal.extensions import db
from portal.inquiries import operations, queries, workdays
from portal.inquiries.forms import (
    ActionForm,
    CodeForm,
    ExtendForm,
    FollowUpForm,
    HolidayForm,
    LetterBulkForm,
    LetterForm,
    RemindForm,
    reply_form,
)
from portal.inquiries.lists import LETTERS
from portal.inquiries.models import (
    Holiday,
    IssuingCode,
    Letter,
    LetterReply,
    LetterState,
    Outcome,
    ReplyState,
)
from portal.inquiries.policies import MACHINE, REPLY_MACHINE, party

bp = Blueprint("inquiries", __name__, url_prefix="/inquiries")

SIMPLE_ACTIONS = {"submit": operations.submit, "approve": operations.approve, "acknowledge": operations.acknowledge}
COMMENT_ACTIONS = {"return": operations.return_letter, "withdraw": operations.withdraw, "close": operations.close}


def _int_arg(name: str) -> int | None:
    return parsing.arg_year(name) if name == "year" else parsing.arg_id(name)


@bp.get("/")
def index():
    require(current_user, "view", Letter)
    direction = request.args.get("direction", "all")
    if direction not in queries.DIRECTIONS:
        direction = "all"
    state = LETTERS.read(request.args, extra={"direction": direction} if direction != "all" else {})
    f = state.filters
    stmt = state.order(queries.letter_list(current_user, direction=direction, state=f["state"], year=f["year"],
                                           project_id=f["project"], overdue=bool(f["overdue"]), q=f["q"]))
    if state.export_format:
        return state.export(stmt, _("函询"))
    return render_template("portal/inquiries/list.html", page=state.page(stmt), state=state, direction=direction,
                           today=clock.today(), can_create=can(current_user, "create", Letter),
                           can_settings=can(current_user, "edit", IssuingCode),
                           can_bulk=can(current_user, "bulk", Letter))


@bp.post("/bulk")
def bulk():
    """催办 or 办结 the ticked letters; each letter the step refuses is named above the list."""
    require(current_user, "bulk", Letter)
    return carry_out(LetterBulkForm(), operations.bulk_letters, back=url_for("inquiries.index"))


def _form_context(form: LetterForm):
    from portal.performance.models import Project

    addressees = db.session.scalars(sa.select(Organisation).where(
        Organisation.kind.in_(BUREAUS), Organisation.id != current_user.organisation_id,
        Organisation.is_active.is_(True)).order_by(Organisation.id)).all()
    year = clock.today().year
    projects = db.session.scalars(visible(current_user, Project).where(Project.year.between(year - 2, year + 1))
                                  .order_by(Project.year.desc(), Project.code).limit(500)).all()
    form.set_choices(addressees, projects)


def _data_from(form: LetterForm) -> operations.LetterData:
    return operations.LetterData(
        addressee_org_id=form.addressee_org_id.data, title=form.title.data or "", urgency=form.urgency.data,
        marking=form.marking.data or "", body=form.body.data or "", copies=form.copies.data or "",
        deadline=form.deadline.data, deadline_workdays=form.deadline_workdays.data,
        contact_person=form.contact_person.data or "", contact_phone=form.contact_phone.data or "",
        items=form.items.data or [], project_ids=form.project_ids.data or [])


def _render_form(form, letter=None, items=None):
    items = list(items if items is not None else ([i.description for i in letter.items] if letter else []))
    if not items or items[-1].strip():
        items.append("")  # a spare row, so the form works without JavaScript
    return render_template("portal/inquiries/form.html", form=form, letter=letter, items=items,
                           max_body=operations.MAX_BODY), status(form)


def _saved(letter: Letter) -> str:
    return url_for("inquiries.detail", letter_id=letter.id)


def _then_submit(form: LetterForm) -> bool:
    return form.then.data == "submit"


def _save_message(form: LetterForm):
    return lambda _letter: _("已提交签发。") if _then_submit(form) else _("草稿已保存。")


@bp.route("/new", methods=["GET", "POST"])
def new():
    require(current_user, "create", Letter)
    form = LetterForm()
    _form_context(form)
    if request.method == "GET":
        form.contact_person.data = current_user.display_name
        form.contact_phone.data = current_user.phone
        form.deadline_workdays.data = 10
        return _render_form(form, None, [""])
    if form.validate():
        done = submit(operations.create_letter, _data_from(form), request.files.getlist(form.files.name),
                      actor=current_user, and_submit=_then_submit(form), form=form, redirect_to=_saved, success=_save_message(form))
        if done:
            return done
    return _render_form(form, None, form.items.data or [])


@bp.route("/<int:letter_id>/edit", methods=["GET", "POST"])
def edit(letter_id):
    letter = load_or_404(Letter, letter_id, "view")
    if request.method == "GET":
        require(current_user, "edit", letter)
        form = LetterForm(obj=letter)
        _form_context(form)
        form.marking.data = letter.marking.value
        form.urgency.data = letter.urgency.value
        form.project_ids.data = [p.id for p in letter.projects]
        form.expected_state.data = letter.state.value
        return _render_form(form, letter)
    # a POST is the drafter's; whether the draft can still change is the operation's to say
    # (it may have been submitted or saved by someone else since the form was opened)
    require(current_user, party("edit"), letter)
    form = LetterForm()
    _form_context(form)
    if form.validate():
        done = submit(operations.update_letter, letter, _data_from(form), actor=current_user, version=form.lock_version.data,
                      expected_state=form.expected_state.data or None, files=request.files.getlist(form.files.name),
                      and_submit=_then_submit(form), form=form, redirect_to=_saved, success=_save_message(form))
        if done:
            return done
    return _render_form(form, letter, form.items.data or [])


def _draft_values(part) -> dict[str, str]:
    """The reply form filled from the draft there is (a returned draft keeps what it said)."""
    if part is None:
        return {}
    values = {"note": part.note}
    for answer in part.answers:
        values[f"outcome_{answer.item_id}"] = answer.outcome.value
        values[f"reason_{answer.item_id}"] = answer.reason
    return values


def _detail(letter: Letter):
    today = clock.today()
    days_left = queries.days_left(letter, today)
    unknown = workdays.unknown_years_between(today, letter.deadline) if letter.deadline else []
    if letter.state in (LetterState.DRAFT, LetterState.PENDING_SIGNOFF) and letter.deadline_workdays:
        preview = workdays.add_workdays(today, letter.deadline_workdays)  # the signer sees it before signing
        unknown = workdays.unknown_years_between(today, preview)
    else:
        preview = None
    replies = [(r, attachments_of(r)) for r in letter.replies if can(current_user, "view", r)]
    pending = operations.unsent_reply(letter)
    pending = pending if pending is not None and can(current_user, "view", pending) else None
    values = {**_draft_values(pending), **request.form.to_dict()}
    return render_template(
        "portal/inquiries/detail.html", letter=letter, timeline=queries.timeline(letter, current_user),
        transitions=MACHINE.available(letter, current_user),
        attachments=attachments_of(letter), replies=replies, outcomes=Outcome, days_left=days_left,
        unknown_years=unknown, deadline_preview=preview, form_values=values,
        pending=pending, pending_actions=REPLY_MACHINE.available(pending, current_user) if pending else [],
        evidence=queries.evidence_by_item(letter, current_user),
        can_reply=can(current_user, "reply", letter) and (pending is None or pending.state == ReplyState.DRAFT),
        can_extend=can(current_user, "extend", letter),
        can_remind=can(current_user, "remind", letter), can_edit=can(current_user, "edit", letter),
        can_follow_up=MACHINE.allowed(letter, "follow_up", current_user),
        extend_form=ExtendForm(), today=today, can_settings=can(current_user, "edit", Holiday)), status()


@bp.get("/<int:letter_id>")
def detail(letter_id):
    return _detail(load_or_404(Letter, letter_id, "view"))


@bp.post("/<int:letter_id>/do/<action>")
def act(letter_id, action):
    letter = load_or_404(Letter, letter_id, "view")
    if action not in SIMPLE_ACTIONS and action not in COMMENT_ACTIONS:
        abort(404)
    require(current_user, party(action), letter)  # whatever the state now: the state is the operation's
    form = ActionForm()
    if not parsing.accepted(form):
        return _detail(letter)
    expected = form.expected_state.data or None
    label = next((t.label for t in MACHINE.transitions if t.action == action), action)
    success = _("已完成：%(a)s", a=_(label))
    if action in SIMPLE_ACTIONS:
        return submit(SIMPLE_ACTIONS[action], letter, actor=current_user, expected_state=expected,
                      redirect_to=_saved(letter), success=success) or _detail(letter)
    comment = (form.comment.data or "").strip()
    return submit(COMMENT_ACTIONS[action], letter, comment, actor=current_user, expected_state=expected,
                  redirect_to=_saved(letter), success=success) or _detail(letter)


@bp.post("/<int:letter_id>/reply")
def reply(letter_id):
    letter = load_or_404(Letter, letter_id, party("reply"))
    form = reply_form(letter.items)
    item_files = {item.id: request.files.getlist(f"files_{item.id}") for item in letter.items}
    return (parsing.accepted(form) and submit(
        operations.reply, letter, None, actor=current_user, note=form.note.data or "", form_values=parsing.typed(form),
        files=request.files.getlist("files"), item_files=item_files, and_submit=form.then.data == "submit",
        expected_state=form.expected_state.data or None, redirect_to=_saved(letter),
        success=_("复函已提交签发。") if form.then.data == "submit" else _("复函草稿已保存。"))) or _detail(letter)


REPLY_ACTIONS = {"submit": operations.submit_reply, "approve": operations.approve_reply}


@bp.post("/<int:letter_id>/replies/<int:reply_id>/do/<action>")
def reply_act(letter_id, reply_id, action):
    """The reply's sign-off: 提交签发, 签发复函, 退回修改 (policies.REPLY_MACHINE)."""
    letter = load_or_404(Letter, letter_id, "view")
    part = load_or_404(LetterReply, reply_id, "view")
    if part.letter_id != letter.id or (action not in REPLY_ACTIONS and action != "return"):
        abort(404)
    require(current_user, party(action), part)
    form = ActionForm()
    if not parsing.accepted(form):
        return _detail(letter)
    expected = form.expected_state.data or None
    label = next(t.label for t in REPLY_MACHINE.transitions if t.action == action)
    success = _("已完成：%(a)s", a=_(label))
    if action == "return":
        return submit(operations.return_reply, part, (form.comment.data or "").strip(), actor=current_user,
                      expected_state=expected, redirect_to=_saved(letter), success=success) or _detail(letter)
    return submit(REPLY_ACTIONS[action], part, actor=current_user, expected_state=expected,
                  redirect_to=_saved(letter), success=success) or _detail(letter)


@bp.post("/<int:letter_id>/follow-up")
def follow_up(letter_id):
    letter = load_or_404(Letter, letter_id, party("follow_up_item"))
    form = FollowUpForm()
    return (parsing.accepted(form) and submit(
        operations.follow_up, letter, form.item_id.parsed, form.text.data or "",
        actor=current_user, expected_state=form.expected_state.data or None, redirect_to=_saved(letter),
        success=_("已追问，该事项重新等待答复。"))) or _detail(letter)


@bp.post("/<int:letter_id>/extend")
def extend(letter_id):
    letter = load_or_404(Letter, letter_id, party("extend"))
    form = ExtendForm()
    return (parsing.accepted(form) and submit(
        operations.extend, letter, form.new_deadline.data, form.reason.data or "",
        actor=current_user, expected_state=form.expected_state.data or None,
        redirect_to=_saved(letter), success=_("答复期限已延长。"))) or _detail(letter)


@bp.post("/<int:letter_id>/remind")
def remind(letter_id):
    letter = load_or_404(Letter, letter_id, party("remind"))
    form = RemindForm()
    return (parsing.accepted(form) and submit(operations.remind, letter, form.comment.data or "",
                                              actor=current_user, redirect_to=_saved(letter), success=_("已催办。"))) or _detail(letter)


@bp.get("/<int:letter_id>/print")
def print_view(letter_id):
    letter = load_or_404(Letter, letter_id, "view")
    from portal.inquiries.official import layout

    return render_template("portal/inquiries/print.html", letter=letter, doc=layout(letter))


@bp.get("/<int:letter_id>/docx")
def docx(letter_id):
    letter = load_or_404(Letter, letter_id, "view")
    from portal.core.excel import safe_filename
    from portal.inquiries.official import build_docx

    data = build_docx(letter)
    name = f"{letter.doc_number or '函件草稿'}-{letter.title}"[:120] + ".docx"
    return send_file(io.BytesIO(data), as_attachment=True, download_name=safe_filename(name),
                     mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document")


# ---- administration ---------------------------------------------------------------------------

@bp.route("/admin/codes", methods=["GET", "POST"])
def codes():
    require(current_user, "edit", IssuingCode)
    form = CodeForm()
    orgs = db.session.scalars(sa.select(Organisation).where(Organisation.kind.in_(BUREAUS))
                              .order_by(Organisation.id)).all()
    form.organisation_id.choices = [(o.id, o.name) for o in orgs]
    if request.method == "GET":
        row = operations.issuing_code_of(_int_arg("org") or 0)  # 修改: the form filled from that row
        if row is not None:
            form = CodeForm(obj=row)
            form.organisation_id.choices = [(o.id, o.name) for o in orgs]
    elif form.validate():
        done = submit(operations.set_issuing_code, db.session.get(Organisation, form.organisation_id.data or 0),
                      form.code.data, form.header.data, actor=current_user, version=form.lock_version.data or None, form=form,
                      redirect_to=url_for("inquiries.codes"), success=_("发文机关代字已保存。"))
        if done:
            return done
    rows = db.session.scalars(sa.select(IssuingCode).order_by(IssuingCode.organisation_id)).all()
    return render_template("portal/inquiries/codes.html", form=form, rows=rows), status(form)


@bp.route("/admin/holidays", methods=["GET", "POST"])
def holidays():
    require(current_user, "edit", Holiday)
    form = HolidayForm()
    year = _int_arg("year") or clock.today().year
    if request.method == "POST" and form.validate():
        done = submit(operations.set_holiday, form.day.data, form.is_workday.data, form.name.data,
                      actor=current_user, form=form, redirect_to=lambda row: url_for("inquiries.holidays", year=row.day.year),
                      success=_("已保存。"))
        if done:
            return done
    rows = db.session.scalars(sa.select(Holiday).where(Holiday.day.between(date(year, 1, 1), date(year, 12, 31)))
                              .order_by(Holiday.day)).all()
    return render_template("portal/inquiries/holidays.html", form=form, rows=rows, year=year,
                           unknown=not rows), status(form)


@bp.post("/admin/holidays/<int:holiday_id>/delete")
def delete_holiday(holiday_id):
    require(current_user, "edit", Holiday)
    row = db.session.get(Holiday, holiday_id)
    if row is None:
        abort(404)
    done = submit(operations.delete_holiday, row,
                  actor=current_user, redirect_to=lambda year: url_for("inquiries.holidays", year=year), success=_("已删除。"))
    return done or redirect(url_for("inquiries.holidays"))
