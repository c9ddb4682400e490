"""Read-only API: /api/v1/inquiries (list with filters) and /api/v1/inquiries/<id> (detail)."""
from __future__ import annotations

from datetime import date

from pydantic import Field

from portal.core.api import api_route, paged, readable_or_404
from portal.core.schemas import DbId, LocalDateTime, Page, PageQuery, Schema, Text, Year, choice
from portal.inquiries import queries
from portal.inquiries.models import Letter, LetterState, Marking, Outcome, Urgency


class InquiryQuery(PageQuery):
    """函询筛选 · letter filters"""
    direction: choice(queries.DIRECTIONS) = Field("all", description=(
        "incoming 收文（发给令牌用户单位）/ outgoing 发文 / all 全部 · incoming, outgoing or all"))
    state: choice(LetterState) | None = Field(None, description="函件状态 · letter state")
    year: Year | None = Field(None, description="年度（发文字号年份） · year of the letter number")
    project: DbId | None = Field(None, description="关联项目 id · linked project id")
    overdue: bool = Field(False, description="只看逾期未答复的 · only letters past their deadline")
    q: Text(100) = Field("", description="标题包含 · title contains")


class LinkedProject(Schema):
    """关联项目 · a linked project"""
    id: int = Field(description="项目 id · project id")
    code: str = Field(description="项目编码 · project code")
    name: str = Field(description="项目名称 · project name")


class InquiryLetter(Schema):
    """函询函件 · an inquiry letter"""
    id: int = Field(description="函件 id · letter id")
    number: str = Field(description="发文字号（未签发为空） · letter number, empty before sign-off")
    title: str = Field(description="标题 · title")
    state: choice(LetterState) = Field(description="状态 · state")
    state_label: str = Field(description="状态（中文） · state label (Chinese)")
    sender: str = Field(description="发函单位 · sending organisation")
    addressee: str = Field(description="收函单位 · addressed organisation")
    urgency: choice(Urgency) = Field(description="紧急程度 · urgency")
    marking: choice(Marking) = Field(description="公开属性 · marking")
    deadline: date | None = Field(description="答复期限 · answer deadline")
    overdue: bool = Field(description="是否逾期未答复 · past the deadline without an answer")
    sent_at: LocalDateTime | None = Field(description="发出时间 · when it was sent")
    projects: list[LinkedProject] = Field(description="关联项目 · linked projects")


class LetterItemOut(Schema):
    """函询事项 · a requested item"""
    position: int = Field(description="序号 · position")
    description: str = Field(description="事项内容 · what is requested")
    outcome: choice(Outcome) | None = Field(description="答复结果 · outcome")
    reason: str | None = Field(description="说明（不予提供须说明理由） · reason")
    answered_at: LocalDateTime | None = Field(description="答复时间 · when answered")
    answered_by: str | None = Field(description="答复人 · who answered")


class HistoryEntry(Schema):
    """办理记录 · a history entry"""
    at: LocalDateTime = Field(description="时间 · when")
    actor: str | None = Field(description="办理人 · who")
    action: str = Field(description="动作代码 · action code")
    comment: str | None = Field(description="意见 · comment")


class InquiryLetterDetail(InquiryLetter):
    """函询函件详情（事项与办理记录） · a letter with its items and history"""
    copies: str = Field(description="抄送 · copied to")
    body: str = Field(description="正文 · body")
    items: list[LetterItemOut] = Field(description="函询事项 · requested items")
    history: list[HistoryEntry] = Field(description="办理记录 · history")


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


@api_route("/inquiries", summary="函询函件列表（逾期优先） · inquiry letters, overdue first", tags=["inquiries"],
           query=InquiryQuery, response=Page[InquiryLetter], errors=())
def inquiries_list(user, query: InquiryQuery):
    stmt = queries.letter_list(user, direction=query.direction, state=query.state or "", year=query.year,
                               project_id=query.project, overdue=query.overdue, q=query.q)
    return paged(stmt, serialise, query)


@api_route("/inquiries/<int:letter_id>", summary="函询函件详情（事项与办理记录） · one letter with items and history",
           tags=["inquiries"], response=InquiryLetterDetail, path={"letter_id": "函件 id · letter id"})
def inquiry_detail(user, letter_id):
    return serialise(readable_or_404(Letter, letter_id, user, "函件不存在或无权查看。"), full=True)
