"""Letter pages: load → authorise → one operation → render or redirect (one commit)."""
from __future__ import annotations

import io
from datetime import date

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.models import BUREAUS, Organisation
from portal.core import clock
from portal.core.attachments import attachments_of
from portal.core.errors import DomainError
from portal.core.pagination import paginate
from portal.core.permissions import can, load_or_404, require, visible
from portal.extensions import db
from portal.inquiries import operations as ops
from portal.inquiries import queries, workdays
from portal.inquiries.forms import CodeForm, ExtendForm, HolidayForm, LetterForm
from portal.inquiries.models import Holiday, IssuingCode, Letter, LetterState, Outcome
from portal.inquiries.policies import MACHINE, addressee_staff, sender_staff

bp = Blueprint("inquiries", __name__, url_prefix="/inquiries")

SIMPLE_ACTIONS = {"submit": ops.submit, "approve": ops.approve, "acknowledge": ops.acknowledge}
COMMENT_ACTIONS = {"return": ops.return_letter, "withdraw": ops.withdraw, "close": ops.close}


def _int_arg(name: str) -> int | None:
    try:
        return int(request.args.get(name, ""))
    except ValueError:
        return None


@bp.get("/")
def index():
    require(current_user, "view", Letter)
    direction = request.args.get("direction", "all")
    if direction not in queries.DIRECTIONS:
        direction = "all"
    filters = {"direction": direction, "state": request.args.get("state", ""), "year": _int_arg("year"),
               "project_id": _int_arg("project"), "overdue": request.args.get("overdue") == "1",
               "q": request.args.get("q", "").strip()[:100]}
    page = paginate(queries.letter_list(current_user, **filters))
    args = {k: v for k, v in {"direction": direction, "state": filters["state"], "year": filters["year"],
                              "project": filters["project_id"], "overdue": "1" if filters["overdue"] else "",
                              "q": filters["q"]}.items() if v}
    return render_template("portal/inquiries/list.html", page=page, filters=filters, args=args,
                           states=LetterState, years=queries.year_choices(), today=clock.today(),
                           can_create=can(current_user, "create", Letter))


def _form_context(form: LetterForm):
    from portal.performance.models import Project

    addressees = db.session.scalars(sa.select(Organisation).where(
        Organisation.kind.in_(BUREAUS), Organisation.id != current_user.organisation_id,
        Organisation.is_active.is_(True)).order_by(Organisation.id)).all()
    year = clock.today().year
    projects = db.session.scalars(visible(current_user, Project).where(Project.year.between(year - 2, year + 1))
                                  .order_by(Project.year.desc(), Project.code).limit(500)).all()
    form.set_choices(addressees, projects)


def _data_from(form: LetterForm) -> ops.LetterData:
    return ops.LetterData(
        addressee_org_id=form.addressee_org_id.data, title=form.title.data or "", urgency=form.urgency.data,
        marking=request.form.get("marking", ""), body=form.body.data or "", copies=form.copies.data or "",
        deadline=form.deadline.data, deadline_workdays=form.deadline_workdays.data,
        contact_person=form.contact_person.data or "", contact_phone=form.contact_phone.data or "",
        items=request.form.getlist("items"), project_ids=form.project_ids.data or [])


def _render_form(form, letter=None, items=None, status=200):
    items = list(items if items is not None else ([i.description for i in letter.items] if letter else []))
    if not items or items[-1].strip():
        items.append("")  # a spare row, so the form works without JavaScript
    return render_template("portal/inquiries/form.html", form=form, letter=letter, items=items,
                           max_body=ops.MAX_BODY), status


def _save_form(form: LetterForm, letter: Letter | None):
    items = request.form.getlist("items")
    if not form.validate():
        return _render_form(form, letter, items, 400)
    try:
        data = _data_from(form)
        files = request.files.getlist(form.files.name)
        if letter is None:
            letter = ops.create_letter(current_user, data, files=files)
        else:
            ops.update_letter(letter, current_user, data, expected_state=form.expected_state.data or None,
                              files=files)
        if request.form.get("then") == "submit":
            ops.submit(letter, current_user)
    except DomainError as error:
        db.session.rollback()
        if letter is not None and letter.id:
            letter = db.session.get(Letter, letter.id)
        target = getattr(form, error.field, None) if error.field else None
        if target is not None and hasattr(target, "errors"):
            target.errors = list(target.errors) + [error.message]
        else:
            form.form_errors.append(error.message) if hasattr(form, "form_errors") else None
        return render_template("portal/inquiries/form.html", form=form, letter=letter, items=items,
                               max_body=ops.MAX_BODY, error=error), 400
    db.session.commit()
    flash(_("已提交签发。") if request.form.get("then") == "submit" else _("草稿已保存。"), "success")
    return redirect(url_for("inquiries.detail", letter_id=letter.id))


