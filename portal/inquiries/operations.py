"""Every write on letters. Operations validate, change state (through `MACHINE`), write the
audit entry, notify; they never read `request`. The caller commits."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _

from portal.accounts.models import BUREAUS, Organisation, User
from portal.core import clock
from portal.core.attachments import save_upload
from portal.core.audit import record_change
from portal.core.errors import DomainError, NotPermitted, StaleRecord
from portal.core.notifications import notify
from portal.extensions import db
from portal.inquiries import workdays
from portal.inquiries.models import (
    DeadlineExtension,
    FollowUp,
    Holiday,
    IssuingCode,
    Letter,
    LetterItem,
    LetterReply,
    LetterState,
    Marking,
    NumberCounter,
    Outcome,
    Urgency,
)
from portal.inquiries.policies import MACHINE, STAFF_ROLES, letter_policy

MAX_BODY = 20_000
MAX_ITEMS = 50
MAX_ITEM_CHARS = 1_000
MAX_WORKDAYS = 60
ATTACHMENT_KINDS = {"pdf", "docx", "xlsx", "ole", "png", "jpeg", "text"}
# 涉密 material must never be stored: refuse a letter marked or described as classified.
CLASSIFIED = re.compile(r"涉密|绝密|机密|秘密|classified|top\s*secret", re.IGNORECASE)


@dataclass
class LetterData:
    """What the compose form carries."""
    addressee_org_id: int | None = None
    title: str = ""
    urgency: str = Urgency.NORMAL.value
    marking: str = Marking.INTERNAL.value
    body: str = ""
    copies: str = ""
    deadline: date | None = None
    deadline_workdays: int | None = None
    contact_person: str = ""
    contact_phone: str = ""
    items: list[str] = field(default_factory=list)
    project_ids: list[int] = field(default_factory=list)


def _check_stale(letter: Letter, expected_state) -> None:
    if expected_state is not None and str(expected_state) != str(letter.state):
        raise StaleRecord(_("该记录已被他人处理，当前状态为“%(state)s”，请刷新后重试。", state=letter.state.label))


def _validate(actor: User, data: LetterData) -> tuple[Organisation, list[str], list]:
    from portal.performance.models import Project

    if CLASSIFIED.search(data.marking or ""):
        raise DomainError(_("涉密材料不得通过本平台办理，请按保密规定线下传递。"), field="marking")
    try:
        Marking.coerce(data.marking)
        Urgency.coerce(data.urgency)
    except ValueError:
        raise DomainError(_("请选择有效的紧急程度和公开属性。"), field="marking") from None
    title = (data.title or "").strip()
    if not title:
        raise DomainError(_("请填写标题。"), field="title")
    if len(title) > 200:
        raise DomainError(_("标题不能超过 200 字。"), field="title")
    if len(data.body or "") > MAX_BODY:
        raise DomainError(_("正文过长（%(n)s 字），不能超过 %(max)s 字；请把详细材料作为附件上传。",
                            n=len(data.body), max=MAX_BODY), field="body")
    items = [i.strip() for i in data.items if i and i.strip()]
    if not items:
        raise DomainError(_("请至少列出一项函询事项。"), field="items")
    if len(items) > MAX_ITEMS:
        raise DomainError(_("函询事项不能超过 %(n)s 项。", n=MAX_ITEMS), field="items")
    if any(len(i) > MAX_ITEM_CHARS for i in items):
        raise DomainError(_("每项函询事项不能超过 %(n)s 字。", n=MAX_ITEM_CHARS), field="items")
    for text, name in ((title, "title"), (data.body or "", "body"), ("\n".join(items), "items")):
        if CLASSIFIED.search(text):
            raise DomainError(_("涉密材料不得通过本平台办理，请按保密规定线下传递。"), field=name)
    addressee = db.session.get(Organisation, data.addressee_org_id) if data.addressee_org_id else None
    if addressee is None or addressee.kind not in BUREAUS or addressee.id == actor.organisation_id:
        raise DomainError(_("主送机关须是另一个局（财政局或审计局）。"), field="addressee_org_id")
    if data.deadline is None and not data.deadline_workdays:
        raise DomainError(_("请填写答复期限（日期或工作日数）。"), field="deadline")
    if data.deadline is not None and data.deadline <= clock.today():
        raise DomainError(_("答复期限必须晚于今天。"), field="deadline")
    if data.deadline_workdays is not None and not (1 <= data.deadline_workdays <= MAX_WORKDAYS):
        raise DomainError(_("工作日数须在 1 到 %(n)s 之间。", n=MAX_WORKDAYS), field="deadline_workdays")
    projects = []
    if data.project_ids:
        projects = list(db.session.scalars(sa.select(Project).where(Project.id.in_(data.project_ids[:200]))))
    return addressee, items, projects


def _apply_data(letter: Letter, data: LetterData, addressee, items: list[str], projects: list) -> None:
    letter.addressee_org_id = addressee.id
    letter.title = data.title.strip()
    letter.urgency = Urgency.coerce(data.urgency)
    letter.marking = Marking.coerce(data.marking)
    letter.body = data.body or ""
    letter.copies = (data.copies or "").strip()[:300]
    letter.deadline = data.deadline if not data.deadline_workdays else None
    letter.deadline_workdays = data.deadline_workdays or None
    letter.contact_person = (data.contact_person or "").strip()[:60]
    letter.contact_phone = (data.contact_phone or "").strip()[:40]
    letter.projects = projects
    old = [i.description for i in letter.items]
    if old != items:
        letter.items = [LetterItem(position=n, description=text) for n, text in enumerate(items, 1)]


def create_letter(actor: User, data: LetterData, files=()) -> Letter:
    if not letter_policy(actor, "create", Letter):
        raise NotPermitted(_("只有财政局绩效管理人员或审计联络员可以起草函件。"))
    addressee, items, projects = _validate(actor, data)
    letter = Letter(sender_org_id=actor.organisation_id, drafter_id=actor.id, state=LetterState.DRAFT)
    _apply_data(letter, data, addressee, items, projects)
    db.session.add(letter)
    db.session.flush()
    _attach(letter, actor, files)
    record_change(actor, "inquiry.create", letter, after=_summary(letter))
    return letter


def update_letter(letter: Letter, actor: User, data: LetterData, *, expected_state=None, files=()) -> Letter:
    _check_stale(letter, expected_state)
    if not letter_policy(actor, "edit", letter):
        raise NotPermitted(_("只有起草方可以修改草稿。"))
    before = _summary(letter)
    addressee, items, projects = _validate(actor, data)
    _apply_data(letter, data, addressee, items, projects)
    _attach(letter, actor, files)
    record_change(actor, "inquiry.edit", letter, before=before, after=_summary(letter))
    return letter


def _attach(record, actor, files) -> None:
    for f in files:
        if f and getattr(f, "filename", ""):
            save_upload(f, actor=actor, record=record, purpose="attachment", allowed=ATTACHMENT_KINDS)


def _summary(letter: Letter) -> dict:
    return {"title": letter.title, "addressee": letter.addressee_org_id, "deadline": letter.deadline,
            "deadline_workdays": letter.deadline_workdays, "items": len(letter.items)}


def _staff_of(org_id: int) -> list[User]:
    users = db.session.scalars(sa.select(User).where(User.organisation_id == org_id)).all()
    return [u for u in users if u.is_active and u.has_role(*STAFF_ROLES)]


def _signers_of(org_id: int) -> list[User]:
    users = db.session.scalars(sa.select(User).where(User.organisation_id == org_id)).all()
    return [u for u in users if u.is_active and u.has_role("signer")]


def _link(letter: Letter) -> str:
    try:
        return url_for("inquiries.detail", letter_id=letter.id)
    except RuntimeError:  # outside a request (reminder command): a path still works in the portal
        return f"/inquiries/{letter.id}"


def submit(letter: Letter, actor: User, *, expected_state=None) -> None:
    if not letter.items:
        raise DomainError(_("请至少列出一项函询事项。"), field="items")
    MACHINE.apply(letter, "submit", actor=actor, expected_state=expected_state)
    notify(_signers_of(letter.sender_org_id), _("待签发：%(t)s", t=letter.title), link=_link(letter))


def next_number(code: str, year: int) -> int:
    """Take the next sequence for (code, year): the counter row is created if missing and
    incremented with UPDATE … RETURNING, which locks it until this transaction ends, so numbers
    are unique and gapless (a rolled-back sign-off gives its number back)."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.session.execute(insert(NumberCounter).values(code=code, year=year, last=0).on_conflict_do_nothing())
    return db.session.execute(
        sa.update(NumberCounter).where(NumberCounter.code == code, NumberCounter.year == year)
        .values(last=NumberCounter.last + 1).returning(NumberCounter.last)
        .execution_options(synchronize_session=False)
    ).scalar_one()


