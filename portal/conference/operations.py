# Over 400 lines: meetings, actions, the library and plans; to be split by record kind.
"""Every write of the joint conference: meetings and their numbers, actions and their states,
the shared library and the plans. Operations validate, write, log and notify; the caller
(`portal.core.writes.perform`) commits. Edits take the version their form was built on and are
refused when someone saved the record in between; transitions lock their row first."""
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
    PlanBureau,
    PlanItem,
    SharedDocument,
)
from portal.conference.policies import is_reader, plan_bureau_of
from portal.core import bulk, clock, counters
from portal.core.attachments import save_upload
from portal.core.audit import record_change
from portal.core.converters import DB_INTEGER_MAX
from portal.core.errors import DomainError, NotPermitted
from portal.core.links import page_link
from portal.core.locale import N_
from portal.core.notifications import notify
from portal.core.permissions import can
from portal.core.registry import RECORD_TYPES
from portal.core.states import StateMachine, Transition
from portal.core.versions import expect_version, touch
from portal.core.writes import lock
from portal.extensions import db

ATTACHMENT_KINDS = {"pdf", "docx", "xlsx", "ole", "text", "png", "jpeg"}


# ---- meetings --------------------------------------------------------------------------------

def next_meeting_number(year: int) -> int:
    """The next 第N次 of `year`, from the core gapless counter."""
    return counters.take("meeting", year)


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


