"""Integration API: read projects, goals, monitoring and evaluations; create or update projects
and their goals in bulk with the same validation as the forms (all-or-nothing per request).
The request and response models below are the endpoints' contract and their OpenAPI entries."""
from __future__ import annotations

import sqlalchemy as sa
from pydantic import Field
from sqlalchemy.orm import selectinload

from portal.core.api import api_error, api_route, api_write, filtered, paged, readable_or_404
from portal.core.permissions import can, visible
from portal.core.schemas import ID_MAX, Amount, Body, DbId, Page, PageQuery, Schema, Text, Year, choice
from portal.extensions import db
from portal.performance import models, operations, queries
from portal.performance.queries import AMOUNT_BANDS


# -- queries ------------------------------------------------------------------------------------------
class ProjectQuery(PageQuery):
    """项目筛选（与项目列表页面相同） · the project list's filters"""
    year: Year | None = Field(None, description="年度 · year")
    department: DbId | None = Field(None, description="主管部门 id · supervising department id")
    unit: DbId | None = Field(None, description="实施单位 id · budget unit id")
    kind: choice(models.ProjectKind) | None = Field(None, description="项目类型 · project kind")
    budget_type: choice(models.BudgetType) | None = Field(None, description="预算类型（四本预算） · budget type")
    band: choice(AMOUNT_BANDS) | None = Field(None, description="金额区间 · amount band")
    grade: choice(models.Grade) | None = Field(None, description="最近一次已完成评价的等级 · grade of a completed evaluation")
    warning: choice(("0", "1")) | None = Field(None, description="1 有预警 / 0 无预警 · 1 warned, 0 not warned")
    q: Text(60) = Field("", description="名称包含或编码开头 · name contains or code starts with")


class EvaluationQuery(PageQuery):
    """绩效评价筛选 · evaluation filters"""
    year: Year | None = Field(None, description="年度 · year")
    mode: choice(models.EvaluationMode) | None = Field(None, description="评价方式 · evaluation mode")


# -- responses ----------------------------------------------------------------------------------------
class Project(Schema):
    """项目 · a project"""
    id: int = Field(description="项目 id · project id")
    code: str = Field(description="项目编码（预算系统） · project code from the budget system")
    name: str = Field(description="项目名称 · project name")
    year: int = Field(description="年度 · year")
    kind: choice(models.ProjectKind) = Field(description="项目类型 · project kind")
    budget_type: choice(models.BudgetType) = Field(description="预算类型 · budget type")
    unit_id: int = Field(description="实施单位 id · budget unit id")
    unit_code: str | None = Field(description="实施单位编码 · budget unit code")
    department_id: int | None = Field(description="主管部门 id · supervising department id")
    initial_budget: str | None = Field(description="年初预算数（元，精确小数） · initial budget, yuan")
    annual_budget: str | None = Field(description="全年预算数（元） · annual budget, yuan")
    executed: str | None = Field(description="全年执行数（元） · executed, yuan")
    status: choice(models.ProjectStatus) = Field(description="项目状态 · status")
    stop_reason: str = Field(description="终止原因 · why it was stopped")
    lock_version: int = Field(description="版本号：更新时原样带回 · send it back to update the project")


class IndicatorOut(Schema):
    """绩效指标 · a performance indicator"""
    level1: choice(models.Level1) = Field(description="一级指标 · level-1 category")
    level2: choice(models.Level2) = Field(description="二级指标 · level-2 category")
    name: str = Field(description="三级指标名称 · indicator name")
    operator: choice(models.Operator) = Field(description="比较方式 · comparison")
    target_value: str | None = Field(description="指标值（定量） · quantitative target")
    target_text: str = Field(description="指标值（定性） · qualitative target")
    unit: str = Field(description="度量单位 · unit of measure")
    weight: str | None = Field(description="分值 · weight (points)")


class GoalOut(Schema):
    """绩效目标（一个版本） · one version of a project's performance goal"""
    id: int = Field(description="目标 id · goal id")
    project_id: int = Field(description="项目 id · project id")
    version: int = Field(description="目标版本 · goal version")
    lock_version: int = Field(description="版本号：替换指标表时带回 · send it back to replace the goal")
    state: choice(models.GoalState) = Field(description="目标状态 · goal state")
    overall_goal: str = Field(description="总体目标 · overall goal")
    review_grade: choice(models.Grade) | None = Field(description="审核等级 · review grade")
    indicators: list[IndicatorOut] = Field(description="指标表 · indicator table")


class ProjectDetail(Project):
    """项目及其当前绩效目标 · a project with its current goal"""
    goal: GoalOut | None = Field(description="当前绩效目标 · current goal")


class FindingOut(Schema):
    """评价发现的问题 · a finding"""
    category: str = Field(description="问题类别 · category")
    description: str = Field(description="问题描述 · description")
    amount: str | None = Field(description="涉及金额（元） · amount, yuan")
    suggestion: str = Field(description="建议 · suggestion")


