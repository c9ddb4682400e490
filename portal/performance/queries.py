"""Read-side queries: the project list (fast at 100,000 projects), page data, dashboards."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from portal.core.locale import N_
from portal.core.permissions import visible
from portal.extensions import db
from portal.performance.models import (
    BudgetType,
    Evaluation,
    EvaluationMode,
    EvaluationState,
    GoalState,
    Grade,
    Indicator,
    Level1,
    Level2,
    LibraryIndicator,
    MonitoringReport,
    PerformanceGoal,
    Project,
    ProjectKind,
)

# 金额区间 (万元 → yuan)
AMOUNT_BANDS = {
    "lt100": (N_("100万元以下"), None, Decimal(1_000_000)),
    "100-500": (N_("100–500万元"), Decimal(1_000_000), Decimal(5_000_000)),
    "500-1000": (N_("500–1000万元"), Decimal(5_000_000), Decimal(10_000_000)),
    "ge1000": (N_("1000万元及以上"), Decimal(10_000_000), None),
}
SORTS = {
    "code": (Project.code,), "name": (Project.name,), "budget": (Project.annual_budget,),
    "year": (Project.year,), "executed": (Project.executed,),
}


def latest_warning_exists():
    """The project's latest checkpoint report is a warning (an uncorrelated IN: the warned reports
    are few, and (project_id, month) is indexed by its unique constraint)."""
    r2 = sa.orm.aliased(MonitoringReport)
    latest_month = (sa.select(sa.func.max(r2.month)).where(r2.project_id == MonitoringReport.project_id)
                    .scalar_subquery())
    warned = sa.select(MonitoringReport.project_id).where(MonitoringReport.warning.is_(True),
                                                          MonitoringReport.month == latest_month)
    return Project.id.in_(warned)


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def project_list_stmt(user, args) -> sa.Select:
    stmt = visible(user, Project)
    if year := _int(args.get("year")):
        stmt = stmt.where(Project.year == year)
    if dept := _int(args.get("department")):
        stmt = stmt.where(Project.department_id == dept)
    if unit := _int(args.get("unit")):
        stmt = stmt.where(Project.unit_id == unit)
    if args.get("kind") in {k.value for k in ProjectKind}:
        stmt = stmt.where(Project.kind == ProjectKind(args["kind"]))
    if args.get("budget_type") in {k.value for k in BudgetType}:
        stmt = stmt.where(Project.budget_type == BudgetType(args["budget_type"]))
    if band := AMOUNT_BANDS.get(args.get("band", "")):
        _label, low, high = band
        if low is not None:
            stmt = stmt.where(Project.annual_budget >= low)
        if high is not None:
            stmt = stmt.where(Project.annual_budget < high)
    if args.get("grade") in {g.value for g in Grade}:
        stmt = stmt.where(Project.id.in_(sa.select(Evaluation.project_id).where(
            Evaluation.state == EvaluationState.COMPLETED, Evaluation.grade == Grade(args["grade"]))))
    if args.get("warning") == "1":
        stmt = stmt.where(latest_warning_exists())
    elif args.get("warning") == "0":
        stmt = stmt.where(~latest_warning_exists())
    q = (args.get("q") or "").strip()[:60]
    if q:
        stmt = stmt.where(sa.or_(Project.name.contains(q, autoescape=True), Project.code.startswith(q, autoescape=True)))
    columns = SORTS.get(args.get("sort", ""), None)
    if columns is None:
        return stmt.order_by(Project.year.desc(), Project.code)  # (code, year) is unique
    direction = sa.desc if args.get("dir") == "desc" else sa.asc
    return stmt.order_by(*[direction(c) for c in columns], direction(Project.id))


def decorate(projects: list[Project]) -> dict[int, dict]:
    """Per-project extras for a page of the list in three queries (no N+1): latest grade,
    current goal state, warning."""
    ids = [p.id for p in projects]
    extras: dict[int, dict] = {i: {"grade": None, "goal": None, "warning": False} for i in ids}
    if not ids:
        return extras
    rank = {EvaluationMode.FINANCE: 3, EvaluationMode.DEPARTMENT: 2, EvaluationMode.SELF: 1}
    best: dict[int, tuple] = {}
    for pid, mode, grade, eid in db.session.execute(
            sa.select(Evaluation.project_id, Evaluation.mode, Evaluation.grade, Evaluation.id)
            .where(Evaluation.project_id.in_(ids), Evaluation.state == EvaluationState.COMPLETED)):
        key = (rank[mode], eid)
        if pid not in best or key > best[pid][0]:
            best[pid] = (key, grade)
    for pid, (_key, grade) in best.items():
        extras[pid]["grade"] = grade
    for pid, state, _version in db.session.execute(
            sa.select(PerformanceGoal.project_id, PerformanceGoal.state, PerformanceGoal.version)
            .where(PerformanceGoal.project_id.in_(ids), PerformanceGoal.state != GoalState.SUPERSEDED)
            .order_by(PerformanceGoal.version)):
        extras[pid]["goal"] = state
    latest: dict[int, tuple] = {}
    for pid, month, warning in db.session.execute(
            sa.select(MonitoringReport.project_id, MonitoringReport.month, MonitoringReport.warning)
            .where(MonitoringReport.project_id.in_(ids))):
        if pid not in latest or month > latest[pid][0]:
            latest[pid] = (month, warning)
    for pid, (_m, warning) in latest.items():
        extras[pid]["warning"] = warning
    return extras


def with_orgs(stmt):
    return stmt.options(selectinload(Project.unit), selectinload(Project.department))


def goals_to_review(user, limit: int = 10):
    stmt = (visible(user, Project, sa.select(PerformanceGoal).join(Project))
            .where(PerformanceGoal.state == GoalState.SUBMITTED).order_by(PerformanceGoal.submitted_at))
    return db.session.scalars(stmt.options(selectinload(PerformanceGoal.project)).limit(limit)).all()


def count_goals(user, state) -> int:
    stmt = visible(user, Project, sa.select(sa.func.count(PerformanceGoal.id)).select_from(PerformanceGoal)
                   .join(Project)).where(PerformanceGoal.state == state)
    return db.session.scalar(stmt) or 0


def warned_reports_stmt(user, year: int | None = None):
    stmt = (visible(user, Project, sa.select(MonitoringReport).join(Project))
            .where(MonitoringReport.warning.is_(True)))
    if year:
        stmt = stmt.where(Project.year == year)
    return stmt.order_by(MonitoringReport.month.desc(), MonitoringReport.id.desc())


def grade_mix(user, year: int, mode: EvaluationMode | None = None) -> dict[Grade, int]:
    stmt = (visible(user, Evaluation, sa.select(Evaluation.grade, sa.func.count()).select_from(Evaluation))
            .where(Evaluation.year == year, Evaluation.state == EvaluationState.COMPLETED))
    if mode is not None:
        stmt = stmt.where(Evaluation.mode == mode)
    counts = dict(db.session.execute(stmt.group_by(Evaluation.grade)).all())
    return {g: counts.get(g, 0) for g in Grade}


def goal_history(goal) -> list:
    """The goal's history with its rows' (an edited row is audited on the row itself), oldest first."""
    from portal.core.audit import AuditEntry
    from portal.performance.models import Indicator, PerformanceGoal

    row_ids = [str(i) for i in db.session.scalars(sa.select(Indicator.id).where(Indicator.goal_id == goal.id))]
    return list(db.session.scalars(
        sa.select(AuditEntry).where(sa.or_(
            sa.and_(AuditEntry.record_type == PerformanceGoal.__tablename__, AuditEntry.record_id == str(goal.id)),
            sa.and_(AuditEntry.record_type == Indicator.__tablename__, AuditEntry.record_id.in_(row_ids))))
        .order_by(AuditEntry.id)))


# ---- the goal editor: the indicator library by sector, last year's table ----------------------

LIBRARY_RESULTS = 30  # results the editor shows at a time (the library holds thousands)


def _plain_name(name: str) -> str:
    return (name or "").replace("和", "")  # 住房和城乡建设局 names the sector 住房城乡建设


def project_sector(project: Project) -> str | None:
    """The library sector (行业) of the project's unit: the sector its unit's or department's name
    carries (临州市教育局 → 教育); else the sector whose indicators the department's goals use most."""
    sectors = [s for s in db.session.scalars(sa.select(LibraryIndicator.sector).distinct()) if s]
    for org in (project.unit, project.department):
        name = _plain_name(org.name)
        found = [s for s in sectors if _plain_name(s) and _plain_name(s) in name]
        if found:
            return max(found, key=len)
    used = db.session.execute(
        sa.select(LibraryIndicator.sector, sa.func.count().label("n"))
        .join(Indicator, Indicator.name == LibraryIndicator.name)
        .join(PerformanceGoal, PerformanceGoal.id == Indicator.goal_id)
        .join(Project, Project.id == PerformanceGoal.project_id)
        .where(Project.department_id == project.department_id)
        .group_by(LibraryIndicator.sector).order_by(sa.text("n DESC"), LibraryIndicator.sector).limit(1)).first()
    return used[0] if used else None