def _changes(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the fields that changed, for the audit entry."""
    changed = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in changed}, {k: after[k] for k in changed}


def _org(org_or_id):
    if org_or_id is None or isinstance(org_or_id, Organisation):
        return org_or_id
    return db.session.get(Organisation, int(org_or_id)) if int(org_or_id or 0) > 0 else None


def _users(users_or_ids) -> list[User]:
    items = list(users_or_ids or [])
    if all(isinstance(u, User) for u in items):
        return items
    ids = [int(u) for u in items]
    return list(db.session.execute(sa.select(User).where(User.id.in_(ids)).order_by(User.id)).scalars()) if ids else []


def create_meeting(*, actor, held_on: date, place: str, convening_org: Organisation | int | None,
                   attendees: list, agenda: str = "", minutes: str = "", distribution: str = "") -> Meeting:
    """登记 a meeting. Its number (第N次) is taken from the core counter last, once every check
    has passed: a refused or duplicate form never consumes one."""
    if not can(actor, "create", Meeting):
        raise NotPermitted(_("您无权登记联席会议。"))
    convening_org, attendees = _org(convening_org), _users(attendees)
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


MEETING_FIELDS = ["held_on", "place", "convening_org_id", "agenda", "minutes", "distribution"]


def _meeting_values(meeting: Meeting) -> dict:
    values = {f: getattr(meeting, f) for f in MEETING_FIELDS}
    values["attendee_ids"] = sorted(u.id for u in meeting.attendees)
    return values


def update_meeting(meeting: Meeting, *, actor, version, held_on: date, place: str,
                   convening_org: Organisation | int | None, attendees: list, agenda: str, minutes: str,
                   distribution: str) -> Meeting:
    """Save the meeting form (minutes, agenda, attendees…) built on `version`."""
    if not can(actor, "edit", meeting):
        raise NotPermitted(_("您无权修改此会议。"))
    lock(meeting)
    expect_version(meeting, version)
    convening_org, attendees = _org(convening_org), _users(attendees)
    _check_meeting_fields(held_on, place, convening_org, attendees)
    if held_on.year != meeting.year:  # the number belongs to the year; moving it would leave a gap
        raise DomainError(_("会议编号按年度编排，日期不能改到其他年度（本次为%(year)s年）。", year=meeting.year),
                          field="held_on")
    before = _meeting_values(meeting)
    meeting.held_on, meeting.place, meeting.convening_org = held_on, place.strip(), convening_org
    meeting.attendees = list(attendees)
    meeting.agenda, meeting.minutes, meeting.distribution = agenda.strip(), minutes, distribution.strip()
    db.session.flush()
    audit_before, audit_after = _changes(before, _meeting_values(meeting))
    if "attendee_ids" in audit_after:
        touch(meeting)  # the attendee list is the meeting's content too
    if audit_after:
        record_change(actor, "conference.meeting.edit", meeting, before=audit_before, after=audit_after)
    return meeting


def attach_to_meeting(meeting: Meeting, file_storage, *, actor):
    if not can(actor, "edit", meeting):
        raise NotPermitted(_("您无权修改此会议。"))
    if file_storage is None or not getattr(file_storage, "filename", ""):
        raise DomainError(_("请选择要上传的文件。"), field="file")
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


def _check_action_fields(text: str, owner_org, owner_user, due_date, *, was: date | None = None) -> None:
    if not (text or "").strip():
        raise DomainError(_("请填写议定事项内容。"), field="text")
    if owner_org is None:
        raise DomainError(_("请选择牵头单位。"), field="owner_org_id")
    if owner_user is not None and owner_user.organisation_id != owner_org.id:
        raise DomainError(_("责任人须属于牵头单位。"), field="owner_user_id")
    if due_date is not None and not 2000 <= due_date.year <= 2100:
        raise DomainError(_("完成时限的年份不合理。"), field="due_date")
    if due_date is not None and due_date < clock.today() and due_date != was:  # would be 逾期 at once
        raise DomainError(_("完成时限（%(d)s）已过，请填写今天或以后的日期。", d=due_date.isoformat()), field="due_date")


def _user(user_or_id):
    if user_or_id is None or isinstance(user_or_id, User):
        return user_or_id
    return db.session.get(User, int(user_or_id)) if int(user_or_id or 0) > 0 else None


def add_action(meeting: Meeting, *, actor, text: str, owner_org: Organisation | int | None,
               owner_user: User | int | None = None, due_date: date | None = None) -> Action:
    if not can(actor, "edit", meeting):
        raise NotPermitted(_("您无权修改此会议。"))
    owner_org, owner_user = _org(owner_org), _user(owner_user)
    _check_action_fields(text, owner_org, owner_user, due_date)
    lock(meeting)  # two resolutions added at once get two positions
    position = (db.session.scalar(sa.select(sa.func.max(Action.position)).where(Action.meeting_id == meeting.id))
                or 0) + 1 if meeting.id is not None else 1
    action = Action(meeting=meeting, position=position, text=text.strip(), owner_org=owner_org,
                    owner_user=owner_user, due_date=due_date, state=ActionState.OPEN)
    db.session.add(action)
    db.session.flush()
    record_change(actor, "conference.action.create", action,
                  after={"text": action.text, "owner": owner_org.name,
                         "due_date": due_date.isoformat() if due_date else None})
    recipients = [owner_user] if owner_user else [u for u in owner_org.users if u.is_active]
    notify([u for u in recipients if u.id != actor.id], _("联席会议议定事项交办：%(text)s", text=action.text[:60]),
           link=page_link("conference.action_detail", action_id=action.id), body=meeting.title)
    return action


ACTION_FIELDS = ["text", "owner_org_id", "owner_user_id", "due_date"]


def update_action(action: Action, *, actor, version, text: str, owner_org: Organisation | int | None,
                  owner_user: User | int | None = None, due_date: date | None = None) -> Action:
    """Correct a resolution's text, owner or due date (the form was built on `version`)."""
    if not can(actor, "edit", action):
        raise NotPermitted(_("您无权修改此事项。"))
    lock(action)
    expect_version(action, version)
    owner_org, owner_user = _org(owner_org), _user(owner_user)
    _check_action_fields(text, owner_org, owner_user, due_date, was=action.due_date)
    before = {f: getattr(action, f) for f in ACTION_FIELDS}
    action.text, action.owner_org, action.owner_user, action.due_date = text.strip(), owner_org, owner_user, due_date
    db.session.flush()
    audit_before, audit_after = _changes(before, {f: getattr(action, f) for f in ACTION_FIELDS})
    if audit_after:
        record_change(actor, "conference.action.edit", action, before=audit_before, after=audit_after)
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
    before, after = {"state": str(previous)}, {"state": str(action.state)}
    if (comment or "").strip():
        db.session.add(ActionNote(action=action, author_id=actor.id, text=comment.strip()))
        before["note"], after["note"] = None, comment.strip()
    record_change(actor, f"{ACTION_MACHINE.name}.{name}", action, before=before, after=after,
                  comment=comment or None)
    return action


def bulk_transition(*, actor, action: str, ids, comment: str = "") -> bulk.BulkOutcome:
    """The action list's bulk bar: one step of the state machine (开始推进, 确认完成, 撤销, 重新打开)
    on each ticked action through `transition_action`; an action whose state or owner does not
    allow the step, or a step that needs a reason given none, is reported and left as it was."""
    if action not in {t.action for t in ACTION_MACHINE.transitions}:
        raise DomainError(_("请选择批量操作。"), field="action")
    return bulk.run(actor, Action, ids, lambda a: transition_action(a, action, actor=actor, comment=comment),
                    name=lambda a: _("%(m)s议定事项%(n)s", m=a.meeting.title, n=a.position))


def add_progress(action: Action, *, actor, text: str) -> ActionNote:
    """进展: a progress note; the first one on an open action also starts it (one audit entry)."""
    if not can(actor, "progress", action):
        raise NotPermitted(_("您无权填报此事项的进展。"))
    if not (text or "").strip():
        raise DomainError(_("请填写进展情况。"), field="text")
    lock(action)
    if action.state not in (ActionState.OPEN, ActionState.IN_PROGRESS):
        raise DomainError(_("该事项已%(state)s，不能再填报进展；如需继续请先重新打开。", state=action.state.label),
                          field="text")
    note = ActionNote(action=action, author_id=actor.id, text=text.strip())
    db.session.add(note)
    before, after = {"note": None}, {"note": note.text}
    if action.state == ActionState.OPEN:  # reporting progress starts the work
        ACTION_MACHINE.apply(action, "start", actor=actor, comment=None, audit=False)
        before["state"], after["state"] = str(ActionState.OPEN), str(action.state)
    else:
        touch(action)  # a new note is a change of the action: an edit form opened before is stale
    record_change(actor, "conference.action.progress", action, before=before, after=after, comment=note.text)
    return note


def link_record(action: Action, *, actor, record_type: str, record_id) -> ActionLink:
    if not can(actor, "link", action):
        raise NotPermitted(_("您无权修改此事项的关联。"))
    lock(action)
    db.session.expire(action, ["links"])
    model = RECORD_TYPES.get(record_type or "")
    if model is None:
        raise DomainError(_("请选择关联记录的类型。"), field="record_type")
    try:
        record_id = int(record_id)
    except (TypeError, ValueError):
        raise DomainError(_("请填写关联记录的编号（数字）。"), field="record_id") from None
    record = db.session.get(model, record_id) if 0 < record_id <= DB_INTEGER_MAX else None
    if record is None:
        raise DomainError(_("找不到编号为 %(id)s 的记录。", id=record_id), field="record_id")
    if not can(actor, "view", record):
        raise DomainError(_("您无权查看该记录，不能关联。"), field="record_id")
    if any(link.record_type == record_type and link.record_id == record_id for link in action.links):
        raise DomainError(_("该记录已关联。"), field="record_id")
    link = ActionLink(action=action, record_type=record_type, record_id=record_id)
    db.session.add(link)
    record_change(actor, "conference.action.link", action, before={"record": None},
                  after={"record": f"{record_type}:{record_id}", "title": str(record)})
    return link


def unlink_record(link: ActionLink | None, *, actor, action: Action | None = None) -> None:
    if link is None or (action is not None and link.action_id != action.id):
        raise DomainError(_("该关联已取消。"))
    action = link.action
    if not can(actor, "link", action):
        raise NotPermitted(_("您无权修改此事项的关联。"))
    record_change(actor, "conference.action.unlink", action,
                  before={"record": f"{link.record_type}:{link.record_id}"}, after={"record": None})
    action.links.remove(link)


# ---- shared library (共享资料) -----------------------------------------------------------------

def other_bureau_readers(user) -> list[User]:
    other = OrgKind.AUDIT_BUREAU if user.is_finance else OrgKind.FINANCE_BUREAU
    users = db.session.execute(
        sa.select(User).join(Organisation, User.organisation_id == Organisation.id)
        .where(Organisation.kind == other, User.is_active_account.is_(True))
    ).scalars().all()
    return [u for u in users if is_reader(u)]


def _projects(ids) -> list:
    from portal.performance.models import Project

    ids = [int(i) for i in ids or [] if int(i) > 0]
    return list(db.session.execute(sa.select(Project).where(Project.id.in_(ids)).order_by(Project.id)).scalars()) \
        if ids else []


def _units(ids) -> list[Organisation]:
    ids = [int(i) for i in ids or [] if int(i) > 0]
    return list(db.session.execute(sa.select(Organisation).where(Organisation.id.in_(ids),
                                                                 Organisation.kind == OrgKind.BUDGET_UNIT)
                                   .order_by(Organisation.id)).scalars()) if ids else []


def _check_description(title, kind, year) -> None:
    """A library entry's title, type and year, as sharing and correcting it both require."""
    if not (title or "").strip():
        raise DomainError(_("请填写资料标题。"), field="title")
    if kind is None:
        raise DomainError(_("请选择资料类型。"), field="kind")
    if year is None or not 2000 <= int(year) <= 2100:
        raise DomainError(_("请填写正确的年度。"), field="year")


def _kind(kind) -> DocumentKind | None:
    if kind is None or isinstance(kind, DocumentKind):
        return kind
    try:
        return DocumentKind(kind)
    except ValueError:
        raise DomainError(_("请选择资料类型。"), field="kind") from None


def share_document(*, actor, title: str, kind: DocumentKind | str | None, year: int, note: str = "", projects=(),
                   units=(), files=(), project_ids=(), unit_ids=()) -> SharedDocument:
    if not can(actor, "share", SharedDocument):
        raise NotPermitted(_("您无权共享资料。"))
    kind = _kind(kind)
    projects = list(projects) + _projects(project_ids)
    units = list(units) + _units(unit_ids)
    _check_description(title, kind, year)
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
           link=page_link("conference.document_detail", document_id=document.id), body=document.note)
    return document