class EvaluationOut(Schema):
    """绩效评价 · an evaluation"""
    id: int = Field(description="评价 id · evaluation id")
    project_id: int = Field(description="项目 id · project id")
    mode: choice(models.EvaluationMode) = Field(description="评价方式 · mode")
    year: int = Field(description="年度 · year")
    state: choice(models.EvaluationState) = Field(description="评价状态 · state")
    score: str | None = Field(description="得分（满分100） · score out of 100")
    grade: choice(models.Grade) | None = Field(description="等级 · grade")
    agency_id: int | None = Field(description="第三方机构 id · agency id")
    conclusion: str = Field(description="综合评价结论 · conclusion")
    suggestions: str = Field(description="建议 · suggestions")
    findings: list[FindingOut] = Field(description="存在问题 · findings")


class MonitoringValueOut(Schema):
    """一个指标的监控值 · one indicator's monitored value"""
    indicator: str = Field(description="指标名称 · indicator name")
    value_so_far: str | None = Field(description="截至本月完成值 · value so far")
    expected: str | None = Field(description="全年预计完成值 · expected for the year")
    tier: choice(models.QualitativeTier) | None = Field(description="定性指标完成情况 · qualitative tier")
    reason: str = Field(description="偏差原因 · reason for a deviation")
    light: str = Field(description="信号灯（green/yellow/red/none） · traffic light")


class MonitoringReportOut(Schema):
    """绩效监控报告（截至某月） · a monitoring checkpoint report"""
    id: int = Field(description="报告 id · report id")
    project_id: int = Field(description="项目 id · project id")
    month: int = Field(description="截至月份 · checkpoint month")
    executed: str | None = Field(description="截至本月执行数（元） · executed so far, yuan")
    lag_warning: bool = Field(description="执行进度滞后预警 · spending lags behind")
    red_count: int = Field(description="红灯指标数 · number of red indicators")
    warning: bool = Field(description="是否预警 · warned")
    values: list[MonitoringValueOut] = Field(description="各指标监控值 · per-indicator values")


class SavedProjects(Schema):
    """批量保存结果 · the projects saved"""
    saved: list[Project] = Field(description="已保存的项目 · projects saved")


# -- the bulk body ------------------------------------------------------------------------------------
class IndicatorIn(Body):
    """一行绩效指标（与指标表表单相同的校验） · one indicator row (validated as in the form)"""
    level1: choice(models.Level1) = Field(description="一级指标 · level-1 category")
    level2: choice(models.Level2) = Field(description="二级指标（须属于一级指标） · level-2 category, within level 1")
    name: Text(200, 1) = Field(description="三级指标名称 · indicator name")
    operator: choice(models.Operator) = Field(description="比较方式 · comparison")
    target_value: Amount | None = Field(None, description="指标值（定量，数字） · quantitative target")
    target_text: Text(200) = Field("", description="指标值（定性） · qualitative target")
    unit: Text(20) = Field("", description="度量单位 · unit of measure")
    weight: Amount = Field(description="分值；一张表合计 90 · weight; a table totals 90")


class GoalIn(Body):
    """绩效目标（整表替换） · the goal, replaced as a whole table"""
    lock_version: int | None = Field(None, ge=0, le=ID_MAX, description=(
        "替换已有目标时必填：读取时的 goal.lock_version · required to replace an existing goal"))
    overall_goal: Text(5000) = Field("", description="总体目标 · overall goal")
    indicators: list[IndicatorIn] = Field(default_factory=list, max_length=200, description="指标表 · indicator rows")


class ProjectIn(Body):
    """一个项目（按编码和年度新建或更新） · one project, created or updated by code and year"""
    code: Text(40, 1) = Field(description="项目编码 · project code")
    name: Text(200, 1) = Field(description="项目名称 · project name")
    year: Year = Field(description="年度 · year")
    kind: choice(models.ProjectKind) = Field(description="项目类型 · project kind")
    budget_type: choice(models.BudgetType) = Field(description="预算类型 · budget type")
    unit_code: Text(40, 1) = Field(description="实施单位编码 · budget unit code")
    initial_budget: Amount | None = Field(None, description="年初预算数（元） · initial budget, yuan")
    annual_budget: Amount | None = Field(None, description="全年预算数（元） · annual budget, yuan")
    executed: Amount | None = Field(None, description="全年执行数（元） · executed, yuan")
    lock_version: int | None = Field(None, ge=0, le=ID_MAX, description=(
        "更新已有项目时必填：读取时的 lock_version · required to update an existing project"))
    goal: GoalIn | None = Field(None, description="绩效目标 · performance goal")


class BulkProjects(Body):
    """批量新建或更新项目，全部成功或全部不保存 · projects to create or update, all or nothing"""
    projects: list[ProjectIn] = Field(min_length=1, max_length=1000, description="项目（1–1000 项） · 1–1000 projects")


def _num(v):
    return None if v is None else str(v)


def project_json(p: models.Project) -> dict:
    return {"id": p.id, "code": p.code, "name": p.name, "year": p.year, "kind": p.kind.value,
            "budget_type": p.budget_type.value, "unit_id": p.unit_id, "unit_code": p.unit.code if p.unit else None,
            "department_id": p.department_id, "initial_budget": _num(p.initial_budget),
            "annual_budget": _num(p.annual_budget), "executed": _num(p.executed), "status": p.status.value,
            "stop_reason": p.stop_reason, "lock_version": p.lock_version}


