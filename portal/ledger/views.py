# Over 400 lines: the ledger's list, bulk actions, detail, progress, sign-off and import pages; to be split by page group.
"""The ledger's pages: load → authorise → one operation → render or redirect."""
from __future__ import annotations

import itertools
from urllib.parse import parse_qsl, urlencode

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from portal.accounts.models import Organisation, OrgKind
from portal.core import clock, parsing
from portal.core.attachments import attachments_of
from portal.core.bulk import carry_out
from portal.core.errors import DomainError
from portal.core.excel import uploaded_xlsx, xlsx_response
from portal.core.pagination import paginate
from portal.core.permissions import can, load_or_404, require, visible
from portal.core.writes import DOMAIN_ERROR_STATUS, show_error, status, submit, submitted
from portal.extensions import db
from portal.ledger import charts, excel_io, models, operations
from portal.ledger.forms import (
    DecisionForm,
    EditProblemForm,
    ExtensionForm,
    FromFindingsForm,
    ImportForm,
    LedgerBulkForm,
    LedgerFiltersForm,
    LongTermForm,
    MilestoneForm,
    ProblemForm,
    ProgressForm,
    SavedFilterForm,
    VerifyForm,
)
from portal.ledger.lists import LEDGER
from portal.ledger.queries import (
    BUCKETS,
    DIMENSION_LABELS,
    DIMENSIONS,
    RATE_DEFINITIONS,
    LedgerFilters,
    filter_choices,
    ledger_statement,
    overall,
    problem_history,
    problem_years,
    rates,
)

bp = Blueprint("ledger", __name__, url_prefix="/ledger")


# ---- the ledger (the officials' spreadsheet) ------------------------------------------

@bp.get("/")
def index():
    require(current_user, "view", models.Problem)
    state = LEDGER.read(request.args)
    filters = state.filters
    stmt = state.order(ledger_statement(current_user, filters))
    if state.export_format:
        return state.export(stmt, _("问题台账"))
    saved = db.session.execute(sa.select(models.SavedFilter).where(models.SavedFilter.user_id == current_user.id)
                               .order_by(models.SavedFilter.name)).scalars().all()
    return render_template("portal/ledger/index.html", page=state.page(stmt), state=state, filters=filters,
                           choices=filter_choices(current_user, filters),
                           buckets=BUCKETS, sources=models.ProblemSource, states=models.ProblemState, saved=saved,
                           can_bulk=can(current_user, "bulk", models.Problem),
                           can_create=can(current_user, "create", models.Problem),
                           save_form=SavedFilterForm(query=urlencode(state.args())), today=clock.today())


@bp.get("/export.xlsx")
def export():
    require(current_user, "view", models.Problem)
    filters = LedgerFilters.from_args(request.args)
    stmt = filters.order(filters.apply(visible(current_user, models.Problem)))
    name = _("问题台账") + f"_{clock.today():%Y%m%d}.xlsx"
    return xlsx_response(name, excel_io.export_headers(), excel_io.export_rows(stmt), sheet_title=_("问题台账"))


@bp.post("/bulk")
def bulk():
    require(current_user, "bulk", models.Problem)
    return carry_out(LedgerBulkForm(), operations.bulk_problems, back=url_for("ledger.index"),
                     fields=("person", "deadline"))


@bp.post("/filters")
def save_filter():
    form = SavedFilterForm()
    allowed = {"year", "unit", "department", "source", "category", "state", "bucket", "q", "sort"}
    query = {k: v for k, v in parse_qsl(form.query.data or "") if k in allowed}
    back = url_for("ledger.index", **query)
    if not form.validate_on_submit():
        flash(_("请填写筛选名称（不超过60字）。"), "error")
        return redirect(back)
    done = submit(operations.save_filter, current_user, name=form.name.data, query=form.query.data or "", form=form,
                  redirect_to=back, success=lambda row: _("已保存筛选“%(n)s”。", n=row.name))
    if done is None:
        for error in form.name.errors:
            flash(error, "error")
    return done or redirect(back)


