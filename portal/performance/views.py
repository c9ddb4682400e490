"""Pages of the performance module. Each handler: load (404) → authorise (403) → one operation
→ render or redirect; a DomainError re-renders the form with the message and what was typed."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.models import Organisation, OrgKind
from portal.core.attachments import attachments_of, save_upload
from portal.core.audit import history
from portal.core.errors import DomainError
from portal.core.htmx import render as hx_render
from portal.core.pagination import paginate
from portal.core.permissions import can, load_or_404, org_subtree_ids, require, visible
from portal.extensions import db
from portal.performance import operations as ops
from portal.performance import queries, settings
from portal.performance.forms import ProjectForm, StopForm
from portal.performance.models import (
    LEVEL2_OF,
    BudgetType,
    Evaluation,
    EvaluationMode,
    EvaluationState,
    GoalState,
    Grade,
    Indicator,
    Level1,
    Level2,
    LibraryIndicator,
    MonitoringReport,
    Operator,
    PerformanceGoal,
    Project,
    ProjectKind,
    QualitativeTier,
)
from portal.performance.monitoring import Light

bp = Blueprint("performance", __name__)

REPORT_FILES = {"pdf", "docx", "doc", "xlsx", "xls", "png", "jpeg", "zip", "text"}


def _orgs(kind=OrgKind.BUDGET_UNIT):
    return db.session.scalars(sa.select(Organisation).where(Organisation.kind == kind)
                              .order_by(Organisation.code, Organisation.id)).all()


def _filter_orgs(department: str, unit: str):
    """Departments for the filter, and the units of the chosen department only: a province has
    thousands of units, which would make every list page a megabyte of <option>s."""
    rows = db.session.execute(sa.select(Organisation.id, Organisation.name, Organisation.parent_id)
                              .where(Organisation.kind == OrgKind.BUDGET_UNIT)
                              .order_by(Organisation.code, Organisation.id)).all()
    departments = [r for r in rows if r.parent_id is None]
    if department.isdigit():
        reach = org_subtree_ids(int(department))
        return departments, [r for r in rows if r.id in reach]
    return departments, [r for r in rows if unit.isdigit() and r.id == int(unit)]


# ---- projects --------------------------------------------------------------------------------

@bp.get("/projects")
def projects():
    args = {k: request.args.get(k, "") for k in queries.FILTER_KEYS}
    stmt = queries.with_orgs(queries.project_list_stmt(current_user, request.args))
    page = paginate(stmt)
    departments, units = _filter_orgs(args.get("department"), args.get("unit"))
    return render_template("portal/performance/projects.html", page=page, args=args,
                           extras=queries.decorate(page.items), units=units, departments=departments,
                           kinds=ProjectKind, budget_types=BudgetType, grades=Grade, bands=queries.AMOUNT_BANDS,
                           can_create=can(current_user, "create", Project))


def _project_form_view(project: Project | None):
    require(current_user, "create" if project is None else "edit", project or Project)
    units = ops.units_in_reach(current_user)
    form = ProjectForm(obj=project, units=units)
    if request.method == "GET" and project is None:
        form.year.data = form.year.data or "2026"
    if form.validate_on_submit():
        data = {name: f.data for name, f in form._fields.items()}
        try:
            if project is None:
                project = ops.create_project(data, actor=current_user)
            else:
                ops.update_project(project, data, actor=current_user)
        except DomainError as error:
            getattr(form, error.field or "name").errors.append(error.message)
            db.session.rollback()
        else:
            db.session.commit()
            flash(_("项目已保存。"), "success")
            return redirect(url_for("performance.project", project_id=project.id))
    return render_template("portal/performance/project_form.html", form=form, project=project)


@bp.route("/projects/new", methods=["GET", "POST"])
def new_project():
    return _project_form_view(None)


@bp.route("/projects/<int:project_id>/edit", methods=["GET", "POST"])
def edit_project(project_id):
    return _project_form_view(load_or_404(Project, project_id, "edit"))


@bp.get("/projects/<int:project_id>")
def project(project_id):
    project = load_or_404(Project, project_id)
    reports = db.session.scalars(sa.select(MonitoringReport).where(MonitoringReport.project_id == project.id)
                                 .order_by(MonitoringReport.month)).all()
    evaluations = [e for e in project.evaluations if can(current_user, "view", e)]
    return render_template("portal/performance/project.html", project=project, goal=project.current_goal,
                           reports=reports, evaluations=evaluations, files=attachments_of(project),
                           stop_form=StopForm(), history=history(project),
                           can_edit=can(current_user, "edit", project), is_finance=ops.is_finance_officer(current_user),
                           modes=EvaluationMode, agencies=_orgs(OrgKind.AGENCY))


@bp.post("/projects/<int:project_id>/stop")
def stop_project(project_id):
    project = load_or_404(Project, project_id)
    try:
        ops.stop_project(project, request.form.get("reason", ""), actor=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("项目已终止。"), "success")
    return redirect(url_for("performance.project", project_id=project.id))


@bp.post("/projects/<int:project_id>/files")
def upload_project_file(project_id):
    project = load_or_404(Project, project_id, "edit")
    upload = request.files.get("file")
    if not upload or not upload.filename:
        flash(_("请选择要上传的文件。"), "error")
        return redirect(url_for("performance.project", project_id=project.id))
    try:
        save_upload(upload, actor=current_user, record=project, purpose="document", allowed=REPORT_FILES)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("文件已上传。"), "success")
    return redirect(url_for("performance.project", project_id=project.id))


# ---- goal and indicator table ----------------------------------------------------------------

def _goal_context(project, goal, **extra):
    library = []
    if goal is not None and not goal.locked and can(current_user, "edit", project):
        library = db.session.scalars(sa.select(LibraryIndicator).order_by(LibraryIndicator.sector,
                                                                          LibraryIndicator.id).limit(500)).all()
    errors = ops.validate_goal_rows([ops.indicator_row(i) for i in goal.indicators], goal.overall_goal) \
        if goal is not None else None
    context = dict(project=project, goal=goal, versions=list(project.goals), level1=Level1, level2=Level2,
                level2_of=LEVEL2_OF, operators=Operator, grades=Grade, library=library, check=errors,
                can_edit=goal is not None and can(current_user, "edit", project) and goal.state in (
                    GoalState.DRAFT, GoalState.RETURNED),
                can_review=goal is not None and goal.state == GoalState.SUBMITTED
                and ops.is_finance_officer(current_user),
                can_revise=goal is not None and goal.state == GoalState.APPROVED and can(current_user, "edit", project),
                history=history(goal) if goal is not None else [], row_errors={}, edit_row=None, new_row=None,
                typed=None)
    context.update(extra)
    return context


@bp.get("/projects/<int:project_id>/goal")
def goal(project_id):
    project = load_or_404(Project, project_id)
    version = request.args.get("version", type=int)
    goal = next((g for g in project.goals if g.version == version), None) if version else project.current_goal
    return render_template("portal/performance/goal.html", **_goal_context(project, goal))


@bp.post("/projects/<int:project_id>/goal")
def start_goal(project_id):
    project = load_or_404(Project, project_id, "edit")
    try:
        ops.goal_for(project, actor=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
    return redirect(url_for("performance.goal", project_id=project.id))


def _load_goal(goal_id) -> PerformanceGoal:
    return load_or_404(PerformanceGoal, goal_id)


@bp.post("/goals/<int:goal_id>/overall")
def goal_overall(goal_id):
    goal = load_or_404(PerformanceGoal, goal_id, "edit")
    try:
        ops.set_overall_goal(goal, request.form.get("overall_goal", ""), actor=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("总体目标已保存。"), "success")
    return redirect(url_for("performance.goal", project_id=goal.project_id))


def _row_from_form(form) -> dict:
    return {k: form.get(k, "") for k in ("level1", "level2", "name", "operator", "target_value", "target_text",
                                         "unit", "weight")}


def _rows_response(goal, **extra):
    """htmx: the indicator table partial; otherwise the goal page."""
    context = _goal_context(goal.project, goal, **extra)
    return hx_render("portal/performance/goal.html", "portal/performance/_indicator_table.html", **context)


@bp.post("/goals/<int:goal_id>/rows")
def add_row(goal_id):
    goal = load_or_404(PerformanceGoal, goal_id, "edit")
    row = _row_from_form(request.form)
    if request.form.get("library_id"):
        item = db.session.get(LibraryIndicator, request.form.get("library_id", type=int) or 0)
        if item is not None:
            row = {"level1": item.level1.value, "level2": item.level2.value, "name": item.name,
                   "operator": item.operator.value, "unit": item.unit, "weight": row.get("weight") or "0",
                   "target_value": "" if item.operator == Operator.QUALITATIVE else
                   "".join(c for c in item.suggested_value if c.isdigit() or c == "."),
                   "target_text": item.suggested_value if item.operator == Operator.QUALITATIVE else ""}
    try:
        ops.add_indicator(goal, row, actor=current_user)
    except DomainError as error:
        db.session.rollback()
        db.session.refresh(goal)
        return _rows_response(goal, new_row=row, row_errors={"new": ops.row_errors(row) or {error.field or "name": error.message}})
    db.session.commit()
    return _rows_response(goal)


@bp.get("/indicators/<int:indicator_id>/edit")
def edit_row(indicator_id):
    ind = load_or_404(Indicator, indicator_id, "edit")
    return _rows_response(ind.goal, edit_row=ind.id)


@bp.post("/indicators/<int:indicator_id>")
def update_row(indicator_id):
    ind = load_or_404(Indicator, indicator_id, "edit")
    row = _row_from_form(request.form)
    try:
        ops.update_indicator(ind, row, actor=current_user)
    except DomainError as error:
        db.session.rollback()
        goal = db.session.get(PerformanceGoal, ind.goal_id)
        return _rows_response(goal, edit_row=indicator_id, typed=row,
                              row_errors={indicator_id: ops.row_errors(row) or {error.field or "name": error.message}})
    db.session.commit()
    return _rows_response(ind.goal)


@bp.post("/indicators/<int:indicator_id>/delete")
def delete_row(indicator_id):
    ind = load_or_404(Indicator, indicator_id, "edit")
    goal = ind.goal
    try:
        ops.delete_indicator(ind, actor=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
    return _rows_response(goal)


@bp.post("/indicators/<int:indicator_id>/move")
def move_row(indicator_id):
    ind = load_or_404(Indicator, indicator_id, "edit")
    goal = ind.goal
    try:
        ops.move_indicator(ind, 1 if request.form.get("direction") == "down" else -1, actor=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
    return _rows_response(goal)


@bp.post("/goals/<int:goal_id>/submit")
def submit_goal(goal_id):
    goal = load_or_404(PerformanceGoal, goal_id, "edit")
    try:
        ops.submit_goal(goal, actor=current_user, expected_state=request.form.get("state") or None)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("绩效目标已提交审核。"), "success")
    return redirect(url_for("performance.goal", project_id=goal.project_id))


@bp.post("/goals/<int:goal_id>/review")
def review_goal(goal_id):
    goal = _load_goal(goal_id)
    try:
        ops.review_goal(goal, request.form.get("decision", ""), request.form.get("grade", ""),
                        request.form.get("comment", ""), actor=current_user,
                        expected_state=request.form.get("state") or None)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("审核结果已保存。"), "success")
    return redirect(url_for("performance.goal", project_id=goal.project_id))


@bp.post("/goals/<int:goal_id>/revise")
def revise_goal(goal_id):
    goal = load_or_404(PerformanceGoal, goal_id, "edit")
    try:
        ops.revise_goal(goal, request.form.get("reason", ""), actor=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("已创建新版本，原批复版本保留。"), "success")
    return redirect(url_for("performance.goal", project_id=goal.project_id))


# ---- monitoring ------------------------------------------------------------------------------

@bp.route("/projects/<int:project_id>/monitoring", methods=["GET", "POST"])
def monitoring(project_id):
    project = load_or_404(Project, project_id)
    goal = ops.approved_goal(project)
    month = request.values.get("month", type=int) or 7
    report = db.session.scalar(sa.select(MonitoringReport).where(MonitoringReport.project_id == project.id,
                                                                 MonitoringReport.month == month))
    error = None
    typed = request.form if request.method == "POST" else None
    if request.method == "POST":
        require(current_user, "edit", project)
        values = {ind.id: {"value_so_far": request.form.get(f"v{ind.id}"), "expected": request.form.get(f"e{ind.id}"),
                           "tier": request.form.get(f"t{ind.id}"), "reason": request.form.get(f"r{ind.id}")}
                  for ind in (goal.indicators if goal else [])}
        try:
            report = ops.save_monitoring(project, request.form.get("month"), request.form.get("executed"), values,
                                         actor=current_user, note=request.form.get("note", ""))
        except DomainError as e:
            db.session.rollback()
            error = e
        else:
            db.session.commit()
            flash(_("监控情况已保存。"), "success")
            return redirect(url_for("performance.monitoring", project_id=project.id, month=report.month))
    values = {v.indicator_id: v for v in report.values} if report else {}
    from portal.performance.monitoring import schedule
    return render_template("portal/performance/monitoring.html", project=project, goal=goal, month=month,
                           report=report, values=values, error=error, typed=typed, tiers=QualitativeTier,
                           lights=Light, schedule=schedule(month), can_edit=can(current_user, "edit", project))


@bp.get("/monitoring/warnings")
def warnings():
    year = request.args.get("year", type=int)
    page = paginate(queries.warned_reports_stmt(current_user, year))
    return render_template("portal/performance/warnings.html", page=page, year=year or "",
                           can_list_problems=_can_list_problems())


def _can_list_problems() -> bool:
    """Monitoring warnings feed the problem ledger (列条挂账) for those who may list problems."""
    from portal.ledger.models import Problem

    return can(current_user, "create", Problem)


# ---- evaluations -----------------------------------------------------------------------------

@bp.post("/projects/<int:project_id>/evaluations")
def start_evaluation(project_id):
    project = load_or_404(Project, project_id)
    try:
        evaluation = ops.start_framework_evaluation(project, request.form.get("mode", "self"), actor=current_user,
                                                    agency_id=request.form.get("agency_id") or None)
    except (DomainError, ValueError) as error:
        db.session.rollback()
        flash(getattr(error, "message", _("请选择评价方式。")), "error")
        return redirect(url_for("performance.project", project_id=project.id))
    db.session.commit()
    return redirect(url_for("performance.evaluation", evaluation_id=evaluation.id))


@bp.route("/evaluations/<int:evaluation_id>", methods=["GET", "POST"])
def evaluation(evaluation_id):
    evaluation = load_or_404(Evaluation, evaluation_id)
    error = None
    if request.method == "POST":
        require(current_user, "score", evaluation)
        try:
            if evaluation.mode == EvaluationMode.SELF:
                entries = {ln.id: {"actual": request.form.get(f"a{ln.id}"), "tier": request.form.get(f"t{ln.id}"),
                                   "applicable": not request.form.get(f"na{ln.id}"),
                                   "reason": request.form.get(f"r{ln.id}", "")} for ln in evaluation.lines}
                ops.save_self_evaluation(evaluation, entries, actor=current_user,
                                         executed=request.form.get("executed") or None)
            else:
                ops.save_framework_scores(evaluation, {str(ln.id): request.form.get(f"s{ln.id}")
                                                       for ln in evaluation.lines}, actor=current_user,
                                          conclusion=request.form.get("conclusion", ""),
                                          suggestions=request.form.get("suggestions", ""))
            if request.form.get("complete"):
                ops.complete_evaluation(evaluation, actor=current_user)
        except DomainError as e:
            db.session.rollback()
            error = e
        else:
            db.session.commit()
            flash(_("评价已完成。") if evaluation.state == EvaluationState.COMPLETED else _("评分已保存。"), "success")
            return redirect(url_for("performance.evaluation", evaluation_id=evaluation.id))
    return render_template("portal/performance/evaluation.html", evaluation=evaluation, project=evaluation.project,
                           error=error, typed=request.form if error else None, tiers=QualitativeTier,
                           files=attachments_of(evaluation), history=history(evaluation),
                           can_score=can(current_user, "score", evaluation)
                           and evaluation.state != EvaluationState.COMPLETED)


@bp.post("/evaluations/<int:evaluation_id>/findings")
def add_finding(evaluation_id):
    evaluation = load_or_404(Evaluation, evaluation_id)
    try:
        ops.add_finding(evaluation, actor=current_user, description=request.form.get("description", ""),
                        category=request.form.get("category", ""), amount=request.form.get("amount"),
                        suggestion=request.form.get("suggestion", ""))
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("问题已登记。"), "success")
    return redirect(url_for("performance.evaluation", evaluation_id=evaluation.id))


@bp.post("/evaluations/<int:evaluation_id>/files")
def upload_report(evaluation_id):
    evaluation = load_or_404(Evaluation, evaluation_id)
    if not can(current_user, "score", evaluation):
        abort(403)
    upload = request.files.get("file")
    try:
        if not upload or not upload.filename:
            raise DomainError(_("请选择要上传的文件。"))
        save_upload(upload, actor=current_user, record=evaluation, purpose="report", allowed=REPORT_FILES)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("评价报告已上传。"), "success")
    return redirect(url_for("performance.evaluation", evaluation_id=evaluation.id))


# ---- result application ----------------------------------------------------------------------

def result_rows(user, year: int, unit_id: int | None = None):
    """Completed evaluations of `year` (best mode per project) with the suggested adjustment."""
    stmt = (visible(user, Project).where(Project.year == year)
            .where(sa.exists().where(Evaluation.project_id == Project.id,
                                     Evaluation.state == EvaluationState.COMPLETED)))
    if unit_id:
        stmt = stmt.where(Project.unit_id == unit_id)
    projects = db.session.scalars(queries.with_orgs(stmt.order_by(Project.department_id, Project.unit_id,
                                                                  Project.code))).all()
    extras = queries.decorate(projects)
    rules = settings.result_rules()
    for p in projects:
        grade = extras[p.id]["grade"]
        text, amount = ops.suggestion_for(grade, p.annual_budget, rules)
        yield p, grade, text, amount


@bp.get("/results")
def results():
    if not (current_user.is_bureau or current_user.has_role("admin") or current_user.org_kind == OrgKind.CONGRESS
            or current_user.org_kind == OrgKind.BUDGET_UNIT):
        abort(403)
    year = request.args.get("year", type=int) or 2025
    unit_id = request.args.get("unit", type=int)
    rows = list(result_rows(current_user, year, unit_id))
    if request.args.get("format") == "xlsx":
        from portal.core.excel import xlsx_response
        return xlsx_response(f"{year}年度评价结果应用建议.xlsx",
                             ["主管部门", "责任单位", "项目编码", "项目名称", "全年预算数（万元）", "评价等级",
                              "调整建议", "建议下年预算（万元）"],
                             ([p.department.name, p.unit.name, p.code, p.name, p.annual_budget / 10000,
                               g.zh if g else "", text, (a / 10000) if a is not None else ""]
                              for p, g, text, a in rows))
    return render_template("portal/performance/results.html", rows=rows, year=year, unit_id=unit_id,
                           units=_orgs(), rules=settings.result_rules(), grades=Grade)


# ---- Excel in and out ------------------------------------------------------------------------

@bp.get("/goals/<int:goal_id>/export")
def export_goal(goal_id):
    from portal.core.excel import xlsx_response
    from portal.performance import excel_io

    goal = _load_goal(goal_id)
    return xlsx_response(f"绩效目标表-{goal.project.code}-V{goal.version}.xlsx", excel_io.GOAL_COLUMNS,
                         excel_io.goal_rows(goal), sheet_title="绩效目标表")


@bp.get("/projects/export")
def export_goals():
    """The goal tables of every project in the current list filter, in the import layout."""
    from portal.core.excel import xlsx_response
    from portal.performance import excel_io

    stmt = queries.project_list_stmt(current_user, request.args).options(
        sa.orm.selectinload(Project.unit), sa.orm.selectinload(Project.goals).selectinload(PerformanceGoal.indicators))

    def rows():
        for chunk_start in range(0, 100_000, 500):
            batch = db.session.scalars(stmt.limit(500).offset(chunk_start)).all()
            if not batch:
                return
            for p in batch:
                if p.current_goal is not None:
                    yield from excel_io.goal_rows(p.current_goal)
    return xlsx_response("绩效目标表.xlsx", excel_io.GOAL_COLUMNS, rows(), sheet_title="绩效目标表")


@bp.get("/evaluations/<int:evaluation_id>/export")
def export_self_evaluation(evaluation_id):
    from portal.core.excel import xlsx_response
    from portal.performance import excel_io

    evaluation = load_or_404(Evaluation, evaluation_id)
    if evaluation.mode != EvaluationMode.SELF:
        abort(404)
    return xlsx_response(f"绩效自评表-{evaluation.project.code}.xlsx", excel_io.SELF_EVAL_COLUMNS,
                         excel_io.self_evaluation_rows(evaluation), sheet_title="绩效自评表")


@bp.route("/projects/import", methods=["GET", "POST"])
def import_projects():
    from portal.core.excel import xlsx_response
    from portal.performance import excel_io

    require(current_user, "create", Project)
    if request.args.get("template"):
        return xlsx_response("绩效目标表导入模板.xlsx", excel_io.GOAL_COLUMNS, excel_io.template_rows(),
                             sheet_title="绩效目标表")
    report, error = None, None
    if request.method == "POST":
        upload = request.files.get("file")
        try:
            if not upload or not upload.filename:
                raise DomainError(_("请选择要导入的 Excel 文件。"))
            report = excel_io.import_goal_workbook(upload.read(), actor=current_user)
        except DomainError as e:
            db.session.rollback()
            error = e.message
        else:
            if report.clean:
                db.session.commit()
                flash(_("导入成功：新增项目 %(c)s 个，更新 %(u)s 个，指标 %(i)s 条。", c=report.created,
                        u=report.updated, i=report.indicators), "success")
                return redirect(url_for("performance.projects"))
            db.session.rollback()
    return render_template("portal/performance/import.html", report=report, error=error,
                           columns=excel_io.GOAL_COLUMNS)


# ---- indicator library -----------------------------------------------------------------------

@bp.route("/library", methods=["GET", "POST"])
def library():
    from portal.core.excel import xlsx_response
    from portal.performance import library as lib

    stmt = sa.select(LibraryIndicator)
    sector = request.args.get("sector", "").strip()[:60]
    q = request.args.get("q", "").strip()[:60]
    if sector:
        stmt = stmt.where(LibraryIndicator.sector == sector)
    if q:
        stmt = stmt.where(sa.or_(LibraryIndicator.name.contains(q, autoescape=True),
                                 LibraryIndicator.direction.contains(q, autoescape=True)))
    stmt = stmt.order_by(LibraryIndicator.sector, LibraryIndicator.direction, LibraryIndicator.id)
    if request.args.get("format") == "xlsx":
        return xlsx_response("指标库.xlsx", lib.LIBRARY_COLUMNS, lib.library_rows(db.session.scalars(stmt)),
                             sheet_title="指标库")
    result, error = None, None
    can_manage = ops.is_finance_officer(current_user) or current_user.has_role("admin")
    if request.method == "POST":
        if not can_manage:
            abort(403)
        upload = request.files.get("file")
        try:
            if not upload or not upload.filename:
                raise DomainError(_("请选择要导入的 Excel 文件。"))
            result = lib.import_library(upload.read(), actor=current_user)
        except DomainError as e:
            db.session.rollback()
            error = e.message
        else:
            if not result.errors:
                db.session.commit()
                flash(_("指标库导入成功：新增 %(a)s 条，更新 %(u)s 条。", a=result.added, u=result.updated), "success")
                return redirect(url_for("performance.library"))
            db.session.rollback()
    sectors = db.session.scalars(sa.select(LibraryIndicator.sector).distinct().order_by(LibraryIndicator.sector)).all()
    return render_template("portal/performance/library.html", page=paginate(stmt), sector=sector, q=q,
                           sectors=sectors, result=result, error=error, can_manage=can_manage,
                           columns=lib.LIBRARY_COLUMNS)


# ---- settings (administrator) ----------------------------------------------------------------

@bp.route("/performance/settings", methods=["GET", "POST"])
def performance_settings():
    from decimal import Decimal, InvalidOperation

    from portal.performance.monitoring import Thresholds

    if not current_user.has_role("admin"):
        abort(403)
    error = None
    if request.method == "POST":
        try:
            t = Thresholds(**{k: Decimal(request.form.get(k, "").strip()) for k in
                              ("red_below", "green_from", "blue_from", "lag_points")})
            weights = {part: Decimal(request.form.get(f"w_{part}", "").strip()) for part, _l in settings.FRAMEWORK_PARTS}
            if sum(weights.values()) != 100 or any(w < 0 for w in weights.values()):
                raise DomainError(_("评价框架各部分分值合计须为 100。"))
            rules = {}
            for g in Grade:
                pct = Decimal(request.form.get(f"r_{g.value}_percent", "0").strip() or "0")
                rules[g.value] = {"percent": str(pct), "no_budget": bool(request.form.get(f"r_{g.value}_none")),
                                  "priority": bool(request.form.get(f"r_{g.value}_priority")),
                                  "text": request.form.get(f"r_{g.value}_text", "").strip()[:60]}
            n = ops.update_thresholds(t, actor=current_user)
            settings.store_framework_weights(weights)
            settings.store_result_rules(rules)
        except InvalidOperation:
            db.session.rollback()
            error = _("请填写数字。")
        except DomainError as e:
            db.session.rollback()
            error = e.message
        else:
            db.session.commit()
            flash(_("设置已保存，已重新计算 %(n)s 份监控报告。", n=n), "success")
            return redirect(url_for("performance.performance_settings"))
    return render_template("portal/performance/settings.html", t=settings.thresholds(),
                           weights=settings.framework_weights(), parts=settings.FRAMEWORK_PARTS,
                           rules=settings.result_rules(), grades=Grade, error=error)


@bp.app_template_filter("num")
def num(value) -> str:
    """A Decimal without trailing zeros and never in exponent form: 10.00 → 10, 1250.5 → 1250.5."""
    from jinja2 import Undefined

    if value is None or isinstance(value, Undefined) or value == "":
        return ""
    text = f"{value.normalize():f}" if hasattr(value, "normalize") else str(value)
    return text
