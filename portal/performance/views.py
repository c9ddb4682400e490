# Over 400 lines: projects, goals, monitoring and evaluations; to be split by stage.
"""Pages of the performance module. Each handler: load (404) → authorise (403) → one operation
through `submit()`/`perform()` (portal.core.writes: one commit, the form key, the stale check) →
redirect, or the page again with the message, what was typed and DOMAIN_ERROR_STATUS (422).
Views never write: the operations (operations.py, excel_io.py, library.py) do."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.models import Organisation, OrgKind
from portal.core import parsing
from portal.core.attachments import attachments_of
from portal.core.audit import history
from portal.core.bulk import carry_out
from portal.core.errors import DomainError, StaleRecord
from portal.core.htmx import render as hx_render
from portal.core.pagination import paginate
from portal.core.permissions import can, load_or_404, org_subtree_ids, require
from portal.core.writes import DOMAIN_ERROR_STATUS, DuplicateSubmission, perform, status, submit, submitted
from portal.extensions import db
from portal.performance import forms, models, operations, queries, settings
from portal.performance import results as result_application
from portal.performance.forms import LibraryItemForm, ProjectFiltersForm, ProjectForm, StopForm
from portal.performance.lists import PROJECTS
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
    require(current_user, "view", models.Project)
    state = PROJECTS.read(request.args)
    args = state.filters.values
    stmt = state.order(queries.with_orgs(queries.project_list_stmt(current_user, args)))
    if state.export_format:
        return state.export(stmt, _("项目"))
    departments, units = _filter_orgs(args.get("department"), args.get("unit"))
    return render_template("portal/performance/projects.html", page=state.page(stmt), state=state, args=args,
                           units=units, departments=departments,
                           kinds=models.ProjectKind, budget_types=models.BudgetType, grades=models.Grade,
                           bands=queries.AMOUNT_BANDS, can_create=can(current_user, "create", models.Project),
                           can_bulk=can(current_user, "bulk", models.Project))


@bp.post("/projects/bulk")
def bulk_projects():
    """批复 or 退回修改 the submitted goals of the ticked projects; each refused is named above the list."""
    require(current_user, "bulk", models.Project)  # finance officers, who review goals
    return carry_out(forms.ProjectBulkForm(), operations.bulk_review, back=url_for("performance.projects"),
                     fields=("grade",))


def _project_form(project: models.Project | None) -> ProjectForm:
    form = ProjectForm(obj=project, units=operations.units_in_reach(current_user))
    if request.method == "GET" and project is None:
        form.year.data = form.year.data or "2026"
    return form


def _project_data(form: ProjectForm) -> dict:
    return {name: f.data for name, f in form._fields.items() if name not in ("csrf_token", "lock_version")}


def _to_project(project: models.Project) -> str:
    return url_for("performance.project", project_id=project.id)


@bp.route("/projects/new", methods=["GET", "POST"])
def new_project():
    require(current_user, "create", models.Project)
    form = _project_form(None)
    done = submitted(form, operations.create_project, _project_data(form), actor=current_user,
                     redirect_to=_to_project, success=_("项目已保存。"))
    return done or (render_template("portal/performance/project_form.html", form=form, project=None), status(form))


@bp.route("/projects/<int:project_id>/edit", methods=["GET", "POST"])
def edit_project(project_id):
    project = load_or_404(models.Project, project_id, "edit")
    form = _project_form(project)
    done = submitted(form, operations.update_project, project, _project_data(form), actor=current_user,
                     version=form.lock_version.data, redirect_to=_to_project, success=_("项目已保存。"))
    return done or (render_template("portal/performance/project_form.html", form=form, project=project), status(form))


@bp.get("/projects/<int:project_id>")
def project(project_id):
    return _project_page(load_or_404(models.Project, project_id))


def _project_page(project: models.Project, typed=None):
    """The project page; after a refused form on it, with what was typed (`typed`) and 422."""
    reports = db.session.scalars(sa.select(models.MonitoringReport)
                                 .where(models.MonitoringReport.project_id == project.id)
                                 .order_by(models.MonitoringReport.month)).all()
    evaluations = [e for e in project.evaluations if can(current_user, "view", e)]
    return render_template("portal/performance/project.html", project=project, goal=project.current_goal,
                           reports=reports, evaluations=evaluations, files=attachments_of(project),
                           stop_form=StopForm(), history=history(project),
                           can_edit=can(current_user, "edit", project), is_finance=operations.is_finance_officer(current_user),
                           modes=models.EvaluationMode, agencies=_orgs(OrgKind.AGENCY), typed=typed), status()


@bp.post("/projects/<int:project_id>/stop")
def stop_project(project_id):
    project = load_or_404(models.Project, project_id)
    form = StopForm()
    return (parsing.accepted(form) and submit(
        operations.stop_project, project, form.reason.data or "", actor=current_user,
        redirect_to=url_for("performance.project", project_id=project.id),
        success=_("项目已终止。"))) or _project_page(project, typed=request.form)


@bp.post("/projects/<int:project_id>/files")
def upload_project_file(project_id):
    project = load_or_404(models.Project, project_id, "edit")
    return _upload(project, "document", url_for("performance.project", project_id=project.id), _("文件已上传。"))


def _upload(record, purpose: str, back: str, success: str):
    """The file posted on `record`'s page (one of REPORT_FILES), attached as `purpose`."""
    return submit(operations.attach_file, record, request.files.get("file"), actor=current_user, purpose=purpose,
                  allowed=REPORT_FILES, redirect_to=back, success=success) or redirect(back)


