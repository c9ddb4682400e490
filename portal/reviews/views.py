# Over 400 lines: reports, rounds, review sheets, consolidation, endorsement and agencies; to be split by stage.
"""The co-review pages: load (404) → authorise (403) → one operation through the core request
shape (`submit`/`perform`: one commit, 422 with the user's input kept on a refusal) → redirect."""
from __future__ import annotations

import io

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from portal.accounts.models import Organisation, OrgKind, User
from portal.core import clock, parsing
from portal.core.audit import history
from portal.core.bulk import carry_out
from portal.core.errors import DomainError
from portal.core.excel import content_disposition, xlsx_response
from portal.core.permissions import can, load_or_404, require, visible
from portal.core.writes import (
    DOMAIN_ERROR_STATUS,
    DuplicateSubmission,
    perform,
    show_error,
    status,
    submit,
    submitted,
)
from portal.extensions import db
from portal.performance.models import Evaluation, EvaluationMode, Project
from portal.reviews import forms, operations, queries
from portal.reviews.lists import EVALUATIONS, REPORTS
from portal.reviews.models import (
    AgencyDraw,
    AgencyProfile,
    AssignmentState,
    CommentKind,
    Report,
    ReviewAssignment,
    ReviewRound,
    RoundState,
    RubricTemplate,
)
from portal.reviews.policies import internal_reader

bp = Blueprint("reviews", __name__, url_prefix="/reviews")


def _require_finance():
    require(current_user, "manage", Report)


def _fields(form, *names) -> dict:
    return {name: getattr(form, name).data for name in names}


# ---- reports list ---------------------------------------------------------------------------

@bp.get("/")
def index():
    require(current_user, "view", Report)
    state = REPORTS.read(request.args)
    stmt = visible(current_user, Report).join(Evaluation, Evaluation.id == Report.evaluation_id)
    # One query per relation for the whole page, not one per report (year, agency, versions, rounds).
    stmt = stmt.options(contains_eager(Report.evaluation), joinedload(Report.agency),
                        selectinload(Report.versions), selectinload(Report.rounds))
    stmt = state.apply(stmt.order_by(Report.id.desc()))
    if state.export_format:
        return state.export(stmt, _("报告同审"))
    return render_template("portal/reviews/index.html", page=state.page(stmt), state=state,
                           inside=internal_reader(current_user), finance=operations.is_finance_officer(current_user))


# ---- agencies, pool, draws ------------------------------------------------------------------

def _agencies():
    return db.session.scalars(sa.select(Organisation).where(Organisation.kind == OrgKind.AGENCY)
                              .order_by(Organisation.id)).all()


@bp.route("/agencies", methods=["GET", "POST"])
def agencies():
    require(current_user, "view", AgencyProfile)
    year = parsing.arg_year(default=clock.today().year)
    form = forms.PoolForm()
    all_agencies = _agencies()
    form.agency_ids.choices = [(a.id, a.name) for a in all_agencies if a.is_active]
    if request.method == "POST":
        _require_finance()
        if form.validate_on_submit():
            done = submit(operations.set_pool, year, form.agency_ids.data or [], actor=current_user, form=form,
                          redirect_to=url_for("reviews.agencies", year=year),
                          success=_("%(y)s 年度入库机构已更新。", y=year))
            if done:
                return done
    pool_ids = {e.agency_id for e in operations.pool_for(year)}
    if request.method == "GET":
        form.agency_ids.data = sorted(pool_ids)
    profiles = {p.organisation_id: p for p in db.session.scalars(sa.select(AgencyProfile))}
    return render_template("portal/reviews/agencies.html", agencies=all_agencies, profiles=profiles, year=year,
                           pool_ids=pool_ids, form=form, finance=operations.is_finance_officer(current_user)), status(form)


@bp.route("/agencies/<int:org_id>/profile", methods=["GET", "POST"])
def agency_profile(org_id):
    agency = db.session.get(Organisation, org_id)
    if agency is None or agency.kind != OrgKind.AGENCY:
        abort(404)
    require(current_user, "manage", AgencyProfile)
    profile = db.session.scalar(sa.select(AgencyProfile).where(AgencyProfile.organisation_id == org_id))
    form = forms.ProfileForm(obj=profile)
    done = submitted(form, operations.save_profile, agency, actor=current_user,
                     redirect_to=url_for("reviews.agencies"), success=_("机构资料已保存。"),
                     **_fields(form, *operations.PROFILE_FIELDS))
    return done or (render_template("portal/reviews/profile.html", agency=agency, form=form), status(form))


