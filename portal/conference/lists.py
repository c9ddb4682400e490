"""The action and library lists' columns and filters (portal/core/listing.py): what is shown is
what is exported."""
from __future__ import annotations

import sqlalchemy as sa
from flask import request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.accounts.models import Organisation
from portal.conference import queries
from portal.conference.models import Action, ActionState, DocumentKind, Meeting, SharedDocument
from portal.core import clock
from portal.core.listing import Column, Filter, Listing, id_arg
from portal.core.permissions import visible
from portal.extensions import db

ACTION_STATES = [("unfinished", _l("未办结")), ("overdue", _l("已逾期")), ("due_soon", _l("7日内到期"))]


def _years():
    year = clock.today().year
    return [(y, y) for y in range(year + 1, year - 6, -1)]


def _owners():
    """The lead units of the actions the user sees."""
    owners = visible(current_user, Action, sa.select(Action.owner_org_id))
    return [(o.id, o.name) for o in db.session.scalars(sa.select(Organisation).where(Organisation.id.in_(owners))
                                                         .order_by(Organisation.id))]


ACTIONS = Listing("actions", columns=[
    Column("meeting", _l("会议"), lambda a: a.meeting.title, sort=(Meeting.year, Meeting.number)),
    Column("text", _l("事项"), lambda a: a.text, sort=(Action.text,),
           link=lambda a: url_for("conference.action_detail", action_id=a.id)),
    Column("owner", _l("牵头单位"), lambda a: a.owner_org.name, sort=(Action.owner_org_id,)),
    Column("person", _l("责任人"), lambda a: a.owner_user.display_name if a.owner_user else "—"),
    Column("due", _l("完成时限"), lambda a: a.due_date, kind="date", sort=(Action.due_date,)),
    Column("state", _l("状态"), lambda a: a.state, kind="badge", sort=(Action.state,)),
    Column("overdue", _l("逾期"), lambda a: str(_l("逾期")) if a.is_overdue() else ""),
], filters=[
    Filter("state", _l("状态"), kind="select",
           choices=lambda: ACTION_STATES + [(s.value, s.label) for s in ActionState]),
    Filter("year", _l("会议年度"), kind="select", parse=id_arg, choices=_years),
    Filter("owner", _l("牵头单位"), kind="select", parse=id_arg, choices=_owners),
    Filter("q", _l("关键词")),
    Filter("meeting", _l("会议"), kind="hidden", parse=id_arg),
], tiebreak=lambda: (Action.id,), row_class=lambda a: "overdue" if a.is_overdue() else "")


def _snippet(document) -> str:
    q = request.args.get("q", "").strip()[:200]
    return queries.snippet(document, q) if q else ""


DOCUMENTS = Listing("library", columns=[
    Column("title", _l("标题"), lambda d: d.title, sort=(SharedDocument.title,),
           link=lambda d: url_for("conference.document_detail", document_id=d.id)),
    Column("snippet", _l("检索摘录"), _snippet, css="snippet"),
    Column("kind", _l("类型"), lambda d: d.kind.label, sort=(SharedDocument.kind,)),
    Column("year", _l("年度"), lambda d: d.year, kind="number", sort=(SharedDocument.year,)),
    Column("org", _l("共享单位"), lambda d: d.shared_by_org.name, sort=(SharedDocument.shared_by_org_id,)),
    Column("shared", _l("共享时间"), lambda d: d.created_at, kind="datetime", sort=(SharedDocument.created_at,)),
], filters=[
    Filter("q", _l("全文检索")),
    Filter("kind", _l("类型"), kind="select", choices=lambda: [(k.value, k.label) for k in DocumentKind]),
    Filter("year", _l("年度"), kind="select", parse=id_arg, choices=_years),
], tiebreak=lambda: (SharedDocument.id.desc(),))