@bp.post("/filters/<int:filter_id>/delete")
def delete_filter(filter_id):
    saved = db.session.get(models.SavedFilter, filter_id)
    if saved is None or saved.user_id != current_user.id:
        abort(404)
    back = url_for("ledger.index")
    return submit(operations.delete_filter, current_user, saved, redirect_to=back, success=_("已删除筛选。")) or redirect(back)


# ---- listing problems -----------------------------------------------------------------

def _unit_choices():
    units = db.session.execute(sa.select(Organisation).where(Organisation.kind == OrgKind.BUDGET_UNIT,
                                                             Organisation.is_active)
                               .order_by(Organisation.id)).scalars()
    return [(0, _("（请选择）"))] + [(u.id, u.name) for u in units]


@bp.route("/new", methods=["GET", "POST"])
def new():
    """By hand (e.g. an audit finding) or, with ?project=, from a monitoring warning."""
    require(current_user, "create", models.Problem)
    from portal.performance.models import Project

    project = None
    if request.args.get("project"):
        project = load_or_404(Project, parsing.arg_id("project", 0), "view")
    form = ProblemForm()
    form.unit_id.choices = _unit_choices()
    if request.method == "GET":
        if project is not None:
            form.source.data = models.ProblemSource.MONITORING.value
            form.unit_id.data = project.unit_id
            form.project_code.data = project.code
            form.year.data = project.year
        elif current_user.is_audit:
            form.source.data = models.ProblemSource.AUDIT.value
        form.rect_type.data = models.RectificationType.DEADLINE.value
    if form.validate_on_submit():
        done = submit(
            operations.list_from_form, actor=current_user, unit_id=form.unit_id.data, project=project,
            project_code=form.project_code.data or "", year=form.year.data,
            source=models.ProblemSource(form.source.data),
            source_ref=form.source_ref.data or "", category=form.category.data, description=form.description.data,
            amount=form.amount.data, rect_type=models.RectificationType(form.rect_type.data),
            deadline=form.deadline.data,
            policy_basis=form.policy_basis.data, requirement=form.requirement.data,
            completion_standard=form.completion_standard.data, person_responsible=form.person_responsible.data,
            form=form, redirect_to=lambda p: url_for("ledger.detail", problem_id=p.id),
            success=lambda p: _("已挂账：%(n)s", n=p.number))
        if done:
            return done
    return render_template("portal/ledger/new.html", form=form, project=project), status(form)


@bp.route("/from-evaluation/<int:evaluation_id>", methods=["GET", "POST"])
def from_evaluation(evaluation_id):
    from portal.performance.models import Evaluation

    evaluation = load_or_404(Evaluation, evaluation_id, "view")
    require(current_user, "create", models.Problem)
    listed = dict(db.session.execute(
        sa.select(models.Problem.evaluation_finding_id, models.Problem.number)
        .where(models.Problem.evaluation_finding_id.in_([f.id for f in evaluation.findings]))).all())
    form = FromFindingsForm()
    form.findings.choices = [(f.id, f.description) for f in evaluation.findings if f.id not in listed]
    if request.method == "GET":
        form.rect_type.data = models.RectificationType.DEADLINE.value
    if form.validate_on_submit():
        chosen = [f for f in evaluation.findings if f.id in set(form.findings.data or [])]
        done = submit(operations.list_from_findings, evaluation, chosen, actor=current_user, deadline=form.deadline.data,
                      rect_type=models.RectificationType(form.rect_type.data), requirement=form.requirement.data or "",
                      person_responsible=form.person_responsible.data or "", form=form,
                      redirect_to=url_for("ledger.index", unit=evaluation.project.unit_id),
                      success=lambda problems: _("已挂账 %(n)s 个问题：%(list)s", n=len(problems),
                                                 list="、".join(p.number for p in problems)))
        if done:
            return done
    return render_template("portal/ledger/from_evaluation.html", form=form, evaluation=evaluation,
                           listed=listed), status(form)