# ---- goal and indicator table ----------------------------------------------------------------

def _editor_extras(project, goal) -> dict:
    """What only the editor of a draft needs: the library search (?lq=, the project's sector
    first) and last year's goal to copy from."""
    if goal is None or goal.locked or not can(current_user, "edit", project):
        return dict(library=[], library_total=0, library_q="", sector=None, last_year=None)
    library_q = parsing.arg_text("lq", 60)
    sector = queries.project_sector(project)
    library, total = queries.library_search(library_q, sector)
    last_year = queries.last_year_goal(project)
    if last_year is not None and not can(current_user, "view", last_year.project):
        last_year = None
    return dict(library=library, library_total=total, library_q=library_q, sector=sector, last_year=last_year)


def _level2_groups(level1) -> list:
    """The 二级指标 a row offers: the children of its 一级指标, or every group when it has none."""
    chosen = parsing.to_choice(str(getattr(level1, "value", level1) or ""), models.Level1)
    return [(chosen, models.LEVEL2_OF[chosen])] if chosen else list(models.LEVEL2_OF.items())


def _goal_context(project, goal, **extra):
    errors = operations.validate_goal_rows([operations.indicator_row(i) for i in goal.indicators], goal.overall_goal) \
        if goal is not None else None
    context = dict(project=project, goal=goal, versions=list(project.goals), level1=models.Level1, level2=models.Level2,
                level2_of=models.LEVEL2_OF, level2_groups=_level2_groups, operators=models.Operator,
                grades=models.Grade, check=errors, **_editor_extras(project, goal),
                can_edit=goal is not None and can(current_user, "edit", project) and goal.state in (
                    models.GoalState.DRAFT, models.GoalState.RETURNED),
                can_review=goal is not None and goal.state == models.GoalState.SUBMITTED
                and operations.is_finance_officer(current_user),
                can_revise=goal is not None and goal.state == models.GoalState.APPROVED
                and can(current_user, "edit", project),
                history=queries.goal_history(goal) if goal is not None else [], row_errors={}, edit_row=None,
                new_row=None, typed=None, overall=None, overall_version=None, notice=None, done=None)
    context.update(extra)
    return context


@bp.get("/projects/<int:project_id>/goal")
def goal(project_id):
    project = load_or_404(models.Project, project_id)
    version = parsing.arg_int("version", lo=1)
    goal = next((g for g in project.goals if g.version == version), None) if version else project.current_goal
    return render_template("portal/performance/goal.html", **_goal_context(project, goal))


