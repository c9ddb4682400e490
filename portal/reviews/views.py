"""The co-review pages: load → authorise → one operation → render or redirect."""
from __future__ import annotations

import io
from datetime import date

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from portal.accounts.models import Organisation, OrgKind, User
from portal.core import clock
from portal.core.audit import history
from portal.core.errors import DomainError
from portal.core.excel import content_disposition, xlsx_response
from portal.core.pagination import paginate
from portal.core.permissions import can, load_or_404, require, visible
from portal.extensions import db
from portal.performance.models import Evaluation, EvaluationMode, Project
from portal.reviews import forms, queries
from portal.reviews import operations as ops
from portal.reviews.models import (
    AgencyDraw,
    AgencyProfile,
    AssignmentState,
    Report,
    ReportState,
    ReviewAssignment,
    ReviewRound,
    RoundState,
    RubricTemplate,
)
from portal.reviews.policies import internal_reader

bp = Blueprint("reviews", __name__, url_prefix="/reviews")


def _fail(form, error: DomainError, default: str):
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = list(field.errors) + [error.message]
    else:
        flash(error.message, "error")


def _require_finance():
    if not ops.is_finance_officer(current_user):
        abort(403)


# ---- reports list ---------------------------------------------------------------------------

@bp.get("/")
def index():
    stmt = visible(current_user, Report).join(Evaluation, Evaluation.id == Report.evaluation_id)
    year = request.args.get("year", type=int)
    state = request.args.get("state", "")
    if year:
        stmt = stmt.where(Evaluation.year == year)
    if state in {s.value for s in ReportState}:
        stmt = stmt.where(Report.state == ReportState(state))
    # One query per relation for the whole page, not one per report (year, agency, versions, rounds).
    stmt = stmt.options(contains_eager(Report.evaluation), joinedload(Report.agency),
                        selectinload(Report.versions), selectinload(Report.rounds))
    page = paginate(stmt.order_by(Report.id.desc()))
    return render_template("portal/reviews/index.html", page=page, year=year, state=state, states=ReportState,
                           inside=internal_reader(current_user), finance=ops.is_finance_officer(current_user))


# ---- agencies, pool, draws ------------------------------------------------------------------

def _agencies():
    return db.session.scalars(sa.select(Organisation).where(Organisation.kind == OrgKind.AGENCY)
                              .order_by(Organisation.id)).all()


@bp.route("/agencies", methods=["GET", "POST"])
def agencies():
    if not internal_reader(current_user):
        abort(403)
    year = request.args.get("year", type=int) or clock.today().year
    form = forms.PoolForm()
    all_agencies = _agencies()
    form.agency_ids.choices = [(a.id, a.name) for a in all_agencies if a.is_active]
    if request.method == "POST":
        _require_finance()
        if form.validate_on_submit():
            try:
                ops.set_pool(year, form.agency_ids.data or [], actor=current_user)
            except DomainError as error:
                _fail(form, error, "agency_ids")
            else:
                db.session.commit()
                flash(_("%(y)s 年度入库机构已更新。", y=year), "success")
                return redirect(url_for("reviews.agencies", year=year))
    pool_ids = {e.agency_id for e in ops.pool_for(year)}
    if request.method == "GET":
        form.agency_ids.data = sorted(pool_ids)
    profiles = {p.organisation_id: p for p in db.session.scalars(sa.select(AgencyProfile))}
    return render_template("portal/reviews/agencies.html", agencies=all_agencies, profiles=profiles, year=year,
                           pool_ids=pool_ids, form=form, finance=ops.is_finance_officer(current_user))


@bp.route("/agencies/<int:org_id>/profile", methods=["GET", "POST"])
def agency_profile(org_id):
    agency = db.session.get(Organisation, org_id)
    if agency is None or agency.kind != OrgKind.AGENCY:
        abort(404)
    if not ops.is_finance_officer(current_user) and not current_user.has_role("admin"):
        abort(403)
    profile = db.session.scalar(sa.select(AgencyProfile).where(AgencyProfile.organisation_id == org_id))
    form = forms.ProfileForm(obj=profile)
    if form.validate_on_submit():
        try:
            ops.save_profile(agency, actor=current_user, **{k: v for k, v in form.data.items() if k != "csrf_token"})
        except DomainError as error:
            _fail(form, error, "qualifications")
        else:
            db.session.commit()
            flash(_("机构资料已保存。"), "success")
            return redirect(url_for("reviews.agencies"))
    return render_template("portal/reviews/profile.html", agency=agency, form=form)