@bp.get("/evaluations")
def evaluations():
    """Evaluations with findings not yet on the ledger: where finance starts listing."""
    require(current_user, "create", models.Problem)
    from portal.performance.models import Evaluation, EvaluationFinding

    listed = sa.select(models.Problem.evaluation_finding_id).where(models.Problem.evaluation_finding_id.is_not(None))
    pending = (sa.select(EvaluationFinding.evaluation_id, sa.func.count())
               .where(EvaluationFinding.id.not_in(listed)).group_by(EvaluationFinding.evaluation_id))
    counts = dict(db.session.execute(pending).all())
    stmt = (visible(current_user, Evaluation).where(Evaluation.id.in_(list(counts) or [0]))
            .options(selectinload(Evaluation.project)).order_by(Evaluation.year.desc(), Evaluation.id))
    return render_template("portal/ledger/evaluations.html", page=paginate(stmt), counts=counts)


@bp.get("/import/template.xlsx")
def import_template():
    require(current_user, "import", models.Problem)
    return xlsx_response(_("问题台账导入模板") + ".xlsx", excel_io.template_headers(), [excel_io.template_example()],
                         sheet_title=_("问题台账"))


@bp.route("/import", methods=["GET", "POST"])
def import_view():
    """The file is checked here (present, .xlsx, size); reading, checking and writing its rows
    is a job (ledger/jobs.py), whose page shows the progress and then the result or the errors."""
    require(current_user, "import", models.Problem)
    form = ImportForm()
    if form.validate_on_submit():
        data, refusal = uploaded_xlsx(request.files.get("file"))
        if refusal:
            form.file.errors = [refusal]
        else:
            from portal.core import background
            from portal.ledger.jobs import IMPORT

            return submit(background.start, IMPORT, actor=current_user, upload=data, form=form,
                          redirect_to=lambda job: url_for("jobs.show", job_id=job.id))
    return render_template("portal/ledger/import.html", form=form, errors=[]), (
        DOMAIN_ERROR_STATUS if form.file.errors else status(form))


@bp.post("/export-all")
def export_all():
    """导出全部（后台生成）: the whole ledger under the current filter, written by a job."""
    require(current_user, "view", models.Problem)
    from portal.core import background
    from portal.ledger.jobs import EXPORT

    form = LedgerFiltersForm()
    parsing.require_valid(form)
    filters = LedgerFilters.from_args(form.filters())
    back = url_for("ledger.index", **filters.args())
    return submit(background.start, EXPORT, actor=current_user, payload={"filters": filters.args()},
                  redirect_to=lambda job: url_for("jobs.show", job_id=job.id)) or redirect(back)


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
    refused = any(f.errors for f in forms.values())
    return render_template(
        "portal/ledger/detail.html", problem=problem, evidence=evidence, history=problem_history(problem),
        can_rectify=can(current_user, "rectify", problem) and problem.is_open,
        can_verify=can(current_user, "verify", problem),
        can_manage=can(current_user, "manage", problem),
        can_decide=can(current_user, "decide_extension", problem),
        can_long_term=operations.MACHINE.allowed(problem, "long_term", current_user),
        my_bureau=operations.bureau_of(current_user), today=clock.today(),
        **forms), DOMAIN_ERROR_STATUS if refused else status()


def _to_detail(problem_id: int):
    return lambda _result: url_for("ledger.detail", problem_id=problem_id)


@bp.get("/<int:problem_id>")
def detail(problem_id):
    problem = load_or_404(models.Problem, problem_id, "view")
    return _detail(problem)


@bp.route("/<int:problem_id>/edit", methods=["GET", "POST"])
def edit(problem_id):
    problem = load_or_404(models.Problem, problem_id, "manage")
    form = EditProblemForm(obj=problem if request.method == "GET" else None)
    if request.method == "GET":
        form.rect_type.data = problem.rect_type.value
        form.amount.data = str(problem.amount)
    if form.validate_on_submit():
        # A stale form (another user saved since it was loaded) is refused, the input kept.
        done = submit(operations.update_problem, problem, actor=current_user, version=form.lock_version.data,
                      **{name: getattr(form, name).data for name in operations.EDITABLE if name != "rect_type"},
                      rect_type=models.RectificationType(form.rect_type.data), form=form,
                      redirect_to=_to_detail(problem_id), success=_("已保存修改。"))
        if done:
            return done
    return render_template("portal/ledger/edit.html", form=form, problem=problem), status(form)