@bp.post("/projects/<int:project_id>/goal")
def start_goal(project_id):
    project = load_or_404(models.Project, project_id, "edit")
    back = url_for("performance.goal", project_id=project.id)
    return submit(operations.goal_for, project, actor=current_user, redirect_to=back) or redirect(back)


def _load_goal(goal_id) -> models.PerformanceGoal:
    return load_or_404(models.PerformanceGoal, goal_id)


@bp.post("/goals/<int:goal_id>/overall")
def goal_overall(goal_id):
    goal = load_or_404(models.PerformanceGoal, goal_id, "edit")
    form = forms.OverallGoalForm()
    done = parsing.accepted(form) and submit(
        operations.set_overall_goal, goal, form.overall_goal.data, actor=current_user, version=form.lock_version.data,
        redirect_to=url_for("performance.goal", project_id=goal.project_id), success=_("总体目标已保存。"))
    if done:
        return done
    # refused (too long, stale, or no longer editable): the goal page with what was typed, and its old version
    return render_template("portal/performance/goal.html", **_goal_context(
        goal.project, goal, overall=form.overall_goal.data, overall_version=form.lock_version.data)), status()


def _rows_response(goal, *, refused: bool = False, **extra):
    """htmx: the indicator table partial; otherwise the goal page. A refused row comes back with
    its messages and what was typed, as DOMAIN_ERROR_STATUS (htmx is configured to swap it)."""
    context = _goal_context(goal.project, goal, **extra)
    page = hx_render("portal/performance/goal.html", "portal/performance/_indicator_table.html", **context)
    return page, (DOMAIN_ERROR_STATUS if refused else 200)


ROW_CELLS = {"level1", "level2", "name", "operator", "target_value", "weight"}  # cells that show a message


def _row_refused(goal_id: int, error: DomainError, row: dict | None = None, key=None, **extra):
    """The table again after a refused row action: the message at the top of the table (a stale
    save, a goal no longer editable) and on the row's field."""
    field = "target_value" if error.field == "target_text" else error.field  # one cell shows both
    notice = error.message if isinstance(error, StaleRecord) or field not in ROW_CELLS or row is None else None
    if row is not None:  # the messages on the row's fields
        refused = {field: error.message} if isinstance(error, parsing.InvalidValue) else {}
        messages = {**refused, **operations.row_errors(row)}
        extra["row_errors"] = {key: messages or {error.field or "name": error.message}}
    return _rows_response(db.session.get(models.PerformanceGoal, goal_id), refused=True, notice=notice, **extra)


def _table_again(goal_id: int, duplicate: DuplicateSubmission):
    flash(duplicate.message, "info")
    return _rows_response(db.session.get(models.PerformanceGoal, goal_id))


@bp.post("/goals/<int:goal_id>/rows")
def add_row(goal_id):
    goal = load_or_404(models.PerformanceGoal, goal_id, "edit")
    form = forms.IndicatorRowForm()
    row = form.row()
    try:
        parsing.check(form)
        perform(operations.add_indicator, goal, row, actor=current_user, version=form.lock_version.data,
                library_id=form.library_id.parsed, redirect_to=url_for("performance.goal",
                                                                       project_id=goal.project_id))
    except DuplicateSubmission as duplicate:
        return _table_again(goal_id, duplicate)
    except DomainError as error:
        return _row_refused(goal_id, error, row, "new", new_row=row)
    return _rows_response(goal)


@bp.get("/indicators/<int:indicator_id>/edit")
def edit_row(indicator_id):
    ind = load_or_404(models.Indicator, indicator_id, "edit")
    return _rows_response(ind.goal, edit_row=ind.id)[0]