def approve(letter: Letter, actor: User, *, expected_state=None) -> None:
    """签发: the signer approves; the letter gets its number and is sent."""
    _check_stale(letter, expected_state)
    if not MACHINE.allowed(letter, "approve", actor):
        MACHINE.apply(letter, "approve", actor=actor)  # raises the precise message
    code = db.session.scalar(sa.select(IssuingCode).where(IssuingCode.organisation_id == letter.sender_org_id))
    if code is None or not code.code:
        raise DomainError(_("系统管理员尚未设置本机关的发文机关代字，暂不能签发。"))
    today = clock.today()
    if letter.deadline_workdays:
        letter.deadline = workdays.add_workdays(today, letter.deadline_workdays)
    elif letter.deadline is None or letter.deadline <= today:
        raise DomainError(_("答复期限已过或未填写，请退回起草人修改。"), field="deadline")
    letter.number_code, letter.number_year = code.code, today.year
    letter.number_seq = next_number(code.code, today.year)
    letter.signer_id, letter.sent_at = actor.id, clock.now()
    MACHINE.apply(letter, "approve", actor=actor, comment=letter.doc_number)
    notify(_staff_of(letter.addressee_org_id), _("新来函：%(n)s %(t)s", n=letter.doc_number, t=letter.title),
           link=_link(letter), body=_("答复期限：%(d)s", d=letter.deadline.isoformat()))
    notify([letter.drafter], _("已签发：%(n)s", n=letter.doc_number), link=_link(letter))


