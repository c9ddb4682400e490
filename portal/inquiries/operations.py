# Over 400 lines: drafting, signing, numbering, answering item by item and chasing; to be split by stage.
"""Every write on letters. Operations validate, change state (through `MACHINE`), write the
audit entry, notify; they never read `request`. The caller (`portal.core.writes.perform`) commits.

Each operation that changes a letter takes the letter's row lock first (`_lock_letter`) and then
checks the state and the version it was asked to change, so two officers working at once cannot
both make a move, and a number is taken (`next_number`) only by the sign-off that keeps it."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.accounts.models import BUREAUS, Organisation, User
from portal.core import bulk, clock, counters
from portal.core.attachments import save_upload
from portal.core.audit import record_change
from portal.core.errors import DomainError, IllegalTransition, NotPermitted, StaleRecord
from portal.core.links import page_link
from portal.core.notifications import notify
from portal.core.permissions import can
from portal.core.versions import expect_version, touch
from portal.core.writes import lock
from portal.extensions import db
from portal.inquiries import workdays
from portal.inquiries.models import (
    DeadlineExtension,
    FollowUp,
    Holiday,
    IssuingCode,
    Letter,
    LetterItem,
    LetterState,
    Marking,
    Urgency,
)
from portal.inquiries.policies import MACHINE, STAFF_ROLES, party

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


def _lock_letter(letter: Letter) -> None:
    """The letter's row lock, then its items as committed (they may have been loaded before)."""
    lock(letter)
    if sa.inspect(letter).persistent:
        db.session.execute(sa.select(LetterItem).where(LetterItem.letter_id == letter.id)
                           .execution_options(populate_existing=True)).scalars().all()
        db.session.expire(letter, ["items"])


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
    if data.deadline is None and data.deadline_workdays is not None and not (1 <= data.deadline_workdays <= MAX_WORKDAYS):
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
    # A date chosen by hand wins over the prefilled "N working days" (both filled: the date).
    letter.deadline = data.deadline
    letter.deadline_workdays = (data.deadline_workdays or None) if data.deadline is None else None
    letter.contact_person = (data.contact_person or "").strip()[:60]
    letter.contact_phone = (data.contact_phone or "").strip()[:40]
    letter.projects = projects
    old = [i.description for i in letter.items]
    if old != items:
        letter.items = [LetterItem(position=n, description=text) for n, text in enumerate(items, 1)]


def create_letter(data: LetterData, files=(), *, actor: User, and_submit: bool = False) -> Letter:
    """起草: a new draft (and, with `and_submit`, straight on to the signer)."""
    if not can(actor, "create", Letter):
        raise NotPermitted(_("只有财政局绩效管理人员或审计联络员可以起草函件。"))
    addressee, items, projects = _validate(actor, data)
    letter = Letter(sender_org_id=actor.organisation_id, drafter_id=actor.id, state=LetterState.DRAFT)
    _apply_data(letter, data, addressee, items, projects)
    db.session.add(letter)
    db.session.flush()
    names = _attach(letter, actor, files)
    after = _summary(letter)
    if names:
        after["attachments"] = names
    record_change(actor, "inquiry.create", letter, after=after)
    if and_submit:
        submit(letter, actor=actor)
    return letter


def update_letter(letter: Letter, data: LetterData, *, actor: User, version=None, expected_state=None, files=(),
                  and_submit: bool = False) -> Letter:
    """Save the draft the form was built on (`version`: the form's lock_version); a draft that
    someone else saved (or moved on) in between is refused with who changed what."""
    _lock_letter(letter)
    if not can(actor, party("edit"), letter):
        raise NotPermitted(_("只有起草方可以修改草稿。"))
    if letter.state != LetterState.DRAFT:
        raise IllegalTransition(_("该函件当前状态为“%(s)s”，已不能修改；您填写的内容保留在下方。", s=letter.state.label))
    _check_stale(letter, expected_state)
    expect_version(letter, version)
    before = _summary(letter)
    addressee, items, projects = _validate(actor, data)
    _apply_data(letter, data, addressee, items, projects)
    names = _attach(letter, actor, files)
    after = _summary(letter)
    changed = {k for k in after if before.get(k) != after[k]}
    if changed - {"title", "addressee_org_id", "urgency", "marking", "body", "copies", "deadline",
                  "deadline_workdays", "contact_person", "contact_phone"} or names:
        touch(letter)  # items, projects or attachments: a change of the letter (its version moves on)
    audit_before = {k: before[k] for k in changed}
    audit_after = {k: after[k] for k in changed}
    if names:
        audit_after["attachments"] = names
    if audit_after:
        record_change(actor, "inquiry.edit", letter, before=audit_before, after=audit_after)
    if and_submit:
        submit(letter, actor=actor)
    return letter