def _evaluations_page():
    state = EVALUATIONS.read(request.args)
    stmt = (visible(current_user, Evaluation).where(Evaluation.mode == EvaluationMode.FINANCE)
            .join(Project, Project.id == Evaluation.project_id).options(contains_eager(Evaluation.project),
                                                                        joinedload(Evaluation.agency)))
    stmt = state.apply(stmt.order_by(Evaluation.year.desc(), Evaluation.id))
    if state.export_format:
        return state.export(stmt, _("财政评价"))
    return render_template("portal/reviews/evaluations.html", page=state.page(stmt), state=state,
                           finance=operations.is_finance_officer(current_user))


@bp.get("/evaluations")
def evaluations():
    """Finance evaluations: their agency, draws and reports."""
    require(current_user, "view", AgencyDraw)
    return _evaluations_page()


@bp.post("/evaluations/bulk")
def evaluations_bulk():
    """建立报告 for the ticked evaluations; each the step refuses is named above the list."""
    _require_finance()
    return carry_out(forms.EvaluationsBulkForm(), operations.bulk_commission, back=url_for("reviews.evaluations"))


@bp.route("/evaluations/<int:evaluation_id>/draw", methods=["GET", "POST"])
def draw(evaluation_id):
    evaluation = load_or_404(Evaluation, evaluation_id, "view")
    require(current_user, "view", AgencyDraw)
    form = forms.DrawForm()
    pool = operations.pool_for(evaluation.year)
    form.pool_ids.choices = [(e.agency_id, e.agency.name) for e in pool]
    if request.method == "GET":
        form.pool_ids.data = [e.agency_id for e in pool]
    if request.method == "POST":
        _require_finance()
        if form.validate_on_submit():
            done = submit(operations.draw_agency, evaluation, actor=current_user, form=form,
                          pool_ids=form.pool_ids.data or [], witnesses=form.witnesses.data,
                          reason=form.reason.data or "",
                          redirect_to=lambda d: url_for("reviews.draw_record", draw_id=d.id),
                          success=lambda d: _("抽签结果：%(name)s", name=d.chosen_agency.name))
            if done:
                return done
    draws = db.session.scalars(sa.select(AgencyDraw).where(AgencyDraw.evaluation_id == evaluation.id)
                               .order_by(AgencyDraw.id)).all()
    return render_template("portal/reviews/draw.html", evaluation=evaluation, form=form, draws=draws,
                           finance=operations.is_finance_officer(current_user)), status(form)


@bp.get("/draws/<int:draw_id>")
def draw_record(draw_id):
    record = load_or_404(AgencyDraw, draw_id, "view")
    names = {o.id: o.name for o in db.session.scalars(sa.select(Organisation).where(Organisation.id.in_(record.pool)))}
    return render_template("portal/reviews/draw_record.html", draw=record, names=names,
                           verified=operations.verify_draw(record), recomputed=operations.draw_result(record.seed, record.pool))


@bp.post("/evaluations/<int:evaluation_id>/commission")
def commission(evaluation_id):
    evaluation = load_or_404(Evaluation, evaluation_id, "view")
    _require_finance()
    form = forms.CommissionForm()
    if form.validate_on_submit():
        done = submit(operations.commission_report, evaluation, actor=current_user, form=form,
                      title=form.title.data or "", due_date=form.due_date.data,
                      redirect_to=lambda r: url_for("reviews.report", report_id=r.id))
        if done:
            return done
    else:
        flash(_("请检查提交期限。"), "error")
    return _evaluations_page(), DOMAIN_ERROR_STATUS


# ---- a report -------------------------------------------------------------------------------