@bp.route("/new", methods=["GET", "POST"])
def new():
    require(current_user, "create", Letter)
    form = LetterForm()
    _form_context(form)
    if request.method == "POST":
        return _save_form(form, None)
    form.contact_person.data = current_user.display_name
    form.contact_phone.data = current_user.phone
    form.deadline_workdays.data = 10
    return _render_form(form, None, [""])


@bp.route("/<int:letter_id>/edit", methods=["GET", "POST"])
def edit(letter_id):
    letter = load_or_404(Letter, letter_id, "view")
    if not can(current_user, "edit", letter):
        if request.method == "POST" and letter.state != LetterState.DRAFT:
            form = LetterForm()
            _form_context(form)
            error = DomainError(_("该函件当前状态为“%(s)s”，已不能修改；您填写的内容保留在下方。", s=letter.state.label))
            return render_template("portal/inquiries/form.html", form=form, letter=letter,
                                   items=request.form.getlist("items"), max_body=ops.MAX_BODY, error=error), 409
        abort(403)
    form = LetterForm(obj=letter) if request.method == "GET" else LetterForm()
    _form_context(form)
    if request.method == "POST":
        return _save_form(form, letter)
    form.marking.data = letter.marking.value
    form.urgency.data = letter.urgency.value
    form.project_ids.data = [p.id for p in letter.projects]
    form.expected_state.data = letter.state.value
    return _render_form(form, letter)


def _detail(letter: Letter, status: int = 200, error: DomainError | None = None):
    today = clock.today()
    days_left = workdays.workdays_between(today, letter.deadline) if letter.deadline else None
    unknown = workdays.unknown_years(letter.deadline) if letter.deadline else []
    if letter.state == LetterState.DRAFT and letter.deadline_workdays:
        preview = workdays.add_workdays(today, letter.deadline_workdays)
        unknown = workdays.unknown_years(today, preview)
    else:
        preview = None
    replies = [(r, attachments_of(r)) for r in letter.replies]
    return render_template(
        "portal/inquiries/detail.html", letter=letter, history=queries.history(letter),
        labels=queries.ACTION_LABELS, transitions=MACHINE.available(letter, current_user),
        attachments=attachments_of(letter), replies=replies, outcomes=Outcome, days_left=days_left,
        unknown_years=unknown, deadline_preview=preview, error=error, form_values=request.form,
        can_reply=can(current_user, "reply", letter), can_extend=can(current_user, "extend", letter),
        can_remind=can(current_user, "remind", letter), can_edit=can(current_user, "edit", letter),
        can_follow_up=MACHINE.allowed(letter, "follow_up", current_user),
        extend_form=ExtendForm(), today=today), status


@bp.get("/<int:letter_id>")
def detail(letter_id):
    return _detail(load_or_404(Letter, letter_id, "view"))


def _run(letter: Letter, fn, success: str):
    try:
        fn()
    except DomainError as error:
        db.session.rollback()
        letter = db.session.get(Letter, letter.id)
        return _detail(letter, 409 if error.__class__.__name__ == "StaleRecord" else 400, error)
    db.session.commit()
    flash(success, "success")
    return redirect(url_for("inquiries.detail", letter_id=letter.id))


@bp.post("/<int:letter_id>/do/<action>")
def act(letter_id, action):
    letter = load_or_404(Letter, letter_id, "view")
    expected = request.form.get("expected_state") or None
    comment = request.form.get("comment", "").strip()[:2000]
    if action in SIMPLE_ACTIONS:
        def fn():
            SIMPLE_ACTIONS[action](letter, current_user, expected_state=expected)
    elif action in COMMENT_ACTIONS:
        def fn():
            COMMENT_ACTIONS[action](letter, current_user, comment, expected_state=expected)
    else:
        abort(404)
    if not MACHINE.allowed(letter, action, current_user) and str(letter.state) == str(expected or letter.state):
        abort(403)
    label = next((t.label for t in MACHINE.transitions if t.action == action), action)
    return _run(letter, fn, _("已完成：%(a)s", a=_(label)))


@bp.post("/<int:letter_id>/reply")
def reply(letter_id):
    letter = load_or_404(Letter, letter_id, "view")
    if not addressee_staff(current_user, letter):
        abort(403)
    answers = {}
    for item in letter.items:
        outcome = request.form.get(f"outcome_{item.id}", "")
        if outcome:
            answers[item.id] = (outcome, request.form.get(f"reason_{item.id}", ""))
    return _run(letter, lambda: ops.reply(letter, current_user, answers, note=request.form.get("note", ""),
                                          files=request.files.getlist("files"),
                                          expected_state=request.form.get("expected_state") or None),
                _("答复已提交。"))