@bp.post("/indicators/<int:indicator_id>")
def update_row(indicator_id):
    ind = load_or_404(models.Indicator, indicator_id, "edit")
    goal_id = ind.goal_id
    form = forms.IndicatorRowForm()
    row = form.row()
    try:
        parsing.check(form)
        perform(operations.update_indicator, ind, row, actor=current_user, version=form.lock_version.data,
                redirect_to=url_for("performance.goal", project_id=ind.goal.project_id))
    except DuplicateSubmission as duplicate:
        return _table_again(goal_id, duplicate)
    except DomainError as error:
        return _row_refused(goal_id, error, row, indicator_id, edit_row=indicator_id, typed=row)
    return _rows_response(ind.goal)


@bp.post("/indicators/<int:indicator_id>/delete")
def delete_row(indicator_id):
    return _row_action(indicator_id, operations.delete_indicator)


@bp.post("/indicators/<int:indicator_id>/move")
def move_row(indicator_id):
    return _row_action(indicator_id, operations.move_indicator,
                       lambda form: [1 if form.direction.data == "down" else -1])


def _row_action(indicator_id: int, operation, arguments=lambda form: []):
    """A row's delete or move: the operation on the row (with `arguments(form)` after it), then
    the table; a refusal comes back as the table with its message."""
    ind = load_or_404(models.Indicator, indicator_id, "edit")
    goal = ind.goal
    form = forms.RowActionForm()
    try:
        parsing.check(form)
        perform(operation, ind, *arguments(form), actor=current_user, version=form.lock_version.data,
                redirect_to=url_for("performance.goal", project_id=goal.project_id))
    except DuplicateSubmission as duplicate:
        return _table_again(goal.id, duplicate)
    except DomainError as error:
        return _row_refused(goal.id, error)
    return _rows_response(goal)


@bp.get("/indicators/level2-options")
def level2_options():
    """The 二级指标 choices under the chosen 一级指标 (htmx swaps them into the row's select when
    the first level changes); an unknown first level gets every group, as the page without
    JavaScript shows them."""
    require(current_user, "view", models.Project)
    return render_template("portal/performance/_level2_options.html",
                           groups=_level2_groups(parsing.arg_text("level1", 40)), selected="",
                           options_only=True)


@bp.get("/goals/<int:goal_id>/library")
def library_search(goal_id):
    """The editor's library search (?lq=): htmx gets the results, a plain request the goal page."""
    goal = load_or_404(models.PerformanceGoal, goal_id, "edit")
    return hx_render("portal/performance/goal.html", "portal/performance/_library_results.html",
                     **_goal_context(goal.project, goal))


@bp.post("/goals/<int:goal_id>/copy-last-year")
def copy_last_year(goal_id):
    goal = load_or_404(models.PerformanceGoal, goal_id, "edit")
    form = forms.CopyLastYearForm()
    try:
        parsing.check(form)
        added = perform(operations.copy_last_year, goal, actor=current_user, version=form.lock_version.data,
                        redirect_to=url_for("performance.goal", project_id=goal.project_id))
    except DuplicateSubmission as duplicate:
        return _table_again(goal_id, duplicate)
    except DomainError as error:
        return _row_refused(goal_id, error)
    return _rows_response(goal, done=_("已复制上年指标 %(n)d 项，请核对指标值。", n=len(added)))


@bp.post("/goals/<int:goal_id>/submit")
def submit_goal(goal_id):
    goal = load_or_404(models.PerformanceGoal, goal_id, "edit")
    back = url_for("performance.goal", project_id=goal.project_id)
    form = forms.StateForm()
    return (parsing.accepted(form) and submit(operations.submit_goal, goal, actor=current_user,
                                              expected_state=form.state.data or None, redirect_to=back,
                                              success=_("绩效目标已提交审核。"))) or _goal_page(goal)


@bp.post("/goals/<int:goal_id>/review")
def review_goal(goal_id):
    goal = _load_goal(goal_id)
    back = url_for("performance.goal", project_id=goal.project_id)
    form = forms.GoalReviewForm()
    return (parsing.accepted(form) and submit(
        operations.review_goal, goal, form.decision.data or "", form.grade.data or "", form.comment.data or "",
        actor=current_user, expected_state=form.state.data or None, redirect_to=back,
        success=_("审核结果已保存。"))) or _goal_page(goal)