@bp.get("/evaluations")
def evaluations():
    """Finance evaluations: their agency, draws and reports."""
    if not internal_reader(current_user):
        abort(403)
    stmt = (sa.select(Evaluation).where(Evaluation.mode == EvaluationMode.FINANCE)
            .join(Project, Project.id == Evaluation.project_id))
    year = request.args.get("year", type=int)
    if year:
        stmt = stmt.where(Evaluation.year == year)
    page = paginate(stmt.order_by(Evaluation.year.desc(), Evaluation.id))
    reports = {r.evaluation_id: r for r in db.session.scalars(
        sa.select(Report).where(Report.evaluation_id.in_([e.id for e in page.items])))}
    return render_template("portal/reviews/evaluations.html", page=page, reports=reports, year=year,
                           finance=ops.is_finance_officer(current_user))


@bp.route("/evaluations/<int:evaluation_id>/draw", methods=["GET", "POST"])
def draw(evaluation_id):
    evaluation = load_or_404(Evaluation, evaluation_id, "view")
    if not internal_reader(current_user):
        abort(403)
    form = forms.DrawForm()
    pool = ops.pool_for(evaluation.year)
    form.pool_ids.choices = [(e.agency_id, e.agency.name) for e in pool]
    if request.method == "GET":
        form.pool_ids.data = [e.agency_id for e in pool]
    if request.method == "POST":
        _require_finance()
        if form.validate_on_submit():
            try:
                record = ops.draw_agency(evaluation, actor=current_user, pool_ids=form.pool_ids.data or [],
                                         witnesses=form.witnesses.data, reason=form.reason.data or "")
            except DomainError as error:
                _fail(form, error, "pool_ids")
            else:
                db.session.commit()
                flash(_("抽签结果：%(name)s", name=record.chosen_agency.name), "success")
                return redirect(url_for("reviews.draw_record", draw_id=record.id))
    draws = db.session.scalars(sa.select(AgencyDraw).where(AgencyDraw.evaluation_id == evaluation.id)
                               .order_by(AgencyDraw.id)).all()
    return render_template("portal/reviews/draw.html", evaluation=evaluation, form=form, draws=draws,
                           finance=ops.is_finance_officer(current_user))


@bp.get("/draws/<int:draw_id>")
def draw_record(draw_id):
    record = load_or_404(AgencyDraw, draw_id, "view")
    names = {o.id: o.name for o in db.session.scalars(sa.select(Organisation).where(Organisation.id.in_(record.pool)))}
    return render_template("portal/reviews/draw_record.html", draw=record, names=names,
                           verified=ops.verify_draw(record), recomputed=ops.draw_result(record.seed, record.pool))


@bp.post("/evaluations/<int:evaluation_id>/commission")
def commission(evaluation_id):
    evaluation = load_or_404(Evaluation, evaluation_id, "view")
    _require_finance()
    form = forms.CommissionForm()
    if not form.validate_on_submit():
        flash(_("请检查提交期限。"), "error")
        return redirect(url_for("reviews.evaluations"))
    try:
        report = ops.commission_report(evaluation, actor=current_user, title=form.title.data or "",
                                       due_date=form.due_date.data)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("reviews.evaluations"))
    db.session.commit()
    return redirect(url_for("reviews.report", report_id=report.id))


# ---- a report -------------------------------------------------------------------------------

def _report_page(report, upload_form=None, round_form=None, status=200):
    upload_form = upload_form or forms.UploadForm(formdata=None, expected_state=report.state.value)
    round_form = round_form if round_form is not None else _round_form(report, formdata=None)
    return render_template("portal/reviews/report.html", report=report, upload_form=upload_form,
                           round_form=round_form, events=queries.timeline(report, current_user),
                           inside=internal_reader(current_user), can_upload=can(current_user, "upload", report),
                           can_manage=can(current_user, "manage", report), max_rounds=ops.max_rounds(),
                           history=history(report) if internal_reader(current_user) else []), status


