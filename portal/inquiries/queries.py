"""Read-side helpers: filtered lists, counts, history."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.core import clock
from portal.core.attachments import Attachment, AttachmentLink
from portal.core.audit import AuditEntry
from portal.core.formatting import cn_date
from portal.core.permissions import can, visible
from portal.extensions import db
from portal.inquiries import workdays
from portal.inquiries.models import (
    AWAITING_ANSWER,
    ISSUED,
    Letter,
    LetterItem,
    LetterReply,
    LetterState,
    Outcome,
    ReplyAnswer,
    ReplyState,
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
    """Figures for the dashboard: what waits on this user's bureau (one query)."""
    incoming, outgoing = Letter.addressee_org_id == user.organisation_id, Letter.sender_org_id == user.organisation_id
    awaiting, overdue = Letter.state.in_(AWAITING_ANSWER), overdue_clause(clock.today())
    figures = {
        "incoming_open": sa.and_(incoming, awaiting),
        "incoming_overdue": sa.and_(incoming, overdue),
        "outgoing_open": sa.and_(outgoing, awaiting),
        "outgoing_overdue": sa.and_(outgoing, overdue),
        "to_sign": sa.and_(outgoing, Letter.state == LetterState.PENDING_SIGNOFF),
        "to_close": sa.and_(outgoing, Letter.state == LetterState.ANSWERED),
    }
    stmt = visible(user, Letter).with_only_columns(
        *(sa.func.count().filter(where).label(name) for name, where in figures.items())).select_from(Letter)
    return dict(db.session.execute(stmt).one()._mapping)


def history(letter: Letter, user=None) -> list[AuditEntry]:
    """Every entry about the letter, its items and replies, oldest first. A reply's own entries
    (drafted, submitted, returned, signed off) count only for a reader who may see the reply:
    with no `user`, only those of replies signed off."""
    item_ids = [str(i.id) for i in letter.items]
    reply_ids = [str(r.id) for r in letter.replies
                 if (r.state == ReplyState.SENT if user is None else can(user, "view", r))]
    clauses = [sa.and_(AuditEntry.record_type == Letter.__tablename__, AuditEntry.record_id == str(letter.id))]
    if item_ids:
        clauses.append(sa.and_(AuditEntry.record_type == LetterItem.__tablename__, AuditEntry.record_id.in_(item_ids)))
    if reply_ids:
        clauses.append(sa.and_(AuditEntry.record_type == LetterReply.__tablename__,
                               AuditEntry.record_id.in_(reply_ids)))
    return list(db.session.scalars(sa.select(AuditEntry).where(sa.or_(*clauses)).order_by(AuditEntry.id)))


@dataclass
class Event:
    """One step of the letter's history as the timeline shows it."""
    at: object
    action: str
    what: str
    who: str
    org: str
    details: list[str]
    comment: str


def _outcomes(data: dict) -> list[str]:
    """第 1 项：已提供 … from an entry's "#1": "provided" pairs (in item order)."""
    pairs = sorted(((int(k[1:]), v) for k, v in data.items() if k[1:].isdigit() and k.startswith("#") and v),
                   key=lambda p: p[0])
    return [_("第 %(n)s 项：%(o)s", n=n, o=Outcome(v).label) for n, v in pairs if v in Outcome._value2member_map_]


def _details(entry: AuditEntry) -> list[str]:
    after, before = entry.after_dict, entry.before_dict
    action = entry.action
    if action == "inquiry.create":
        return [_("函询事项 %(n)s 项", n=len(after.get("items", [])))]
    if action == "inquiry.approve":
        found = [_("发文字号 %(n)s", n=after["number"])] if after.get("number") else []
        if after.get("deadline"):
            found.append(_("答复期限 %(d)s", d=cn_date(date.fromisoformat(str(after["deadline"])[:10]))))
        return found
    if action in ("inquiry.reply", "inquiry.reply_draft"):
        found = _outcomes(after)
        found += [_("证明材料：%(f)s", f="、".join(v)) for k, v in sorted(after.items()) if k.endswith(" evidence")]
        if after.get("attachments"):
            found.append(_("附件：%(f)s", f="、".join(after["attachments"])))
        return found
    if action == "inquiry.extend" and after.get("deadline"):
        old = before.get("deadline")
        return [_("答复期限 %(a)s → %(b)s", a=cn_date(date.fromisoformat(str(old)[:10])) if old else "—",
                  b=cn_date(date.fromisoformat(str(after["deadline"])[:10])))]
    if action == "inquiry.remind" and after.get("recipients"):
        return [_("通知：%(w)s", w="、".join(after["recipients"]))]
    return []