DOCUMENT_FIELDS = ["title", "kind", "year", "note"]


def _document_values(document: SharedDocument) -> dict:
    values = {f: getattr(document, f) for f in DOCUMENT_FIELDS}
    values["kind"] = str(values["kind"])
    values["project_ids"] = sorted(p.id for p in document.projects)
    values["unit_ids"] = sorted(u.id for u in document.units)
    return values


def update_document(document: SharedDocument, *, actor, version, title: str, kind, year, note: str = "",
                    project_ids=(), unit_ids=()) -> SharedDocument:
    """Correct a library entry's description (the form was built on `version`)."""
    if not can(actor, "edit", document):
        raise NotPermitted(_("只有共享资料的单位可以修改该资料的信息。"))
    lock(document)
    expect_version(document, version)
    kind = _kind(kind)
    _check_description(title, kind, year)
    before = _document_values(document)
    document.title, document.kind, document.year = title.strip(), kind, int(year)
    document.note = (note or "").strip()
    document.projects, document.units = _projects(project_ids), _units(unit_ids)
    db.session.flush()
    audit_before, audit_after = _changes(before, _document_values(document))
    if {"project_ids", "unit_ids"} & set(audit_after):
        touch(document)
    if audit_after:
        record_change(actor, "library.edit", document, before=audit_before, after=audit_after)
    return document


