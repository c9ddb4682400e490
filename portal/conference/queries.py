"""Read-side of the joint conference: action filters, library search, plan overlaps, the
overview's figures and the reminder check."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from portal.conference.models import (
    OPEN_STATES,
    Action,
    ActionState,
    LibraryAccess,
    Meeting,
    PlanBureau,
    PlanItem,
    SharedDocument,
)
from portal.core import clock
from portal.core.attachments import Attachment, AttachmentLink
from portal.core.permissions import visible
from portal.extensions import db

DUE_SOON_DAYS = 7  # "due soon" window for reminders, the dashboard and the overview


# ---- actions ---------------------------------------------------------------------------------

def overdue_clause(today: date):
    return sa.and_(Action.state.in_(OPEN_STATES), Action.due_date.is_not(None), Action.due_date < today)


def due_soon_clause(today: date, days: int = DUE_SOON_DAYS):
    return sa.and_(Action.state.in_(OPEN_STATES), Action.due_date.is_not(None),
                   Action.due_date >= today, Action.due_date <= today + timedelta(days=days))


def filter_actions(user, *, state: str = "", year: int | None = None, owner_org_id: int | None = None,
                   meeting_id: int | None = None, q: str = "", today: date | None = None):
    """The actions `user` may see, filtered. `state` is a state code, "open" meaning every
    unfinished action (open or in progress), "overdue" or "due_soon"."""
    today = today or clock.today()
    stmt = visible(user, Action).join(Meeting, Action.meeting_id == Meeting.id)
    if state == "unfinished":
        stmt = stmt.where(Action.state.in_(OPEN_STATES))
    elif state == "overdue":
        stmt = stmt.where(overdue_clause(today))
    elif state == "due_soon":
        stmt = stmt.where(due_soon_clause(today))
    elif state in {s.value for s in ActionState}:
        stmt = stmt.where(Action.state == ActionState(state))
    if year:
        stmt = stmt.where(Meeting.year == year)
    if owner_org_id:
        stmt = stmt.where(Action.owner_org_id == owner_org_id)
    if meeting_id:
        stmt = stmt.where(Action.meeting_id == meeting_id)
    for term in _terms(q):
        stmt = stmt.where(_contains(Action.text, term))
    return stmt.order_by(Action.due_date.is_(None), Action.due_date, Action.id)


# ---- library search ---------------------------------------------------------------------------

def _terms(q: str | None) -> list[str]:
    """Space-separated words, normalised as the public site's search does (full-width →
    half-width, traditional → simplified), so 審計報告 finds 审计报告."""
    from portal.core.search.normalise import fold

    return [t for t in fold(q or "").split(" ") if t][:10]


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains(column, term: str):
    """Case-insensitive substring test: ILIKE on PostgreSQL, LIKE on SQLite."""
    pattern = f"%{_escape_like(term)}%"
    if db.session.get_bind().dialect.name == "postgresql":
        return column.ilike(pattern, escape="\\")
    return column.like(pattern, escape="\\")


def search_documents(user, q: str = "", *, kind: str = "", year: int | None = None):
    """The library's one search: every space-separated term must appear in the title or in the
    extracted text of one of the document's files. Starts from what `user` may see, so a budget
    unit or an agency finds nothing."""
    stmt = visible(user, SharedDocument)
    for term in _terms(q):
        in_files = (sa.select(AttachmentLink.record_id)
                    .join(Attachment, Attachment.id == AttachmentLink.attachment_id)
                    .where(AttachmentLink.record_type == SharedDocument.__tablename__,
                           _contains(Attachment.text, term)))
        stmt = stmt.where(sa.or_(_contains(SharedDocument.title, term), SharedDocument.id.in_(in_files)))
    if kind:
        stmt = stmt.where(SharedDocument.kind == kind)
    if year:
        stmt = stmt.where(SharedDocument.year == year)
    return stmt.order_by(SharedDocument.id.desc())


def snippet(document: SharedDocument, q: str, width: int = 60) -> str:
    """A short excerpt of the first file text around the first term found."""
    from portal.core.attachments import attachments_of

    terms = _terms(q)
    for attachment in attachments_of(document):
        text = attachment.text or ""
        lowered = text.lower()
        for term in terms:
            at = lowered.find(term.lower())
            if at >= 0:
                start = max(0, at - width // 2)
                return ("…" if start else "") + text[start:at + len(term) + width // 2].replace("\n", " ") + "…"
    return ""


# ---- plans (计划共商) ---------------------------------------------------------------------------

def plan_items(year: int) -> dict[PlanBureau, list[PlanItem]]:
    items = db.session.execute(sa.select(PlanItem).where(PlanItem.year == year).order_by(PlanItem.id)).scalars().all()
    return {b: [i for i in items if i.bureau == b] for b in PlanBureau}


def plan_overlaps(year: int) -> dict[int, list[PlanItem]]:
    """Item id → the other bureau's items it overlaps: the same project, or work landing on the
    same unit in the same year (a project counts for its unit)."""
    plans = plan_items(year)
    overlaps: dict[int, list[PlanItem]] = {}
    for f in plans[PlanBureau.FINANCE]:
        for a in plans[PlanBureau.AUDIT]:
            same_project = f.project_id is not None and f.project_id == a.project_id
            same_unit = f.target_unit_id is not None and f.target_unit_id == a.target_unit_id
            if same_project or same_unit:
                overlaps.setdefault(f.id, []).append(a)
                overlaps.setdefault(a.id, []).append(f)
    return overlaps


# ---- overview ------------------------------------------------------------------------------------

def count(stmt) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()


def overview_figures(user, year: int, today: date | None = None) -> dict:
    today = today or clock.today()
    actions = filter_actions(user, year=year, today=today)
    by_state = {s: count(filter_actions(user, year=year, state=s.value, today=today)) for s in ActionState}
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    return {
        "meetings": count(visible(user, Meeting).where(Meeting.year == year)),
        "actions": count(actions),
        "unfinished": by_state[ActionState.OPEN] + by_state[ActionState.IN_PROGRESS],
        "overdue": count(filter_actions(user, year=year, state="overdue", today=today)),
        "due_soon": count(filter_actions(user, year=year, state="due_soon", today=today)),
        "by_state": by_state,
        "documents": count(visible(user, SharedDocument).where(SharedDocument.year == year)),
        "opens": _opens(user, start, end),
    }


def _opens(user, start: date, end: date) -> int:
    ids = visible(user, SharedDocument, sa.select(SharedDocument.id))
    return count(sa.select(LibraryAccess.id).where(LibraryAccess.event == "opened", LibraryAccess.document_id.in_(ids),
                                                   LibraryAccess.at >= start, LibraryAccess.at < end))


BAR_COLOURS = {"open": "#8c959f", "in_progress": "#0969da", "done": "#1a7f37", "dropped": "#bf8700",
               "overdue": "#cf222e"}


def bar_chart(rows: list[tuple[str, int, str]], *, title: str, width: int = 360):
    """A horizontal bar chart (the one chart component, portal.core.charts): rows of
    (label, value, state code), coloured by state."""
    from portal.core import charts

    return charts.Chart(title=title, categories=[label for label, _v, _c in rows], width=width,
                        series=[charts.Series(title, [v for _l, v, _c in rows],
                                              colours=[BAR_COLOURS.get(c, "#0969da") for _l, _v, c in rows],
                                              classes=[f"bar bar-{c}" for _l, _v, c in rows])])


# ---- reminders -------------------------------------------------------------------------------------

def action_recipients(action: Action) -> list:
    users = [action.owner_user] if action.owner_user else [u for u in action.owner_org.users if u.is_active]
    if action.meeting.created_by_id:
        from portal.accounts.models import User

        creator = db.session.get(User, action.meeting.created_by_id)
        if creator is not None:
            users.append(creator)
    return users

