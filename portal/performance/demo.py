"""Demo data for 临州市 (order 100): ~300 projects over 2025 and 2026, goal tables drawn from the
indicator library, monitoring for 2026 (January–July) with some warnings, self-evaluations for
every 2025 project and ~20 finance evaluations by the demo agencies with findings. The grade mix
follows the source documents: most 优/良, a few 中, one or two 差. Deterministic (seeded RNG)."""
from __future__ import annotations

import random
from decimal import Decimal

from portal.core import clock
from portal.extensions import db
from portal.performance import operations
from portal.performance.library import DIRECTIONS, seed_library
from portal.performance.models import (
    BudgetType,
    EvaluationMode,
    EvaluationState,
    GoalState,
    Grade,
    Indicator,
    Level2,
    LibraryIndicator,
    Operator,
    PerformanceGoal,
    Project,
    ProjectKind,
    QualitativeTier,
)
from portal.performance.monitoring import RANGE_LEVEL2

SECTOR_OF = {"edu": "教育", "health": "卫生健康", "housing": "住房城乡建设", "agri": "农业农村",
             "transport": "交通运输", "civil": "民政", "hrss": "人力资源社会保障", "eco": "生态环境",
             "culture": "文化和旅游", "water": "水利"}
# level-2 → weight, so that the indicator weights total 90 (产出 50, 效益 30, 满意度 10)
WEIGHTS = [15, 10, 10, 5, 10, 20, 10, 10]
FINDINGS = [
    ("绩效目标设定", "绩效目标设定不够细化量化，部分指标与项目内容关联度不高。", "结合项目实施内容细化量化绩效指标。"),
    ("资金管理", "项目资金拨付滞后，预算执行率偏低。", "加快资金拨付进度，建立执行进度定期通报机制。"),
    ("项目管理", "项目验收资料不完整，部分合同未按规定备案。", "完善项目验收和合同管理制度。"),
    ("资金使用", "部分资金用于非项目支出，存在挤占挪用现象。", "严格按规定用途使用资金，调整相关账目。"),
    ("绩效监控", "未按要求开展绩效运行监控，偏差未及时纠正。", "按季度开展绩效监控并及时纠偏。"),
]
GRADE_PLAN = ([Grade.EXCELLENT] * 14 + [Grade.GOOD] * 5 + [Grade.FAIR])  # cycled over 2025 projects
FINANCE_SCORES = [Decimal(s) for s in ("93.5", "91.2", "88.6", "86.0", "92.4", "84.3", "95.1", "81.7", "90.3",
                                       "76.5", "89.2", "87.4", "94.0", "83.8", "72.6", "91.8", "85.5", "55.4",
                                       "90.9", "88.1")]


def _units(ctx):
    orgs = ctx["orgs"]
    for key, sector in SECTOR_OF.items():
        dept = orgs[key]
        yield key, dept, sector, dept
        i = 0
        while f"{key}/{i}" in orgs:
            yield f"{key}/{i}", orgs[f"{key}/{i}"], sector, dept
            i += 1


def _directions(sector):
    return [d for d in DIRECTIONS if d[0] in (sector,)] or [d for d in DIRECTIONS if d[0] == "通用"]