def log_open(document: SharedDocument, user) -> None:
    """Record that `user` opened the document (one row per view), in the caller's transaction
    (seeds, commands). A page view records it with `opened_later` instead: a GET never writes."""
    db.session.add(LibraryAccess(document_id=document.id, user_id=user.id, event="opened"))


def opened_later(document: SharedDocument, user):
    """A callable that records the opening in a short transaction of its own, for after the
    response (as the API records a token's use): the page itself stays a read."""
    import logging

    engine, document_id, user_id, at = db.engine, document.id, user.id, clock.now()
    table = LibraryAccess.__table__

    def write() -> None:
        try:
            with engine.begin() as conn:
                conn.execute(table.insert().values(document_id=document_id, user_id=user_id, event="opened", at=at))
        except sa.exc.SQLAlchemyError:  # a busy database: a missed access row, never a failed page
            logging.getLogger(__name__).warning("could not log the opening of document #%s", document_id,
                                                exc_info=True)
    return write


# ---- plans (计划共商) ---------------------------------------------------------------------------

def _project(project_or_id):
    from portal.performance.models import Project

    if project_or_id is None or isinstance(project_or_id, Project):
        return project_or_id
    return db.session.get(Project, int(project_or_id)) if int(project_or_id or 0) > 0 else None


def _check_plan_target(bureau, year, project, unit) -> None:
    if year is None or not 2000 <= int(year) <= 2100:
        raise DomainError(_("请填写正确的年度。"), field="year")
    if project is None and unit is None:
        raise DomainError(_("请选择计划涉及的项目或单位（至少一项）。"), field="project_id")
    if project is not None and project.year != int(year):
        raise DomainError(_("所选项目属于%(y)s年度，与计划年度不一致。", y=project.year), field="project_id")
    if unit is not None and unit.kind != OrgKind.BUDGET_UNIT:
        raise DomainError(_("计划涉及的单位须为预算部门或单位。"), field="unit_id")
    if bureau == PlanBureau.FINANCE and project is None:
        raise DomainError(_("财政评价计划须选择要评价的项目。"), field="project_id")


