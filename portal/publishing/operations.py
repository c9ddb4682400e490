"""The only writers of snapshots. Views commit once after calling one of these, then ask the
search writer to apply the queue (`public_site.search.apply_queue`)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.accounts.models import Organisation
from portal.core import clock
from portal.core.audit import record_change
from portal.core.enums import LabelledEnum
from portal.core.errors import DomainError
from portal.extensions import db
from portal.performance.models import Project
from portal.publishing import snapshots
from portal.publishing.models import (
    RESULT_KINDS,
    PublicationAction,
    PublicationKind,
    PublicationLog,
    PublishedFile,
    SearchQueueItem,
    Snapshot,
    SnapshotState,
    amount_band,
)


def _plain(value):
    """Providers may hand over Decimals, dates and labelled enums: store them exactly, as text."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, LabelledEnum):
        return value.label
    raise TypeError(f"not publishable: {type(value).__name__}")


def dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_plain)


def selected_projects(year: int, department_id: int | None = None) -> list[Project]:
    stmt = sa.select(Project).where(Project.year == year).order_by(Project.department_id, Project.code)
    if department_id:
        stmt = stmt.where(Project.department_id == department_id)
    return list(db.session.scalars(stmt))


@dataclass
class Candidate:
    project: Project
    kind: PublicationKind
    data: dict
    files: list
    current: Snapshot | None
    change: str  # "new", "changed", "same"


@dataclass
class Plan:
    candidates: list[Candidate] = field(default_factory=list)

    def count(self, change: str) -> int:
        return sum(1 for c in self.candidates if c.change == change)

    def by_project(self) -> list[tuple[Project, list[Candidate]]]:
        grouped: dict[int, tuple[Project, list]] = {}
        for c in self.candidates:
            grouped.setdefault(c.project.id, (c.project, []))[1].append(c)
        return list(grouped.values())


def current_snapshots(project_ids) -> dict[tuple[int, str], Snapshot]:
    if not project_ids:
        return {}
    rows = db.session.scalars(sa.select(Snapshot).where(Snapshot.project_ref.in_(list(project_ids)),
                                                         Snapshot.current.is_(True)))
    return {(s.project_ref, s.kind.value): s for s in rows}


def plan(year: int, department_id: int | None, kinds) -> Plan:
    """What publishing would write (the preview shows exactly these data)."""
    kinds = [PublicationKind(k) for k in kinds]
    if not kinds:
        raise DomainError(_("请至少选择一类公开内容。"), field="kinds")
    projects = selected_projects(year, department_id)
    existing = current_snapshots([p.id for p in projects])
    result = Plan()
    for project in projects:
        for kind in kinds:
            data, files = snapshots.build(project, kind)
            if data is None:
                continue
            current = existing.get((project.id, kind.value))
            if current is None or current.withdrawn:
                change = "new"
            elif current.data == dumps(data):
                change = "same"
            else:
                change = "changed"
            result.candidates.append(Candidate(project, kind, data, files, current, change))
    return result


def _facets(project: Project, kind: PublicationKind, data: dict) -> dict:
    facets = {"year": project.year, "project_code": project.code, "project_name": project.name,
              "department_ref": project.department.id, "department_name": project.department.name,
              "unit_name": project.unit.name, "project_kind": project.kind.value,
              "budget_type": project.budget_type.value, "amount": project.annual_budget or 0,
              "amount_band": amount_band(project.annual_budget)}
    if kind in RESULT_KINDS and data.get("score") is not None:
        facets["score"] = data["score"]
        facets["grade"] = data["grade"]
    if kind == PublicationKind.RECTIFICATION:
        facets["rectification"] = data.get("state")
    elif kind in RESULT_KINDS:
        rect = snapshots.rectification_data(project)
        facets["rectification"] = rect["state"] if rect else None
    return facets


def _copy_files(attachments) -> None:
    for a in attachments:
        if db.session.get(PublishedFile, a.sha256) is None:
            content = a.path.read_bytes()
            db.session.add(PublishedFile(sha256=a.sha256, filename=a.filename, size=len(content),
                                         content=content, text=a.text or ""))


def _write(actor, project_ref: int, project_name: str, kind: PublicationKind, data: dict, previous: Snapshot | None,
           *, action: PublicationAction, note: str = "", state=SnapshotState.PUBLISHED, facets: dict) -> Snapshot:
    version = 1
    if previous is not None:
        previous.current = False
        version = previous.version + 1
    row = Snapshot(project_ref=project_ref, kind=kind, version=version, current=True, state=state, note=note,
                   data=dumps(data), published_at=clock.now(), **facets)
    db.session.add(row)
    db.session.flush()
    db.session.add(SearchQueueItem(project_ref=project_ref))  # same transaction as the snapshot
    db.session.add(PublicationLog(actor_id=actor.id, actor_name=actor.display_name, action=action,
                                  snapshot_id=row.id, project_ref=project_ref, project_name=project_name,
                                  kind=kind, version=version, note=note))
    record_change(actor, f"publishing.{action.value}", row, after={"kind": kind.value, "version": version,
                                                                   "project": project_ref, "note": note})
    return row


def publish(year: int, department_id: int | None, kinds, *, actor, note: str = "") -> list[Snapshot]:
    """Publish new and changed snapshots; a changed one is a correction and needs a public note."""
    note = (note or "").strip()
    result = plan(year, department_id, kinds)
    if result.count("changed") and not note:
        raise DomainError(_("已公开的内容有 %(n)d 项发生变化，重新公开即为更正，请填写更正说明。",
                            n=result.count("changed")), field="note")
    if not result.count("new") and not result.count("changed"):
        raise DomainError(_("没有新的或变化的内容需要公开。"), field="kinds")
    written = []
    for c in result.candidates:
        if c.change == "same":
            continue
        _copy_files(c.files)
        action = PublicationAction.CORRECT if c.change == "changed" else PublicationAction.PUBLISH
        written.append(_write(actor, c.project.id, c.project.name, c.kind, c.data, c.current, action=action,
                              note=note if c.change == "changed" else "",
                              facets=_facets(c.project, c.kind, c.data)))
    return written


def withdraw(snapshot: Snapshot, *, actor, note: str) -> Snapshot:
    """撤回: a new version in the withdrawn state with a public notice; the content is no longer shown."""
    note = (note or "").strip()
    if not note:
        raise DomainError(_("请填写撤回说明（将向公众公示）。"), field="note")
    if not snapshot.current or snapshot.withdrawn:
        raise DomainError(_("只能撤回当前公开的版本。"), field="note")
    data = {"project": snapshot.payload.get("project", {}), "kind": snapshot.kind.value}
    facets = {name: getattr(snapshot, name) for name in (
        "year", "project_code", "project_name", "department_ref", "department_name", "unit_name", "project_kind",
        "budget_type", "amount", "amount_band")}
    return _write(actor, snapshot.project_ref, snapshot.project_name, snapshot.kind, data, snapshot,
                  action=PublicationAction.WITHDRAW, note=note, state=SnapshotState.WITHDRAWN, facets=facets)


def departments() -> list[Organisation]:
    ids = sa.select(Project.department_id).distinct()
    return list(db.session.scalars(sa.select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.code)))
