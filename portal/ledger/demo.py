"""Demo ledger (order 500): problems from the demo evaluations' findings and from a fictional
audit report, in every state, some overdue, some long-term, with amounts."""
from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.accounts.models import Organisation, OrgKind
from portal.core import clock
from portal.core.attachments import store_bytes
from portal.extensions import db
from portal.ledger import operations
from portal.ledger.models import (
    Bureau,
    Milestone,
    ProblemSource,
    ProblemState,
    ProgressUpdate,
    RectificationType,
    SignOff,
)

AUDIT_REPORT = "临审财报〔2026〕8号（演示）"
TEMPLATES = [
    ("资金管理", "专项资金{n}万元未按规定用途使用，挤占挪用于单位日常公用支出", "收回被挤占资金，归还原渠道"),
    ("预算执行", "项目预算执行率仅{p}%，资金{n}万元结转两年以上未使用", "加快项目实施进度，盘活沉淀资金"),
    ("绩效目标", "绩效目标设置不明确，产出指标未细化量化，无法衡量项目实施效果", "按要求细化量化绩效指标"),
    ("项目管理", "项目未按合同约定工期完工，延期{d}个月且未履行变更手续", "督促施工单位按期完工，补办变更手续"),
    ("政府采购", "应公开招标的采购项目{n}万元化整为零规避招标", "严格执行政府采购规定，追究相关人员责任"),
    ("资产管理", "固定资产{n}万元未及时入账，账实不符", "全面清查资产，调整账表"),
    ("合同管理", "合同条款不严密，未约定绩效考核和违约责任", "修订合同范本，完善合同审核制度"),
    ("财务核算", "以拨代支{n}万元，会计核算不规范", "规范会计核算，调整账务"),
    ("资金管理", "补助资金{n}万元未及时拨付到位，滞留在主管部门", "加快资金拨付，落实惠企惠民政策"),
    ("绩效管理", "未按规定开展绩效自评，自评结果与实际偏差较大", "建立绩效自评复核机制"),
]
MEASURES = ["已召开专题会议研究整改措施，明确责任人和时间表", "已收回违规资金并归还原渠道",
            "已修订内部管理制度并印发执行", "已完成账务调整并报送佐证材料", "已约谈相关责任人，责令限期整改"]


def _units() -> list[Organisation]:
    return db.session.execute(sa.select(Organisation).where(Organisation.kind == OrgKind.BUDGET_UNIT)
                              .order_by(Organisation.id)).scalars().all()


def _findings(ctx):
    from portal.performance.models import Evaluation, EvaluationMode

    evaluations = ctx.get("evaluations") or db.session.execute(
        sa.select(Evaluation).where(Evaluation.mode == EvaluationMode.FINANCE)).scalars().all()
    return [(e, f) for e in evaluations if e.mode == EvaluationMode.FINANCE for f in e.findings]