def _reviewer_choices():
    users = db.session.scalars(sa.select(User).join(Organisation).where(
        Organisation.kind.in_([OrgKind.FINANCE_BUREAU, OrgKind.AUDIT_BUREAU]), User.is_active_account.is_(True))
        .order_by(Organisation.kind, User.id)).all()
    return [(u.id, f"{u.display_name}（{ops.side_of(u).label}）") for u in users if ops.side_of(u) is not None]


def _round_form(report, formdata=...):
    kwargs = {} if formdata is ... else {"formdata": formdata}
    form = forms.OpenRoundForm(**kwargs)
    form.reviewer_ids.choices = _reviewer_choices()
    form.lead_id.choices = [(u, n) for u, n in form.reviewer_ids.choices if "专家" not in n and "Expert" not in n]
    ops.default_rubric()
    form.rubric_id.choices = [(r.id, r.name) for r in db.session.scalars(
        sa.select(RubricTemplate).order_by(RubricTemplate.is_default.desc(), RubricTemplate.id))]
    if formdata is None or request.method == "GET":
        form.expected_state.data = report.state.value
        form.lead_id.data = current_user.id
    return form


@bp.get("/reports/<int:report_id>")
def report(report_id):
    record = load_or_404(Report, report_id, "view")
    return _report_page(record)


@bp.post("/reports/<int:report_id>/upload")
def upload(report_id):
    record = load_or_404(Report, report_id, "upload")
    form = forms.UploadForm()
    if not form.validate_on_submit():
        return _report_page(record, upload_form=form, status=400)
    if not form.file.data or not form.file.data.filename:
        form.file.errors = [_("请选择报告文件。")]
        return _report_page(record, upload_form=form, status=400)
    try:
        version = ops.upload_version(record, form.file.data, actor=current_user, note=form.note.data or "",
                                     expected_state=form.expected_state.data or None)
    except DomainError as error:
        db.session.rollback()
        record = db.session.get(Report, report_id)
        form.file.errors = [error.message]
        if record.state not in (ReportState.AWAITING, ReportState.REVISING):
            flash(error.message, "error")  # the upload form is no longer shown
        return _report_page(record, upload_form=form, status=409 if "刷新" in error.message else 400)
    db.session.commit()
    flash(_("已提交 %(v)s。", v=version.label), "success")
    return redirect(url_for("reviews.report", report_id=record.id))


@bp.post("/reports/<int:report_id>/rounds")
def open_round(report_id):
    record = load_or_404(Report, report_id, "manage")
    form = _round_form(record)
    if not form.validate_on_submit():
        return _report_page(record, round_form=form, status=400)
    rubric = db.session.get(RubricTemplate, form.rubric_id.data) if form.rubric_id.data else None
    try:
        rnd = ops.open_round(record, actor=current_user, reviewer_ids=form.reviewer_ids.data or [],
                             lead_id=form.lead_id.data, deadline=form.deadline.data, rubric=rubric,
                             expected_state=form.expected_state.data or None)
    except DomainError as error:
        db.session.rollback()
        record = db.session.get(Report, report_id)
        _fail(form, error, "reviewer_ids")
        return _report_page(record, round_form=form, status=400)
    db.session.commit()
    flash(_("第%(n)s轮评审已开启。", n=rnd.number), "success")
    return redirect(url_for("reviews.round_view", round_id=rnd.id))


# ---- a round --------------------------------------------------------------------------------

@bp.route("/rounds/<int:round_id>", methods=["GET", "POST"])
def round_view(round_id):
    rnd = load_or_404(ReviewRound, round_id, "view")
    form = forms.AddReviewerForm()
    taken = {a.reviewer_id for a in rnd.assignments}
    form.user_id.choices = [(u, n) for u, n in _reviewer_choices() if u not in taken]
    if request.method == "POST":
        require(current_user, "manage", rnd)
        if form.validate_on_submit():
            try:
                ops.add_reviewer(rnd, db.session.get(User, form.user_id.data), actor=current_user)
            except DomainError as error:
                db.session.rollback()
                flash(error.message, "error")
            else:
                db.session.commit()
                flash(_("已补充评审人员。"), "success")
            return redirect(url_for("reviews.round_view", round_id=rnd.id))
    return render_template("portal/reviews/round.html", rnd=rnd, form=form, ready=ops.round_ready(rnd),
                           can_manage=can(current_user, "manage", rnd),
                           can_consolidate=can(current_user, "consolidate", rnd),
                           inside=internal_reader(current_user), ledger_problems=_ledger_problems(rnd))