def _report(form) -> dict:
    """A progress report's fields (the progress and the 申请销号 forms share them)."""
    return dict(text=form.text.data, money=form.money(), files=request.files.getlist(form.files.name),
                evidence_date=form.evidence_date.data, measures=form.measures.data,
                accountability=form.accountability.data, rules_improved=form.rules_improved.data,
                expected_state=form.state.data or None)


@bp.post("/<int:problem_id>/progress")
def progress(problem_id):
    problem = load_or_404(models.Problem, problem_id, "rectify")
    form = ProgressForm()
    done = submitted(form, operations.record_progress, problem, actor=current_user,
                     not_done_reason=form.not_done_reason.data, **_report(form),
                     redirect_to=_to_detail(problem_id), success=_("已报送整改进展。"))
    return done or _detail(problem, progress_form=form)


@bp.post("/<int:problem_id>/submit", endpoint="submit")
def submit_for_closing(problem_id):
    problem = load_or_404(models.Problem, problem_id, "rectify")
    form = ProgressForm(prefix="s")
    done = submitted(form, operations.submit, problem, actor=current_user, **_report(form),
                     redirect_to=_to_detail(problem_id), success=_("已申请销号，等待财政、审计核实。"))
    return done or _detail(problem, submit_form=form)


@bp.post("/<int:problem_id>/extension")
def extension(problem_id):
    problem = load_or_404(models.Problem, problem_id, "rectify")
    form = ExtensionForm()
    done = submitted(form, operations.request_extension, problem, actor=current_user, new_deadline=form.new_deadline.data,
                     reason=form.reason.data, redirect_to=_to_detail(problem_id),
                     success=_("已提交延期申请。"))
    return done or _detail(problem, extension_form=form)


@bp.post("/extensions/<int:extension_id>/<decision>")
def decide(extension_id, decision):
    if decision not in ("approve", "refuse"):
        abort(404)
    ext = load_or_404(models.ExtensionRequest, extension_id, "view")
    problem = ext.problem
    require(current_user, "decide_extension", problem)
    form = DecisionForm()
    done = submitted(form, operations.decide_extension, ext, actor=current_user, approve=decision == "approve",
                     comment=form.comment.data, redirect_to=_to_detail(problem.id),
                     success=_("已处理延期申请。"))
    return done or _detail(problem, decision_form=form)


def _verified(problem) -> str:
    return _("已确认销号。") if problem.state != models.ProblemState.CLOSED else _("双方均已确认，问题已销号。")


@bp.post("/<int:problem_id>/verify")
def verify(problem_id):
    """Sign off (销号确认) or return (退回) — the bureaus' verification."""
    problem = load_or_404(models.Problem, problem_id, "verify")
    form = VerifyForm()
    decision = form.decision.data
    if form.validate_on_submit():
        if decision == "signoff":
            done = submit(operations.sign_off, problem, actor=current_user, comment=form.comment.data or "",
                          expected_state=form.state.data or None, form=form, redirect_to=_to_detail(problem_id),
                          success=lambda _row: _verified(problem))
        elif decision == "return":
            done = submit(operations.return_problem, problem, actor=current_user, reason=form.comment.data or "",
                          expected_state=form.state.data or None, form=form, redirect_to=_to_detail(problem_id),
                          success=_("已退回整改。"))
        else:
            show_error(DomainError(_("请选择确认销号或退回。"), field="comment"), form)
            done = None
        if done:
            return done
    return _detail(problem, verify_form=form)


