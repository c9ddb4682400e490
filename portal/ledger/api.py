"""GET /api/v1/problems: the ledger, read-only, with the ledger page's filters."""
from flask import request

from portal.core.api import OPENAPI_SCHEMAS, PAGE_PARAMETERS, api_route, page_params, paged
from portal.core.permissions import visible
from portal.ledger.models import Problem
from portal.ledger.queries import LedgerFilters, bucket_of

OPENAPI_SCHEMAS["Problem"] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"}, "number": {"type": "string", "example": "ZG-2026-0001"},
        "year": {"type": "integer"}, "source": {"type": "string"}, "source_ref": {"type": "string"},
        "project_id": {"type": "integer", "nullable": True}, "unit_id": {"type": "integer"},
        "unit": {"type": "string"}, "department_id": {"type": "integer"}, "department": {"type": "string"},
        "category": {"type": "string"}, "description": {"type": "string"},
        "amount": {"type": "string", "description": "yuan, exact decimal"},
        "rectified": {"type": "object", "additionalProperties": {"type": "string"}},
        "rect_type": {"type": "string"}, "listed_on": {"type": "string", "format": "date"},
        "deadline": {"type": "string", "format": "date"}, "state": {"type": "string"},
        "bucket": {"type": "string", "nullable": True, "enum": ["overdue", "d10", "d20", "later", None]},
        "closed_on": {"type": "string", "format": "date", "nullable": True},
        "recurrence_of": {"type": "string", "nullable": True},
    },
}

_FILTERS = [{"name": n, "in": "query", "schema": {"type": t}, "description": d} for n, t, d in [
    ("year", "integer", "年度"), ("unit", "integer", "责任单位 id"), ("department", "integer", "主管部门 id"),
    ("source", "string", "evaluation / co_review / audit / monitoring / conference"),
    ("category", "string", "问题类别"), ("state", "string", "listed / in_progress / long_term / submitted / closed"),
    ("bucket", "string", "overdue / d10 / d20 / later"), ("q", "string", "编号或描述包含"),
    ("sort", "string", "number, deadline, amount, state…; prefix - for descending")]]


def serialise(p: Problem) -> dict:
    from portal.ledger.models import MONEY_FIELDS

    return {"id": p.id, "number": p.number, "year": p.year, "source": p.source.value, "source_ref": p.source_ref,
            "project_id": p.project_id, "unit_id": p.unit_id, "unit": p.unit.name, "department_id": p.department_id,
            "department": p.department.name, "category": p.category, "description": p.description,
            "amount": str(p.amount), "rectified": {f[5:]: str(getattr(p, f)) for f in MONEY_FIELDS},
            "rect_type": p.rect_type.value, "listed_on": p.listed_on.isoformat(), "deadline": p.deadline.isoformat(),
            "state": p.state.value, "bucket": bucket_of(p),
            "closed_on": p.closed_on.isoformat() if p.closed_on else None,
            "recurrence_of": p.recurrence_of.number if p.recurrence_of_id else None}


@api_route("/problems", schema={
    "summary": "问题台账（只读）", "parameters": _FILTERS + PAGE_PARAMETERS,
    "responses": {"200": {"description": "A page of problems the token's user may see", "content": {
        "application/json": {"schema": {"type": "object", "properties": {
            "page": {"type": "integer"}, "per_page": {"type": "integer"}, "total": {"type": "integer"},
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}}}}}}}}})
def list_problems(user):
    from sqlalchemy.orm import joinedload

    filters = LedgerFilters.from_args(request.args)
    stmt = filters.order(filters.apply(visible(user, Problem)))
    stmt = stmt.options(joinedload(Problem.unit), joinedload(Problem.department))
    page, per_page = page_params()
    return paged(stmt, serialise, page, per_page)


@api_route("/problems/<int:problem_id>", schema={
    "summary": "一个问题", "responses": {"200": {"description": "The problem", "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}, "404": {"description": "Not found"}}})
def get_problem(user, problem_id):
    from flask import abort

    problem = visible(user, Problem).where(Problem.id == problem_id)
    from portal.extensions import db

    record = db.session.execute(problem).scalar_one_or_none()
    if record is None:
        abort(404, "没有该问题或无权查看。")
    return serialise(record)
