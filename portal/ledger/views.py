"""The ledger's pages: load → authorise → one operation → render or redirect."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import selectinload

from portal.accounts.models import Organisation, OrgKind
from portal.core import clock
from portal.core.attachments import attachments_of
from portal.core.audit import history
from portal.core.errors import DomainError
from portal.core.excel import xlsx_response
from portal.core.pagination import paginate
from portal.core.permissions import can, load_or_404, require, visible
from portal.extensions import db
from portal.ledger import charts, excel_io
from portal.ledger import operations as ops
from portal.ledger.forms import (
    DecisionForm,
    EditProblemForm,
    ExtensionForm,
    FromFindingsForm,
    ImportForm,
    LongTermForm,
    MilestoneForm,
    ProblemForm,
    ProgressForm,
    SavedFilterForm,
    VerifyForm,
)
from portal.ledger.models import (
    ExtensionRequest,
    Milestone,
    Problem,
    ProblemSource,
    ProblemState,
    ProgressUpdate,
    RectificationType,
    SavedFilter,
)
from portal.ledger.queries import (
    BUCKETS,
    DIMENSION_LABELS,
    DIMENSIONS,
    LedgerFilters,
    filter_choices,
    ledger_statement,
    overall,
    problem_years,
    rates,
)

bp = Blueprint("ledger", __name__, url_prefix="/ledger")

# How each logged action reads in the problem's history (操作记录).
ACTION_LABELS = {
    "problem.list": _l("挂账"), "problem.start": _l("开始整改"), "problem.progress": _l("报送整改进展"),
    "problem.submit": _l("申请销号"), "problem.signoff": _l("确认销号"), "problem.close": _l("销号"),
    "problem.return": _l("退回整改"), "problem.long_term": _l("转为长期整改"), "problem.milestone": _l("添加阶段目标"),
    "problem.milestone_done": _l("阶段目标完成"), "problem.extension_request": _l("申请延期"),
    "problem.extension_approve": _l("同意延期"), "problem.extension_refuse": _l("不同意延期"),
    "problem.edit": _l("修改问题"), "problem.assign": _l("指定整改责任人"), "problem.deadline": _l("设定整改时限"), "problem.remind": _l("催办"),
    "reminder.sent": _l("系统提醒"),
}


def _error_to(form, error: DomainError, default: str) -> None:
    """Roll back, and show the message on its field (and at the top when the state moved on)."""
    from portal.core.errors import IllegalTransition, NotPermitted, StaleRecord

    db.session.rollback()
    if isinstance(error, IllegalTransition | NotPermitted | StaleRecord):
        flash(error.message, "error")
    target = getattr(form, error.field or "", None) or getattr(form, default, None)
    if target is not None and hasattr(target, "errors"):
        if isinstance(target.errors, tuple):
            target.errors = list(target.errors)
        target.errors.append(error.message)
    else:
        flash(error.message, "error")


# ---- the ledger (the officials' spreadsheet) ------------------------------------------

@bp.get("/")
def index():
    require(current_user, "view", Problem)
    filters = LedgerFilters.from_args(request.args)
    page = paginate(ledger_statement(current_user, filters))
    saved = db.session.execute(sa.select(SavedFilter).where(SavedFilter.user_id == current_user.id)
                               .order_by(SavedFilter.name)).scalars().all()
    return render_template("portal/ledger/index.html", page=page, filters=filters, choices=filter_choices(current_user, filters),
                           buckets=BUCKETS, sources=ProblemSource, states=ProblemState, saved=saved,
                           can_bulk=can(current_user, "bulk", Problem), can_create=can(current_user, "create", Problem),
                           save_form=SavedFilterForm(query=urlencode(filters.args())), today=clock.today())


@bp.get("/export.xlsx")
def export():
    require(current_user, "view", Problem)
    filters = LedgerFilters.from_args(request.args)
    stmt = filters.order(filters.apply(visible(current_user, Problem)))
    name = _("问题台账") + f"_{clock.today():%Y%m%d}.xlsx"
    return xlsx_response(name, excel_io.export_headers(), excel_io.export_rows(stmt), sheet_title=_("问题台账"))


@bp.post("/bulk")
def bulk():
    require(current_user, "bulk", Problem)
    action = request.form.get("action", "")
    ids = [int(i) for i in request.form.getlist("ids") if i.isdigit()][:500]
    back = request.form.get("back", "")
    back = back if back.startswith("/") and not back.startswith("//") else url_for("ledger.index")
    problems = db.session.execute(visible(current_user, Problem).where(Problem.id.in_(ids))).scalars().all() if ids else []
    try:
        if action == "assign":
            n = ops.bulk_assign(problems, actor=current_user, person=request.form.get("person", ""))
        elif action == "deadline":
            from datetime import date

            try:
                deadline = date.fromisoformat(request.form.get("deadline", ""))
            except ValueError:
                deadline = None
            n = ops.bulk_deadline(problems, actor=current_user, deadline=deadline)
        elif action == "remind":
            n = ops.bulk_remind(problems, actor=current_user)
        else:
            raise DomainError(_("请选择批量操作。"))
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("已处理 %(n)s 个问题。", n=n), "success")
    return redirect(back)


@bp.post("/filters")
def save_filter():
    form = SavedFilterForm()
    if form.validate_on_submit():
        try:
            ops.save_filter(current_user, name=form.name.data, query=form.query.data or "")
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(_("已保存筛选“%(n)s”。", n=form.name.data.strip()), "success")
    else:
        flash(_("请填写筛选名称（不超过60字）。"), "error")
    allowed = {"year", "unit", "department", "source", "category", "state", "bucket", "q", "sort"}
    query = {k: v for k, v in parse_qsl(form.query.data or "") if k in allowed}
    return redirect(url_for("ledger.index", **query))


@bp.post("/filters/<int:filter_id>/delete")
def delete_filter(filter_id):
    saved = db.session.get(SavedFilter, filter_id)
    if saved is None or saved.user_id != current_user.id:
        abort(404)
    ops.delete_filter(current_user, saved)
    db.session.commit()
    flash(_("已删除筛选。"), "success")
    return redirect(url_for("ledger.index"))


# ---- listing problems -----------------------------------------------------------------

def _unit_choices():
    units = db.session.execute(sa.select(Organisation).where(Organisation.kind == OrgKind.BUDGET_UNIT,
                                                             Organisation.is_active)
                               .order_by(Organisation.id)).scalars()
    return [(0, _("（请选择）"))] + [(u.id, u.name) for u in units]


@bp.route("/new", methods=["GET", "POST"])
def new():
    """By hand (e.g. an audit finding) or, with ?project=, from a monitoring warning."""
    require(current_user, "create", Problem)
    from portal.performance.models import Project

    project = None
    if request.args.get("project"):
        project = load_or_404(Project, request.args.get("project"), "view")
    form = ProblemForm()
    form.unit_id.choices = _unit_choices()
    if request.method == "GET":
        if project is not None:
            form.source.data = ProblemSource.MONITORING.value
            form.unit_id.data = project.unit_id
            form.project_code.data = project.code
            form.year.data = project.year
        elif current_user.is_audit:
            form.source.data = ProblemSource.AUDIT.value
        form.rect_type.data = RectificationType.DEADLINE.value
    if form.validate_on_submit():
        try:
            unit = db.session.get(Organisation, form.unit_id.data) if form.unit_id.data else None
            year = form.year.data
            linked = project
            if form.project_code.data and linked is None:
                stmt = sa.select(Project).where(Project.code == form.project_code.data.strip())
                if year:
                    stmt = stmt.where(Project.year == year)
                linked = db.session.execute(stmt.limit(1)).scalar_one_or_none()
                if linked is None:
                    raise DomainError(_("找不到该项目编码。"), field="project_code")
            problem = ops.list_problem(
                actor=current_user, source=ProblemSource(form.source.data), unit=unit, project=linked,
                source_ref=form.source_ref.data or "", year=year, category=form.category.data,
                description=form.description.data, amount=form.amount.data,
                rect_type=RectificationType(form.rect_type.data), deadline=form.deadline.data,
                policy_basis=form.policy_basis.data, requirement=form.requirement.data,
                completion_standard=form.completion_standard.data,
                person_responsible=form.person_responsible.data)
        except DomainError as error:
            _error_to(form, error, "description")
        else:
            db.session.commit()
            flash(_("已挂账：%(n)s", n=problem.number), "success")
            return redirect(url_for("ledger.detail", problem_id=problem.id))
    return render_template("portal/ledger/new.html", form=form, project=project)


@bp.route("/from-evaluation/<int:evaluation_id>", methods=["GET", "POST"])
def from_evaluation(evaluation_id):
    from portal.performance.models import Evaluation

    evaluation = load_or_404(Evaluation, evaluation_id, "view")
    require(current_user, "create", Problem)
    listed = dict(db.session.execute(
        sa.select(Problem.evaluation_finding_id, Problem.number)
        .where(Problem.evaluation_finding_id.in_([f.id for f in evaluation.findings]))).all())
    form = FromFindingsForm()
    form.findings.choices = [(f.id, f.description) for f in evaluation.findings if f.id not in listed]
    if request.method == "GET":
        form.rect_type.data = RectificationType.DEADLINE.value
    if form.validate_on_submit():
        chosen = [f for f in evaluation.findings if f.id in set(form.findings.data or [])]
        try:
            problems = ops.list_from_findings(evaluation, chosen, actor=current_user, deadline=form.deadline.data,
                                              rect_type=RectificationType(form.rect_type.data),
                                              requirement=form.requirement.data or "",
                                              person_responsible=form.person_responsible.data or "")
        except DomainError as error:
            _error_to(form, error, "findings")
        else:
            db.session.commit()
            flash(_("已挂账 %(n)s 个问题：%(list)s", n=len(problems), list="、".join(p.number for p in problems)),
                  "success")
            return redirect(url_for("ledger.index", unit=evaluation.project.unit_id))
    return render_template("portal/ledger/from_evaluation.html", form=form, evaluation=evaluation, listed=listed)


@bp.get("/evaluations")
def evaluations():
    """Evaluations with findings not yet on the ledger: where finance starts listing."""
    require(current_user, "create", Problem)
    from portal.performance.models import Evaluation, EvaluationFinding

    listed = sa.select(Problem.evaluation_finding_id).where(Problem.evaluation_finding_id.is_not(None))
    pending = (sa.select(EvaluationFinding.evaluation_id, sa.func.count())
               .where(EvaluationFinding.id.not_in(listed)).group_by(EvaluationFinding.evaluation_id))
    counts = dict(db.session.execute(pending).all())
    stmt = (visible(current_user, Evaluation).where(Evaluation.id.in_(list(counts) or [0]))
            .options(selectinload(Evaluation.project)).order_by(Evaluation.year.desc(), Evaluation.id))
    return render_template("portal/ledger/evaluations.html", page=paginate(stmt), counts=counts)


@bp.get("/import/template.xlsx")
def import_template():
    require(current_user, "import", Problem)
    return xlsx_response(_("问题台账导入模板") + ".xlsx", excel_io.template_headers(), [excel_io.template_example()],
                         sheet_title=_("问题台账"))


@bp.route("/import", methods=["GET", "POST"])
def import_view():
    require(current_user, "import", Problem)
    form = ImportForm()
    errors = []
    if form.validate_on_submit():
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            form.file.errors = [_("请选择要导入的 Excel 文件。")]
        else:
            try:
                problems, errors = excel_io.import_problems(upload.read(), actor=current_user)
            except DomainError as error:
                db.session.rollback()
                form.file.errors = [error.message]
            else:
                if errors:
                    db.session.rollback()
                else:
                    db.session.commit()
                    flash(_("已导入 %(n)s 个问题：%(a)s 至 %(b)s。", n=len(problems), a=problems[0].number,
                            b=problems[-1].number), "success")
                    return redirect(url_for("ledger.index"))
    return render_template("portal/ledger/import.html", form=form, errors=errors)


# ---- one problem ------------------------------------------------------------------------

def _detail(problem, **forms):
    stale = str(problem.state)
    forms.setdefault("progress_form", ProgressForm(state=stale, formdata=None))
    forms.setdefault("submit_form", ProgressForm(state=stale, formdata=None, prefix="s"))
    forms.setdefault("extension_form", ExtensionForm(formdata=None))
    forms.setdefault("verify_form", VerifyForm(state=stale, formdata=None))
    forms.setdefault("long_term_form", LongTermForm(state=stale, formdata=None))
    forms.setdefault("milestone_form", MilestoneForm(formdata=None))
    forms.setdefault("decision_form", DecisionForm(formdata=None))
    evidence = {u.id: attachments_of(u, "evidence") for u in problem.updates}
    status = 200 if not any(f.errors for f in forms.values()) else 422
    return render_template(
        "portal/ledger/detail.html", problem=problem, evidence=evidence, history=history(problem),
        action_labels=ACTION_LABELS,
        can_rectify=can(current_user, "rectify", problem) and problem.is_open,
        can_verify=can(current_user, "verify", problem),
        can_manage=can(current_user, "manage", problem),
        can_decide=can(current_user, "decide_extension", problem),
        can_long_term=ops.MACHINE.allowed(problem, "long_term", current_user),
        my_bureau=ops.bureau_of(current_user), today=clock.today(), **forms), status


@bp.get("/<int:problem_id>")
def detail(problem_id):
    problem = load_or_404(Problem, problem_id, "view")
    return _detail(problem)


@bp.route("/<int:problem_id>/edit", methods=["GET", "POST"])
def edit(problem_id):
    problem = load_or_404(Problem, problem_id, "manage")
    form = EditProblemForm(obj=problem if request.method == "GET" else None)
    if request.method == "GET":
        form.state.data = str(problem.state)
        form.rect_type.data = problem.rect_type.value
        form.amount.data = str(problem.amount)
    if form.validate_on_submit():
        try:
            ops.update_problem(problem, actor=current_user, expected_state=form.state.data or None,
                               **{name: getattr(form, name).data for name in ops.EDITABLE if name != "rect_type"},
                               rect_type=RectificationType(form.rect_type.data))
        except DomainError as error:
            _error_to(form, error, "description")
            problem = load_or_404(Problem, problem_id, "view")
        else:
            db.session.commit()
            flash(_("已保存修改。"), "success")
            return redirect(url_for("ledger.detail", problem_id=problem.id))
    return render_template("portal/ledger/edit.html", form=form, problem=problem)


@bp.post("/<int:problem_id>/progress")
def progress(problem_id):
    problem = load_or_404(Problem, problem_id, "rectify")
    form = ProgressForm()
    if form.validate_on_submit():
        try:
            ops.record_progress(problem, actor=current_user, text=form.text.data, money=form.money(),
                                files=request.files.getlist(form.files.name), evidence_date=form.evidence_date.data,
                                measures=form.measures.data, not_done_reason=form.not_done_reason.data,
                                accountability=form.accountability.data, rules_improved=form.rules_improved.data,
                                expected_state=form.state.data or None)
        except DomainError as error:
            _error_to(form, error, "text")
            problem = load_or_404(Problem, problem_id, "view")
        else:
            db.session.commit()
            flash(_("已报送整改进展。"), "success")
            return redirect(url_for("ledger.detail", problem_id=problem.id))
    return _detail(problem, progress_form=form)


@bp.post("/<int:problem_id>/submit")
def submit(problem_id):
    problem = load_or_404(Problem, problem_id, "rectify")
    form = ProgressForm(prefix="s")
    if form.validate_on_submit():
        try:
            ops.submit(problem, actor=current_user, text=form.text.data, money=form.money(),
                       files=request.files.getlist(form.files.name), evidence_date=form.evidence_date.data,
                       measures=form.measures.data, accountability=form.accountability.data,
                       rules_improved=form.rules_improved.data, expected_state=form.state.data or None)
        except DomainError as error:
            _error_to(form, error, "text")
            problem = load_or_404(Problem, problem_id, "view")
        else:
            db.session.commit()
            flash(_("已申请销号，等待财政、审计核实。"), "success")
            return redirect(url_for("ledger.detail", problem_id=problem.id))
    return _detail(problem, submit_form=form)


@bp.post("/<int:problem_id>/extension")
def extension(problem_id):
    problem = load_or_404(Problem, problem_id, "rectify")
    form = ExtensionForm()
    if form.validate_on_submit():
        try:
            ops.request_extension(problem, actor=current_user, new_deadline=form.new_deadline.data,
                                  reason=form.reason.data)
        except DomainError as error:
            _error_to(form, error, "reason")
            problem = load_or_404(Problem, problem_id, "view")
        else:
            db.session.commit()
            flash(_("已提交延期申请。"), "success")
            return redirect(url_for("ledger.detail", problem_id=problem.id))
    return _detail(problem, extension_form=form)


@bp.post("/extensions/<int:extension_id>/<decision>")
def decide(extension_id, decision):
    if decision not in ("approve", "refuse"):
        abort(404)
    ext = load_or_404(ExtensionRequest, extension_id, "view")
    problem = ext.problem
    require(current_user, "decide_extension", problem)
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            ops.decide_extension(ext, actor=current_user, approve=decision == "approve", comment=form.comment.data)
        except DomainError as error:
            _error_to(form, error, "comment")
            problem = load_or_404(Problem, problem.id, "view")
        else:
            db.session.commit()
            flash(_("已处理延期申请。"), "success")
            return redirect(url_for("ledger.detail", problem_id=problem.id))
    return _detail(problem, decision_form=form)


@bp.post("/<int:problem_id>/verify")
def verify(problem_id):
    """Sign off (销号确认) or return (退回) — the bureaus' verification."""
    problem = load_or_404(Problem, problem_id, "verify")
    form = VerifyForm()
    decision = request.form.get("decision")
    if form.validate_on_submit():
        try:
            if decision == "signoff":
                ops.sign_off(problem, actor=current_user, comment=form.comment.data or "",
                             expected_state=form.state.data or None)
                message = _("已确认销号。") if problem.state != ProblemState.CLOSED else _("双方均已确认，问题已销号。")
            elif decision == "return":
                ops.return_problem(problem, actor=current_user, reason=form.comment.data or "",
                                   expected_state=form.state.data or None)
                message = _("已退回整改。")
            else:
                raise DomainError(_("请选择确认销号或退回。"))
        except DomainError as error:
            _error_to(form, error, "comment")
            problem = load_or_404(Problem, problem_id, "view")
        else:
            db.session.commit()
            flash(message, "success")
            return redirect(url_for("ledger.detail", problem_id=problem.id))
    return _detail(problem, verify_form=form)


