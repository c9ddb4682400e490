"""The publication log's columns and filters (portal/core/listing.py): what is shown is what is exported."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.core.listing import Column, Filter, Listing
from portal.publishing.models import PublicationAction, PublicationKind, PublicationLog

PUBLICATION_LOG = Listing("publication_log", columns=[
    Column("at", _l("时间"), lambda e: e.at, kind="datetime", sort=(PublicationLog.at,)),
    Column("actor", _l("操作人"), lambda e: e.actor_name, sort=(PublicationLog.actor_name,)),
    Column("action", _l("操作"), lambda e: e.action.label, sort=(PublicationLog.action,)),
    Column("project", _l("项目"), lambda e: e.project_name, sort=(PublicationLog.project_name,)),
    Column("kind", _l("公开内容"), lambda e: e.kind.label, sort=(PublicationLog.kind,)),
    Column("version", _l("版本"), lambda e: e.version, kind="number", sort=(PublicationLog.version,)),
    Column("note", _l("说明"), lambda e: e.note),
], filters=[
    Filter("action", _l("操作"), kind="select", choices=lambda: [(a.value, a.label) for a in PublicationAction],
           apply=lambda stmt, v: stmt.where(PublicationLog.action == PublicationAction(v))),
    Filter("kind", _l("公开内容"), kind="select", choices=lambda: [(k.value, k.label) for k in PublicationKind],
           apply=lambda stmt, v: stmt.where(PublicationLog.kind == PublicationKind(v))),
    Filter("q", _l("项目名称"), apply=lambda stmt, q: stmt.where(PublicationLog.project_name.contains(q))),
], default_sort="-at", tiebreak=lambda: (PublicationLog.id.desc(),))