def _attach(record, actor, files) -> list[str]:
    names = []
    for f in files:
        if f and getattr(f, "filename", ""):
            names.append(save_upload(f, actor=actor, record=record, purpose="attachment",
                                     allowed=ATTACHMENT_KINDS).filename)
    return names


SUMMARY_FIELDS = ("title", "addressee_org_id", "urgency", "marking", "body", "copies", "deadline",
                  "deadline_workdays", "contact_person", "contact_phone")


def _summary(letter: Letter) -> dict:
    """Every field the draft form edits, for the audit entry's before and after."""
    data = {f: getattr(letter, f) for f in SUMMARY_FIELDS}
    data["urgency"] = str(data["urgency"]) if data["urgency"] is not None else None
    data["marking"] = str(data["marking"]) if data["marking"] is not None else None
    data["items"] = [i.description for i in letter.items]
    data["project_ids"] = sorted(p.id for p in letter.projects)
    return data


def _staff_of(org_id: int) -> list[User]:
    users = db.session.scalars(sa.select(User).where(User.organisation_id == org_id)).all()
    return [u for u in users if u.is_active and u.has_role(*STAFF_ROLES)]


def _signers_of(org_id: int) -> list[User]:
    users = db.session.scalars(sa.select(User).where(User.organisation_id == org_id)).all()
    return [u for u in users if u.is_active and u.has_role("signer")]


def _link(letter: Letter) -> str:
    return page_link("inquiries.detail", letter_id=letter.id)


def submit(letter: Letter, *, actor: User, expected_state=None) -> None:
    _lock_letter(letter)
    _check_stale(letter, expected_state)
    if letter.state == LetterState.DRAFT and not letter.items:
        raise DomainError(_("请至少列出一项函询事项。"), field="items")
    MACHINE.apply(letter, "submit", actor=actor)
    notify(_signers_of(letter.sender_org_id), _("待签发：%(t)s", t=letter.title), link=_link(letter))


def next_number(code: str, year: int) -> int:
    """Take the next sequence for (code, year) from the core gapless counter."""
    return counters.take(f"inquiry:{code}", year)


def approve(letter: Letter, *, actor: User, expected_state=None) -> None:
    """签发: the signer approves; the letter gets its number and is sent.

    Order matters: the letter's lock, its state, the signer's right, the issuing code and the
    deadline are all checked before the number is taken, so a refused or duplicate sign-off
    never consumes one (and the counter's row lock is held only by the sign-off that keeps it)."""
    _lock_letter(letter)
    _check_stale(letter, expected_state)
    transition = MACHINE.find(letter, "approve")  # IllegalTransition when no longer pending
    if not transition.who(actor, letter):
        raise NotPermitted(_("您无权执行“%(action)s”。", action=_(transition.label)))
    code = db.session.scalar(sa.select(IssuingCode).where(IssuingCode.organisation_id == letter.sender_org_id))
    if code is None or not code.code:
        raise DomainError(_("系统管理员尚未设置本机关的发文机关代字，暂不能签发。"))
    today = clock.today()
    if letter.deadline_workdays:
        deadline = workdays.add_workdays(today, letter.deadline_workdays)
    elif letter.deadline is None or letter.deadline <= today:
        raise DomainError(_("答复期限已过或未填写，请退回起草人修改。"), field="deadline")
    else:
        deadline = letter.deadline
    before = {"deadline": letter.deadline, "signer_id": letter.signer_id}
    seq = next_number(code.code, today.year)  # the last step that can be refused is behind us
    letter.deadline = deadline
    letter.number_code, letter.number_year, letter.number_seq = code.code, today.year, seq
    letter.signer_id, letter.sent_at = actor.id, clock.now()
    MACHINE.apply(letter, "approve", actor=actor, comment=letter.doc_number, audit=False)
    record_change(actor, "inquiry.approve", letter, comment=letter.doc_number,
                  before={"state": str(LetterState.PENDING_SIGNOFF), "number": None, **before},
                  after={"state": str(letter.state), "number": letter.doc_number, "deadline": letter.deadline,
                         "signer_id": actor.id})
    notify(_staff_of(letter.addressee_org_id), _("新来函：%(n)s %(t)s", n=letter.doc_number, t=letter.title),
           link=_link(letter), body=_("答复期限：%(d)s", d=letter.deadline.isoformat()))
    notify([letter.drafter], _("已签发：%(n)s", n=letter.doc_number), link=_link(letter))