def _ledger_problems(rnd) -> list[str]:
    """The opinion's problems a bureau user may list on the ledger (none before the decision)."""
    from portal.ledger.models import Problem

    if rnd.state != RoundState.DECIDED or not can(current_user, "create", Problem):
        return []
    return ops.opinion_problems(rnd)


def _score_inputs(rnd):
    scores = {c.id: (request.form.get(f"score_{c.id}", ""), request.form.get(f"justification_{c.id}", ""))
              for c in rnd.rubric.criteria}
    comments = []
    for i in range(0, 50):
        loc, text = request.form.get(f"comment_location_{i}"), request.form.get(f"comment_text_{i}")
        if loc is None and text is None:
            continue
        comments.append((loc or "", text or ""))
    return scores, comments


@bp.route("/assignments/<int:assignment_id>", methods=["GET", "POST"])
def review(assignment_id):
    assignment = load_or_404(ReviewAssignment, assignment_id, "view")
    rnd = assignment.round
    mine = assignment.reviewer_id == current_user.id
    form = forms.ReviewForm(obj=assignment if request.method == "GET" else None)
    declare_form = forms.DeclareForm(formdata=None, expected_state=assignment.state.value)
    typed = None
    error_field = None
    if request.method == "POST":
        if not mine:
            abort(403)
        scores, comments = _score_inputs(rnd)
        typed = {"scores": scores, "comments": comments}
        if form.validate_on_submit():
            submit = request.form.get("action") == "submit"
            try:
                ops.save_review(assignment, actor=current_user, scores=scores, summary=form.summary.data or "",
                                comments=comments, submit=submit, expected_state=form.expected_state.data or None)
            except DomainError as error:
                db.session.rollback()
                assignment = db.session.get(ReviewAssignment, assignment_id)
                rnd = assignment.round
                error_field = error.field
                flash(error.message, "error")
            else:
                db.session.commit()
                flash(_("评审意见已提交。") if submit else _("草稿已保存。"), "success")
                return redirect(url_for("reviews.review", assignment_id=assignment.id))
    if request.method == "GET" or typed is None:
        form.expected_state.data = assignment.state.value
        typed = {"scores": {s.criterion_id: ("" if s.score is None else f"{s.score.normalize():f}", s.justification)
                            for s in assignment.scores},
                 "comments": [(c.location, c.text) for c in assignment.comments]}
    others = []
    if mine and assignment.state == AssignmentState.SUBMITTED:
        others = [a for a in rnd.submitted_assignments if a.id != assignment.id and can(current_user, "view", a)]
    return render_template("portal/reviews/review.html", a=assignment, rnd=rnd, mine=mine, form=form,
                           declare_form=declare_form, typed=typed, error_field=error_field, others=others,
                           editable=mine and assignment.state == AssignmentState.ACTIVE
                           and rnd.state == RoundState.OPEN), (400 if error_field or (
                               request.method == "POST") else 200)


@bp.post("/assignments/<int:assignment_id>/declare")
def declare(assignment_id):
    assignment = load_or_404(ReviewAssignment, assignment_id, "edit")
    form = forms.DeclareForm()
    if form.validate_on_submit():
        try:
            ops.declare(assignment, actor=current_user, conflict=form.conflict.data or None,
                        note=form.note.data or "", expected_state=form.expected_state.data or None)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            if assignment.state == AssignmentState.CONFLICTED:
                flash(_("已登记利益冲突，您已退出本轮评审。"), "success")
                return redirect(url_for("reviews.index"))
            flash(_("已声明无利益冲突，可以开始评审。"), "success")
    return redirect(url_for("reviews.review", assignment_id=assignment_id))


# ---- consolidation --------------------------------------------------------------------------

def _consolidate_page(rnd, form=None, back_form=None, status=200):
    form = form or forms.OpinionForm(formdata=None, opinion=rnd.opinion,
                                     decision=rnd.proposed_decision.value if rnd.proposed_decision else "",
                                     expected_state=rnd.state.value)
    back_form = back_form or forms.SendBackForm(formdata=None, expected_state=rnd.state.value)
    return render_template("portal/reviews/consolidate.html", rnd=rnd, form=form, back_form=back_form,
                           stats=ops.criterion_stats(rnd), score=ops.round_score(rnd), ready=ops.round_ready(rnd),
                           reviews=[a for a in rnd.submitted_assignments if can(current_user, "view", a)],
                           can_endorse=ops.ROUND.allowed(rnd, "endorse", current_user),
                           is_lead=rnd.lead_id == current_user.id,
                           max_rounds=ops.max_rounds()), status


