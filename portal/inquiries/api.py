"""Read-only API: /api/v1/inquiries (list with filters) and /api/v1/inquiries/<id> (detail)."""
from __future__ import annotations

from flask import abort, request

from portal.core.api import OPENAPI_SCHEMAS, PAGE_PARAMETERS, api_route, page_params, paged
from portal.core.permissions import can
from portal.extensions import db
from portal.inquiries import queries
from portal.inquiries.models import Letter

OPENAPI_SCHEMAS["InquiryLetter"] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"}, "number": {"type": "string", "description": "发文字号"},
        "title": {"type": "string"}, "state": {"type": "string"}, "state_label": {"type": "string"},
        "sender": {"type": "string"}, "addressee": {"type": "string"}, "urgency": {"type": "string"},
        "marking": {"type": "string"}, "deadline": {"type": "string", "format": "date", "nullable": True},
        "overdue": {"type": "boolean"}, "sent_at": {"type": "string", "nullable": True},
        "projects": {"type": "array", "items": {"type": "object"}},
    },
}


def serialise(letter: Letter, full: bool = False) -> dict:
    data = {
        "id": letter.id, "number": letter.doc_number, "title": letter.title, "state": letter.state.value,
        "state_label": letter.state.zh, "sender": letter.sender_org.name, "addressee": letter.addressee_org.name,
        "urgency": letter.urgency.value, "marking": letter.marking.value,
        "deadline": letter.deadline.isoformat() if letter.deadline else None, "overdue": letter.is_overdue,
        "sent_at": letter.sent_at.isoformat() if letter.sent_at else None,
        "projects": [{"id": p.id, "code": p.code, "name": p.name} for p in letter.projects],
    }
    if full:
        data["copies"] = letter.copies
        data["body"] = letter.body
        data["items"] = [{"position": i.position, "description": i.description,
                          "outcome": i.outcome.value if i.outcome else None, "reason": i.reason,
                          "answered_at": i.answered_at.isoformat() if i.answered_at else None,
                          "answered_by": i.answered_by.display_name if i.answered_by else None}
                         for i in letter.items]
        data["history"] = [{"at": e.at.isoformat(), "actor": e.actor_name, "action": e.action,
                            "comment": e.comment} for e in queries.history(letter)]
    return data


FILTERS = [
    {"name": "direction", "in": "query", "schema": {"type": "string", "enum": ["incoming", "outgoing", "all"]}},
    {"name": "state", "in": "query", "schema": {"type": "string"}},
    {"name": "year", "in": "query", "schema": {"type": "integer"}},
    {"name": "project", "in": "query", "schema": {"type": "integer"}},
    {"name": "overdue", "in": "query", "schema": {"type": "boolean"}},
]


@api_route("/inquiries", schema={
    "summary": "函询函件列表（逾期优先）", "parameters": FILTERS + PAGE_PARAMETERS,
    "responses": {"200": {"description": "A page of letters", "content": {"application/json": {"schema": {
        "type": "object", "properties": {"items": {"type": "array",
                                                   "items": {"$ref": "#/components/schemas/InquiryLetter"}}}}}}}},
})
def inquiries_list(user):
    def int_arg(name):
        try:
            return int(request.args.get(name, ""))
        except ValueError:
            return None

    direction = request.args.get("direction", "all")
    stmt = queries.letter_list(user, direction=direction if direction in queries.DIRECTIONS else "all",
                               state=request.args.get("state", ""), year=int_arg("year"),
                               project_id=int_arg("project"),
                               overdue=request.args.get("overdue", "").lower() in ("1", "true"))
    page, per_page = page_params()
    return paged(stmt, serialise, page, per_page)


@api_route("/inquiries/<int:letter_id>", schema={
    "summary": "函询函件详情（事项与办理记录）",
    "parameters": [{"name": "letter_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
    "responses": {"200": {"description": "The letter with its items and history"},
                  "404": {"description": "Not found or not visible"}},
})
def inquiry_detail(user, letter_id):
    letter = db.session.get(Letter, letter_id)
    if letter is None or not can(user, "view", letter):
        abort(404)
    return serialise(letter, full=True)