def _levels_named(enum, term: str) -> list:
    term = term.lower()
    return [m for m in enum if term in m.zh or term in m.en.lower()]


def library_search(q: str, sector: str | None, limit: int = LIBRARY_RESULTS) -> tuple[list[LibraryIndicator], int]:
    """Library indicators matching every word of `q` in their name, sector, spending direction or
    level (一级/二级指标), the project's sector first; (the first `limit`, how many match)."""
    stmt = sa.select(LibraryIndicator)
    for term in (q or "").split()[:5]:
        matches = [LibraryIndicator.name.contains(term, autoescape=True),
                   LibraryIndicator.sector.contains(term, autoescape=True),
                   LibraryIndicator.direction.contains(term, autoescape=True)]
        if level1 := _levels_named(Level1, term):
            matches.append(LibraryIndicator.level1.in_(level1))
        if level2 := _levels_named(Level2, term):
            matches.append(LibraryIndicator.level2.in_(level2))
        stmt = stmt.where(sa.or_(*matches))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    own_first = sa.case((LibraryIndicator.sector == sector, 0), else_=1) if sector else sa.literal(0)
    rows = db.session.scalars(stmt.order_by(own_first, LibraryIndicator.sector, LibraryIndicator.direction,
                                            LibraryIndicator.id).limit(limit)).all()
    return list(rows), total


def predecessor(project: Project) -> Project | None:
    """Last year's project: the same budget-system code a year earlier, else the same name in the
    same unit a year earlier (a code renumbered by the budget system)."""
    earlier = sa.select(Project).where(Project.year == project.year - 1)
    return (db.session.scalar(earlier.where(Project.code == project.code))
            or db.session.scalars(earlier.where(Project.unit_id == project.unit_id, Project.name == project.name)
                                  .order_by(Project.id).limit(1)).first())


def last_year_goal(project: Project) -> PerformanceGoal | None:
    """The goal of last year's project whose table can be copied: its approved version, else its
    current one; None when it has no indicators."""
    prior = predecessor(project)
    if prior is None:
        return None
    goals = [g for g in prior.goals if g.state != GoalState.SUPERSEDED and g.indicators]
    approved = [g for g in goals if g.state == GoalState.APPROVED]
    return (approved or goals or [None])[-1]