@bp.route("/rounds/<int:round_id>/consolidate", methods=["GET", "POST"])
def consolidate(round_id):
    rnd = load_or_404(ReviewRound, round_id, "consolidate")
    if request.method == "GET":
        return _consolidate_page(rnd)
    form = forms.OpinionForm()
    if not form.validate_on_submit():
        return _consolidate_page(rnd, form=form, status=400)
    try:
        ops.propose(rnd, actor=current_user, opinion=form.opinion.data or "", decision=form.decision.data or "",
                    expected_state=form.expected_state.data or None)
    except DomainError as error:
        db.session.rollback()
        rnd = db.session.get(ReviewRound, round_id)
        _fail(form, error, "opinion")
        return _consolidate_page(rnd, form=form, status=400)
    db.session.commit()
    flash(_("合议意见已提交两局会签。"), "success")
    return redirect(url_for("reviews.consolidate", round_id=rnd.id))


@bp.post("/rounds/<int:round_id>/endorse")
def endorse(round_id):
    rnd = load_or_404(ReviewRound, round_id, "consolidate")
    form = forms.SendBackForm()
    if form.validate_on_submit():
        try:
            ops.endorse(rnd, actor=current_user, expected_state=form.expected_state.data or None)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(_("已会签。") if rnd.state != RoundState.DECIDED else _("两局均已会签，评审结论已生效。"), "success")
    return redirect(url_for("reviews.consolidate", round_id=round_id))


@bp.post("/rounds/<int:round_id>/send-back")
def send_back(round_id):
    rnd = load_or_404(ReviewRound, round_id, "consolidate")
    form = forms.SendBackForm()
    if form.validate_on_submit():
        try:
            ops.send_back(rnd, actor=current_user, comment=form.comment.data or "",
                          expected_state=form.expected_state.data or None)
        except DomainError as error:
            db.session.rollback()
            rnd = db.session.get(ReviewRound, round_id)
            form.comment.errors = [error.message]
            return _consolidate_page(rnd, back_form=form, status=400)
        db.session.commit()
        flash(_("已退回牵头人。"), "success")
    return redirect(url_for("reviews.consolidate", round_id=round_id))


@bp.post("/rounds/<int:round_id>/ledger")
def list_on_ledger(round_id):
    """列入问题台账: the problems named in the decided opinion go onto the problem ledger."""
    from portal.ledger.models import Problem

    rnd = load_or_404(ReviewRound, round_id, "view")
    require(current_user, "create", Problem)
    try:
        deadline = date.fromisoformat(request.form.get("deadline", ""))
    except ValueError:
        flash(_("请填写有效的整改时限。"), "error")
        return redirect(url_for("reviews.round_view", round_id=rnd.id))
    try:
        problems = ops.list_opinion_problems(rnd, actor=current_user, deadline=deadline)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("reviews.round_view", round_id=rnd.id))
    db.session.commit()
    flash(_("已将 %(n)s 个问题列入问题台账。", n=len(problems)), "success")
    return redirect(url_for("ledger.index", source="co_review"))


# ---- exports --------------------------------------------------------------------------------

def _summary_rows(rnd):
    rows = []
    for a in rnd.submitted_assignments:
        for c in rnd.rubric.criteria:
            s = a.score_for(c.id)
            rows.append([a.reviewer.display_name, a.side.label, c.name, c.weight,
                         s.score if s else None, s.justification if s else ""])
    return rows


@bp.get("/rounds/<int:round_id>/summary.xlsx")
def summary_xlsx(round_id):
    rnd = load_or_404(ReviewRound, round_id, "consolidate")
    rows = _summary_rows(rnd)
    for st in ops.criterion_stats(rnd):
        rows.append([_("平均"), "", st["criterion"].name, st["criterion"].weight, st["mean"],
                     _("极差 %(s)s", s=st["spread"] if st["spread"] is not None else "—")])
    return xlsx_response(f"评审汇总-{rnd.report.title}-第{rnd.number}轮.xlsx",
                         [_("评审人"), _("来源"), _("评分标准"), _("权重"), _("得分"), _("评分理由")], rows,
                         sheet_title=_("评审汇总"))