def _report_page(report, upload_form=None, round_form=None):
    upload_form = upload_form or forms.UploadForm(formdata=None, expected_state=report.state.value)
    round_form = round_form if round_form is not None else _round_form(report, formdata=None)
    return render_template("portal/reviews/report.html", report=report, upload_form=upload_form,
                           round_form=round_form, events=queries.timeline(report, current_user),
                           inside=internal_reader(current_user), can_upload=can(current_user, "upload", report),
                           can_manage=can(current_user, "manage", report), max_rounds=operations.max_rounds(),
                           progress={r.id: queries.review_progress(r) for r in report.rounds
                                     if can(current_user, "progress", r)},
                           history=history(report) if internal_reader(current_user) else [])


def _reviewer_choices():
    users = db.session.scalars(sa.select(User).join(Organisation).where(
        Organisation.kind.in_([OrgKind.FINANCE_BUREAU, OrgKind.AUDIT_BUREAU]), User.is_active_account.is_(True))
        .order_by(Organisation.kind, User.id)).all()
    return [(u.id, f"{u.display_name}（{operations.side_of(u).label}）") for u in users if operations.side_of(u) is not None]


def _rubric_choices():
    """The stored rubrics, default first; before the first round the default one (stored when used)."""
    choices = [(r.id, r.name) for r in db.session.scalars(
        sa.select(RubricTemplate).order_by(RubricTemplate.is_default.desc(), RubricTemplate.id))]
    if operations.existing_default_rubric() is None:
        choices.insert(0, (0, operations.DEFAULT_RUBRIC_NAME))
    return choices


def _round_form(report, formdata=...):
    kwargs = {} if formdata is ... else {"formdata": formdata}
    form = forms.OpenRoundForm(**kwargs)
    form.reviewer_ids.choices = _reviewer_choices()
    form.lead_id.choices = [(u, n) for u, n in form.reviewer_ids.choices if "专家" not in n and "Expert" not in n]
    form.rubric_id.choices = _rubric_choices()
    if formdata is None or request.method == "GET":
        form.expected_state.data = report.state.value
        form.lead_id.data = current_user.id
    return form


@bp.get("/reports/<int:report_id>")
def report(report_id):
    record = load_or_404(Report, report_id, "view")
    return _report_page(record)


@bp.route("/reports/<int:report_id>/edit", methods=["GET", "POST"])
def edit_report(report_id):
    """报告信息: the title and the due date of the next version (finance)."""
    record = load_or_404(Report, report_id, "manage")
    form = forms.EditReportForm(obj=record if request.method == "GET" else None)
    done = submitted(form, operations.update_report, record, actor=current_user, version=form.lock_version.data,
                     redirect_to=url_for("reviews.report", report_id=record.id), success=_("报告信息已保存。"),
                     **_fields(form, "title", "due_date"))
    return done or (render_template("portal/reviews/report_edit.html", report=record, form=form), status(form))


@bp.post("/reports/<int:report_id>/upload")
def upload(report_id):
    record = load_or_404(Report, report_id, "upload")
    form = forms.UploadForm()
    done = submitted(form, operations.upload_version, record, form.file.data, actor=current_user,
                     note=form.note.data or "", expected_state=form.expected_state.data or None,
                     redirect_to=url_for("reviews.report", report_id=record.id),
                     success=lambda v: _("已提交 %(v)s。", v=v.label))
    return done or (_report_page(record, upload_form=form), status(form))


@bp.post("/reports/<int:report_id>/rounds")
def open_round(report_id):
    record = load_or_404(Report, report_id, "manage")
    form = _round_form(record)
    done = submitted(form, operations.open_round, record, actor=current_user,
                     reviewer_ids=form.reviewer_ids.data or [], lead_id=form.lead_id.data,
                     deadline=form.deadline.data, rubric_id=form.rubric_id.data or None,
                     expected_state=form.expected_state.data or None,
                     redirect_to=lambda rnd: url_for("reviews.round_view", round_id=rnd.id),
                     success=lambda rnd: _("第%(n)s轮评审已开启。", n=rnd.number))
    return done or (_report_page(record, round_form=form), status(form))


# ---- a round --------------------------------------------------------------------------------

