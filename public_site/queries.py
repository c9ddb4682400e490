"""Reads for the public site: snapshot tables only (pub_snapshots, pub_files, pub_year_figures)."""
from __future__ import annotations

from collections import OrderedDict

import sqlalchemy as sa
from flask import request

from portal.core.locale import N_
from portal.core.pagination import Page
from portal.extensions import db
from portal.performance.models import BudgetType, Grade, ProjectKind
from portal.publishing.models import (
    AMOUNT_BANDS,
    RESULT_KINDS,
    PublicationKind,
    PublishedFigures,
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
    """The current snapshot of each kind of a project (published or withdrawn), one indexed query.
    Superseded versions are never read: the public site shows only what is published now."""
    return list(db.session.scalars(sa.select(Snapshot).where(Snapshot.project_ref == ref, Snapshot.current.is_(True))
                                   .order_by(Snapshot.kind, Snapshot.version)))


KIND_ORDER = [PublicationKind.GOALS, PublicationKind.SELF_EVALUATION, PublicationKind.FINANCE_EVALUATION,
              PublicationKind.RECTIFICATION, PublicationKind.REPORT]


def sections_of(rows: list[Snapshot]) -> list[Snapshot]:
    current = {s.kind: s for s in rows if s.current}
    return [current[k] for k in KIND_ORDER if k in current]


def latest(limit: int = 10, department: int | None = None, *, withdrawals: bool = False):
    """The newest current snapshots; withdrawals (as notices) only when asked for (feeds)."""
    stmt = sa.select(Snapshot).where(Snapshot.current.is_(True))
    if not withdrawals:
        stmt = stmt.where(Snapshot.state == SnapshotState.PUBLISHED)
    stmt = stmt.order_by(Snapshot.published_at.desc(), Snapshot.id.desc()).limit(limit)
    if department:
        stmt = stmt.where(Snapshot.department_ref == department)
    return list(db.session.scalars(stmt))


def headline() -> dict:
    return live_table().headline()


def notices():
    """Current corrections and withdrawals: a superseded version's notice is not shown (its name
    may be a superseded one)."""
    # a literal '' (not a parameter), so the partial index ix_pub_snapshots_notices applies
    return (sa.select(Snapshot).where(Snapshot.note != sa.literal_column("''"), Snapshot.current.is_(True))
            .order_by(Snapshot.published_at.desc(), Snapshot.id.desc()))


def notice(snapshot_id: int) -> Snapshot | None:
    row = db.session.get(Snapshot, snapshot_id)
    return row if row is not None and row.current and row.note else None


def current_published(snapshot_id: int) -> Snapshot | None:
    row = db.session.get(Snapshot, snapshot_id)
    return row if row is not None and row.current and not row.withdrawn else None


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
    if name in ("rectification", "due_rectification"):
        rates = rectification_rates(department)
        attribute = "count_rate" if name == "rectification" else "due_count_rate"
        return [(dept, round(float(getattr(row, attribute)), 4)) for dept, row in sorted(rates.items())
                if getattr(row, attribute) is not None]
    raise KeyError(name)


_rate_cache: dict = {}


def rectification_rates(department: int | None = None) -> dict:
    """整改率 and 到期整改率 (by count and by amount, each problem's rectified amount capped at its
    amount) per department, from the published problem lists: the ledger's rule
    (`RateRow.count`), over what was disclosed. Cached until the next publication."""
    from portal.ledger.queries import RateRow
    from portal.publishing.tables import problem_rates
    from public_site.data import publication_state

    key = (*publication_state(), department, str(db.engine.url))
    if _rate_cache.get("key") == key:
        return _rate_cache["value"]
    stmt = live(sa.select(Snapshot.department_name, Snapshot.data, Snapshot.published_at)).where(
        Snapshot.kind == PublicationKind.RECTIFICATION)
    if department:
        stmt = stmt.where(Snapshot.department_ref == department)
    import json

    rates: dict[str, RateRow] = {}
    for name, data, published_at in db.session.execute(stmt):
        problem_rates(json.loads(data), rates.setdefault(name, RateRow(name, name)), published_at.date())
    rates = {k: v for k, v in rates.items() if v.total}
    _rate_cache.update(key=key, value=rates)
    return rates


# ---- a year's published figures (pub_year_figures, e.g. 事前绩效评估情况) ---------------------------

def figures_years(kind: str) -> list[PublishedFigures]:
    """The current version of every year published of `kind` (withdrawn ones show their notice)."""
    return list(db.session.scalars(sa.select(PublishedFigures).where(
        PublishedFigures.kind == kind, PublishedFigures.current.is_(True)).order_by(PublishedFigures.year.desc())))


def figures_of(kind: str, year: int) -> PublishedFigures | None:
    return db.session.scalars(sa.select(PublishedFigures).where(
        PublishedFigures.kind == kind, PublishedFigures.year == year, PublishedFigures.current.is_(True))).first()