@bp.post("/goals/<int:goal_id>/revise")
def revise_goal(goal_id):
    goal = load_or_404(models.PerformanceGoal, goal_id, "edit")
    back = url_for("performance.goal", project_id=goal.project_id)
    form = forms.ReviseGoalForm()
    return (parsing.accepted(form) and submit(operations.revise_goal, goal, form.reason.data or "", actor=current_user,
                                              redirect_to=back, success=_("已创建新版本，原批复版本保留。"))) \
        or _goal_page(goal)


def _goal_page(goal: models.PerformanceGoal):
    """The goal page again after a refused form on it: what was typed kept, DOMAIN_ERROR_STATUS."""
    return render_template("portal/performance/goal.html", **_goal_context(goal.project, goal, typed=request.form)), \
        status()


# ---- monitoring ------------------------------------------------------------------------------

@bp.route("/projects/<int:project_id>/monitoring", methods=["GET", "POST"])
def monitoring(project_id):
    from portal.core import clock
    from portal.performance.monitoring import default_month, schedule

    project = load_or_404(models.Project, project_id)
    goal = operations.approved_goal(project)
    month = default_month(project.year, clock.today())
    error, typed = None, None
    if request.method == "GET":
        month = parsing.require_month(default=month)  # ?month=13 is a clear 400
    else:
        require(current_user, "edit", project)
        indicators = goal.indicators if goal else []
        form = forms.monitoring_form(indicators)
        typed = parsing.typed(form)  # shown again when refused
        month = parsing.to_month(form.month.data) or month
        try:
            parsing.check(form)
            report = perform(operations.save_monitoring, project, form.month.parsed, form.executed.parsed,
                             form.values(indicators), actor=current_user, note=form.note.data or "",
                             redirect_to=lambda r: url_for("performance.monitoring", project_id=project.id,
                                                           month=r.month))
        except DuplicateSubmission as duplicate:
            return repeated(duplicate)
        except DomainError as e:
            error = e
            goal = operations.approved_goal(project)
        else:
            flash(_("监控情况已保存。"), "success")
            return redirect(url_for("performance.monitoring", project_id=project.id, month=report.month))
    report = db.session.scalar(sa.select(models.MonitoringReport).where(
        models.MonitoringReport.project_id == project.id, models.MonitoringReport.month == month))
    values = {v.indicator_id: v for v in report.values} if report else {}
    return render_template("portal/performance/monitoring.html", project=project, goal=goal, month=month,
                           report=report, values=values, error=error, typed=typed, tiers=models.QualitativeTier,
                           lights=Light, schedule=schedule(month), can_edit=can(current_user, "edit", project)), \
        (DOMAIN_ERROR_STATUS if error else 200)


def repeated(duplicate: DuplicateSubmission):
    """The same form came back (double click, back button): where the first submission went."""
    flash(duplicate.message, "info")
    return redirect(duplicate.redirect_to)


def start_import(kind: str):
    """An import page's POST: the file is checked here, its rows read, checked and written by the
    job `kind`. Returns (the redirect to the job page, None) or (None, why it was refused)."""
    from portal.core import background
    from portal.core.excel import uploaded_xlsx

    data, refusal = uploaded_xlsx(request.files.get("file"))
    if refusal:
        return None, refusal
    try:
        job = perform(background.start, kind, actor=current_user, upload=data,
                      redirect_to=lambda job: url_for("jobs.show", job_id=job.id))
    except DuplicateSubmission as duplicate:
        return repeated(duplicate), None
    except DomainError as e:
        return None, e.message
    return redirect(url_for("jobs.show", job_id=job.id)), None


@bp.get("/monitoring/warnings")
def warnings():
    require(current_user, "view", models.Project)
    year = parsing.arg_year()
    page = paginate(queries.warned_reports_stmt(current_user, year))
    return render_template("portal/performance/warnings.html", page=page, year=year or "",
                           can_import_execution=can(current_user, "import_execution", models.Project),
                           can_list_problems=_can_list_problems())