def _round_page(rnd, form=None, ledger_form=None):
    if form is None:
        form = forms.AddReviewerForm(formdata=None)
    taken = {a.reviewer_id for a in rnd.assignments}
    form.user_id.choices = [(u, n) for u, n in _reviewer_choices() if u not in taken]
    return render_template("portal/reviews/round.html", rnd=rnd, form=form, ready=operations.round_ready(rnd),
                           can_progress=can(current_user, "progress", rnd),
                           ledger_form=ledger_form or forms.LedgerForm(formdata=None),
                           can_manage=can(current_user, "manage", rnd),
                           can_consolidate=can(current_user, "consolidate", rnd),
                           inside=internal_reader(current_user), ledger_problems=_ledger_problems(rnd))


@bp.route("/rounds/<int:round_id>", methods=["GET", "POST"])
def round_view(round_id):
    rnd = load_or_404(ReviewRound, round_id, "view")
    form = forms.AddReviewerForm()
    if request.method == "POST":
        require(current_user, "manage", rnd)
        taken = {a.reviewer_id for a in rnd.assignments}
        form.user_id.choices = [(u, n) for u, n in _reviewer_choices() if u not in taken]
        if form.validate_on_submit():
            done = submit(operations.add_reviewer, rnd, form.user_id.data, actor=current_user, form=form,
                          redirect_to=url_for("reviews.round_view", round_id=rnd.id), success=_("已补充评审人员。"))
            if done:
                return done
    return _round_page(rnd, form), status(form)


def _ledger_problems(rnd) -> list[str]:
    """The opinion's problems a bureau user may list on the ledger (none before the decision)."""
    from portal.ledger.models import Problem

    if rnd.state != RoundState.DECIDED or not can(current_user, "create", Problem):
        return []
    return operations.opinion_problems(rnd)


def _review_page(assignment, form, *, typed=None, error_field=None, declare_form=None):
    rnd = assignment.round
    mine = assignment.reviewer_id == current_user.id
    if typed is None:  # what is stored (a refused save shows what was typed instead)
        typed = {"scores": {s.criterion_id: ("" if s.score is None else f"{s.score.normalize():f}", s.justification)
                            for s in assignment.scores},
                 "comments": [(c.location, c.text, c.kind.value, str(c.criterion_id or ""))
                              for c in assignment.comments]}
    if not form.expected_state.data:
        form.expected_state.data = assignment.state.value
    others = []
    if mine and assignment.state == AssignmentState.SUBMITTED:
        others = [a for a in rnd.submitted_assignments if a.id != assignment.id and can(current_user, "view", a)]
    return render_template("portal/reviews/review.html", a=assignment, rnd=rnd, mine=mine, form=form,
                           declare_form=declare_form or forms.DeclareForm(formdata=None,
                                                                          expected_state=assignment.state.value),
                           typed=typed, error_field=error_field, others=others,
                           typed_total=queries.typed_total(rnd.rubric.criteria, typed["scores"]),
                           comment_kinds=list(CommentKind),
                           editable=mine and assignment.state == AssignmentState.ACTIVE
                           and rnd.state == RoundState.OPEN)


@bp.route("/assignments/<int:assignment_id>", methods=["GET", "POST"])
def review(assignment_id):
    assignment = load_or_404(ReviewAssignment, assignment_id, "view")
    if request.method == "GET":
        return _review_page(assignment, forms.ReviewForm(obj=assignment))
    require(current_user, "edit", assignment)
    criteria = assignment.round.rubric.criteria
    form, rows = forms.ReviewForm(), forms.review_rows_form(criteria)
    scores, comments = rows.scores(criteria), rows.comments()
    typed = {"scores": scores, "comments": comments}
    if not form.validate_on_submit():
        return _review_page(assignment, form, typed=typed), status(form)
    refused = parsing.refusal(rows)
    if refused is not None:  # a row too long: the message at the top, the row marked, what was typed kept
        show_error(refused)
        return _review_page(assignment, form, typed=typed, error_field=refused.field), DOMAIN_ERROR_STATUS
    final = form.action.data == "submit"
    target = url_for("reviews.review", assignment_id=assignment.id)
    try:  # perform() rather than submit(): the page marks the score row the refusal names
        perform(operations.save_review, assignment, actor=current_user, version=form.lock_version.data, scores=scores,
                summary=form.summary.data or "", comments=comments, submit=final,
                expected_state=form.expected_state.data or None, redirect_to=target)
    except DuplicateSubmission as duplicate:
        flash(duplicate.message, "info")
        return redirect(duplicate.redirect_to)
    except DomainError as error:
        show_error(error, form)
        return _review_page(assignment, form, typed=typed, error_field=error.field), DOMAIN_ERROR_STATUS
    flash(_("评审意见已提交。") if final else _("草稿已保存。"), "success")
    return redirect(target)