def return_letter(letter: Letter, comment: str, *, actor: User, expected_state=None) -> None:
    MACHINE.apply(letter, "return", actor=actor, comment=comment, expected_state=expected_state)
    notify([letter.drafter], _("函件被退回修改：%(t)s", t=letter.title), link=_link(letter), body=comment)


def withdraw(letter: Letter, comment: str, *, actor: User, expected_state=None) -> None:
    MACHINE.apply(letter, "withdraw", actor=actor, comment=comment, expected_state=expected_state)
    notify(_staff_of(letter.addressee_org_id), _("来函已撤回：%(n)s", n=letter.doc_number), link=_link(letter),
           body=comment)


def acknowledge(letter: Letter, *, actor: User, expected_state=None) -> None:
    MACHINE.apply(letter, "acknowledge", actor=actor, expected_state=expected_state)
    letter.acknowledged_at, letter.acknowledged_by_id = clock.now(), actor.id
    notify(_staff_of(letter.sender_org_id) + [letter.drafter],
           _("对方已签收：%(n)s", n=letter.doc_number), link=_link(letter))


def follow_up(letter: Letter, item_id: int, text: str, *, actor: User, expected_state=None) -> FollowUp:
    """追问 one item: it loses its outcome and the letter waits for an answer again."""
    _lock_letter(letter)
    _check_stale(letter, expected_state)
    item = next((i for i in letter.items if i.id == item_id), None)
    if item is None:
        raise DomainError(_("请选择要追问的事项。"), field="item_id")
    if not (text or "").strip():
        raise DomainError(_("请写明追问内容。"), field="text")
    MACHINE.apply(letter, "follow_up", actor=actor, comment=f"#{item.position} {text.strip()}")
    row = FollowUp(item=item, text=text.strip()[:5000], previous_outcome=str(item.outcome or ""), by_id=actor.id)
    db.session.add(row)
    item.outcome, item.reply_id = None, None
    db.session.execute(sa.update(LetterItem).where(LetterItem.id == item.id)
                       .values(follow_ups=LetterItem.follow_ups + 1))
    db.session.expire(item, ["follow_ups"])
    letter.answered_at = None
    notify(_staff_of(letter.addressee_org_id), _("对方就第 %(n)s 项追问：%(d)s", n=item.position, d=letter.doc_number),
           link=_link(letter), body=text)
    return row


def close(letter: Letter, comment: str = "", *, actor: User, expected_state=None) -> None:
    MACHINE.apply(letter, "close", actor=actor, comment=comment or None, expected_state=expected_state)
    letter.closed_at = clock.now()
    notify(_staff_of(letter.addressee_org_id), _("函件已办结：%(n)s", n=letter.doc_number), link=_link(letter))


def extend(letter: Letter, new_deadline: date | None, reason: str, *, actor: User, expected_state=None):
    _lock_letter(letter)
    _check_stale(letter, expected_state)
    if not can(actor, "extend", letter):
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


def remind(letter: Letter, comment: str = "", *, actor: User) -> int:
    """Manual 催办: notify the addressee's liaisons now."""
    _lock_letter(letter)
    if not can(actor, "remind", letter):
        raise NotPermitted(_("只有发函方可以在答复前催办。"))
    users = _staff_of(letter.addressee_org_id)
    count = notify(users, _("催办：%(n)s %(t)s", n=letter.doc_number, t=letter.title), link=_link(letter),
                   body=comment, kind="reminder")
    record_change(actor, "inquiry.remind", letter, comment=(comment or "").strip()[:1000] or None,
                  after={"recipients": [u.display_name for u in users]})
    return count


# ---- bulk actions on the letter list (portal/core/bulk.py) -----------------------------------

BULK_ACTIONS = ("remind", "close")