def return_letter(letter: Letter, actor: User, comment: str, *, expected_state=None) -> None:
    MACHINE.apply(letter, "return", actor=actor, comment=comment, expected_state=expected_state)
    notify([letter.drafter], _("函件被退回修改：%(t)s", t=letter.title), link=_link(letter), body=comment)


def withdraw(letter: Letter, actor: User, comment: str, *, expected_state=None) -> None:
    MACHINE.apply(letter, "withdraw", actor=actor, comment=comment, expected_state=expected_state)
    notify(_staff_of(letter.addressee_org_id), _("来函已撤回：%(n)s", n=letter.doc_number), link=_link(letter),
           body=comment)


def acknowledge(letter: Letter, actor: User, *, expected_state=None) -> None:
    MACHINE.apply(letter, "acknowledge", actor=actor, expected_state=expected_state)
    letter.acknowledged_at, letter.acknowledged_by_id = clock.now(), actor.id
    notify(_staff_of(letter.sender_org_id) + [letter.drafter],
           _("对方已签收：%(n)s", n=letter.doc_number), link=_link(letter))


def reply(letter: Letter, actor: User, answers: dict[int, tuple[str, str]], *, note: str = "", files=(),
          expected_state=None) -> LetterReply:
    """One part of the answer: outcomes for some open items (`answers`: item id → (outcome, reason)).
    When every item has an outcome the letter becomes answered."""
    _check_stale(letter, expected_state)
    if not letter_policy(actor, "reply", letter):
        if letter.state not in (LetterState.ACKNOWLEDGED,):
            raise DomainError(_("当前状态（%(s)s）不能答复；请先签收。", s=letter.state.label))
        raise NotPermitted(_("只有主送机关的联络人员可以答复。"))
    open_items = {i.id: i for i in letter.open_items}
    chosen = {}
    for item_id, (outcome, reason) in answers.items():
        if not outcome:
            continue
        item = open_items.get(item_id)
        if item is None:
            raise StaleRecord(_("该事项已有答复，请刷新后重试。"))
        try:
            outcome = Outcome.coerce(outcome)
        except ValueError:
            raise DomainError(_("答复结果无效。"), field=f"outcome_{item_id}") from None
        reason = (reason or "").strip()
        if outcome in (Outcome.DECLINED, Outcome.PARTIAL, Outcome.NOT_HELD) and not reason:
            raise DomainError(_("第 %(n)s 项：“%(o)s”须说明理由。", n=item.position, o=outcome.label),
                              field=f"reason_{item_id}")
        if len(reason) > 5000:
            raise DomainError(_("说明不能超过 5000 字。"), field=f"reason_{item_id}")
        chosen[item] = (outcome, reason)
    if not chosen:
        raise DomainError(_("请至少为一项事项选择答复结果。"), field="items")
    if len(note or "") > MAX_BODY:
        raise DomainError(_("答复说明过长。"), field="note")
    part = LetterReply(letter=letter, author_id=actor.id, note=(note or "").strip())
    db.session.add(part)
    db.session.flush()
    now = clock.now()
    for item, (outcome, reason) in chosen.items():
        item.outcome, item.reason, item.answered_by_id, item.answered_at, item.reply_id = (
            outcome, reason, actor.id, now, part.id)
    _attach(part, actor, files)
    record_change(actor, "inquiry.reply", letter, comment=part.note or None,
                  after={f"#{i.position}": o.value for i, (o, _r) in chosen.items()})
    if not letter.open_items:
        MACHINE.apply(letter, "answer", actor=actor)
        letter.answered_at = now
        title = _("来函已答复：%(n)s", n=letter.doc_number)
    else:
        title = _("收到部分答复：%(n)s", n=letter.doc_number)
    notify(_staff_of(letter.sender_org_id) + [letter.drafter], title, link=_link(letter))
    return part


