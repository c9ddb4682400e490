"""What the publishing pages read: the projects chosen, their current snapshots and the plan
of what a publication would write (the preview shows exactly these data)."""
from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.accounts.models import Organisation
from portal.core.errors import DomainError
from portal.extensions import db
from portal.performance.models import Project
from portal.publishing import snapshots
from portal.publishing.models import PublicationKind, Snapshot, SnapshotState
from portal.publishing.snapshots import dumps


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


CHANGES = ("new", "changed", "withdrawn", "same")  # how the preview sorts what it shows


@dataclass
class Plan:
    candidates: list[Candidate] = field(default_factory=list)
    # published now (current, not withdrawn) but nothing to publish any more: the goal is no longer
    # approved, the evaluation reopened, the project gone from the selection (撤回 them by hand)
    withdrawn: list[Snapshot] = field(default_factory=list)

    def count(self, change: str) -> int:
        if change == "withdrawn":
            return len(self.withdrawn)
        return sum(1 for c in self.candidates if c.change == change)

    def counts(self) -> dict[str, int]:
        return {change: self.count(change) for change in CHANGES}

    def by_project(self, changes=("new", "changed", "same")) -> list[tuple[Project, list[Candidate]]]:
        grouped: dict[int, tuple[Project, list]] = {}
        for c in self.candidates:
            if c.change in changes:
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
    planned = {(c.project.id, c.kind.value) for c in result.candidates}
    published = sa.select(Snapshot).where(Snapshot.current.is_(True), Snapshot.state == SnapshotState.PUBLISHED,
                                          Snapshot.year == year, Snapshot.kind.in_(kinds))
    if department_id:
        published = published.where(Snapshot.department_ref == department_id)
    result.withdrawn = [s for s in db.session.scalars(published.order_by(Snapshot.project_code, Snapshot.id))
                        if (s.project_ref, s.kind.value) not in planned]
    return result


def departments() -> list[Organisation]:
    ids = sa.select(Project.department_id).distinct()
    return list(db.session.scalars(sa.select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.code)))


def figures_versions(kind: str, year: int) -> list:
    """Every published version of a year's figures, newest first (the portal's history)."""
    from portal.publishing.models import PublishedFigures

    return list(db.session.scalars(sa.select(PublishedFigures).where(
        PublishedFigures.kind == kind, PublishedFigures.year == year).order_by(PublishedFigures.version.desc())))
