"""Reads for the public site: snapshot tables only (pub_snapshots, pub_files)."""
from __future__ import annotations

from collections import OrderedDict

import sqlalchemy as sa
from flask import request

from portal.core.pagination import Page
from portal.core.web import N_
from portal.extensions import db
from portal.performance.models import BudgetType, Grade, ProjectKind
from portal.publishing.models import (
    AMOUNT_BANDS,
    RESULT_KINDS,
    PublicationKind,
    PublishedFile,
    RectificationState,
    Snapshot,
    SnapshotState,
)
from public_site.live import rows as live_rows
from public_site.live import table as live_table

LISTINGS = {
    "goals": (PublicationKind.GOALS,),
    "results": RESULT_KINDS,
}

# facet name → (column, label of a value)
FACET_COLUMNS = OrderedDict([
    ("year", Snapshot.year),
    ("department", Snapshot.department_ref),
    ("unit", Snapshot.unit_name),
    ("project_kind", Snapshot.project_kind),
    ("budget_type", Snapshot.budget_type),
    ("amount_band", Snapshot.amount_band),
    ("grade", Snapshot.grade),
    ("rectification", Snapshot.rectification),
])

FACET_TITLES = {
    "year": N_("年度"), "department": N_("主管部门"), "unit": N_("实施单位"), "project_kind": N_("项目类型"),
    "budget_type": N_("预算类型"), "amount_band": N_("金额区间"), "grade": N_("评价等级"),
    "rectification": N_("整改状态"),
}


def value_label(facet: str, value, departments: dict | None = None) -> str:
    from flask_babel import gettext as _

    if value is None:
        return _("未评价") if facet == "grade" else _("未公开")
    enum = {"project_kind": ProjectKind, "budget_type": BudgetType, "grade": Grade,
            "rectification": RectificationState}.get(facet)
    if enum is not None:
        try:
            return enum(value).label
        except ValueError:
            return str(value)
    if facet == "amount_band":
        return _(dict((c, label) for c, _low, label in AMOUNT_BANDS).get(value, value))
    if facet == "department" and departments is not None:
        return departments.get(int(value), str(value))
    if facet == "year":
        return f"{value}"
    return str(value)


def live(stmt):
    return stmt.where(Snapshot.current.is_(True), Snapshot.state == SnapshotState.PUBLISHED)


def filters_from_args(args=None) -> dict:
    args = args if args is not None else request.args
    out = {}
    for name in FACET_COLUMNS:
        value = args.get(name, "").strip()
        if value:
            out[name] = value
    return out


def _apply(stmt, filters: dict, skip: str | None = None):
    for name, value in filters.items():
        if name == skip:
            continue
        column = FACET_COLUMNS[name]
        if name in ("year", "department"):
            try:
                value = int(value)
            except ValueError:
                return stmt.where(sa.false())
        stmt = stmt.where(column == value)
    return stmt


def listing(kinds, filters: dict, sort: str = "newest"):
    stmt = live(sa.select(Snapshot)).where(Snapshot.kind.in_(kinds))
    stmt = _apply(stmt, filters)
    order = {"newest": (Snapshot.published_at.desc(), Snapshot.id.desc()),
             "amount": (Snapshot.amount.desc(), Snapshot.id),
             "score": (Snapshot.score.desc().nulls_last(), Snapshot.id),
             "name": (Snapshot.project_code, Snapshot.id)}.get(sort) or (Snapshot.published_at.desc(), Snapshot.id.desc())
    return stmt.order_by(*order)


def facet_counts(kinds, filters: dict) -> dict[str, list[tuple]]:
    return live_table().facet_counts(kinds, filters)


def department_names() -> dict[int, str]:
    return live_table().department_names


def browse_page(kinds, filters: dict, sort: str, page: int, per_page: int) -> Page:
    ids, total = live_table().page(kinds, filters, sort, page, per_page)
    return Page(items=live_rows(ids), page=page, per_page=per_page, total=total)


def project_rows(ref: int) -> list[Snapshot]:
    """Every snapshot of a project, one indexed query (current ones and older versions)."""
    return list(db.session.scalars(sa.select(Snapshot).where(Snapshot.project_ref == ref)
                                   .order_by(Snapshot.kind, Snapshot.version)))


KIND_ORDER = [PublicationKind.GOALS, PublicationKind.SELF_EVALUATION, PublicationKind.FINANCE_EVALUATION,
              PublicationKind.RECTIFICATION, PublicationKind.REPORT]


def sections_of(rows: list[Snapshot]) -> list[Snapshot]:
    current = {s.kind: s for s in rows if s.current}
    return [current[k] for k in KIND_ORDER if k in current]


def latest(limit: int = 10, department: int | None = None):
    stmt = sa.select(Snapshot).order_by(Snapshot.published_at.desc(), Snapshot.id.desc()).limit(limit)
    if department:
        stmt = stmt.where(Snapshot.department_ref == department)
    return list(db.session.scalars(stmt))


def headline() -> dict:
    return live_table().headline()


def notices():
    # a literal '' (not a parameter), so the partial index ix_pub_snapshots_notices applies
    return sa.select(Snapshot).where(Snapshot.note != sa.literal_column("''")).order_by(Snapshot.published_at.desc(), Snapshot.id.desc())


def published_file(sha256: str) -> PublishedFile | None:
    """A report file, only while a current published report snapshot cites it."""
    cited = db.session.scalar(live(sa.select(Snapshot.id)).where(
        Snapshot.kind == PublicationKind.REPORT, Snapshot.data.contains(sha256)).limit(1))
    if cited is None:
        return None
    return db.session.get(PublishedFile, sha256)


def file_meta(sha256: str):
    return db.session.execute(sa.select(PublishedFile.sha256, PublishedFile.filename, PublishedFile.size,
                                        PublishedFile.text).where(PublishedFile.sha256 == sha256)).first()


# ---- charts ------------------------------------------------------------------------------------

def chart_data(name: str, department: int | None = None) -> list[tuple[str, object]]:
    table = live_table()
    if name in ("grades", "money"):
        by_grade = table.sums(RESULT_KINDS, "grade", department)
        return [(g.label, by_grade.get(g.value, (0, 0))[0 if name == "grades" else 1]) for g in Grade]
    if name == "rectification":
        table_rows: dict[str, list[int]] = {}
        for (ref, state), count in table.projects_by(list(PublicationKind), "department", "rectification").items():
            if state not in (RectificationState.DONE.value, RectificationState.IN_PROGRESS.value):
                continue
            dept = table.department_names[ref]
            done, total = table_rows.setdefault(dept, [0, 0])
            table_rows[dept] = [done + (count if state == RectificationState.DONE.value else 0), total + count]
        return [(dept, round(done / total, 4) if total else 0) for dept, (done, total) in sorted(table_rows.items())]
    raise KeyError(name)
