"""The automatic indicators of the work assessment (绩效管理工作考核): what the portal already
knows, computed for every department of a year at once (one grouped query per indicator).

Each indicator answers numerator ÷ denominator per department (主管部门); a county finance bureau's
figure is the sum over the departments under it. A module that knows more plugs in its own:

    from portal.oversight.indicators import register_indicator
    register_indicator("ex_ante_coverage", _l("事前绩效评估覆盖率"), compute, default_weight=10)

where `compute(context) -> {department_id: (numerator, denominator)}`. An indicator of a year's
system whose method is not registered is scored by finance (like "manual")."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.extensions import db
from portal.performance.models import (
    Evaluation,
    EvaluationMode,
    EvaluationState,
    GoalState,
    MonitoringReport,
    PerformanceGoal,
    Project,
)

MANUAL = "manual"
MONITORING_CHECKPOINT = 7  # the January–July report (1–7 月运行监控)


@dataclass(frozen=True)
class Context:
    """What a computation needs: the year and its dates."""
    year: int
    as_of: date
    budget_approved_on: date
    monitoring_due_on: date
    disclosure_due_on: date


@dataclass(frozen=True)
class AutoIndicator:
    key: str
    label: object
    compute: Callable[[Context], dict[int, tuple[int, int]]]
    default_weight: int
    definition: object = ""


AUTOMATIC: dict[str, AutoIndicator] = {}


def register_indicator(key: str, label, compute: Callable, *, default_weight: int = 10, definition="") -> None:
    AUTOMATIC[key] = AutoIndicator(key, label, compute, default_weight, definition)


def end_of(day: date) -> datetime:
    """Timestamps up to the end of `day` count as on time."""
    return datetime.combine(day + timedelta(days=1), time.min)


def _per_department(year: int, satisfied) -> dict[int, tuple[int, int]]:
    """Projects of the year per department: (those meeting `satisfied`, all)."""
    hit = sa.func.sum(sa.case((satisfied, 1), else_=0))
    rows = db.session.execute(sa.select(Project.department_id, hit, sa.func.count(Project.id))
                              .where(Project.year == year).group_by(Project.department_id)).all()
    return {d: (int(n or 0), int(total)) for d, n, total in rows}


def goal_coverage(ctx: Context):
    """绩效目标覆盖率: projects with an approved goal ÷ projects of the year."""
    approved = sa.exists().where(PerformanceGoal.project_id == Project.id, PerformanceGoal.state == GoalState.APPROVED)
    return _per_department(ctx.year, approved)


def goals_before_budget(ctx: Context):
    """目标随预算批复率: projects whose goal was approved by the budget's approval day ÷ projects."""
    approved = sa.exists().where(PerformanceGoal.project_id == Project.id,
                                 PerformanceGoal.state.in_([GoalState.APPROVED, GoalState.SUPERSEDED]),
                                 PerformanceGoal.approved_at < end_of(ctx.budget_approved_on))
    return _per_department(ctx.year, approved)


def monitoring_on_time(ctx: Context):
    """运行监控按时报送率: projects whose January–July report came in by the due day ÷ projects."""
    reported = sa.exists().where(MonitoringReport.project_id == Project.id,
                                 MonitoringReport.month == MONITORING_CHECKPOINT,
                                 MonitoringReport.created_at < end_of(ctx.monitoring_due_on))
    return _per_department(ctx.year, reported)


def self_evaluation_coverage(ctx: Context):
    """自评覆盖率: projects with a completed self-evaluation ÷ projects."""
    evaluated = sa.exists().where(Evaluation.project_id == Project.id, Evaluation.mode == EvaluationMode.SELF,
                                  Evaluation.state == EvaluationState.COMPLETED)
    return _per_department(ctx.year, evaluated)


def _problems(ctx: Context, *, due_only: bool):
    from portal.ledger.models import Problem, ProblemState

    closed = Problem.state == ProblemState.CLOSED
    stmt = sa.select(Problem.department_id, sa.func.sum(sa.case((closed, 1), else_=0)), sa.func.count(Problem.id)) \
        .where(Problem.year == ctx.year).group_by(Problem.department_id)
    if due_only:  # 到期: the deadline has passed by the assessment's day, or closed
        stmt = stmt.where(sa.or_(closed, Problem.deadline < ctx.as_of))
    return {d: (int(n or 0), int(total)) for d, n, total in db.session.execute(stmt).all()}


def rectification_rate(ctx: Context):
    """整改率: closed problems of the year ÷ problems of the year (the ledger's definition)."""
    return _problems(ctx, due_only=False)


def due_rectification_rate(ctx: Context):
    """到期整改率: closed ÷ problems already due on the assessment's day."""
    return _problems(ctx, due_only=True)


def disclosure_on_time(ctx: Context):
    """信息公开完整及时率: projects whose goal is published now and was first published by the due
    day ÷ projects."""
    from portal.publishing.models import PublicationKind, Snapshot, SnapshotState

    live = sa.exists().where(Snapshot.project_ref == Project.id, Snapshot.kind == PublicationKind.GOALS,
                             Snapshot.current.is_(True), Snapshot.state == SnapshotState.PUBLISHED)
    in_time = sa.exists().where(Snapshot.project_ref == Project.id, Snapshot.kind == PublicationKind.GOALS,
                                Snapshot.published_at < end_of(ctx.disclosure_due_on))
    return _per_department(ctx.year, sa.and_(live, in_time))


