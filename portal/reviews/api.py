"""Read-only API: /api/v1/reviews (reports with versions and rounds). Never reviewer identities."""
from __future__ import annotations

from flask import request

from portal.core.api import OPENAPI_SCHEMAS, PAGE_PARAMETERS, api_route, page_params, paged
from portal.core.permissions import load_or_404, visible
from portal.reviews.models import Report, ReportState, RoundState

OPENAPI_SCHEMAS["ReviewReport"] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"}, "title": {"type": "string"}, "year": {"type": "integer"},
        "evaluation_id": {"type": "integer"}, "agency": {"type": "string"},
        "state": {"type": "string", "enum": [s.value for s in ReportState]},
        "final_score": {"type": "number", "nullable": True},
        "versions": {"type": "array", "items": {"type": "object", "properties": {
            "number": {"type": "integer"}, "uploaded_at": {"type": "string", "format": "date-time"},
            "late": {"type": "boolean"}}}},
        "rounds": {"type": "array", "items": {"type": "object", "properties": {
            "number": {"type": "integer"}, "version": {"type": "integer"}, "state": {"type": "string"},
            "deadline": {"type": "string", "format": "date"}, "decision": {"type": "string", "nullable": True},
            "opinion": {"type": "string", "nullable": True, "description": "合议意见, once decided"}}}},
    },
}


def serialise(report: Report) -> dict:
    return {
        "id": report.id, "title": report.title, "year": report.year, "evaluation_id": report.evaluation_id,
        "agency": report.agency.name, "state": report.state.value,
        "final_score": float(report.final_score) if report.final_score is not None else None,
        "versions": [{"number": v.number, "uploaded_at": v.uploaded_at.isoformat(), "late": v.late}
                     for v in report.versions],
        "rounds": [{"number": r.number, "version": r.version.number, "state": r.state.value,
                    "deadline": r.deadline.isoformat(), "decision": r.decision.value if r.decision else None,
                    "opinion": r.opinion if r.state == RoundState.DECIDED else None}
                   for r in report.rounds],
    }


@api_route("/reviews", schema={
    "summary": "评价报告同审（只读）", "tags": ["reviews"],
    "parameters": PAGE_PARAMETERS + [
        {"name": "state", "in": "query", "schema": {"type": "string", "enum": [s.value for s in ReportState]}},
        {"name": "year", "in": "query", "schema": {"type": "integer"}}],
    "responses": {"200": {"description": "A page of reports", "content": {"application/json": {"schema": {
        "type": "object", "properties": {"items": {"type": "array", "items": {
            "$ref": "#/components/schemas/ReviewReport"}}, "total": {"type": "integer"}}}}}}},
})
def list_reviews(user):
    from portal.extensions import db  # noqa: F401
    from portal.performance.models import Evaluation

    page, per_page = page_params()
    stmt = visible(user, Report).join(Evaluation, Evaluation.id == Report.evaluation_id)
    state = request.args.get("state")
    if state in {s.value for s in ReportState}:
        stmt = stmt.where(Report.state == ReportState(state))
    year = request.args.get("year", type=int)
    if year:
        stmt = stmt.where(Evaluation.year == year)
    return paged(stmt.order_by(Report.id), serialise, page, per_page)


@api_route("/reviews/<int:report_id>", schema={
    "summary": "一份评价报告的同审情况", "tags": ["reviews"],
    "parameters": [{"name": "report_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
    "responses": {"200": {"description": "The report", "content": {"application/json": {"schema": {
        "$ref": "#/components/schemas/ReviewReport"}}}}, "404": {"description": "Not found"}},
})
def get_review(user, report_id):
    return serialise(load_or_404(Report, report_id, "view", user=user))