PLAN_FIELDS = ["title", "project_id", "unit_id", "note"]


def update_plan_item(item: PlanItem, *, actor, version, title: str, project=None, unit=None,
                     note: str = "") -> PlanItem:
    """Correct a plan line (the form was built on `version`)."""
    if not can(actor, "edit", item):
        raise NotPermitted(_("您无权修改此计划条目。"))
    lock(item)
    expect_version(item, version)
    project, unit = _project(project), _org(unit)
    _check_plan_target(item.bureau, item.year, project, unit)
    before = {f: getattr(item, f) for f in PLAN_FIELDS}
    item.title = ((title or "").strip() or (project.name if project is not None else unit.name))[:300]
    item.project, item.unit, item.note = project, unit, (note or "").strip()
    db.session.flush()
    audit_before, audit_after = _changes(before, {f: getattr(item, f) for f in PLAN_FIELDS})
    if audit_after:
        record_change(actor, "plan.edit", item, before=audit_before, after=audit_after)
    return item


def add_plan_item(*, actor, year: int, title: str, project=None, unit=None, note: str = "") -> PlanItem:
    bureau = plan_bureau_of(actor)
    if bureau is None or not can(actor, "create", PlanItem):
        raise NotPermitted(_("只有财政局或审计局的工作人员可以编制本单位计划。"))
    project, unit = _project(project), _org(unit)
    _check_plan_target(bureau, year, project, unit)
    title = (title or "").strip() or (project.name if project is not None else unit.name)
    item = PlanItem(year=int(year), bureau=bureau, title=title[:300], project=project, unit=unit,
                    note=(note or "").strip(), created_by_id=actor.id)
    db.session.add(item)
    db.session.flush()
    record_change(actor, "plan.add", item, after={"year": item.year, "bureau": str(bureau), "title": item.title})
    return item


def delete_plan_item(item: PlanItem, *, actor) -> int:
    """Remove a plan line; returns its year (the page the user goes back to)."""
    if not can(actor, "delete", item):
        raise NotPermitted(_("您无权删除此计划条目。"))
    lock(item)
    year = item.year
    record_change(actor, "plan.delete", item, before={"year": item.year, "title": item.title,
                                                      "project_id": item.project_id, "unit_id": item.unit_id})
    db.session.delete(item)
    return year
