"""Read-only API: /api/v1/conferences and /api/v1/library (the token user's permissions apply)."""
from __future__ import annotations

from datetime import date

from pydantic import Field

from portal.conference.models import ActionState, DocumentKind, Meeting, SharedDocument
from portal.conference.queries import search_documents
from portal.core.api import api_route, filtered, paged
from portal.core.attachments import attachments_of
from portal.core.permissions import can, visible
from portal.core.schemas import LocalDateTime, Page, PageQuery, Schema, Text, Year, choice

DocumentKindValue = choice(DocumentKind)
ActionStateValue = choice(ActionState)


class ConferenceQuery(PageQuery):
    """联席会议筛选 · meeting filters"""
    year: Year | None = Field(None, description="年度 · year")


class LibraryQuery(PageQuery):
    """共享资料检索 · library search"""
    q: Text(200) = Field("", description="检索词，空格分隔，每个词都须出现在标题或文件正文中 · "
                                          "space-separated terms, each must occur in the title or a file's text")
    kind: DocumentKindValue | None = Field(None, description="资料类别 · document kind")
    year: Year | None = Field(None, description="年度 · year")


class MeetingAction(Schema):
    """议定事项 · an agreed action"""
    id: int = Field(description="事项 id · action id")
    text: str = Field(description="事项内容 · what was agreed")
    owner_org: str = Field(description="责任单位 · responsible organisation")
    due_date: date | None = Field(description="完成时限 · due date")
    state: ActionStateValue = Field(description="办理状态 · state")
    overdue: bool = Field(description="是否逾期 · past its due date and not done")


class ConferenceMeeting(Schema):
    """联席会议 · a joint-conference meeting"""
    id: int = Field(description="会议 id · meeting id")
    year: int = Field(description="年度 · year")
    number: int = Field(description="当年第几次 · number within the year")
    title: str = Field(description="会议名称（第N次联席会议） · title")
    held_on: date = Field(description="召开日期 · date held")
    place: str = Field(description="地点 · place")
    convening_org: str = Field(description="召集单位 · convening organisation")
    attendees: list[str] = Field(description="参会人员 · attendees")
    agenda: list[str] = Field(description="议题 · agenda items")
    minutes: str = Field(description="会议纪要 · minutes")
    actions: list[MeetingAction] = Field(description="令牌用户可见的议定事项 · agreed actions the token user may see")


class SharedDocumentOut(Schema):
    """共享资料 · a shared document"""
    id: int = Field(description="资料 id · document id")
    title: str = Field(description="标题 · title")
    kind: DocumentKindValue = Field(description="资料类别 · kind")
    year: int = Field(description="年度 · year")
    note: str = Field(description="说明 · note")
    shared_by_org: str = Field(description="共享单位 · organisation that shared it")
    shared_at: LocalDateTime = Field(description="共享时间 · when it was shared")
    projects: list[int] = Field(description="关联项目 id · linked project ids")
    files: list[str] = Field(description="附件文件名 · file names")


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


@api_route("/conferences", summary="联席会议（含议定事项） · joint-conference meetings with their actions",
           tags=["conference"], query=ConferenceQuery, response=Page[ConferenceMeeting], errors=())
def api_conferences(user, query: ConferenceQuery):
    stmt = filtered(visible(user, Meeting), query, year=Meeting.year)
    return paged(stmt.order_by(Meeting.year.desc(), Meeting.number.desc()), lambda m: meeting_json(m, user), query)


@api_route("/library", summary="共享资料（全文检索） · shared documents (full-text search)", tags=["conference"],
           query=LibraryQuery, response=Page[SharedDocumentOut], errors=())
def api_library(user, query: LibraryQuery):
    stmt = search_documents(user, query.q, kind=query.kind or "", year=query.year)
    return paged(stmt, document_json, query)
