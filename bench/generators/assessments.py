"""Ex-ante assessments (事前绩效评估) of the next budget year's new projects: each a new project
(新增, at or above the default 500 万元), the unit's application with a draft indicator table, and
its rounds as the operations leave them — by finance, by experts or by an agency drawn by lot
(a seed `draw_result(seed, pool)` reproduces), score sheets within the default weights, and the
conclusion of the default bands with the recommended amount. States: 填报中, 待评估, 评估中,
调整后支持·待修改, 予以支持 (a quarter after an adjustment), 不予支持, 已撤回. The audit log and the
notifications the operations would also write are not generated.

Publishes: ctx.ids["assessments"]."""
from __future__ import annotations

import json
import random
from decimal import ROUND_HALF_UP, Decimal

ORDER = 240
WEIGHTS = {"necessity": 25, "economy": 20, "goals": 20, "feasibility": 20, "funding": 15}
RULES = json.dumps({"adjust_from": "60", "from_year": None, "support_from": "80", "threshold": "5000000",
                    "weights": {k: str(v) for k, v in WEIGHTS.items()}}, ensure_ascii=False, sort_keys=True)
TOPICS = ["智慧校园建设项目", "基层医疗机构能力提升项目", "老旧小区改造提升项目", "高标准农田建设项目",
          "农村公路提档升级项目", "居家养老服务补贴政策", "河道生态修复项目", "小型水库除险加固项目",
          "文旅融合发展补助项目", "创业孵化基地建设项目", "城市景观亮化工程", "数字政府平台建设项目"]
# state → share of the assessments (the rest: supported)
PLAN = [("draft", 0.05), ("submitted", 0.05), ("assessing", 0.05), ("withdrawn", 0.02), ("rejected", 0.15),
        ("revising", 0.08), ("adjusted_supported", 0.10)]
CENT = Decimal("0.01")


def _plan(rng) -> str:
    x, edge = rng.random(), 0.0
    for state, share in PLAN:
        edge += share
        if x < edge:
            return state
    return "supported"


def _sheet(rng, fraction: float) -> dict:
    return {d: (Decimal(w) * Decimal(str(min(max(fraction + rng.uniform(-0.04, 0.04), 0), 1)))).quantize(CENT)
            for d, w in WEIGHTS.items()}


def _draw_seed(pool: list[int], agency: int) -> str:
    for n in range(10_000):
        if random.Random(f"bench-{n}").choice(sorted(pool)) == agency:
            return f"bench-{n}"
    raise RuntimeError("no seed found")


