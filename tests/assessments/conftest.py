"""Helpers for the ex-ante assessment tests: an application for a new 800万元 project of the
world's department, and the steps finance and the assessors take."""
from __future__ import annotations

from decimal import Decimal

from portal.assessments import operations as ops
from portal.assessments.models import DIMENSIONS, Method
from tests.factories import make_project

BIG = "8000000.00"  # 800 万元: above the default threshold of 500 万元


def application(amount=BIG, **changes) -> ops.Application:
    data = ops.Application(basis="依据市政府工作报告。", plan="分三个阶段实施。", costing="按支出标准测算。",
                           overall_goal="改善办学条件。", requested_amount=amount,
                           indicators=[{"level1": "output", "name": "改造学校数量", "target": "≥12所", "weight": "50"},
                                       {"level1": "benefit", "name": "受益学生人数", "target": "≥8000人", "weight": "40"}])
    for key, value in changes.items():
        setattr(data, key, value)
    return data


def new_project(world, budget=BIG, **fields):
    return make_project(world.department, year=2027, budget=budget, **fields)


def applied(world, project=None, **changes):
    project = project or new_project(world)
    return ops.apply_for(project, application(**changes), actor=world.unit)


def scores_for(total: Decimal) -> dict:
    """Dimension scores (each within its default weight) that add up to `total`."""
    weights = {d.id: d.weight for d in ops.dimensions()}
    fraction = Decimal(total) / 100
    scores = {d: (weights[d] * fraction).quantize(Decimal("0.01")) for d in DIMENSIONS}
    scores["necessity"] += Decimal(total) - sum(scores.values())  # exact, whatever the rounding
    return {d: str(v) for d, v in scores.items()}


def assessed(world, assessment, total, *, method=Method.FINANCE, recommended=None):
    """Submit (if needed), arrange, score to `total` and conclude; returns the round."""
    if assessment.state.value in ("draft", "revising"):
        ops.submit(assessment, actor=world.unit)
    rnd = ops.arrange(assessment, actor=world.finance, method=method, assessor_ids=[world.expert.id])
    scorer = world.finance if method == Method.FINANCE else world.expert
    for sheet in rnd.sheets:
        ops.save_sheet(sheet, actor=scorer, version=sheet.lock_version, scores=scores_for(total),
                       comment="意见", submit=True)
    amount = recommended if recommended is not None else (assessment.requested_amount * Decimal("0.8")).quantize(Decimal("0.01"))
    return ops.conclude(assessment, actor=world.finance, opinion="评估意见", recommended_amount=str(amount))