@bp.get("/rounds/<int:round_id>/summary.docx")
def summary_docx(round_id):
    import docx

    rnd = load_or_404(ReviewRound, round_id, "consolidate")
    document = docx.Document()
    document.add_heading(f"{rnd.report.title} 第{rnd.number}轮评审汇总（{rnd.version.label}）", level=1)
    document.add_paragraph(f"评审截止日期：{rnd.deadline.isoformat()}　状态：{rnd.state.zh}　"
                           f"平均得分：{ops.round_score(rnd) or '—'}")
    table = document.add_table(rows=1, cols=4)
    for cell, text in zip(table.rows[0].cells, ["评分标准", "权重", "平均分", "极差"], strict=True):
        cell.text = text
    for st in ops.criterion_stats(rnd):
        cells = table.add_row().cells
        cells[0].text, cells[1].text = st["criterion"].name, str(st["criterion"].weight)
        cells[2].text = "—" if st["mean"] is None else str(st["mean"])
        cells[3].text = "—" if st["spread"] is None else str(st["spread"])
    for a in rnd.submitted_assignments:
        document.add_heading(f"{a.reviewer.display_name}（{a.side.zh}）合计 {a.total}", level=2)
        for c in rnd.rubric.criteria:
            s = a.score_for(c.id)
            document.add_paragraph(f"{c.name}（{c.weight}分）：{s.score if s else '—'}　{s.justification if s else ''}")
        for cm in a.comments:
            document.add_paragraph(f"[{cm.location}] {cm.text}")
        if a.summary:
            document.add_paragraph(a.summary)
    if rnd.opinion:
        document.add_heading("合议意见", level=2)
        for line in rnd.opinion.splitlines():
            document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    buffer.seek(0)
    response = send_file(buffer, mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                         as_attachment=True, download_name="summary.docx")
    response.headers["Content-Disposition"] = content_disposition(
        f"评审汇总-{rnd.report.title}-第{rnd.number}轮.docx")
    return response


# ---- rubrics --------------------------------------------------------------------------------

@bp.route("/rubrics", methods=["GET", "POST"])
def rubrics():
    require(current_user, "view", RubricTemplate)
    ops.default_rubric()
    form = forms.RubricForm()
    if request.method == "POST":
        _require_finance()
        if form.validate_on_submit():
            try:
                ops.save_rubric(form.name.data, ops.parse_criteria(form.criteria.data or ""), actor=current_user)
            except DomainError as error:
                db.session.rollback()
                _fail(form, error, "criteria")
            else:
                db.session.commit()
                flash(_("评分表已保存。"), "success")
                return redirect(url_for("reviews.rubrics"))
    items = db.session.scalars(sa.select(RubricTemplate).order_by(RubricTemplate.id)).all()
    db.session.commit()  # the default rubric, created on first visit
    return render_template("portal/reviews/rubrics.html", rubrics=items, form=form,
                           finance=ops.is_finance_officer(current_user))


# ---- agency quality record --------------------------------------------------------------------

@bp.get("/agencies/<int:org_id>/quality")
def quality(org_id):
    agency = db.session.get(Organisation, org_id)
    if agency is None or agency.kind != OrgKind.AGENCY:
        abort(404)
    if not (internal_reader(current_user) or current_user.organisation_id == agency.id):
        abort(403)
    rows = queries.quality_record(agency)
    by_year = queries.quality_by_year(rows)
    if request.args.get("format") == "xlsx":
        return xlsx_response(f"机构质量档案-{agency.name}.xlsx",
                             [_("年度"), _("报告"), _("版本数"), _("评审轮次"), _("逾期提交次数"), _("结论"), _("最终得分")],
                             ([r.year, r.report.title, r.versions, r.rounds, r.late_versions,
                               r.decision.label if r.decision else "", r.final_score] for r in rows),
                             sheet_title=_("质量档案"))
    return render_template("portal/reviews/quality.html", agency=agency, rows=rows, by_year=by_year,
                           chart=Markup(queries.chart_svg(by_year)))