def _can_list_problems() -> bool:
    """Monitoring warnings feed the problem ledger (列条挂账) for those who may list problems (the
    ledger builds on performance, so the record type is looked up, not imported)."""
    from portal.core.registry import RECORD_TYPES

    problem = RECORD_TYPES.get("problems")
    return problem is not None and can(current_user, "create", problem)


# ---- evaluations -----------------------------------------------------------------------------

@bp.post("/projects/<int:project_id>/evaluations")
def start_evaluation(project_id):
    project = load_or_404(models.Project, project_id)
    form = forms.StartEvaluationForm()
    return (parsing.accepted(form) and submit(
        operations.start_framework_evaluation, project, form.mode.data or "self", actor=current_user,
        agency_id=form.agency_id.parsed, redirect_to=lambda e: url_for("performance.evaluation", evaluation_id=e.id))) \
        or _project_page(project, typed=parsing.typed(form))


@bp.route("/evaluations/<int:evaluation_id>", methods=["GET", "POST"])
def evaluation(evaluation_id):
    evaluation = load_or_404(models.Evaluation, evaluation_id)
    error, typed = None, None
    if request.method == "POST":
        require(current_user, "score", evaluation)
        back = url_for("performance.evaluation", evaluation_id=evaluation.id)
        form = forms.evaluation_form(evaluation.lines)
        typed = parsing.typed(form)
        try:
            parsing.check(form)
            perform(operations.save_evaluation, evaluation, typed, actor=current_user, version=form.lock_version.data,
                    complete=form.complete.data, redirect_to=back)
        except DuplicateSubmission as duplicate:
            return repeated(duplicate)
        except DomainError as e:
            error = e
        else:
            flash(_("评价已完成。") if evaluation.state == models.EvaluationState.COMPLETED else _("评分已保存。"), "success")
            return redirect(back)
    return _evaluation_page(evaluation, error=error, typed=typed if error else None)


def _evaluation_page(evaluation: models.Evaluation, *, error=None, typed=None, finding=None):
    """The evaluation page; after a refused save (`error`, `typed`) or finding (`finding`: what was
    typed into it) with DOMAIN_ERROR_STATUS."""
    return render_template("portal/performance/evaluation.html", evaluation=evaluation, project=evaluation.project,
                           error=error, typed=typed, finding=finding, tiers=models.QualitativeTier,
                           files=attachments_of(evaluation), history=history(evaluation),
                           can_score=can(current_user, "score", evaluation)
                           and evaluation.state != models.EvaluationState.COMPLETED), (
        DOMAIN_ERROR_STATUS if error else status())


@bp.post("/evaluations/<int:evaluation_id>/findings")
def add_finding(evaluation_id):
    evaluation = load_or_404(models.Evaluation, evaluation_id)
    back = url_for("performance.evaluation", evaluation_id=evaluation.id)
    form = forms.FindingForm()
    return (parsing.accepted(form) and submit(
        operations.add_finding, evaluation, actor=current_user, description=form.description.data or "",
        category=form.category.data or "", amount=form.amount.parsed, suggestion=form.suggestion.data or "",
        redirect_to=back, success=_("问题已登记。"))) or _evaluation_page(evaluation, finding=parsing.typed(form))


@bp.post("/evaluations/<int:evaluation_id>/files")
def upload_report(evaluation_id):
    evaluation = load_or_404(models.Evaluation, evaluation_id, "score")
    return _upload(evaluation, "report", url_for("performance.evaluation", evaluation_id=evaluation.id),
                   _("评价报告已上传。"))


# ---- result application ----------------------------------------------------------------------

