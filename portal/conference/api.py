"""Read-only API: /api/v1/conferences and /api/v1/library (the token user's permissions apply)."""
from portal.conference.models import Meeting, SharedDocument
from portal.conference.queries import search_documents
from portal.core.api import OPENAPI_SCHEMAS, PAGE_PARAMETERS, api_route, page_params, paged
from portal.core.attachments import attachments_of
from portal.core.permissions import can, visible

OPENAPI_SCHEMAS["ConferenceMeeting"] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"}, "year": {"type": "integer"}, "number": {"type": "integer"},
        "title": {"type": "string", "description": "第N次联席会议"}, "held_on": {"type": "string", "format": "date"},
        "place": {"type": "string"}, "convening_org": {"type": "string"},
        "attendees": {"type": "array", "items": {"type": "string"}},
        "agenda": {"type": "array", "items": {"type": "string"}}, "minutes": {"type": "string"},
        "actions": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "text": {"type": "string"}, "owner_org": {"type": "string"},
            "due_date": {"type": "string", "format": "date", "nullable": True},
            "state": {"type": "string", "enum": ["open", "in_progress", "done", "dropped"]},
            "overdue": {"type": "boolean"}}}},
    },
}
OPENAPI_SCHEMAS["SharedDocument"] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"}, "title": {"type": "string"},
        "kind": {"type": "string", "enum": ["audit_report", "audit_decision", "evaluation_result", "plan", "other"]},
        "year": {"type": "integer"}, "note": {"type": "string"}, "shared_by_org": {"type": "string"},
        "shared_at": {"type": "string", "format": "date-time"},
        "projects": {"type": "array", "items": {"type": "integer"}},
        "files": {"type": "array", "items": {"type": "string"}},
    },
}


def _page_of(ref: str) -> dict:
    return {"type": "object", "properties": {"page": {"type": "integer"}, "per_page": {"type": "integer"},
                                             "total": {"type": "integer"},
                                             "items": {"type": "array", "items": {"$ref": ref}}}}


def meeting_json(meeting: Meeting, user) -> dict:
    return {
        "id": meeting.id, "year": meeting.year, "number": meeting.number, "title": meeting.title,
        "held_on": meeting.held_on.isoformat(), "place": meeting.place, "convening_org": meeting.convening_org.name,
        "attendees": [u.display_name for u in meeting.attendees], "agenda": meeting.agenda_items,
        "minutes": meeting.minutes,
        "actions": [{"id": a.id, "text": a.text, "owner_org": a.owner_org.name,
                     "due_date": a.due_date.isoformat() if a.due_date else None, "state": str(a.state),
                     "overdue": a.overdue} for a in meeting.actions if can(user, "view", a)],
    }


def document_json(document: SharedDocument) -> dict:
    return {"id": document.id, "title": document.title, "kind": str(document.kind), "year": document.year,
            "note": document.note, "shared_by_org": document.shared_by_org.name,
            "shared_at": document.created_at.isoformat(), "projects": [p.id for p in document.projects],
            "files": [a.filename for a in attachments_of(document)]}


@api_route("/conferences", schema={
    "summary": "联席会议（含议定事项）", "tags": ["conference"],
    "parameters": PAGE_PARAMETERS + [{"name": "year", "in": "query", "schema": {"type": "integer"}}],
    "responses": {"200": {"description": "OK", "content": {"application/json": {
        "schema": _page_of("#/components/schemas/ConferenceMeeting")}}}, "401": {"description": "no token"}},
})
def api_conferences(user):
    from flask import request

    stmt = visible(user, Meeting)
    year = request.args.get("year", type=int)
    if year:
        stmt = stmt.where(Meeting.year == year)
    page, per_page = page_params()
    return paged(stmt.order_by(Meeting.year.desc(), Meeting.number.desc()), lambda m: meeting_json(m, user),
                 page, per_page)


@api_route("/library", schema={
    "summary": "共享资料（全文检索）", "tags": ["conference"],
    "parameters": PAGE_PARAMETERS + [
        {"name": "q", "in": "query", "schema": {"type": "string"}, "description": "空格分隔，每个词都须出现"},
        {"name": "kind", "in": "query", "schema": {"type": "string"}},
        {"name": "year", "in": "query", "schema": {"type": "integer"}}],
    "responses": {"200": {"description": "OK", "content": {"application/json": {
        "schema": _page_of("#/components/schemas/SharedDocument")}}}, "401": {"description": "no token"}},
})
def api_library(user):
    from flask import request

    stmt = search_documents(user, request.args.get("q", "")[:200], kind=request.args.get("kind", "")[:32],
                            year=request.args.get("year", type=int))
    page, per_page = page_params()
    return paged(stmt, document_json, page, per_page)
