"""Integration API: read projects, goals, monitoring and evaluations; create or update projects
and their goals in bulk with the same validation as the forms (all-or-nothing per request)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import request
from sqlalchemy.orm import selectinload

from portal.core.api import OPENAPI_SCHEMAS, PAGE_PARAMETERS, api_error, api_route, page_params, paged
from portal.core.errors import DomainError
from portal.core.permissions import can, visible
from portal.extensions import db
from portal.performance import operations as ops
from portal.performance import queries
from portal.performance.models import (
    Evaluation,
    GoalState,
    Indicator,
    MonitoringReport,
    PerformanceGoal,
    Project,
)


def _num(v):
    return None if v is None else str(v)


def project_json(p: Project) -> dict:
    return {"id": p.id, "code": p.code, "name": p.name, "year": p.year, "kind": p.kind.value,
            "budget_type": p.budget_type.value, "unit_id": p.unit_id, "unit_code": p.unit.code if p.unit else None,
            "department_id": p.department_id, "initial_budget": _num(p.initial_budget),
            "annual_budget": _num(p.annual_budget), "executed": _num(p.executed), "status": p.status.value,
            "stop_reason": p.stop_reason}


def indicator_json(i: Indicator) -> dict:
    return {"level1": i.level1.value, "level2": i.level2.value, "name": i.name, "operator": i.operator.value,
            "target_value": _num(i.target_value), "target_text": i.target_text, "unit": i.unit,
            "weight": _num(i.weight)}


def goal_json(g: PerformanceGoal) -> dict:
    return {"id": g.id, "project_id": g.project_id, "version": g.version, "state": g.state.value,
            "overall_goal": g.overall_goal, "review_grade": g.review_grade.value if g.review_grade else None,
            "indicators": [indicator_json(i) for i in g.indicators]}


def evaluation_json(e: Evaluation) -> dict:
    return {"id": e.id, "project_id": e.project_id, "mode": e.mode.value, "year": e.year, "state": e.state.value,
            "score": _num(e.score), "grade": e.grade.value if e.grade else None,
            "agency_id": e.agency_id, "conclusion": e.conclusion, "suggestions": e.suggestions,
            "findings": [{"category": f.category, "description": f.description, "amount": _num(f.amount),
                          "suggestion": f.suggestion} for f in e.findings]}


def report_json(r: MonitoringReport) -> dict:
    return {"id": r.id, "project_id": r.project_id, "month": r.month, "executed": _num(r.executed),
            "lag_warning": r.lag_warning, "red_count": r.red_count, "warning": r.warning,
            "values": [{"indicator": v.indicator.name, "value_so_far": _num(v.value_so_far),
                        "expected": _num(v.expected), "tier": v.tier.value if v.tier else None,
                        "reason": v.reason, "light": v.light} for v in r.values]}


OPENAPI_SCHEMAS.update({
    "Project": {"type": "object", "properties": {
        "id": {"type": "integer"}, "code": {"type": "string"}, "name": {"type": "string"},
        "year": {"type": "integer"}, "kind": {"type": "string", "enum": ["project", "policy", "unit_overall"]},
        "budget_type": {"type": "string", "enum": ["general", "fund", "state_capital", "social_insurance"]},
        "unit_id": {"type": "integer"}, "unit_code": {"type": "string"}, "department_id": {"type": "integer"},
        "initial_budget": {"type": "string", "description": "yuan, exact decimal"},
        "annual_budget": {"type": "string"}, "executed": {"type": "string"},
        "status": {"type": "string", "enum": ["active", "stopped"]}, "stop_reason": {"type": "string"}}},
    "Indicator": {"type": "object", "required": ["level1", "level2", "name", "operator", "weight"], "properties": {
        "level1": {"type": "string", "enum": ["output", "benefit", "satisfaction", "cost"]},
        "level2": {"type": "string"}, "name": {"type": "string"},
        "operator": {"type": "string", "enum": ["ge", "le", "eq", "gt", "lt", "qualitative"]},
        "target_value": {"type": "string", "nullable": True}, "target_text": {"type": "string"},
        "unit": {"type": "string"}, "weight": {"type": "string"}}},
    "Goal": {"type": "object", "properties": {
        "id": {"type": "integer"}, "project_id": {"type": "integer"}, "version": {"type": "integer"},
        "state": {"type": "string"}, "overall_goal": {"type": "string"}, "review_grade": {"type": "string"},
        "indicators": {"type": "array", "items": {"$ref": "#/components/schemas/Indicator"}}}},
    "Evaluation": {"type": "object", "properties": {
        "id": {"type": "integer"}, "project_id": {"type": "integer"}, "mode": {"type": "string"},
        "year": {"type": "integer"}, "state": {"type": "string"}, "score": {"type": "string"},
        "grade": {"type": "string"}, "findings": {"type": "array", "items": {"type": "object"}}}},
    "MonitoringReport": {"type": "object", "properties": {
        "month": {"type": "integer"}, "executed": {"type": "string"}, "warning": {"type": "boolean"},
        "values": {"type": "array", "items": {"type": "object"}}}},
    "ProjectInput": {"type": "object", "required": ["code", "name", "year", "kind", "budget_type", "unit_code"],
                     "properties": {
                         "code": {"type": "string"}, "name": {"type": "string"}, "year": {"type": "integer"},
                         "kind": {"type": "string"}, "budget_type": {"type": "string"},
                         "unit_code": {"type": "string"}, "initial_budget": {"type": "string"},
                         "annual_budget": {"type": "string"}, "executed": {"type": "string"},
                         "goal": {"type": "object", "properties": {
                             "overall_goal": {"type": "string"},
                             "indicators": {"type": "array", "items": {"$ref": "#/components/schemas/Indicator"}}}}}},
})


def _list_of(ref):
    return {"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object", "properties": {
        "page": {"type": "integer"}, "per_page": {"type": "integer"}, "total": {"type": "integer"},
        "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{ref}"}}}}}}},
        "401": {"description": "Missing or invalid token"}}


ID_PARAM = [{"name": "project_id", "in": "path", "required": True, "schema": {"type": "integer"}}]


@api_route("/projects", schema={
    "summary": "List projects the token user may see", "tags": ["performance"],
    "parameters": PAGE_PARAMETERS + [{"name": k, "in": "query", "schema": {"type": "string"}} for k in
                                     ("year", "department", "unit", "kind", "budget_type", "band", "grade", "warning")],
    "responses": _list_of("Project")})
def list_projects(user):
    page, per_page = page_params()
    stmt = queries.with_orgs(queries.project_list_stmt(user, request.args))
    return paged(stmt, project_json, page, per_page)


def _project_or_error(user, project_id):
    project = db.session.get(Project, project_id)
    if project is None or not can(user, "view", project):
        return None  # 404 either way: another unit's project does not exist for this user
    return project


@api_route("/projects/<int:project_id>", schema={
    "summary": "One project with its current goal", "tags": ["performance"], "parameters": ID_PARAM,
    "responses": {"200": {"description": "OK"}, "404": {"description": "Not found"}}})
def get_project(user, project_id):
    project = _project_or_error(user, project_id)
    if project is None:
        return api_error(404, "not_found", "项目不存在。")
    goal = project.current_goal
    return {**project_json(project), "goal": goal_json(goal) if goal else None}


@api_route("/projects/<int:project_id>/goals", schema={
    "summary": "Every goal version of a project", "tags": ["performance"], "parameters": ID_PARAM,
    "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
        "type": "array", "items": {"$ref": "#/components/schemas/Goal"}}}}}, "404": {"description": "Not found"}}})
def get_goals(user, project_id):
    project = _project_or_error(user, project_id)
    if project is None:
        return api_error(404, "not_found", "项目不存在。")
    return [goal_json(g) for g in project.goals]


@api_route("/projects/<int:project_id>/monitoring", schema={
    "summary": "Monitoring checkpoint reports of a project", "tags": ["performance"], "parameters": ID_PARAM,
    "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
        "type": "array", "items": {"$ref": "#/components/schemas/MonitoringReport"}}}}},
        "404": {"description": "Not found"}}})
def get_monitoring(user, project_id):
    project = _project_or_error(user, project_id)
    if project is None:
        return api_error(404, "not_found", "项目不存在。")
    reports = db.session.scalars(sa.select(MonitoringReport).where(MonitoringReport.project_id == project.id)
                                 .order_by(MonitoringReport.month)).all()
    return [report_json(r) for r in reports]


@api_route("/evaluations", schema={
    "summary": "Evaluations the token user may see", "tags": ["performance"],
    "parameters": PAGE_PARAMETERS + [{"name": "year", "in": "query", "schema": {"type": "integer"}},
                                     {"name": "mode", "in": "query", "schema": {"type": "string"}}],
    "responses": _list_of("Evaluation")})
def list_evaluations(user):
    page, per_page = page_params()
    stmt = visible(user, Evaluation).options(selectinload(Evaluation.findings)).order_by(Evaluation.id)
    if year := request.args.get("year", type=int):
        stmt = stmt.where(Evaluation.year == year)
    if mode := request.args.get("mode"):
        stmt = stmt.where(Evaluation.mode == mode) if mode in ("self", "department", "finance") else stmt
    return paged(stmt, evaluation_json, page, per_page)


@api_route("/projects/bulk", methods=("POST",), schema={
    "summary": "Create or update projects (by code and year) with their goals, all or nothing",
    "tags": ["performance"],
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "properties": {"projects": {"type": "array", "maxItems": 1000,
                                                      "items": {"$ref": "#/components/schemas/ProjectInput"}}}}}}},
    "responses": {"200": {"description": "All saved"},
                  "422": {"description": "Validation errors (nothing saved): details[] with index, field, message"}}})
def bulk_projects(user):
    from portal.accounts.models import Organisation

    payload = request.get_json(silent=True) or {}
    items = payload.get("projects")
    if not isinstance(items, list) or not items or len(items) > 1000:
        return api_error(400, "bad_request", "请求体应为 {\"projects\": [...]}，1–1000 项。")
    if not can(user, "create", Project):
        return api_error(403, "forbidden", "无权新建或修改项目。")
    errors, saved = [], []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            errors.append({"index": index, "field": None, "message": "每一项应为对象。"})
            continue
        try:
            with db.session.begin_nested():
                unit = db.session.scalar(sa.select(Organisation).where(Organisation.code == str(item.get("unit_code"))))
                data = {**item, "unit_id": unit.id if unit else 0}
                existing = db.session.scalar(sa.select(Project).where(Project.code == str(item.get("code", "")),
                                                                      Project.year == _int(item.get("year"))))
                if existing is not None:
                    project = ops.update_project(existing, data, actor=user)
                else:
                    project = ops.create_project(data, actor=user)
                goal_data = item.get("goal")
                if goal_data:
                    _save_goal(project, goal_data, user)
                saved.append(project)
        except DomainError as error:
            errors.append({"index": index, "field": error.field, "message": error.message})
    if errors:
        db.session.rollback()
        return api_error(422, "validation_failed", "数据未通过校验，未保存任何项目。", errors)
    return {"saved": [project_json(p) for p in saved]}


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _save_goal(project, goal_data: dict, user) -> None:
    rows = goal_data.get("indicators") or []
    if not isinstance(rows, list):
        raise DomainError("goal.indicators 应为数组。", field="goal")
    found = ops.validate_goal_rows(rows, goal_data.get("overall_goal", ""))
    if found:
        raise DomainError("；".join(found.messages()), field="goal")
    goal = ops.goal_for(project, actor=user)
    if goal.state not in (GoalState.DRAFT, GoalState.RETURNED):
        raise DomainError(f"绩效目标处于“{goal.state.zh}”状态，不能修改。", field="goal")
    ops.set_overall_goal(goal, goal_data.get("overall_goal", ""), actor=user)
    for ind in list(goal.indicators):
        ops.delete_indicator(ind, actor=user)
    for row in rows:
        ops.add_indicator(goal, {k: ("" if v is None else v) for k, v in row.items()}, actor=user)
