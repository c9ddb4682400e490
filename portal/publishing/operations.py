"""The only writers of snapshots. Views run one of these through `perform()` (one commit);
the search index follows through the outbox (`portal.publishing.indexing`).

Publications are serialised: `publish` and `withdraw` take one publishing lock (a PostgreSQL
advisory lock for the transaction; SQLite's write transactions are IMMEDIATE) before reading
the current snapshots, so two officers who click 发布 at once write one version: the second
sees the first's snapshots, finds nothing new, and is refused with a message."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.core import bulk, clock
from portal.core.audit import record_change
from portal.core.errors import DomainError, NotPermitted
from portal.core.permissions import can
from portal.extensions import db
from portal.performance.models import Project
from portal.publishing import indexing, queries, snapshots
from portal.publishing.models import (
    RESULT_KINDS,
    PublicationAction,
    PublicationKind,
    PublicationLog,
    PublishedFigures,
    PublishedFile,
    Snapshot,
    SnapshotState,
    amount_band,
)
from portal.publishing.snapshots import dumps


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
    db.session.add(PublicationLog(actor_id=actor.id, actor_name=actor.display_name, action=action,
                                  snapshot_id=row.id, project_ref=project_ref, project_name=project_name,
                                  kind=kind, version=version, note=note))
    record_change(actor, f"publishing.{action.value}", row, after={"kind": kind.value, "version": version,
                                                                   "project": project_ref, "note": note})
    return row


_PUBLISHING_LOCK = 7_240_101  # pg_advisory_xact_lock key: one publication at a time


def serialise_publications() -> None:
    """Wait for any other publication's transaction to end (then read what it wrote)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PUBLISHING_LOCK})


def publish(year: int, department_id: int | None, kinds, *, actor, note: str = "") -> list[Snapshot]:
    """Publish new and changed snapshots; a changed one is a correction and needs a public note."""
    if not can(actor, "publish", Snapshot):
        raise NotPermitted(_("只有财政绩效管理人员可以公开信息。"))
    note = (note or "").strip()
    serialise_publications()
    result = queries.plan(year, department_id, kinds)
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
    indexing.queue(row.project_ref for row in written)
    return written


def _withdrawal(row, *, actor, note: str) -> str:
    """The checks of a withdrawal (a snapshot's or a year's figures'): who, the public note, and
    that the row is still the live version once the publishing lock is held. Returns the note."""
    if not can(actor, "withdraw", row):
        raise NotPermitted(_("只有财政绩效管理人员可以撤回公开的信息。"))
    note = (note or "").strip()
    if not note:
        raise DomainError(_("请填写撤回说明（将向公众公示）。"), field="note")
    serialise_publications()
    db.session.refresh(row)  # the state as the last publication left it
    if not row.current or row.withdrawn:
        raise DomainError(_("只能撤回当前公开的版本。"), field="note")
    return note


def withdraw(snapshot: Snapshot, *, actor, note: str) -> Snapshot:
    """撤回: a new version in the withdrawn state with a public notice; the content is no longer shown."""
    note = _withdrawal(snapshot, actor=actor, note=note)
    # The notice carries the name, the date (published_at) and the note only: nothing of the
    # withdrawn content (no description, budget, unit or score). The identifying columns stay so
    # that the notice is listed under its project, year and department.
    data = {"project": {"name": snapshot.project_name}, "kind": snapshot.kind.value}
    facets = {name: getattr(snapshot, name) for name in (
        "year", "project_code", "project_name", "department_ref", "department_name")}
    facets.update(unit_name="", project_kind="", budget_type="", amount=Decimal(0), amount_band="")
    row = _write(actor, snapshot.project_ref, snapshot.project_name, snapshot.kind, data, snapshot,
                 action=PublicationAction.WITHDRAW, note=note, state=SnapshotState.WITHDRAWN, facets=facets)
    indexing.queue([row.project_ref])
    return row


def bulk_withdraw(*, actor, ids, comment: str = "") -> bulk.BulkOutcome:
    """The published list's bulk bar: 撤回 each ticked snapshot with the one public note, through
    `withdraw` (its permission, lock and live-version checks); a snapshot withdrawn or superseded
    already is named and left as it was. No note: nothing is done (every row would need it)."""
    if not (comment or "").strip():
        raise DomainError(_("请填写撤回说明（将向公众公示）。"), field="comment")
    return bulk.run(actor, Snapshot, ids, lambda snapshot: withdraw(snapshot, actor=actor, note=comment),
                    first=serialise_publications,  # the publishing lock before the rows', as `withdraw` takes them
                    name=lambda s: _("%(project)s（%(kind)s）", project=s.project_name, kind=s.kind.label))


# ---- a year's figures (公开的年度统计, e.g. 事前绩效评估情况) ----------------------------------------

def figures_provider(kind: str):
    from portal.core.registry import YEAR_FIGURES

    provider = YEAR_FIGURES.get(kind)
    if provider is None:
        raise DomainError(_("没有这类统计可以公开。"), field="kind")
    return provider


def current_figures(kind: str, year: int) -> PublishedFigures | None:
    return db.session.scalars(sa.select(PublishedFigures).where(
        PublishedFigures.kind == kind, PublishedFigures.year == year, PublishedFigures.current.is_(True))).first()


def build_figures(kind: str, year: int) -> dict | None:
    """What would be published: the provider's public values, in Chinese whatever the officer's
    language (the public site is Chinese first)."""
    from flask_babel import force_locale

    with force_locale("zh"):
        data = figures_provider(kind).build(year)
    return None if data is None else {"kind": kind, "year": year, **data}


def _write_figures(actor, kind, year, data: dict, previous, *, action: PublicationAction, note: str = "",
                   state=SnapshotState.PUBLISHED) -> PublishedFigures:
    version = 1
    if previous is not None:
        previous.current = False
        version = previous.version + 1
    row = PublishedFigures(kind=kind, year=year, version=version, current=True, state=state, note=note,
                           data=dumps(data), published_at=clock.now())
    db.session.add(row)
    db.session.flush()
    record_change(actor, f"publishing.figures_{action.value}", row,
                  after={"kind": kind, "year": year, "version": version, "note": note})
    return row


def publish_figures(kind: str, year: int, *, actor, note: str = "") -> PublishedFigures:
    """Publish the year's figures of `kind`; republishing changed figures is a correction (a public
    note is required), unchanged figures are refused."""
    if not can(actor, "publish", Snapshot):
        raise NotPermitted(_("只有财政绩效管理人员可以公开信息。"))
    note = (note or "").strip()
    serialise_publications()
    data = build_figures(kind, year)
    if data is None:
        raise DomainError(_("%(year)s年度尚无可公开的统计。", year=year), field="year")
    previous = current_figures(kind, year)
    live = previous is not None and not previous.withdrawn
    if live and dumps(data) == previous.data:
        raise DomainError(_("没有新的或变化的内容需要公开。"), field="year")
    if live and not note:
        raise DomainError(_("该年度统计已公开且发生变化，重新公开即为更正，请填写更正说明。"), field="note")
    return _write_figures(actor, kind, year, data, previous, action=PublicationAction.CORRECT if live
                          else PublicationAction.PUBLISH, note=note if live else "")


def withdraw_figures(row: PublishedFigures, *, actor, note: str) -> PublishedFigures:
    """撤回: a new version in the withdrawn state carrying only the notice."""
    note = _withdrawal(row, actor=actor, note=note)
    return _write_figures(actor, row.kind, row.year, {"kind": row.kind, "year": row.year}, row,
                          action=PublicationAction.WITHDRAW, note=note, state=SnapshotState.WITHDRAWN)