@bp.get("/results")
def results():
    require(current_user, "view", models.Evaluation)
    year = parsing.arg_year(default=result_application.default_year())
    unit_id = parsing.arg_id("unit")
    rows = result_application.result_rows(current_user, year, unit_id)
    if request.args.get("format") == "xlsx":
        from portal.core.excel import xlsx_response
        return xlsx_response(f"{year}年度评价结果应用建议.xlsx",
                             ["主管部门", "责任单位", "项目编码", "项目名称", "全年预算数（万元）", "评价等级",
                              "调整建议", "建议下年预算（万元）", "依据"],
                             ([r.project.department.name, r.project.unit.name, r.project.code, r.project.name,
                               r.project.annual_budget / 10000, r.grade.zh if r.grade else "", r.text,
                               (r.amount / 10000) if r.amount is not None else "", r.basis_label] for r in rows))
    return render_template("portal/performance/results.html", rows=rows, year=year, unit_id=unit_id,
                           units=_orgs(), rules=settings.result_rules(), grades=models.Grade)


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

    require(current_user, "view", models.Project)
    stmt = queries.project_list_stmt(current_user, request.args).options(
        sa.orm.selectinload(models.Project.unit),
        sa.orm.selectinload(models.Project.goals).selectinload(models.PerformanceGoal.indicators))

    def rows():
        for chunk_start in range(0, 100_000, 500):
            batch = db.session.scalars(stmt.limit(500).offset(chunk_start)).all()
            if not batch:
                return
            for p in batch:
                if p.current_goal is not None:
                    yield from excel_io.goal_rows(p.current_goal)
    return xlsx_response("绩效目标表.xlsx", excel_io.GOAL_COLUMNS, rows(), sheet_title="绩效目标表")


@bp.post("/projects/export-all")
def export_goals_all():
    """导出全部（后台生成）: every goal table of the project list under its filter, written by a job."""
    from portal.core import background
    from portal.performance.jobs import EXPORT

    require(current_user, "view", models.Project)
    form = ProjectFiltersForm()
    parsing.require_valid(form)  # a tampered filter: 400, no job
    filters = {k: str(v) for k, v in form.filters().items()}
    try:
        job = perform(background.start, EXPORT, actor=current_user, payload={"filters": filters},
                      redirect_to=lambda job: url_for("jobs.show", job_id=job.id))
    except DuplicateSubmission as duplicate:
        return repeated(duplicate)
    return redirect(url_for("jobs.show", job_id=job.id))


@bp.get("/evaluations/<int:evaluation_id>/export")
def export_self_evaluation(evaluation_id):
    from portal.core.excel import xlsx_response
    from portal.performance import excel_io

    evaluation = load_or_404(models.Evaluation, evaluation_id)
    if evaluation.mode != models.EvaluationMode.SELF:
        abort(404)
    return xlsx_response(f"绩效自评表-{evaluation.project.code}.xlsx", excel_io.SELF_EVAL_COLUMNS,
                         excel_io.self_evaluation_rows(evaluation), sheet_title="绩效自评表")


@bp.route("/projects/import", methods=["GET", "POST"])
def import_projects():
    from portal.core.excel import xlsx_response
    from portal.performance import excel_io

    require(current_user, "create", models.Project)
    if request.args.get("template"):
        return xlsx_response("绩效目标表导入模板.xlsx", excel_io.GOAL_COLUMNS, excel_io.template_rows(),
                             sheet_title="绩效目标表")
    error = None
    if request.method == "POST":
        from portal.performance.jobs import IMPORT

        started, error = start_import(IMPORT)
        if started is not None:
            return started
    return render_template("portal/performance/import.html", error=error,
                           columns=excel_io.GOAL_COLUMNS), (DOMAIN_ERROR_STATUS if error else 200)


# ---- indicator library -----------------------------------------------------------------------