def indicator_json(i: models.Indicator) -> dict:
    return {"level1": i.level1.value, "level2": i.level2.value, "name": i.name, "operator": i.operator.value,
            "target_value": _num(i.target_value), "target_text": i.target_text, "unit": i.unit,
            "weight": _num(i.weight)}


def goal_json(g: models.PerformanceGoal) -> dict:
    return {"id": g.id, "project_id": g.project_id, "version": g.version, "lock_version": g.lock_version,
            "state": g.state.value,
            "overall_goal": g.overall_goal, "review_grade": g.review_grade.value if g.review_grade else None,
            "indicators": [indicator_json(i) for i in g.indicators]}


def evaluation_json(e: models.Evaluation) -> dict:
    return {"id": e.id, "project_id": e.project_id, "mode": e.mode.value, "year": e.year, "state": e.state.value,
            "score": _num(e.score), "grade": e.grade.value if e.grade else None,
            "agency_id": e.agency_id, "conclusion": e.conclusion, "suggestions": e.suggestions,
            "findings": [{"category": f.category, "description": f.description, "amount": _num(f.amount),
                          "suggestion": f.suggestion} for f in e.findings]}


def report_json(r: models.MonitoringReport) -> dict:
    return {"id": r.id, "project_id": r.project_id, "month": r.month, "executed": _num(r.executed),
            "lag_warning": r.lag_warning, "red_count": r.red_count, "warning": r.warning,
            "values": [{"indicator": v.indicator.name, "value_so_far": _num(v.value_so_far),
                        "expected": _num(v.expected), "tier": v.tier.value if v.tier else None,
                        "reason": v.reason, "light": v.light} for v in r.values]}


PROJECT_ID = {"project_id": "项目 id · project id"}


@api_route("/projects", summary="令牌用户可见的项目 · projects the token user may see", tags=["performance"],
           query=ProjectQuery, response=Page[Project], errors=())
def list_projects(user, query: ProjectQuery):
    stmt = queries.with_orgs(queries.project_list_stmt(user, query.filter_args()))
    return paged(stmt, project_json, query)


def _project_or_404(user, project_id):
    return readable_or_404(models.Project, project_id, user, "项目不存在。")


@api_route("/projects/<int:project_id>", summary="一个项目及其当前绩效目标 · one project with its current goal",
           tags=["performance"], response=ProjectDetail, path=PROJECT_ID)
def get_project(user, project_id):
    project = _project_or_404(user, project_id)
    goal = project.current_goal
    return {**project_json(project), "goal": goal_json(goal) if goal else None}


@api_route("/projects/<int:project_id>/goals", summary="项目的各版绩效目标 · every goal version of a project",
           tags=["performance"], response=list[GoalOut], path=PROJECT_ID)
def get_goals(user, project_id):
    return [goal_json(g) for g in _project_or_404(user, project_id).goals]


@api_route("/projects/<int:project_id>/monitoring", summary="项目的绩效监控报告 · monitoring reports of a project",
           tags=["performance"], response=list[MonitoringReportOut], path=PROJECT_ID)
def get_monitoring(user, project_id):
    project = _project_or_404(user, project_id)
    reports = db.session.scalars(sa.select(models.MonitoringReport)
                                 .where(models.MonitoringReport.project_id == project.id)
                                 .order_by(models.MonitoringReport.month)).all()
    return [report_json(r) for r in reports]


@api_route("/evaluations", summary="令牌用户可见的绩效评价 · evaluations the token user may see",
           tags=["performance"], query=EvaluationQuery, response=Page[EvaluationOut], errors=())
def list_evaluations(user, query: EvaluationQuery):
    stmt = filtered(visible(user, models.Evaluation), query, year=models.Evaluation.year, mode=models.Evaluation.mode)
    return paged(stmt.options(selectinload(models.Evaluation.findings)).order_by(models.Evaluation.id),
                 evaluation_json, query)


@api_route("/projects/bulk", methods=("POST",), tags=["performance"], body=BulkProjects, response=SavedProjects,
           summary="批量新建或更新项目及其绩效目标（全部成功或全部不保存） · "
                   "create or update projects with their goals, all or nothing",
           description="更新已有项目须带回读取时的 `lock_version`（GET /api/v1/projects/{id}），替换已有目标须带回 "
                       "`goal.lock_version`；版本过期时整个请求以 409 拒绝。校验与表单相同，错误以 422 返回，"
                       "details[] 含 index、field、message。 · Updating a project needs the `lock_version` it "
                       "was read with, replacing a goal `goal.lock_version`; a stale version refuses the whole "
                       "request with 409. Refused items: 422 with details[] (index, field, message).",
           errors=(403, 409))
def bulk_projects(user, body: BulkProjects):
    if not can(user, "create", models.Project):
        return api_error(403, "forbidden", "无权新建或修改项目。")
    items = [item.model_dump(exclude_none=True) for item in body.projects]
    saved = api_write(operations.save_projects, items, actor=user)
    return {"saved": [project_json(p) for p in saved]}