def bulk_letters(*, actor: User, action: str, ids, comment: str = "") -> bulk.BulkOutcome:
    """The letter list's bulk bar: 催办 (remind) or 办结 (close) each ticked letter through its
    own operation; a letter the step refuses (answered already, not the sender's) is reported."""
    if action == "remind":
        def step(letter):
            remind(letter, comment, actor=actor)
    elif action == "close":
        def step(letter):
            close(letter, comment, actor=actor)
    else:
        raise DomainError(_("请选择批量操作。"), field="action")
    return bulk.run(actor, Letter, ids, step, name=str)


# ---- administration ---------------------------------------------------------------------------

def set_issuing_code(org: Organisation | None, code: str, header: str = "", *, actor: User,
                     version=None) -> IssuingCode:
    """Set an organisation's 发文机关代字. Changing an existing one needs the version the form was
    built on (`version`), so two administrators cannot overwrite each other unnoticed."""
    if not can(actor, "edit", IssuingCode):
        raise NotPermitted(_("只有系统管理员可以设置发文机关代字。"))
    if org is None:
        raise DomainError(_("请选择机关。"), field="organisation_id")
    code = (code or "").strip()
    if not code or len(code) > 20 or re.search(r"[\s〔〕\[\]0-9]", code):
        raise DomainError(_("代字须为 1–20 个字符，不含空格、数字和括号，例如“临财绩函”。"), field="code")
    if org.kind not in BUREAUS:
        raise DomainError(_("只有财政局和审计局需要发文机关代字。"), field="organisation_id")
    row = db.session.scalar(sa.select(IssuingCode).where(IssuingCode.organisation_id == org.id))
    header = (header or "").strip()[:100] or org.name
    if row is None:
        row = IssuingCode(organisation_id=org.id, code=code, header=header)
        db.session.add(row)
        record_change(actor, "inquiry.issuing_code", row, after={"organisation_id": org.id, "code": code,
                                                                 "header": header})
        return row
    if version is None:  # the blank form, for an organisation that has a code already
        raise DomainError(_("%(org)s已设置代字“%(code)s”；如需更改，请点击该行的“修改”。", org=org.name,
                            code=row.code), field="code")
    lock(row)
    expect_version(row, version)
    before = {"code": row.code, "header": row.header}
    row.code, row.header = code, header
    after = {"code": row.code, "header": row.header}
    changed = [k for k in after if before[k] != after[k]]
    if changed:
        record_change(actor, "inquiry.issuing_code", row, before={k: before[k] for k in changed},
                      after={k: after[k] for k in changed})
    return row


def issuing_code_of(org_id: int) -> IssuingCode | None:
    return db.session.scalar(sa.select(IssuingCode).where(IssuingCode.organisation_id == org_id))


def set_holiday(day: date | None, is_workday: bool, name: str, *, actor: User) -> Holiday:
    if not can(actor, "edit", Holiday):
        raise NotPermitted(_("只有系统管理员可以维护节假日表。"))
    if day is None:
        raise DomainError(_("请填写日期。"), field="day")
    row = db.session.scalar(sa.select(Holiday).where(Holiday.day == day))
    before = {"is_workday": row.is_workday, "name": row.name} if row is not None else None
    if row is None:
        row = Holiday(day=day)
        db.session.add(row)
    row.is_workday, row.name = bool(is_workday), (name or "").strip()[:40]
    db.session.flush()
    after = {"is_workday": row.is_workday, "name": row.name}
    if before is None:
        record_change(actor, "inquiry.holiday", row, after={"day": day, **after})
    elif before != after:
        changed = [k for k in after if before[k] != after[k]]
        record_change(actor, "inquiry.holiday", row, before={k: before[k] for k in changed},
                      after={k: after[k] for k in changed})
    return row


def delete_holiday(row: Holiday | None, *, actor: User) -> int:
    """Remove a day from the holiday table; returns its year (where the page goes back to)."""
    if not can(actor, "edit", Holiday):
        raise NotPermitted(_("只有系统管理员可以维护节假日表。"))
    if row is None:
        raise DomainError(_("该日期已不在节假日表中。"))
    year = row.day.year
    record_change(actor, "inquiry.holiday_delete", row,
                  before={"day": row.day, "is_workday": row.is_workday, "name": row.name})
    db.session.delete(row)
    return year


# ---- the answer and its sign-off (portal/inquiries/answering.py) -----------------------------

from portal.inquiries.answering import (  # noqa: E402, F401  (the answer's operations: this module's writers too)
    answers_from,
    approve_reply,
    reply,
    return_reply,
    submit_reply,
    unsent_reply,
)
