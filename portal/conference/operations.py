"""Every write of the joint conference: meetings and their numbers, actions and their states,
the shared library and the plans. Operations validate, write, log and notify; the caller commits."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.accounts.models import Organisation, OrgKind, User
from portal.conference.models import (
    Action,
    ActionLink,
    ActionNote,
    ActionState,
    DocumentKind,
    LibraryAccess,
    Meeting,
    MeetingCounter,
    PlanBureau,
    PlanItem,
    SharedDocument,
)
from portal.conference.policies import is_reader, plan_bureau_of
from portal.conference.queries import link_to
from portal.core import clock
from portal.core.attachments import save_upload
from portal.core.audit import record_change
from portal.core.errors import DomainError, NotPermitted
from portal.core.notifications import notify
from portal.core.permissions import can
from portal.core.registry import RECORD_TYPES
from portal.core.states import StateMachine, Transition
from portal.core.web import N_
from portal.extensions import db

ATTACHMENT_KINDS = {"pdf", "docx", "xlsx", "ole", "text", "png", "jpeg"}


# ---- meetings --------------------------------------------------------------------------------

def next_meeting_number(year: int) -> int:
    """The next 第N次 of `year`, gapless and unique under concurrency: the year's counter row is
    created if missing and locked FOR UPDATE (PostgreSQL); SQLite write transactions are
    BEGIN IMMEDIATE, so two writers never read the same value."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.session.execute(insert(MeetingCounter).values(year=year, last=0).on_conflict_do_nothing())
    counter = db.session.execute(
        sa.select(MeetingCounter).where(MeetingCounter.year == year).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    counter.last += 1
    db.session.flush()
    return counter.last


def _check_meeting_fields(held_on, place: str, convening_org, attendees) -> None:
    if held_on is None:
        raise DomainError(_("请填写会议日期。"), field="held_on")
    if not 2000 <= held_on.year <= 2100:
        raise DomainError(_("会议日期的年份不合理。"), field="held_on")
    if not (place or "").strip():
        raise DomainError(_("请填写会议地点。"), field="place")
    if convening_org is None or convening_org.kind not in (OrgKind.FINANCE_BUREAU, OrgKind.AUDIT_BUREAU):
        raise DomainError(_("召集单位须为财政局或审计局。"), field="convening_org_id")
    kinds = {u.org_kind for u in attendees}
    if not {OrgKind.FINANCE_BUREAU, OrgKind.AUDIT_BUREAU} <= kinds:
        raise DomainError(_("出席人员须包括财政局和审计局双方人员。"), field="attendee_ids")
    if any(u.org_kind not in (OrgKind.FINANCE_BUREAU, OrgKind.AUDIT_BUREAU) for u in attendees):
        raise DomainError(_("出席人员只能是财政局或审计局人员。"), field="attendee_ids")


def create_meeting(*, actor, held_on: date, place: str, convening_org: Organisation, attendees: list[User],
                   agenda: str = "", minutes: str = "", distribution: str = "") -> Meeting:
    if not can(actor, "create", Meeting):
        raise NotPermitted(_("您无权登记联席会议。"))
    _check_meeting_fields(held_on, place, convening_org, attendees)
    meeting = Meeting(year=held_on.year, number=next_meeting_number(held_on.year), held_on=held_on,
                      place=place.strip(), convening_org=convening_org, attendees=list(attendees),
                      agenda=agenda.strip(), minutes=minutes, distribution=distribution.strip(),
                      created_by_id=actor.id)
    db.session.add(meeting)
    db.session.flush()
    record_change(actor, "conference.meeting.create", meeting,
                  after={"number": meeting.title, "held_on": held_on.isoformat(), "place": meeting.place})
    return meeting


MEETING_FIELDS = ["held_on", "place", "agenda", "minutes", "distribution"]


def update_meeting(meeting: Meeting, *, actor, held_on: date, place: str, convening_org: Organisation,
                   attendees: list[User], agenda: str, minutes: str, distribution: str) -> Meeting:
    if not can(actor, "edit", meeting):
        raise NotPermitted(_("您无权修改此会议。"))
    _check_meeting_fields(held_on, place, convening_org, attendees)
    if held_on.year != meeting.year:  # the number belongs to the year; moving it would leave a gap
        raise DomainError(_("会议编号按年度编排，日期不能改到其他年度（本次为%(year)s年）。", year=meeting.year),
                          field="held_on")
    before = {f: getattr(meeting, f) for f in MEETING_FIELDS}
    meeting.held_on, meeting.place, meeting.convening_org = held_on, place.strip(), convening_org
    meeting.attendees = list(attendees)
    meeting.agenda, meeting.minutes, meeting.distribution = agenda.strip(), minutes, distribution.strip()
    after = {f: getattr(meeting, f) for f in MEETING_FIELDS}
    changed = {k: v for k, v in after.items() if before[k] != v}
    record_change(actor, "conference.meeting.edit", meeting, before={k: before[k] for k in changed}, after=changed)
    return meeting


def attach_to_meeting(meeting: Meeting, file_storage, *, actor):
    if not can(actor, "edit", meeting):
        raise NotPermitted(_("您无权修改此会议。"))
    attachment = save_upload(file_storage, actor=actor, record=meeting, purpose="meeting",
                             allowed=ATTACHMENT_KINDS)
    record_change(actor, "conference.meeting.attach", meeting, after={"file": attachment.filename})
    return attachment


# ---- actions (议定事项) ------------------------------------------------------------------------

def _decides(user, action) -> bool:
    return can(user, "decide", action)


def _progresses(user, action) -> bool:
    return can(user, "progress", action)


ACTION_MACHINE = StateMachine("conference.action", [
    Transition("start", {ActionState.OPEN}, ActionState.IN_PROGRESS, who=_progresses, label=N_("开始推进")),
    Transition("complete", {ActionState.OPEN, ActionState.IN_PROGRESS}, ActionState.DONE, who=_decides,
               label=N_("确认完成")),
    Transition("drop", {ActionState.OPEN, ActionState.IN_PROGRESS}, ActionState.DROPPED, who=_decides,
               label=N_("撤销事项"), needs_comment=True),
    Transition("reopen", {ActionState.DONE, ActionState.DROPPED}, ActionState.IN_PROGRESS, who=_decides,
               label=N_("重新打开"), needs_comment=True),
])


def _check_action_fields(text: str, owner_org, owner_user, due_date) -> None:
    if not (text or "").strip():
        raise DomainError(_("请填写议定事项内容。"), field="text")
    if owner_org is None:
        raise DomainError(_("请选择牵头单位。"), field="owner_org_id")
    if owner_user is not None and owner_user.organisation_id != owner_org.id:
        raise DomainError(_("责任人须属于牵头单位。"), field="owner_user_id")
    if due_date is not None and not 2000 <= due_date.year <= 2100:
        raise DomainError(_("完成时限的年份不合理。"), field="due_date")


def add_action(meeting: Meeting, *, actor, text: str, owner_org: Organisation, owner_user: User | None = None,
               due_date: date | None = None) -> Action:
    if not can(actor, "edit", meeting):
        raise NotPermitted(_("您无权修改此会议。"))
    _check_action_fields(text, owner_org, owner_user, due_date)
    position = max((a.position for a in meeting.actions), default=0) + 1
    action = Action(meeting=meeting, position=position, text=text.strip(), owner_org=owner_org,
                    owner_user=owner_user, due_date=due_date, state=ActionState.OPEN)
    db.session.add(action)
    db.session.flush()
    record_change(actor, "conference.action.create", action,
                  after={"text": action.text, "owner": owner_org.name,
                         "due_date": due_date.isoformat() if due_date else None})
    recipients = [owner_user] if owner_user else [u for u in owner_org.users if u.is_active]
    notify([u for u in recipients if u.id != actor.id], _("联席会议议定事项交办：%(text)s", text=action.text[:60]),
           link=link_to("conference.action_detail", action_id=action.id), body=meeting.title)
    return action


def transition_action(action: Action, name: str, *, actor, comment: str = "", expected_state=None) -> Action:
    previous = action.state
    # audited below, once the columns that go with the new state are set (CHECK constraints)
    ACTION_MACHINE.apply(action, name, actor=actor, comment=comment or None, expected_state=expected_state,
                         audit=False)
    if action.state == ActionState.DONE:
        action.done_at = clock.now()
    elif previous == ActionState.DONE:
        action.done_at = None
    if action.state == ActionState.DROPPED:
        action.drop_reason = comment.strip()
    elif previous == ActionState.DROPPED:
        action.drop_reason = ""
    record_change(actor, f"{ACTION_MACHINE.name}.{name}", action, before={"state": str(previous)},
                  after={"state": str(action.state)}, comment=comment or None)
    if (comment or "").strip():
        db.session.add(ActionNote(action=action, author_id=actor.id, text=comment.strip()))
    return action


def add_progress(action: Action, *, actor, text: str) -> ActionNote:
    if not can(actor, "progress", action):
        raise NotPermitted(_("您无权填报此事项的进展。"))
    if not (text or "").strip():
        raise DomainError(_("请填写进展情况。"), field="text")
    if action.state not in (ActionState.OPEN, ActionState.IN_PROGRESS):
        raise DomainError(_("该事项已%(state)s，不能再填报进展；如需继续请先重新打开。", state=action.state.label),
                          field="text")
    note = ActionNote(action=action, author_id=actor.id, text=text.strip())
    db.session.add(note)
    if action.state == ActionState.OPEN:  # reporting progress starts the work
        ACTION_MACHINE.apply(action, "start", actor=actor, comment=None)
    record_change(actor, "conference.action.progress", action, comment=note.text)
    return note


def link_record(action: Action, *, actor, record_type: str, record_id) -> ActionLink:
    if not can(actor, "link", action):
        raise NotPermitted(_("您无权修改此事项的关联。"))
    model = RECORD_TYPES.get(record_type or "")
    if model is None:
        raise DomainError(_("请选择关联记录的类型。"), field="record_type")
    try:
        record_id = int(record_id)
    except (TypeError, ValueError):
        raise DomainError(_("请填写关联记录的编号（数字）。"), field="record_id") from None
    record = db.session.get(model, record_id) if 0 < record_id < 2**63 else None
    if record is None:
        raise DomainError(_("找不到编号为 %(id)s 的记录。", id=record_id), field="record_id")
    if not can(actor, "view", record):
        raise DomainError(_("您无权查看该记录，不能关联。"), field="record_id")
    if any(link.record_type == record_type and link.record_id == record_id for link in action.links):
        raise DomainError(_("该记录已关联。"), field="record_id")
    link = ActionLink(action=action, record_type=record_type, record_id=record_id)
    db.session.add(link)
    record_change(actor, "conference.action.link", action, after={"record": f"{record_type}:{record_id}",
                                                                  "title": str(record)})
    return link


def unlink_record(link: ActionLink, *, actor) -> None:
    action = link.action
    if not can(actor, "link", action):
        raise NotPermitted(_("您无权修改此事项的关联。"))
    record_change(actor, "conference.action.unlink", action,
                  before={"record": f"{link.record_type}:{link.record_id}"})
    action.links.remove(link)


# ---- shared library (共享资料) -----------------------------------------------------------------

def other_bureau_readers(user) -> list[User]:
    other = OrgKind.AUDIT_BUREAU if user.is_finance else OrgKind.FINANCE_BUREAU
    users = db.session.execute(
        sa.select(User).join(Organisation, User.organisation_id == Organisation.id)
        .where(Organisation.kind == other, User.is_active_account.is_(True))
    ).scalars().all()
    return [u for u in users if is_reader(u)]


def share_document(*, actor, title: str, kind: DocumentKind, year: int, note: str = "", projects=(), units=(),
                   files=()) -> SharedDocument:
    if not can(actor, "share", SharedDocument):
        raise NotPermitted(_("您无权共享资料。"))
    if not (title or "").strip():
        raise DomainError(_("请填写资料标题。"), field="title")
    if kind is None:
        raise DomainError(_("请选择资料类型。"), field="kind")
    if year is None or not 2000 <= int(year) <= 2100:
        raise DomainError(_("请填写正确的年度。"), field="year")
    files = [f for f in files if f is not None and getattr(f, "filename", "")]
    if not files:
        raise DomainError(_("请上传资料文件。"), field="files")
    document = SharedDocument(title=title.strip(), kind=kind, year=int(year), note=(note or "").strip(),
                              shared_by_id=actor.id, shared_by_org_id=actor.organisation_id,
                              projects=list(projects), units=list(units))
    db.session.add(document)
    db.session.flush()
    for f in files:
        save_upload(f, actor=actor, record=document, purpose="library", allowed=ATTACHMENT_KINDS)
    db.session.add(LibraryAccess(document_id=document.id, user_id=actor.id, event="shared"))
    record_change(actor, "library.share", document, after={"title": document.title, "kind": str(kind),
                                                           "year": document.year})
    notify(other_bureau_readers(actor), _("%(org)s共享了资料：%(title)s", org=actor.organisation.name,
                                           title=document.title),
           link=link_to("conference.document_detail", document_id=document.id), body=document.note)
    return document


def log_open(document: SharedDocument, user) -> None:
    """Record that `user` opened the document (one row per view)."""
    db.session.add(LibraryAccess(document_id=document.id, user_id=user.id, event="opened"))


# ---- plans (计划共商) ---------------------------------------------------------------------------

def add_plan_item(*, actor, year: int, title: str, project=None, unit=None, note: str = "") -> PlanItem:
    bureau = plan_bureau_of(actor)
    if bureau is None or not can(actor, "create", PlanItem):
        raise NotPermitted(_("只有财政局或审计局的工作人员可以编制本单位计划。"))
    if year is None or not 2000 <= int(year) <= 2100:
        raise DomainError(_("请填写正确的年度。"), field="year")
    if project is None and unit is None:
        raise DomainError(_("请选择计划涉及的项目或单位（至少一项）。"), field="project_id")
    if project is not None and project.year != int(year):
        raise DomainError(_("所选项目属于%(y)s年度，与计划年度不一致。", y=project.year), field="project_id")
    if unit is not None and unit.kind != OrgKind.BUDGET_UNIT:
        raise DomainError(_("计划涉及的单位须为预算部门或单位。"), field="unit_id")
    title = (title or "").strip() or (project.name if project is not None else unit.name)
    if bureau == PlanBureau.FINANCE and project is None:
        raise DomainError(_("财政评价计划须选择要评价的项目。"), field="project_id")
    item = PlanItem(year=int(year), bureau=bureau, title=title[:300], project=project, unit=unit,
                    note=(note or "").strip(), created_by_id=actor.id)
    db.session.add(item)
    db.session.flush()
    record_change(actor, "plan.add", item, after={"year": item.year, "bureau": str(bureau), "title": item.title})
    return item


def delete_plan_item(item: PlanItem, *, actor) -> None:
    if not can(actor, "delete", item):
        raise NotPermitted(_("您无权删除此计划条目。"))
    record_change(actor, "plan.delete", item, before={"year": item.year, "title": item.title})
    db.session.delete(item)