def timeline(letter: Letter, user=None) -> list[Event]:
    """The history (`history`) as a timeline, oldest first: every step with who (and their
    bureau), when, what it was in words, and what it carried (numbers, deadlines, answers per
    item, evidence files, who was chased)."""
    from portal.accounts.models import User
    from portal.core import events

    entries = history(letter, user)
    ids = {e.actor_id for e in entries if e.actor_id}
    people = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))} if ids else {}
    found = []
    for e in entries:
        person = people.get(e.actor_id)
        org = person.organisation if person is not None else None
        found.append(Event(at=e.at, action=e.action, what=events.label(e.action), who=e.actor_name or _("系统"),
                           org=(org.short_name or org.name) if org is not None else "",
                           details=_details(e),
                           comment="" if e.action == "inquiry.approve" else e.comment or ""))  # the number, shown
    return found


def evidence_by_item(letter: Letter, user=None) -> dict[int, list[tuple[ReplyAnswer, list[Attachment]]]]:
    """Item id → its answers with their evidence files, oldest first: the replies signed off
    (with no `user`), or every reply `user` may see."""
    rows = db.session.execute(
        sa.select(ReplyAnswer, Attachment).join(LetterReply, ReplyAnswer.reply_id == LetterReply.id)
        .join(AttachmentLink, sa.and_(AttachmentLink.record_type == ReplyAnswer.__tablename__,
                                      AttachmentLink.record_id == ReplyAnswer.id))
        .join(Attachment, Attachment.id == AttachmentLink.attachment_id)
        .where(LetterReply.letter_id == letter.id).order_by(ReplyAnswer.id, Attachment.id)).all()
    found: dict[int, list] = {}
    for answer, attachment in rows:
        if not (answer.reply.state == ReplyState.SENT if user is None else can(user, "view", answer.reply)):
            continue
        entries = found.setdefault(answer.item_id, [])
        if not entries or entries[-1][0] is not answer:
            entries.append((answer, []))
        entries[-1][1].append(attachment)
    return found


@dataclass
class DaysLeft:
    """What the list and the letter page say about the deadline of a letter awaiting its answer:
    the working days left (or past), and the count behind them (`workdays.Count`)."""
    text: str
    overdue: bool
    count: workdays.Count


def days_left(letter: Letter, today: date | None = None) -> DaysLeft | None:
    """剩余 3 个工作日（截至 2026年12月8日，已扣除周末及法定节假日 2 天）, or 已逾期 N 个工作日; None
    when the letter is not waiting for an answer (or has no date yet)."""
    if letter.state not in AWAITING_ANSWER or letter.deadline is None:
        return None
    today = today or clock.today()
    deadline = letter.deadline
    late = deadline < today
    c = workdays.count(deadline, today) if late else workdays.count(today, deadline)
    d = cn_date(deadline)
    if c.workdays == 0:
        text = _("已逾期（期限为 %(d)s，此后尚未经过工作日）", d=d) if late else _("今天到期（%(d)s）", d=d)
    elif late:
        text = _("已逾期 %(n)s 个工作日（期限为 %(d)s，已扣除周末及法定节假日 %(k)s 天）", n=c.workdays, d=d, k=c.deducted)
    else:
        text = _("剩余 %(n)s 个工作日（截至 %(d)s，已扣除周末及法定节假日 %(k)s 天）", n=c.workdays, d=d, k=c.deducted)
    return DaysLeft(text, late, c)


def year_choices(today: date | None = None) -> list[int]:
    year = (today or clock.today()).year
    return list(range(year + 1, year - 5, -1))


def issued_states():
    return ISSUED