register_indicator("goal_coverage", _l("绩效目标覆盖率"), goal_coverage, default_weight=15,
                   definition=_l("有已批复绩效目标的项目数 ÷ 当年项目数"))
register_indicator("goals_before_budget", _l("绩效目标随预算批复率"), goals_before_budget, default_weight=10,
                   definition=_l("预算批复日前绩效目标已批复的项目数 ÷ 当年项目数"))
register_indicator("monitoring_on_time", _l("运行监控按时报送率"), monitoring_on_time, default_weight=15,
                   definition=_l("截止日前报送 1–7 月运行监控的项目数 ÷ 当年项目数"))
register_indicator("self_evaluation_coverage", _l("绩效自评覆盖率"), self_evaluation_coverage, default_weight=15,
                   definition=_l("完成单位自评的项目数 ÷ 当年项目数"))
register_indicator("rectification_rate", _l("整改率"), rectification_rate, default_weight=10,
                   definition=_l("已销号问题数 ÷ 当年问题数"))
register_indicator("due_rectification_rate", _l("到期整改率"), due_rectification_rate, default_weight=10,
                   definition=_l("已销号问题数 ÷ 考核日已到期的问题数"))
register_indicator("disclosure_on_time", _l("绩效信息公开完整及时率"), disclosure_on_time, default_weight=10,
                   definition=_l("截止日前公开且现仍公开绩效目标的项目数 ÷ 当年项目数"))

# The default system: the automatic indicators registered when the year is first computed (in
# this order; any plugged-in indicator such as 事前绩效评估覆盖率 follows), then finance's own.
DEFAULT_MANUAL = (_l("制度建设与工作创新"), _l("预算绩效管理制度建设、机制创新和经验做法，由财政部门评分。"))


def default_system() -> list[tuple[str, str, Decimal, str]]:
    """(name, method, weight, guidance) totalling 100: the registered automatic indicators at their
    default weights, the rest to the manual indicator."""
    items = [(str(a.label), a.key, Decimal(a.default_weight), str(a.definition)) for a in AUTOMATIC.values()]
    rest = Decimal(100) - sum((w for _n, _m, w, _g in items), Decimal(0))
    if rest > 0:
        items.append((str(DEFAULT_MANUAL[0]), MANUAL, rest, str(DEFAULT_MANUAL[1])))
    return items


def score_of(weight: Decimal, numerator: int, denominator: int) -> Decimal:
    """weight × numerator ÷ denominator, to the cent (half up)."""
    return (Decimal(weight) * Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def total_of(lines) -> Decimal | None:
    """The scores of the applicable lines rescaled to 100 (a line that does not apply is dropped);
    None while a manual line is unscored."""
    applicable = [line for line in lines if line.applicable]
    if any(line.score is None for line in applicable):
        return None
    weight = sum((line.indicator.weight for line in applicable), Decimal(0))
    if not weight:
        return None
    points = sum((line.score for line in applicable), Decimal(0))
    return (points * 100 / weight).quantize(Decimal("0.01"), ROUND_HALF_UP)


def ex_ante_coverage(ctx: Context):
    """事前绩效评估覆盖率 (when portal/assessments is installed): projects of the year that need an
    ex-ante assessment (its rules: new, of an assessed kind, at or above the threshold) and have a
    conclusion (予以支持, 调整后支持 or 不予支持) ÷ projects that need one."""
    from portal.assessments import rules as assessment_rules
    from portal.assessments.models import Assessment

    rules = assessment_rules.current()
    if rules.from_year is not None and ctx.year < rules.from_year:
        return {}
    earlier = sa.orm.aliased(Project)
    new = ~sa.exists().where(earlier.code == Project.code, earlier.year < Project.year)
    needs = sa.and_(Project.kind.in_(list(assessment_rules.ASSESSED_KINDS)), new,
                    sa.func.max(Project.initial_budget, Project.annual_budget) >= rules.threshold
                    if db.engine.dialect.name == "sqlite"
                    else sa.func.greatest(Project.initial_budget, Project.annual_budget) >= rules.threshold)
    concluded = sa.exists().where(Assessment.project_id == Project.id, Assessment.conclusion.is_not(None))
    hit = sa.func.sum(sa.case((concluded, 1), else_=0))
    rows = db.session.execute(sa.select(Project.department_id, hit, sa.func.count(Project.id))
                              .where(Project.year == ctx.year, needs).group_by(Project.department_id)).all()
    return {d: (int(n or 0), int(total)) for d, n, total in rows}


try:  # plugged in only where the ex-ante module exists (portal/assessments)
    import portal.assessments.rules  # noqa: F401
except ImportError:  # pragma: no cover
    pass
else:
    register_indicator("ex_ante_coverage", _l("事前绩效评估覆盖率"), ex_ante_coverage, default_weight=10,
                       definition=_l("已有评估结论的需事前评估项目数 ÷ 当年需事前评估的项目数"))