@bp.post("/<int:problem_id>/long-term")
def long_term(problem_id):
    problem = load_or_404(Problem, problem_id, "manage")
    form = LongTermForm()
    if form.validate_on_submit():
        milestones = []
        if form.milestone_title.data:
            milestones.append((form.milestone_title.data, form.milestone_due.data))
        try:
            ops.mark_long_term(problem, actor=current_user, reason=form.reason.data, milestones=milestones,
                               expected_state=form.state.data or None)
        except DomainError as error:
            _error_to(form, error, "reason")
            problem = load_or_404(Problem, problem_id, "view")
        else:
            db.session.commit()
            flash(_("已转为长期整改。"), "success")
            return redirect(url_for("ledger.detail", problem_id=problem.id))
    return _detail(problem, long_term_form=form)


@bp.post("/<int:problem_id>/milestones")
def milestone(problem_id):
    problem = load_or_404(Problem, problem_id, "manage")
    form = MilestoneForm()
    if form.validate_on_submit():
        try:
            ops.add_milestone(problem, actor=current_user, title=form.title.data, due_date=form.due_date.data)
        except DomainError as error:
            _error_to(form, error, "title")
            problem = load_or_404(Problem, problem_id, "view")
        else:
            db.session.commit()
            flash(_("已添加阶段目标。"), "success")
            return redirect(url_for("ledger.detail", problem_id=problem.id))
    return _detail(problem, milestone_form=form)