@bp.route("/library", methods=["GET", "POST"])
def library():
    from portal.core.excel import xlsx_response
    from portal.performance.library import (
        LIBRARY_COLUMNS,
        LibraryImportRefused,
        import_library_file,
        library_rows,
    )

    require(current_user, "view", models.LibraryIndicator)
    stmt = sa.select(models.LibraryIndicator)
    sector = request.args.get("sector", "").strip()[:60]
    q = request.args.get("q", "").strip()[:60]
    if sector:
        stmt = stmt.where(models.LibraryIndicator.sector == sector)
    if q:
        stmt = stmt.where(sa.or_(models.LibraryIndicator.name.contains(q, autoescape=True),
                                 models.LibraryIndicator.direction.contains(q, autoescape=True)))
    stmt = stmt.order_by(models.LibraryIndicator.sector, models.LibraryIndicator.direction, models.LibraryIndicator.id)
    if request.args.get("format") == "xlsx":
        return xlsx_response("指标库.xlsx", LIBRARY_COLUMNS, library_rows(db.session.scalars(stmt)),
                             sheet_title="指标库")
    result, error = None, None
    can_manage = can(current_user, "edit", models.LibraryIndicator)
    if request.method == "POST":
        require(current_user, "edit", models.LibraryIndicator)
        try:
            done = perform(import_library_file, request.files.get("file"), actor=current_user,
                           redirect_to=url_for("performance.library"))
        except DuplicateSubmission as duplicate:
            return repeated(duplicate)
        except LibraryImportRefused as refused:
            result = refused.result
        except DomainError as e:
            error = e.message
        else:
            flash(_("指标库导入成功：新增 %(a)s 条，更新 %(u)s 条。", a=done.added, u=done.updated), "success")
            return redirect(url_for("performance.library"))
    sectors = db.session.scalars(sa.select(models.LibraryIndicator.sector).distinct()
                                 .order_by(models.LibraryIndicator.sector)).all()
    return render_template("portal/performance/library.html", page=paginate(stmt), sector=sector, q=q,
                           sectors=sectors, result=result, error=error, can_manage=can_manage,
                           columns=LIBRARY_COLUMNS), (DOMAIN_ERROR_STATUS if result or error else 200)


@bp.route("/library/<int:item_id>/edit", methods=["GET", "POST"])
def edit_library_item(item_id):
    item = load_or_404(models.LibraryIndicator, item_id, "edit")
    form = LibraryItemForm(obj=item)
    if form.validate_on_submit():
        data = {name: f.data for name, f in form._fields.items() if name not in ("csrf_token", "lock_version")}
        done = submit(operations.update_library_indicator, item, data, actor=current_user, version=form.lock_version.data,
                      form=form, redirect_to=url_for("performance.library", sector=item.sector),
                      success=_("指标已保存。"))
        if done:
            return done
    return render_template("portal/performance/library_item.html", form=form, item=item), status(form)


# ---- settings (administrator) ----------------------------------------------------------------

@bp.route("/performance/settings", methods=["GET", "POST"])
def performance_settings():
    require(current_user, "edit", models.PerformanceSetting)
    error, typed = None, None
    versions = operations.setting_versions()
    if request.method == "POST":
        form = forms.settings_form(settings.FRAMEWORK_PARTS, models.Grade, operations.SETTING_FORM_KEYS)
        submitted = {key: form[name].data for key, name in operations.SETTING_FORM_KEYS.items()}
        try:
            parsing.check(form)
            n = perform(operations.update_settings, form.data, actor=current_user, versions=submitted,
                        redirect_to=url_for("performance.performance_settings"))
        except DuplicateSubmission as duplicate:
            return repeated(duplicate)
        except DomainError as e:
            error, typed, versions = e.message, parsing.typed(form), submitted  # the user's input and versions kept
        else:
            flash(_("设置已保存，已重新计算 %(n)s 份监控报告。", n=n), "success")
            return redirect(url_for("performance.performance_settings"))
    return render_template("portal/performance/settings.html", t=settings.thresholds(),
                           weights=settings.framework_weights(), parts=settings.FRAMEWORK_PARTS,
                           rules=settings.result_rules(), grades=models.Grade, error=error, typed=typed,
                           versions=versions, version_fields=operations.SETTING_FORM_KEYS), (
        DOMAIN_ERROR_STATUS if error else 200)


@bp.app_template_filter("num")
def num(value) -> str:
    """A Decimal without trailing zeros and never in exponent form: 10.00 → 10, 1250.5 → 1250.5."""
    from jinja2 import Undefined

    if value is None or isinstance(value, Undefined) or value == "":
        return ""
    text = f"{value.normalize():f}" if hasattr(value, "normalize") else str(value)
    return text
