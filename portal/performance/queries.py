"""Read-side queries: the project list (fast at 100,000 projects), page data, dashboards."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from portal.core.locale import N_
from portal.core.permissions import visible
from portal.extensions import db
from portal.performance import models

# 金额区间 (万元 → yuan)
AMOUNT_BANDS = {
    "lt100": (N_("100万元以下"), None, Decimal(1_000_000)),
    "100-500": (N_("100–500万元"), Decimal(1_000_000), Decimal(5_000_000)),
    "500-1000": (N_("500–1000万元"), Decimal(5_000_000), Decimal(10_000_000)),
    "ge1000": (N_("1000万元及以上"), Decimal(10_000_000), None),
}
SORTS = {
    "code": (models.Project.code,), "name": (models.Project.name,), "budget": (models.Project.annual_budget,),
    "year": (models.Project.year,), "executed": (models.Project.executed,),
}


def latest_warning_exists():
    """The project's latest checkpoint report is a warning (an uncorrelated IN: the warned reports
    are few, and (project_id, month) is indexed by its unique constraint)."""
    r2 = sa.orm.aliased(models.MonitoringReport)
    latest_month = (sa.select(sa.func.max(r2.month)).where(r2.project_id == models.MonitoringReport.project_id)
                    .scalar_subquery())
    warned = sa.select(models.MonitoringReport.project_id).where(models.MonitoringReport.warning.is_(True),
                                                                 models.MonitoringReport.month == latest_month)
    return models.Project.id.in_(warned)


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def project_list_stmt(user, args) -> sa.Select:
    stmt = visible(user, models.Project)
    if year := _int(args.get("year")):
        stmt = stmt.where(models.Project.year == year)
    if dept := _int(args.get("department")):
        stmt = stmt.where(models.Project.department_id == dept)
    if unit := _int(args.get("unit")):
        stmt = stmt.where(models.Project.unit_id == unit)
    if args.get("kind") in {k.value for k in models.ProjectKind}:
        stmt = stmt.where(models.Project.kind == models.ProjectKind(args["kind"]))
    if args.get("budget_type") in {k.value for k in models.BudgetType}:
        stmt = stmt.where(models.Project.budget_type == models.BudgetType(args["budget_type"]))
    if band := AMOUNT_BANDS.get(args.get("band", "")):
        _label, low, high = band
        if low is not None:
            stmt = stmt.where(models.Project.annual_budget >= low)
        if high is not None:
            stmt = stmt.where(models.Project.annual_budget < high)
    if args.get("grade") in {g.value for g in models.Grade}:
        stmt = stmt.where(models.Project.id.in_(sa.select(models.Evaluation.project_id).where(
            models.Evaluation.state == models.EvaluationState.COMPLETED,
            models.Evaluation.grade == models.Grade(args["grade"]))))
    if args.get("warning") == "1":
        stmt = stmt.where(latest_warning_exists())
    elif args.get("warning") == "0":
        stmt = stmt.where(~latest_warning_exists())
    q = (args.get("q") or "").strip()[:60]
    if q:
        stmt = stmt.where(sa.or_(models.Project.name.contains(q, autoescape=True),
                                 models.Project.code.startswith(q, autoescape=True)))
    columns = SORTS.get(args.get("sort", ""), None)
    if columns is None:
        return stmt.order_by(models.Project.year.desc(), models.Project.code)  # (code, year) is unique
    direction = sa.desc if args.get("dir") == "desc" else sa.asc
    return stmt.order_by(*[direction(c) for c in columns], direction(models.Project.id))


def decorate(projects: list[models.Project]) -> dict[int, dict]:
    """Per-project extras for a page of the list in three queries (no N+1): latest grade,
    current goal state, warning."""
    ids = [p.id for p in projects]
    extras: dict[int, dict] = {i: {"grade": None, "goal": None, "warning": False} for i in ids}
    if not ids:
        return extras
    rank = {models.EvaluationMode.FINANCE: 3, models.EvaluationMode.DEPARTMENT: 2, models.EvaluationMode.SELF: 1}
    best: dict[int, tuple] = {}
    for pid, mode, grade, eid in db.session.execute(
            sa.select(models.Evaluation.project_id, models.Evaluation.mode, models.Evaluation.grade,
                      models.Evaluation.id)
            .where(models.Evaluation.project_id.in_(ids),
                   models.Evaluation.state == models.EvaluationState.COMPLETED)):
        key = (rank[mode], eid)
        if pid not in best or key > best[pid][0]:
            best[pid] = (key, grade)
    for pid, (_key, grade) in best.items():
        extras[pid]["grade"] = grade
    for pid, state, _version in db.session.execute(
            sa.select(models.PerformanceGoal.project_id, models.PerformanceGoal.state, models.PerformanceGoal.version)
            .where(models.PerformanceGoal.project_id.in_(ids),
                   models.PerformanceGoal.state != models.GoalState.SUPERSEDED)
            .order_by(models.PerformanceGoal.version)):
        extras[pid]["goal"] = state
    latest: dict[int, tuple] = {}
    for pid, month, warning in db.session.execute(
            sa.select(models.MonitoringReport.project_id, models.MonitoringReport.month,
                      models.MonitoringReport.warning)
            .where(models.MonitoringReport.project_id.in_(ids))):
        if pid not in latest or month > latest[pid][0]:
            latest[pid] = (month, warning)
    for pid, (_m, warning) in latest.items():
        extras[pid]["warning"] = warning
    return extras


def with_orgs(stmt):
    return stmt.options(selectinload(models.Project.unit), selectinload(models.Project.department))


def goals_to_review(user, limit: int = 10):
    stmt = (visible(user, models.Project, sa.select(models.PerformanceGoal).join(models.Project))
            .where(models.PerformanceGoal.state == models.GoalState.SUBMITTED)
            .order_by(models.PerformanceGoal.submitted_at, models.PerformanceGoal.id))
    return db.session.scalars(stmt.options(selectinload(models.PerformanceGoal.project)).limit(limit)).all()


def count_goals(user, state) -> int:
    stmt = visible(user, models.Project, sa.select(sa.func.count(models.PerformanceGoal.id))
                   .select_from(models.PerformanceGoal).join(models.Project))
    stmt = stmt.where(models.PerformanceGoal.state == state)
    return db.session.scalar(stmt) or 0


def warned_reports_stmt(user, year: int | None = None):
    stmt = (visible(user, models.Project, sa.select(models.MonitoringReport).join(models.Project))
            .where(models.MonitoringReport.warning.is_(True)))
    if year:
        stmt = stmt.where(models.Project.year == year)
    return stmt.order_by(models.MonitoringReport.month.desc(), models.MonitoringReport.id.desc())


def grade_mix(user, year: int, mode: models.EvaluationMode | None = None) -> dict[models.Grade, int]:
    stmt = (visible(user, models.Evaluation,
                    sa.select(models.Evaluation.grade, sa.func.count()).select_from(models.Evaluation))
            .where(models.Evaluation.year == year, models.Evaluation.state == models.EvaluationState.COMPLETED))
    if mode is not None:
        stmt = stmt.where(models.Evaluation.mode == mode)
    counts = dict(db.session.execute(stmt.group_by(models.Evaluation.grade)).all())
    return {g: counts.get(g, 0) for g in models.Grade}


def goal_history(goal) -> list:
    """The goal's history with its rows' (an edited row is audited on the row itself), oldest first."""
    from portal.core.audit import AuditEntry

    row_ids = [str(i) for i in db.session.scalars(
        sa.select(models.Indicator.id).where(models.Indicator.goal_id == goal.id))]
    return list(db.session.scalars(
        sa.select(AuditEntry).where(sa.or_(
            sa.and_(AuditEntry.record_type == models.PerformanceGoal.__tablename__,
                    AuditEntry.record_id == str(goal.id)),
            sa.and_(AuditEntry.record_type == models.Indicator.__tablename__, AuditEntry.record_id.in_(row_ids))))
        .order_by(AuditEntry.id)))


# ---- the goal editor: the indicator library by sector, last year's table ----------------------

LIBRARY_RESULTS = 30  # results the editor shows at a time (the library holds thousands)


def _plain_name(name: str) -> str:
    return (name or "").replace("和", "")  # 住房和城乡建设局 names the sector 住房城乡建设


def project_sector(project: models.Project) -> str | None:
    """The library sector (行业) of the project's unit: the sector its unit's or department's name
    carries (临州市教育局 → 教育); else the sector whose indicators the department's goals use most."""
    sectors = [s for s in db.session.scalars(sa.select(models.LibraryIndicator.sector).distinct()) if s]
    for org in (project.unit, project.department):
        name = _plain_name(org.name)
        found = [s for s in sectors if _plain_name(s) and _plain_name(s) in name]
        if found:
            return max(found, key=len)
    used = db.session.execute(
        sa.select(models.LibraryIndicator.sector, sa.func.count().label("n"))
        .join(models.Indicator, models.Indicator.name == models.LibraryIndicator.name)
        .join(models.PerformanceGoal, models.PerformanceGoal.id == models.Indicator.goal_id)
        .join(models.Project, models.Project.id == models.PerformanceGoal.project_id)
        .where(models.Project.department_id == project.department_id)
        .group_by(models.LibraryIndicator.sector)
        .order_by(sa.text("n DESC"), models.LibraryIndicator.sector).limit(1)).first()
    return used[0] if used else None