@bp.post("/milestones/<int:milestone_id>/done")
def milestone_done(milestone_id):
    item = load_or_404(Milestone, milestone_id, "view")
    try:
        ops.complete_milestone(item, actor=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("阶段目标已完成。"), "success")
    return redirect(url_for("ledger.detail", problem_id=item.problem_id))


# ---- statistics ---------------------------------------------------------------------------

def _stats_args():
    dimension = request.args.get("by", "department")
    dimension = dimension if dimension in DIMENSIONS else "department"
    try:
        year = int(request.args.get("year", "") or 0) or None
    except ValueError:
        year = None
    return dimension, year


@bp.get("/stats")
def stats():
    require(current_user, "stats", Problem)
    dimension, year = _stats_args()
    rows = rates(current_user, dimension, year=year)
    units = rows if dimension == "unit" else rates(current_user, "unit", year=year)
    return render_template("portal/ledger/stats.html", rows=rows, dimension=dimension, year=year,
                           dimensions=DIMENSION_LABELS, total=overall(current_user, year=year),
                           cleared=[r for r in units if r.cleared], years=problem_years(current_user),
                           chart=charts.rate_chart(rows, title=str(DIMENSION_LABELS[dimension])))


@bp.get("/stats.xlsx")
def stats_export():
    require(current_user, "stats", Problem)
    dimension, year = _stats_args()
    rows = rates(current_user, dimension, year=year)
    headers = [str(DIMENSION_LABELS[dimension]), _("问题总数"), _("已销号"), _("未销号"), _("逾期"), _("整改率（按数量）"),
               _("问题金额（万元）"), _("整改金额（万元）"), _("整改率（按金额）"), _("清零")]
    body = ([r.label, r.total, r.closed, r.total - r.closed, r.overdue,
             float(round(r.count_rate, 4)) if r.count_rate is not None else None,
             excel_io._wan(r.amount), excel_io._wan(r.rectified),
             float(round(r.amount_rate, 4)) if r.amount_rate is not None else None,
             _("是") if r.cleared else ""] for r in rows)
    return xlsx_response(_("整改率统计") + f"_{dimension}.xlsx", headers, body, sheet_title=_("整改率"))


@bp.get("/stats/chart.svg")
def stats_chart():
    require(current_user, "stats", Problem)
    dimension, year = _stats_args()
    svg = charts.rate_chart(rates(current_user, dimension, year=year), title=str(DIMENSION_LABELS[dimension]))
    return Response(svg, mimetype="image/svg+xml", headers={"Content-Disposition": "inline; filename=chart.svg"})


# keep the ProgressUpdate import used (record type registration happens in models)
__all__ = ["bp", "ProgressUpdate"]