def follow_up(letter: Letter, actor: User, item_id: int, text: str, *, expected_state=None) -> FollowUp:
    """追问 one item: it loses its outcome and the letter waits for an answer again."""
    _check_stale(letter, expected_state)
    item = next((i for i in letter.items if i.id == item_id), None)
    if item is None:
        raise DomainError(_("请选择要追问的事项。"), field="item_id")
    if not (text or "").strip():
        raise DomainError(_("请写明追问内容。"), field="text")
    MACHINE.apply(letter, "follow_up", actor=actor, comment=f"#{item.position} {text.strip()}")
    row = FollowUp(item=item, text=text.strip()[:5000], previous_outcome=str(item.outcome or ""), by_id=actor.id)
    db.session.add(row)
    item.outcome, item.reply_id, item.follow_ups = None, None, item.follow_ups + 1
    letter.answered_at = None
    notify(_staff_of(letter.addressee_org_id), _("对方就第 %(n)s 项追问：%(d)s", n=item.position, d=letter.doc_number),
           link=_link(letter), body=text)
    return row


def close(letter: Letter, actor: User, comment: str = "", *, expected_state=None) -> None:
    MACHINE.apply(letter, "close", actor=actor, comment=comment or None, expected_state=expected_state)
    letter.closed_at = clock.now()
    notify(_staff_of(letter.addressee_org_id), _("函件已办结：%(n)s", n=letter.doc_number), link=_link(letter))