@bp.post("/<int:problem_id>/long-term")
def long_term(problem_id):
    problem = load_or_404(models.Problem, problem_id, "manage")
    form = LongTermForm()
    milestones = [(form.milestone_title.data, form.milestone_due.data)] if form.milestone_title.data else []
    done = submitted(form, operations.mark_long_term, problem, actor=current_user, reason=form.reason.data,
                     milestones=milestones, expected_state=form.state.data or None,
                     redirect_to=_to_detail(problem_id), success=_("已转为长期整改。"))
    return done or _detail(problem, long_term_form=form)


@bp.post("/<int:problem_id>/milestones")
def milestone(problem_id):
    problem = load_or_404(models.Problem, problem_id, "manage")
    form = MilestoneForm()
    done = submitted(form, operations.add_milestone, problem, actor=current_user, title=form.title.data,
                     due_date=form.due_date.data, redirect_to=_to_detail(problem_id),
                     success=_("已添加阶段目标。"))
    return done or _detail(problem, milestone_form=form)


@bp.post("/milestones/<int:milestone_id>/done")
def milestone_done(milestone_id):
    item = load_or_404(models.Milestone, milestone_id, "view")
    back = url_for("ledger.detail", problem_id=item.problem_id)
    return submit(operations.complete_milestone, item, actor=current_user, redirect_to=back,
                  success=_("阶段目标已完成。")) or redirect(back)


# ---- statistics ---------------------------------------------------------------------------

def _stats_args():
    dimension = request.args.get("by", "department")
    dimension = dimension if dimension in DIMENSIONS else "department"
    return dimension, parsing.arg_year()


@bp.get("/stats")
def stats():
    require(current_user, "stats", models.Problem)
    dimension, year = _stats_args()
    rows = rates(current_user, dimension, year=year)
    units = rows if dimension == "unit" else rates(current_user, "unit", year=year)
    return render_template("portal/ledger/stats.html", rows=rows, dimension=dimension, year=year,
                           dimensions=DIMENSION_LABELS, total=overall(current_user, year=year),
                           cleared=[r for r in units if r.cleared], years=problem_years(current_user),
                           chart=charts.rate_chart(rows, title=str(DIMENSION_LABELS[dimension])))


def _ratio(rate):
    return float(round(rate, 4)) if rate is not None else None


@bp.get("/stats.xlsx")
def stats_export():
    require(current_user, "stats", models.Problem)
    dimension, year = _stats_args()
    rows = rates(current_user, dimension, year=year)
    headers = [str(DIMENSION_LABELS[dimension]), _("问题总数"), _("已销号"), _("未销号"), _("逾期"), _("整改率（按数量）"),
               _("问题金额（万元）"), _("整改金额（万元）"), _("整改率（按金额）"), _("清零"),
               _("到期问题数"), _("到期整改率（按数量）"), _("到期问题金额（万元）"), _("到期整改金额（万元）"),
               _("到期整改率（按金额）")]
    body = ([r.label, r.total, r.closed, r.total - r.closed, r.overdue, _ratio(r.count_rate),
             excel_io._wan(r.amount), excel_io._wan(r.rectified), _ratio(r.amount_rate), _("是") if r.cleared else "",
             r.due, _ratio(r.due_count_rate), excel_io._wan(r.due_amount), excel_io._wan(r.due_rectified),
             _ratio(r.due_amount_rate)] for r in rows)
    body = itertools.chain(body, [[]], ([str(term), str(meaning)] for term, meaning in RATE_DEFINITIONS))
    return xlsx_response(_("整改率统计") + f"_{DIMENSION_LABELS[dimension]}.xlsx", headers, body, sheet_title=_("整改率"))


@bp.get("/stats/chart.svg")
def stats_chart():
    require(current_user, "stats", models.Problem)
    dimension, year = _stats_args()
    svg = charts.rate_chart(rates(current_user, dimension, year=year), title=str(DIMENSION_LABELS[dimension]),
                            standalone=True)
    return Response(svg, mimetype="image/svg+xml", headers={"Content-Disposition": "inline; filename=chart.svg"})