def generate(ctx, conn, scale) -> None:
    if not scale.assessments or not ctx.has_table("assessments"):
        return
    rng = ctx.rng("assessments")
    org, units = ctx.data["org"], ctx.ids["units"]
    users = ctx.data["users"]
    finance = users["finance"]
    experts = [uid for name, uid in users.items() if name.startswith("expert")]
    agencies = sorted(ctx.ids["agencies"])
    year = max(scale.years) + 1
    now = ctx.now
    projects, assessments, indicators, rounds, sheets = [], [], [], [], []
    for n in range(scale.assessments):
        unit_id = units[rng.randrange(len(units))]
        unit = org[unit_id]
        amount = Decimal(rng.choice((500, 600, 800, 1200, 1500, 2000, 3000, 5000))) * 10000
        pid, aid = ctx.new_id("projects"), ctx.new_id("assessments")
        topic = TOPICS[n % len(TOPICS)]
        projects.append((pid, f"{org[unit['department_id']]['code']}-{year}-X{n + 1:05d}",
                         f"{unit['county']}{year}年度{topic}", year, "policy" if "政策" in topic else "project",
                         "general", unit_id, unit["department_id"], amount, amount, Decimal(0), "active", "",
                         f"{unit['name']}申报的新增项目。", now, now))
        plan = _plan(rng)
        state = {"adjusted_supported": "supported"}.get(plan, plan)
        row = dict(id=aid, project_id=pid, year=year, unit_id=unit_id, department_id=unit["department_id"],
                   state=state, basis="依据本级国民经济和社会发展规划。", plan="分阶段组织实施。",
                   costing=f"按支出标准测算，共需{(amount / 10000).normalize():f}万元。",
                   overall_goal=f"完成{topic}任务，服务对象满意度不低于90%。", requested_amount=amount,
                   score=None, conclusion=None, recommended_amount=None,
                   first_requested=None if plan == "draft" else amount,
                   was_adjusted=plan in ("revising", "adjusted_supported"), created_by_id=None, lock_version=1,
                   created_at=now, updated_at=now)
        for pos, (level1, name, target, weight) in enumerate((
                ("output", "完成建设任务数量", "≥10个", 30), ("output", "验收合格率", "100%", 20),
                ("benefit", "受益群众人数", "≥5000人", 30), ("satisfaction", "服务对象满意度", "≥90%", 10))):
            indicators.append((ctx.new_id("assessment_indicators"), aid, pos, level1, name, target, Decimal(weight)))
        steps = {"rejected": [0.5], "revising": [0.7], "adjusted_supported": [0.7, 0.88],
                 "supported": [0.88], "assessing": [None]}.get(plan, [])
        requested = amount
        for number, fraction in enumerate(steps, start=1):
            rid = ctx.new_id("assessment_rounds")
            method = rng.choice(("finance", "experts", "agency"))
            agency, seed, pool = None, "", []
            if method == "agency" and len(agencies) >= 2:
                pool = sorted(rng.sample(agencies, min(3, len(agencies))))
                agency = pool[rng.randrange(len(pool))]
                seed = _draw_seed(pool, agency)
            elif method == "agency":
                method = "finance"
            assessors = [finance] if method == "finance" else (
                rng.sample(experts, min(2, len(experts))) if method == "experts" else [None])
            score = conclusion = recommended = None
            if fraction is not None:
                totals = []
                for assessor in assessors:
                    values = _sheet(rng, fraction)
                    totals.append(values)
                    sheets.append(dict(id=ctx.new_id("assessment_sheets"), round_id=rid, assessor_id=assessor,
                                       agency_id=agency if assessor is None else None, state="submitted",
                                       comment="立项依据较充分，资金测算需细化。", submitted_at=now,
                                       submitted_by_id=assessor or None, lock_version=2, **values))
                score = sum((sum(t[d] for t in totals) / len(totals) for d in WEIGHTS), Decimal(0)).quantize(
                    CENT, rounding=ROUND_HALF_UP)
                conclusion = "support" if score >= 80 else "adjust" if score >= 60 else "reject"
                recommended = Decimal(0) if conclusion == "reject" else (
                    requested * Decimal("0.7" if conclusion == "adjust" else "0.9")).quantize(CENT)
            else:
                for assessor in assessors:
                    sheets.append(dict(id=ctx.new_id("assessment_sheets"), round_id=rid, assessor_id=assessor,
                                       agency_id=agency if assessor is None else None, state="pending", comment="",
                                       submitted_at=None, submitted_by_id=None, lock_version=1,
                                       **{d: None for d in WEIGHTS}))
            rounds.append(dict(id=rid, assessment_id=aid, number=number, method=method, agency_id=agency,
                               draw_seed=seed, draw_pool=json.dumps(pool), draw_witnesses="监督人（联席会议办公室）" if seed else "",
                               rules=RULES, requested_amount=requested, score=score, conclusion=conclusion,
                               recommended_amount=recommended, opinion="评估意见。" if conclusion else "",
                               opened_at=now, concluded_at=now if conclusion else None,
                               concluded_by_id=finance if conclusion else None))
            if conclusion:
                row.update(score=score, conclusion=conclusion, recommended_amount=recommended)
                if conclusion == "adjust":
                    requested = recommended  # the unit revises to the amount recommended
        row["requested_amount"] = requested
        conclusion = row["conclusion"]
        if (state, conclusion) not in {("supported", "support"), ("rejected", "reject"), ("revising", "adjust")} \
                and state in ("supported", "rejected", "revising"):
            raise RuntimeError(f"generated {state} with {conclusion}")
        assessments.append(row)
    ctx.insert(conn, "projects", projects, columns=[
        "id", "code", "name", "year", "kind", "budget_type", "unit_id", "department_id", "initial_budget",
        "annual_budget", "executed", "status", "stop_reason", "description", "created_at", "updated_at"])
    ctx.insert(conn, "assessments", assessments, total=len(assessments))
    ctx.insert(conn, "assessment_indicators", indicators, columns=[
        "id", "assessment_id", "position", "level1", "name", "target", "weight"])
    ctx.insert(conn, "assessment_rounds", rounds, total=len(rounds))
    ctx.insert(conn, "assessment_sheets", sheets, total=len(sheets))
    ctx.ids["assessments"] = [a["id"] for a in assessments]