def _levels_named(enum, term: str) -> list:
    term = term.lower()
    return [m for m in enum if term in m.zh or term in m.en.lower()]


def library_search(q: str, sector: str | None,
                   limit: int = LIBRARY_RESULTS) -> tuple[list[models.LibraryIndicator], int]:
    """Library indicators matching every word of `q` in their name, sector, spending direction or
    level (一级/二级指标), the project's sector first; (the first `limit`, how many match)."""
    stmt = sa.select(models.LibraryIndicator)
    for term in (q or "").split()[:5]:
        matches = [models.LibraryIndicator.name.contains(term, autoescape=True),
                   models.LibraryIndicator.sector.contains(term, autoescape=True),
                   models.LibraryIndicator.direction.contains(term, autoescape=True)]
        if level1 := _levels_named(models.Level1, term):
            matches.append(models.LibraryIndicator.level1.in_(level1))
        if level2 := _levels_named(models.Level2, term):
            matches.append(models.LibraryIndicator.level2.in_(level2))
        stmt = stmt.where(sa.or_(*matches))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    own_first = sa.case((models.LibraryIndicator.sector == sector, 0), else_=1) if sector else sa.literal(0)
    rows = db.session.scalars(stmt.order_by(own_first, models.LibraryIndicator.sector,
                                            models.LibraryIndicator.direction, models.LibraryIndicator.id)
                              .limit(limit)).all()
    return list(rows), total


def predecessor(project: models.Project) -> models.Project | None:
    """Last year's project: the same budget-system code a year earlier, else the same name in the
    same unit a year earlier (a code renumbered by the budget system)."""
    earlier = sa.select(models.Project).where(models.Project.year == project.year - 1)
    return (db.session.scalar(earlier.where(models.Project.code == project.code))
            or db.session.scalars(earlier.where(models.Project.unit_id == project.unit_id,
                                                models.Project.name == project.name)
                                  .order_by(models.Project.id).limit(1)).first())


def last_year_goal(project: models.Project) -> models.PerformanceGoal | None:
    """The goal of last year's project whose table can be copied: its approved version, else its
    current one; None when it has no indicators."""
    prior = predecessor(project)
    if prior is None:
        return None
    goals = [g for g in prior.goals if g.state != models.GoalState.SUPERSEDED and g.indicators]
    approved = [g for g in goals if g.state == models.GoalState.APPROVED]
    return (approved or goals or [None])[-1]