def seed(ctx: dict) -> None:
    rng = random.Random(2026)
    finance = ctx["users"]["finance"]
    seed_library()
    library = {}
    for item in db.session.scalars(db.select(LibraryIndicator).order_by(LibraryIndicator.id)):
        library.setdefault((item.sector, item.direction), []).append(item)

    projects: list[Project] = []
    serial = 0
    units = list(_units(ctx))
    for year in (2025, 2026):
        for n in range(150):
            key, unit, sector, dept = units[n % len(units)]
            directions = _directions(sector)
            direction = directions[(n // len(units)) % len(directions)]
            _s, dname, subject, *_rest = direction
            serial += 1
            kind = ProjectKind.POLICY if dname in ("学生资助", "社会救助", "创业担保贷款") else ProjectKind.PROJECT
            budget_type = BudgetType.FUND if dname in ("棚户区改造", "专项债券项目") else BudgetType.GENERAL
            if dname == "社会保险":
                budget_type = BudgetType.SOCIAL_INSURANCE
            amount = Decimal(rng.choice([30, 50, 80, 120, 200, 350, 500, 800, 1200, 2500])) * 10000 \
                + Decimal(rng.randint(0, 99)) * 1000
            prefix = "" if unit is dept else unit.short_name
            name = f"{year}年{prefix}{subject}" + ("" if subject.endswith("项目") else "项目")
            if dname == "专项债券项目":
                name = f"{year}年城市更新专项债券项目（{n // len(units) + 1}期）"
            project = Project(code=f"{year}{unit.code}{serial:04d}", name=name[:200], year=year, kind=kind,
                              budget_type=budget_type, unit=unit, department=dept, initial_budget=amount,
                              annual_budget=amount, executed=Decimal(0),
                              description=f"{unit.name}实施的{subject.removesuffix('项目')}项目（演示数据）。")
            db.session.add(project)
            goal = PerformanceGoal(project=project, version=1, state=GoalState.APPROVED,
                                   overall_goal=f"完成{subject}任务，资金规范使用，{direction[6]}达到预期，"
                                                f"{direction[9]}满意度不低于90%。",
                                   review_grade=Grade.EXCELLENT if rng.random() < 0.7 else Grade.GOOD,
                                   submitted_at=clock.now(), approved_at=clock.now())
            if year == 2026 and n % 15 == 3:
                goal.state, goal.review_grade, goal.approved_at = GoalState.SUBMITTED, None, None
            elif year == 2026 and n % 25 == 7:
                goal.state, goal.review_grade, goal.approved_at = GoalState.RETURNED, Grade.FAIR, None
                goal.review_comment = "产出指标未细化，成本指标缺失测算依据，请修改后重新报送。"
            items = library.get((direction[0], dname), [])[:8]
            scale = Decimal(amount) / Decimal(2_000_000)
            for pos, (item, weight) in enumerate(zip(items, WEIGHTS, strict=False)):
                value = None
                if item.operator != Operator.QUALITATIVE:
                    value = Decimal(item.suggested_value or "0")
                    if item.level2 == Level2.QUANTITY and pos == 0:
                        value = max(Decimal(1), (value * scale).quantize(Decimal(1)))
                goal.indicators.append(Indicator(position=pos, level1=item.level1, level2=item.level2, name=item.name,
                                                 operator=item.operator, target_value=value,
                                                 target_text=item.suggested_value if value is None else "",
                                                 unit=item.unit, weight=Decimal(weight)))
            db.session.add(goal)
            projects.append(project)
    db.session.flush()

    # 2026: January–July monitoring for approved goals; about one in six lags or shows red lights.
    for n, project in enumerate(p for p in projects if p.year == 2026):
        goal = operations.approved_goal(project)
        if goal is None:
            continue
        lagging = n % 6 == 0
        rate = Decimal(rng.uniform(0.15, 0.33) if lagging else rng.uniform(0.45, 0.75)).quantize(Decimal("0.01"))
        executed = (project.annual_budget * rate).quantize(Decimal("0.01"))
        values = {}
        for ind in goal.indicators:
            if ind.is_qualitative:
                values[ind.id] = {"tier": "partial" if lagging else "achieved"}
                continue
            factor = Decimal(rng.uniform(0.3, 0.55) if (lagging and ind.level2 == Level2.QUANTITY)
                             else rng.uniform(0.5, 0.7))
            so_far = (ind.target_value * factor).quantize(Decimal("0.01"))
            if ind.operator in (Operator.LE, Operator.LT, Operator.EQ) or ind.level2 in RANGE_LEVEL2:
                so_far = ind.target_value  # judged on range: on track
            values[ind.id] = {"value_so_far": so_far, "expected": ind.target_value,
                              "reason": "受招投标进度影响，部分任务延后实施。" if lagging else ""}
        project.executed = executed
        operations.save_monitoring(project, 7, executed, values, actor=finance)

    # 2025: self-evaluations for all; actual values chosen to give the planned grade mix.
    evaluations = []
    for n, project in enumerate(p for p in projects if p.year == 2025):
        plan = GRADE_PLAN[n % len(GRADE_PLAN)]
        if n == 37:  # one 差 among the self-evaluations, one among the finance evaluations
            plan = Grade.POOR
        factor_range, exec_range = {
            Grade.EXCELLENT: ((0.97, 1.08), (0.93, 1.0)), Grade.GOOD: ((0.82, 0.9), (0.8, 0.92)),
            Grade.FAIR: ((0.68, 0.78), (0.6, 0.75)), Grade.POOR: ((0.3, 0.5), (0.3, 0.5))}[plan]
        project.executed = (project.annual_budget * Decimal(rng.uniform(*exec_range))).quantize(Decimal("0.01"))
        evaluation = operations.start_self_evaluation(project, actor=finance)
        entries = {}
        for line in evaluation.lines:
            if line.part == "execution":
                continue
            if line.operator == Operator.QUALITATIVE:
                tier = {Grade.EXCELLENT: QualitativeTier.ACHIEVED, Grade.GOOD: QualitativeTier.PARTIAL,
                        Grade.FAIR: QualitativeTier.PARTIAL, Grade.POOR: QualitativeTier.MISSED}[plan]
                entries[line.id] = {"tier": tier.value}
                continue
            f = Decimal(rng.uniform(*factor_range))
            target = line.target or Decimal(0)
            actual = target * f if line.operator not in (Operator.LE, Operator.LT) else target / f
            if target == 0 and plan in (Grade.FAIR, Grade.POOR):
                actual = Decimal(1)  # e.g. one safety incident against a target of none
            entries[line.id] = {"actual": actual.quantize(Decimal("0.01")),
                                "reason": "" if plan in (Grade.EXCELLENT, Grade.GOOD)
                                else "项目实施进度滞后，部分任务未按期完成；下一步将加强调度。"}
        operations.save_self_evaluation(evaluation, entries, actor=finance)
        operations.complete_evaluation(evaluation, actor=finance)
        evaluations.append(evaluation)

    # ~20 finance (key) evaluations commissioned to the demo agencies, with findings.
    agencies = [ctx["orgs"][f"agency{i}"] for i in (1, 2, 3)]
    candidates = sorted((p for p in projects if p.year == 2025), key=lambda p: -p.annual_budget)[:20]
    for n, (project, score) in enumerate(zip(candidates, FINANCE_SCORES, strict=False)):
        evaluation = operations.start_framework_evaluation(project, EvaluationMode.FINANCE, actor=finance,
                                                           agency_id=agencies[n % 3].id)
        scores = {str(ln.id): (ln.weight * score / 100).quantize(Decimal("0.01")) for ln in evaluation.lines}
        grade = Grade.for_score(score)
        operations.save_framework_scores(
            evaluation, scores, actor=finance,
            conclusion=f"经综合评价，该项目得分{score}分，评价等级为“{grade.zh}”。",
            suggestions="进一步细化绩效目标，加快预算执行，强化结果应用。")
        for k in range(1 + n % 3):
            category, description, suggestion = FINDINGS[(n + k) % len(FINDINGS)]
            operations.add_finding(evaluation, actor=finance, category=category, description=description,
                                   amount=(project.annual_budget * Decimal("0.03") * (k + 1)).quantize(Decimal("0.01"))
                                   if category.startswith("资金") else None, suggestion=suggestion)
        operations.complete_evaluation(evaluation, actor=finance)
        evaluations.append(evaluation)

    assert all(e.state == EvaluationState.COMPLETED for e in evaluations)
    ctx["projects"] = projects
    ctx["evaluations"] = evaluations