def extend(letter: Letter, actor: User, new_deadline: date | None, reason: str, *, expected_state=None):
    _check_stale(letter, expected_state)
    if not letter_policy(actor, "extend", letter):
        raise NotPermitted(_("只有发函方可以在答复前延期。"))
    if new_deadline is None:
        raise DomainError(_("请填写新的答复期限。"), field="new_deadline")
    if new_deadline <= clock.today() or (letter.deadline and new_deadline <= letter.deadline):
        raise DomainError(_("新的答复期限须晚于今天和原期限。"), field="new_deadline")
    if not (reason or "").strip():
        raise DomainError(_("请说明延期理由。"), field="reason")
    row = DeadlineExtension(letter=letter, old_deadline=letter.deadline, new_deadline=new_deadline,
                            reason=reason.strip()[:2000], by_id=actor.id)
    db.session.add(row)
    record_change(actor, "inquiry.extend", letter, before={"deadline": letter.deadline},
                  after={"deadline": new_deadline}, comment=row.reason)
    letter.deadline = new_deadline
    notify(_staff_of(letter.addressee_org_id), _("答复期限已延至 %(d)s：%(n)s", d=new_deadline.isoformat(),
                                                n=letter.doc_number), link=_link(letter), body=row.reason)
    return row


def remind(letter: Letter, actor: User, comment: str = "") -> int:
    """Manual 催办: notify the addressee's liaisons now."""
    if not letter_policy(actor, "remind", letter):
        raise NotPermitted(_("只有发函方可以在答复前催办。"))
    users = _staff_of(letter.addressee_org_id)
    count = notify(users, _("催办：%(n)s %(t)s", n=letter.doc_number, t=letter.title), link=_link(letter),
                   body=comment, kind="reminder")
    record_change(actor, "inquiry.remind", letter, comment=(comment or "").strip()[:1000] or None,
                  after={"recipients": [u.display_name for u in users]})
    return count


# ---- administration ---------------------------------------------------------------------------

def set_issuing_code(actor: User, org: Organisation, code: str, header: str = "") -> IssuingCode:
    if not actor.has_role("admin"):
        raise NotPermitted(_("只有系统管理员可以设置发文机关代字。"))
    code = (code or "").strip()
    if not code or len(code) > 20 or re.search(r"[\s〔〕\[\]0-9]", code):
        raise DomainError(_("代字须为 1–20 个字符，不含空格、数字和括号，例如“临财绩函”。"), field="code")
    if org.kind not in BUREAUS:
        raise DomainError(_("只有财政局和审计局需要发文机关代字。"), field="organisation_id")
    row = db.session.scalar(sa.select(IssuingCode).where(IssuingCode.organisation_id == org.id))
    before = {"code": row.code, "header": row.header} if row else None
    if row is None:
        row = IssuingCode(organisation_id=org.id, code=code)
        db.session.add(row)
    row.code, row.header = code, (header or "").strip()[:100] or org.name
    record_change(actor, "inquiry.issuing_code", org, before=before, after={"code": code, "header": row.header})
    return row


def set_holiday(actor: User, day: date | None, is_workday: bool, name: str) -> Holiday:
    if not actor.has_role("admin"):
        raise NotPermitted(_("只有系统管理员可以维护节假日表。"))
    if day is None:
        raise DomainError(_("请填写日期。"), field="day")
    row = db.session.scalar(sa.select(Holiday).where(Holiday.day == day))
    if row is None:
        row = Holiday(day=day)
        db.session.add(row)
    row.is_workday, row.name = bool(is_workday), (name or "").strip()[:40]
    db.session.flush()
    record_change(actor, "inquiry.holiday", row, after={"day": day, "is_workday": row.is_workday, "name": row.name})
    return row


def delete_holiday(actor: User, row: Holiday) -> None:
    if not actor.has_role("admin"):
        raise NotPermitted(_("只有系统管理员可以维护节假日表。"))
    record_change(actor, "inquiry.holiday_delete", row, before={"day": row.day, "name": row.name})
    db.session.delete(row)