def seed(ctx: dict) -> None:
    users = ctx.get("users", {})
    finance, audit = users.get("finance"), users.get("audit")
    if finance is None or audit is None:
        return
    rng = random.Random(2026)
    today = clock.today()
    units = _units()
    if not units:
        return
    problems = []
    # 1. Evaluations' findings (most of them; some stay unlisted so finance can list them in the demo).
    for i, (evaluation, finding) in enumerate(_findings(ctx)):
        if i % 5 == 4:
            continue
        listed_on = min(today - timedelta(days=20), date(evaluation.year + 1, 3, 1) + timedelta(days=i % 60))
        deadline = listed_on + timedelta(days=rng.choice([30, 60, 90, 180]))
        with clock.frozen(listed_on):
            problems.append(operations.list_from_findings(evaluation, [finding], actor=finance, deadline=deadline,
                                                          rect_type=RectificationType.DEADLINE)[0])
    # 2. A fictional audit report's findings, across units and years, until ~150 problems.
    n = 0
    while len(problems) < 150:
        n += 1
        category, text, requirement = TEMPLATES[n % len(TEMPLATES)]
        unit = units[(n * 7) % len(units)]
        year = (today.year - 2, today.year - 1, today.year)[n % 3]
        amount = Decimal(rng.randrange(5, 800) * 10000) if "{n}" in text else Decimal(0)
        description = text.format(n=amount / 10000, p=rng.randrange(20, 60), d=rng.randrange(2, 9))
        listed_on = min(today - timedelta(days=15), date(year, rng.randrange(1, 12), rng.randrange(1, 28)))
        rect_type = (RectificationType.IMMEDIATE, RectificationType.DEADLINE, RectificationType.LONG_TERM)[
            0 if n % 7 == 0 else 2 if n % 9 == 0 else 1]
        deadline = listed_on + timedelta(days={RectificationType.IMMEDIATE: 15, RectificationType.DEADLINE: 90,
                                                RectificationType.LONG_TERM: 365}[rect_type] + rng.randrange(0, 60))
        with clock.frozen(listed_on):
            problems.append(operations.list_problem(
                actor=audit, source=ProblemSource.AUDIT, unit=unit, category=category, description=description,
                amount=amount, rect_type=rect_type, deadline=deadline, year=year, source_ref=AUDIT_REPORT,
                requirement=requirement, policy_basis="《中华人民共和国预算法》《财政违法行为处罚处分条例》",
                completion_standard="提供整改佐证材料，经财政、审计联合核实", person_responsible="单位分管负责人",
                notify_unit=False))
    # 3. Move them along: older problems further, so the statistics tell a story.
    for problem in problems:
        age = (today - problem.listed_on).days
        roll = rng.random()
        if problem.rect_type == RectificationType.LONG_TERM:
            target = ProblemState.LONG_TERM
        elif age > 300:
            target = ProblemState.CLOSED if roll < 0.8 else ProblemState.IN_PROGRESS
        elif age > 120:
            target = (ProblemState.CLOSED if roll < 0.5 else ProblemState.SUBMITTED if roll < 0.65
                      else ProblemState.IN_PROGRESS)
        else:
            target = (ProblemState.LISTED if roll < 0.4 else ProblemState.IN_PROGRESS if roll < 0.8
                      else ProblemState.SUBMITTED)
        _advance(problem, target, rng, finance, audit, today)
    db.session.commit()
    ctx["problems"] = problems


def _advance(problem, target, rng, finance, audit, today):
    if target == ProblemState.LISTED:
        return
    day = min(today, problem.listed_on + timedelta(days=20))
    share = Decimal(rng.choice([Decimal("0.3"), Decimal("0.6"), Decimal(1)])) if target != ProblemState.CLOSED \
        else Decimal(1)
    money = (problem.amount * share).quantize(Decimal("0.01"))
    field = rng.choice(["rect_recovered", "rect_returned", "rect_reallocated", "rect_disbursed", "rect_adjusted"])
    update = ProgressUpdate(problem=problem, text=rng.choice(MEASURES), evidence_date=day,
                            is_submission=target in (ProblemState.SUBMITTED, ProblemState.CLOSED),
                            created_at=clock.now().replace(year=day.year, month=day.month, day=day.day))
    setattr(update, field, money)
    for name in ("rect_recovered", "rect_returned", "rect_reallocated", "rect_disbursed", "rect_adjusted",
                 "rect_other"):
        setattr(update, name, getattr(update, name) or Decimal(0))
    db.session.add(update)
    setattr(problem, field, money)
    problem.measures = update.text
    if target == ProblemState.LONG_TERM:
        problem.state = ProblemState.LONG_TERM
        for k in (1, 2, 3):
            due = problem.listed_on + timedelta(days=90 * k)
            db.session.add(Milestone(problem=problem, title=f"第{k}阶段：{['制定方案', '完成主体整改', '建立长效机制'][k - 1]}",
                                     due_date=due, done_on=due if due < today else None))
        return
    problem.state = ProblemState.IN_PROGRESS
    if problem.is_open and problem.deadline < today:
        problem.not_done_reason = "涉及跨部门协调，正在推进；下一步将加快进度"
    if target in (ProblemState.SUBMITTED, ProblemState.CLOSED):
        db.session.flush()
        store_bytes("整改佐证材料.txt", f"{problem.number} 整改佐证材料（演示）".encode(), actor=None, record=update,
                    purpose="evidence", document_date=day)
        problem.state = ProblemState.SUBMITTED
        problem.submitted_at = clock.now().replace(year=day.year, month=day.month, day=day.day)
    if target == ProblemState.CLOSED:
        signed = min(today, day + timedelta(days=10))
        at = clock.now().replace(year=signed.year, month=signed.month, day=signed.day)
        db.session.add(SignOff(problem=problem, bureau=Bureau.FINANCE, user_id=finance.id, signed_at=at))
        db.session.add(SignOff(problem=problem, bureau=Bureau.AUDIT, user_id=audit.id, signed_at=at))
        problem.finance_signed_at = problem.audit_signed_at = at
        problem.closed_on = signed
        problem.state = ProblemState.CLOSED