@bp.post("/<int:letter_id>/follow-up")
def follow_up(letter_id):
    letter = load_or_404(Letter, letter_id, "view")
    if not sender_staff(current_user, letter):
        abort(403)
    try:
        item_id = int(request.form.get("item_id", ""))
    except ValueError:
        item_id = 0
    return _run(letter, lambda: ops.follow_up(letter, current_user, item_id, request.form.get("text", ""),
                                              expected_state=request.form.get("expected_state") or None),
                _("已追问，该事项重新等待答复。"))


@bp.post("/<int:letter_id>/extend")
def extend(letter_id):
    letter = load_or_404(Letter, letter_id, "view")
    if not sender_staff(current_user, letter):
        abort(403)
    form = ExtendForm()
    form.validate()
    return _run(letter, lambda: ops.extend(letter, current_user, form.new_deadline.data, form.reason.data or "",
                                           expected_state=request.form.get("expected_state") or None),
                _("答复期限已延长。"))


@bp.post("/<int:letter_id>/remind")
def remind(letter_id):
    letter = load_or_404(Letter, letter_id, "view")
    if not sender_staff(current_user, letter):
        abort(403)
    return _run(letter, lambda: ops.remind(letter, current_user, request.form.get("comment", "")),
                _("已催办。"))


@bp.get("/<int:letter_id>/print")
def print_view(letter_id):
    letter = load_or_404(Letter, letter_id, "view")
    from portal.inquiries.official import layout

    return render_template("portal/inquiries/print.html", letter=letter, doc=layout(letter))


@bp.get("/<int:letter_id>/docx")
def docx(letter_id):
    letter = load_or_404(Letter, letter_id, "view")
    from portal.inquiries.official import build_docx

    data = build_docx(letter)
    name = f"{letter.doc_number or '函件草稿'}-{letter.title}"[:120] + ".docx"
    return send_file(io.BytesIO(data), as_attachment=True, download_name=name,
                     mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document")


# ---- administration ---------------------------------------------------------------------------

def _require_admin():
    if not current_user.has_role("admin"):
        abort(403)


@bp.route("/admin/codes", methods=["GET", "POST"])
def codes():
    _require_admin()
    form = CodeForm()
    orgs = db.session.scalars(sa.select(Organisation).where(Organisation.kind.in_(BUREAUS))
                              .order_by(Organisation.id)).all()
    form.organisation_id.choices = [(o.id, o.name) for o in orgs]
    status = 200
    if request.method == "POST" and form.validate():
        org = db.session.get(Organisation, form.organisation_id.data)
        try:
            if org is None:
                raise DomainError(_("请选择机关。"), field="organisation_id")
            ops.set_issuing_code(current_user, org, form.code.data, form.header.data)
        except DomainError as error:
            db.session.rollback()
            getattr(form, error.field or "code").errors = [error.message]
            status = 400
        else:
            db.session.commit()
            flash(_("发文机关代字已保存。"), "success")
            return redirect(url_for("inquiries.codes"))
    rows = db.session.scalars(sa.select(IssuingCode).order_by(IssuingCode.organisation_id)).all()
    return render_template("portal/inquiries/codes.html", form=form, rows=rows), status


@bp.route("/admin/holidays", methods=["GET", "POST"])
def holidays():
    _require_admin()
    form = HolidayForm()
    year = _int_arg("year") or clock.today().year
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                ops.set_holiday(current_user, form.day.data, form.is_workday.data, form.name.data)
            except DomainError as error:
                db.session.rollback()
                form.day.errors = [error.message]
                status = 400
            else:
                db.session.commit()
                flash(_("已保存。"), "success")
                return redirect(url_for("inquiries.holidays", year=form.day.data.year))
        else:
            status = 400
    rows = db.session.scalars(sa.select(Holiday).where(Holiday.day.between(date(year, 1, 1), date(year, 12, 31)))
                              .order_by(Holiday.day)).all()
    return render_template("portal/inquiries/holidays.html", form=form, rows=rows, year=year,
                           unknown=not rows), status


@bp.post("/admin/holidays/<int:holiday_id>/delete")
def delete_holiday(holiday_id):
    _require_admin()
    row = db.session.get(Holiday, holiday_id)
    if row is None:
        abort(404)
    year = row.day.year
    ops.delete_holiday(current_user, row)
    db.session.commit()
    flash(_("已删除。"), "success")
    return redirect(url_for("inquiries.holidays", year=year))
