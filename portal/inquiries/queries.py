"""Read-side helpers: filtered lists, counts, history."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from portal.core import clock
from portal.core.audit import AuditEntry
from portal.core.permissions import visible
from portal.core.web import N_
from portal.extensions import db
from portal.inquiries.models import (
    AWAITING_ANSWER,
    ISSUED,
    Letter,
    LetterItem,
    LetterReply,
    LetterState,
    letter_projects,
    overdue_clause,
)

DIRECTIONS = ("incoming", "outgoing", "all")


def letter_list(user, *, direction: str = "all", state: str = "", year: int | None = None,
                project_id: int | None = None, overdue: bool = False, q: str = ""):
    """The SELECT behind the lists and the API: permission scope first, filters, overdue first."""
    stmt = visible(user, Letter)
    if direction == "incoming":
        stmt = stmt.where(Letter.addressee_org_id == user.organisation_id)
    elif direction == "outgoing":
        stmt = stmt.where(Letter.sender_org_id == user.organisation_id)
    if state:
        try:
            stmt = stmt.where(Letter.state == LetterState(state))
        except ValueError:
            stmt = stmt.where(sa.false())
    if year:
        stmt = stmt.where(sa.or_(Letter.number_year == year,
                                 sa.and_(Letter.number_year.is_(None),
                                         sa.extract("year", Letter.created_at) == year)))
    if project_id:
        stmt = stmt.where(Letter.id.in_(sa.select(letter_projects.c.letter_id)
                                        .where(letter_projects.c.project_id == project_id)))
    if overdue:
        stmt = stmt.where(overdue_clause())
    if q:
        stmt = stmt.where(Letter.title.contains(q[:100]))
    late = sa.case((overdue_clause(), 0), else_=1)
    return stmt.order_by(late, Letter.deadline.is_(None), Letter.deadline, Letter.id.desc())


def counts(user) -> dict[str, int]:
    """Figures for the dashboard: what waits on this user's bureau."""
    org = user.organisation_id
    today = clock.today()
    base = visible(user, Letter).with_only_columns(sa.func.count()).select_from(Letter)

    def n(*where) -> int:
        return db.session.execute(base.where(*where)).scalar_one()

    return {
        "incoming_open": n(Letter.addressee_org_id == org, Letter.state.in_(AWAITING_ANSWER)),
        "incoming_overdue": n(Letter.addressee_org_id == org, overdue_clause(today)),
        "outgoing_open": n(Letter.sender_org_id == org, Letter.state.in_(AWAITING_ANSWER)),
        "outgoing_overdue": n(Letter.sender_org_id == org, overdue_clause(today)),
        "to_sign": n(Letter.sender_org_id == org, Letter.state == LetterState.PENDING_SIGNOFF),
        "to_close": n(Letter.sender_org_id == org, Letter.state == LetterState.ANSWERED),
    }


def history(letter: Letter) -> list[AuditEntry]:
    """Every entry about the letter, its items and replies, oldest first."""
    item_ids = [str(i.id) for i in letter.items]
    reply_ids = [str(r.id) for r in letter.replies]
    clauses = [sa.and_(AuditEntry.record_type == Letter.__tablename__, AuditEntry.record_id == str(letter.id))]
    if item_ids:
        clauses.append(sa.and_(AuditEntry.record_type == LetterItem.__tablename__, AuditEntry.record_id.in_(item_ids)))
    if reply_ids:
        clauses.append(sa.and_(AuditEntry.record_type == LetterReply.__tablename__,
                               AuditEntry.record_id.in_(reply_ids)))
    return list(db.session.scalars(sa.select(AuditEntry).where(sa.or_(*clauses)).order_by(AuditEntry.id)))


ACTION_LABELS = {
    "inquiry.create": N_("起草"), "inquiry.edit": N_("修改草稿"), "inquiry.submit": N_("提交签发"), "inquiry.approve": N_("签发"),
    "inquiry.return": N_("退回修改"), "inquiry.withdraw": N_("撤回"), "inquiry.acknowledge": N_("签收"),
    "inquiry.reply": N_("答复"), "inquiry.answer": N_("答复完毕"), "inquiry.follow_up": N_("追问"), "inquiry.close": N_("办结"),
    "inquiry.extend": N_("延期"), "inquiry.remind": N_("催办"), "reminder.sent": N_("自动提醒"),
}


def year_choices(today: date | None = None) -> list[int]:
    year = (today or clock.today()).year
    return list(range(year + 1, year - 5, -1))


def issued_states():
    return ISSUED