@bp.post("/assignments/<int:assignment_id>/declare")
def declare(assignment_id):
    assignment = load_or_404(ReviewAssignment, assignment_id, "edit")
    form = forms.DeclareForm()
    done = submitted(form, operations.declare, assignment, actor=current_user, conflict=form.conflict.data or None,
                     note=form.note.data or "", expected_state=form.expected_state.data or None,
                     redirect_to=lambda a: url_for("reviews.index") if a.state == AssignmentState.CONFLICTED
                     else url_for("reviews.review", assignment_id=a.id),
                     success=lambda a: _("已登记利益冲突，您已退出本轮评审。") if a.state == AssignmentState.CONFLICTED
                     else _("已声明无利益冲突，可以开始评审。"))
    return done or (_review_page(assignment, forms.ReviewForm(obj=assignment), declare_form=form), status(form))


# ---- consolidation --------------------------------------------------------------------------

def _consolidate_page(rnd, form=None, back_form=None):
    form = form or forms.OpinionForm(formdata=None, opinion=rnd.opinion,
                                     decision=rnd.proposed_decision.value if rnd.proposed_decision else "",
                                     expected_state=rnd.state.value)
    back_form = back_form or forms.SendBackForm(formdata=None, expected_state=rnd.state.value)
    return render_template("portal/reviews/consolidate.html", rnd=rnd, form=form, back_form=back_form,
                           stats=operations.criterion_stats(rnd), score=operations.round_score(rnd), ready=operations.round_ready(rnd),
                           reviews=[a for a in rnd.submitted_assignments if can(current_user, "view", a)],
                           can_endorse=operations.ROUND.allowed(rnd, "endorse", current_user),
                           is_lead=rnd.lead_id == current_user.id,
                           max_rounds=operations.max_rounds())


@bp.route("/rounds/<int:round_id>/consolidate", methods=["GET", "POST"])
def consolidate(round_id):
    rnd = load_or_404(ReviewRound, round_id, "consolidate")
    if request.method == "GET":
        return _consolidate_page(rnd)
    form = forms.OpinionForm()
    done = submitted(form, operations.propose, rnd, actor=current_user, opinion=form.opinion.data or "",
                     decision=form.decision.data or "", expected_state=form.expected_state.data or None,
                     redirect_to=url_for("reviews.consolidate", round_id=rnd.id),
                     success=_("合议意见已提交两局会签。"))
    return done or (_consolidate_page(rnd, form=form), status(form))


@bp.post("/rounds/<int:round_id>/endorse")
def endorse(round_id):
    rnd = load_or_404(ReviewRound, round_id, "consolidate")
    form = forms.SendBackForm()
    done = submitted(form, operations.endorse, rnd, actor=current_user,
                     expected_state=form.expected_state.data or None,
                     redirect_to=url_for("reviews.consolidate", round_id=round_id),
                     success=lambda r: _("两局均已会签，评审结论已生效。") if r.state == RoundState.DECIDED
                     else _("已会签。"))
    return done or (_consolidate_page(rnd), status(form))


@bp.post("/rounds/<int:round_id>/send-back")
def send_back(round_id):
    rnd = load_or_404(ReviewRound, round_id, "consolidate")
    form = forms.SendBackForm()
    done = submitted(form, operations.send_back, rnd, actor=current_user, comment=form.comment.data or "",
                     expected_state=form.expected_state.data or None,
                     redirect_to=url_for("reviews.consolidate", round_id=round_id), success=_("已退回牵头人。"))
    return done or (_consolidate_page(rnd, back_form=form), status(form))


@bp.post("/rounds/<int:round_id>/ledger")
def list_on_ledger(round_id):
    """列入问题台账: the problems named in the decided opinion go onto the problem ledger
    (through the ledger's own operation, portal.ledger.operations.list_problem)."""
    from portal.ledger.models import Problem

    rnd = load_or_404(ReviewRound, round_id, "view")
    require(current_user, "create", Problem)
    form = forms.LedgerForm()
    done = submitted(form, operations.list_opinion_problems, rnd, actor=current_user, deadline=form.deadline.data,
                     redirect_to=url_for("ledger.index", source="co_review"),
                     success=lambda problems: _("已将 %(n)s 个问题列入问题台账。", n=len(problems)))
    return done or (_round_page(rnd, ledger_form=form), status(form))


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
    for st in operations.criterion_stats(rnd):
        rows.append([_("平均"), "", st["criterion"].name, st["criterion"].weight, st["mean"],
                     _("极差 %(s)s", s=st["spread"] if st["spread"] is not None else "—")])
    return xlsx_response(f"评审汇总-{rnd.report.title}-第{rnd.number}轮.xlsx",
                         [_("评审人"), _("来源"), _("评分标准"), _("权重"), _("得分"), _("评分理由")], rows,
                         sheet_title=_("评审汇总"))


@bp.get("/rounds/<int:round_id>/summary.docx")
def summary_docx(round_id):
    rnd = load_or_404(ReviewRound, round_id, "consolidate")
    buffer = io.BytesIO(queries.summary_docx(rnd))
    response = send_file(buffer, mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                         as_attachment=True, download_name="summary.docx")
    response.headers["Content-Disposition"] = content_disposition(
        f"评审汇总-{rnd.report.title}-第{rnd.number}轮.docx")
    return response


# ---- rubrics --------------------------------------------------------------------------------

def _rubrics_page(form):
    items = list(db.session.scalars(sa.select(RubricTemplate).order_by(RubricTemplate.id)))
    if operations.existing_default_rubric() is None:  # shown as it will be stored on first use (GET never writes)
        items.insert(0, operations.unsaved_default_rubric())
    return render_template("portal/reviews/rubrics.html", rubrics=items, form=form,
                           finance=operations.is_finance_officer(current_user))


@bp.route("/rubrics", methods=["GET", "POST"])
def rubrics():
    require(current_user, "view", RubricTemplate)
    form = forms.RubricForm()
    if request.method == "POST":
        _require_finance()
        if form.validate_on_submit():
            done = submit(operations.save_rubric, form.name.data, form.criteria.data or "", actor=current_user, form=form,
                          redirect_to=url_for("reviews.rubrics"), success=_("评分表已保存。"))
            if done:
                return done
    return _rubrics_page(form), status(form)


@bp.route("/rubrics/<int:rubric_id>/edit", methods=["GET", "POST"])
def edit_rubric(rubric_id):
    rubric = load_or_404(RubricTemplate, rubric_id, "edit")
    form = forms.EditRubricForm(obj=rubric if request.method == "GET" else None)
    if request.method == "GET":
        form.criteria.data = operations.criteria_text(rubric)
    done = submitted(form, operations.update_rubric, rubric, actor=current_user, version=form.lock_version.data,
                     name=form.name.data, criteria=form.criteria.data or "",
                     redirect_to=url_for("reviews.rubrics"), success=_("评分表已保存。"))
    return done or (render_template("portal/reviews/rubric_edit.html", rubric=rubric, form=form,
                                    in_use=operations.rubric_in_use(rubric)), status(form))


# ---- agency quality record --------------------------------------------------------------------

@bp.get("/agencies/<int:org_id>/quality")
def quality(org_id):
    agency = db.session.get(Organisation, org_id)
    if agency is None or agency.kind != OrgKind.AGENCY:
        abort(404)
    require(current_user, "view", AgencyProfile(organisation_id=agency.id))  # transient: who may read it
    rows = queries.quality_record(agency)
    by_year = queries.quality_by_year(rows)
    if request.args.get("format") == "xlsx":
        return xlsx_response(f"机构质量档案-{agency.name}.xlsx",
                             [_("年度"), _("报告"), _("版本数"), _("评审轮次"), _("逾期提交次数"), _("结论"), _("最终得分")],
                             ([r.year, r.report.title, r.versions, r.rounds, r.late_versions,
                               r.decision.label if r.decision else "", r.final_score] for r in rows),
                             sheet_title=_("质量档案"))
    return render_template("portal/reviews/quality.html", agency=agency, rows=rows, by_year=by_year,
                           chart=queries.quality_chart(by_year))
