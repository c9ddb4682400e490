"""Self-evaluation scoring (单位自评打分): pure functions, no database.

Rules (domain.md, "Evaluation"):
- default weights: 预算执行率 10, 产出 50, 效益 30, 满意度 10;
- a positive quantitative indicator (≥ >) scores actual ÷ target × weight, capped at its weight;
- a reverse one (≤ <) scores target ÷ actual × weight, capped (an actual of 0 meets it fully);
- "=" scores full weight when met, else the smaller ÷ larger ratio × weight;
- a qualitative one scores in three half-open tiers of its weight: 达成 [80 %, 100 %],
  部分达成 [60 %, 80 %), 未达成 [0 %, 60 %) — each boundary belongs to the higher tier, like the
  grades 优 [90, 100], 良 [80, 90), 中 [60, 80), 差 [0, 60). The evaluator picks the tier and,
  optionally, a percentage inside it (clamped into the tier: below an open upper bound means at
  most one hundredth of a percent below it; without one: 达成 100 %, 部分达成 70 %, 未达成 30 %,
  see TIER_DEFAULT); `tier_for_percent` names the tier of a percentage;
- an indicator that does not apply (不适用) is dropped and the total rescaled to 100;
- a missing actual value scores 0 (nothing evidenced), it is NOT treated as "not applicable".
Scores are rounded to two decimals (ROUND_HALF_UP) only at the end of each indicator.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from portal.performance.models import Grade, Operator

HUNDRED = Decimal(100)
CENT = Decimal("0.01")

DEFAULT_WEIGHTS = {"execution": Decimal(10), "output": Decimal(50), "benefit": Decimal(30),
                   "satisfaction": Decimal(10)}


class Tier:  # qualitative outcome (定性指标完成情况)
    ACHIEVED = "achieved"  # 达成
    PARTIAL = "partial"  # 部分达成
    MISSED = "missed"  # 未达成


# [low, high) — except 达成, which includes 100 %
TIER_RANGE = {Tier.ACHIEVED: (Decimal(80), Decimal(100)), Tier.PARTIAL: (Decimal(60), Decimal(80)),
              Tier.MISSED: (Decimal(0), Decimal(60))}
TIER_CLOSED_ABOVE = {Tier.ACHIEVED}
STEP = Decimal("0.01")  # the finest percentage an evaluator enters
TIER_LABEL = {Tier.ACHIEVED: "达成", Tier.PARTIAL: "部分达成", Tier.MISSED: "未达成"}
# Without an explicit percentage: full marks for 达成, the middle of the band for the other two.
TIER_DEFAULT = {Tier.ACHIEVED: Decimal(100), Tier.PARTIAL: Decimal(70), Tier.MISSED: Decimal(30)}


def q2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def to_decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        result = Decimal(str(value).strip().rstrip("%"))
    except Exception:
        return None
    return result if result.is_finite() else None


def score_quantitative(operator, target, actual, weight) -> Decimal:
    """Score one quantitative indicator, capped at its weight."""
    operator = Operator.coerce(operator)
    weight = Decimal(weight)
    target, actual = to_decimal(target), to_decimal(actual)
    if actual is None or target is None or weight <= 0:
        return Decimal("0.00")
    if operator in (Operator.GE, Operator.GT):
        if target == 0:
            ratio = Decimal(1) if actual >= 0 else Decimal(0)
        else:
            ratio = actual / target
    elif operator in (Operator.LE, Operator.LT):
        if actual <= 0:
            ratio = Decimal(1)
        else:
            ratio = target / actual
    elif operator == Operator.EQ:
        if actual == target:
            ratio = Decimal(1)
        elif actual == 0 or target == 0:
            ratio = Decimal(0)
        else:
            ratio = min(actual, target) / max(actual, target)
    else:
        raise ValueError("qualitative indicators are scored by tier")
    ratio = max(Decimal(0), min(Decimal(1), ratio))
    return q2(ratio * weight)


def score_qualitative(tier: str | None, weight, percent=None) -> Decimal:
    """达成 80–100 %, 部分达成 60–80 %, 未达成 0–60 % of the weight; `percent` picks inside the tier."""
    weight = Decimal(weight)
    if tier not in TIER_RANGE:
        return Decimal("0.00")
    low, high = TIER_RANGE[tier]
    pct = to_decimal(percent)
    if pct is None:
        pct = TIER_DEFAULT[tier]
    top = high if tier in TIER_CLOSED_ABOVE else high - STEP  # half-open: 80 % is 达成, not 部分达成
    pct = max(low, min(top, pct))
    return q2(weight * pct / HUNDRED)


def tier_for_percent(percent) -> str:
    """The tier a percentage of the weight falls in: 达成 [80, 100], 部分达成 [60, 80), 未达成 [0, 60)."""
    pct = to_decimal(percent)
    if pct is None or pct < 0 or pct > HUNDRED:
        raise ValueError(f"not a percentage of the weight: {percent!r}")
    for tier, (low, high) in TIER_RANGE.items():
        if low <= pct < high or (tier in TIER_CLOSED_ABOVE and pct == high):
            return tier
    raise AssertionError("the tiers cover 0–100")  # pragma: no cover


@dataclass
class Line:
    """One scored line of the self-evaluation table."""
    weight: Decimal
    operator: object = Operator.GE
    target: object = None
    actual: object = None
    tier: str | None = None  # qualitative
    percent: object = None  # qualitative, optional
    applicable: bool = True

    def score(self) -> Decimal:
        if Operator.coerce(self.operator) == Operator.QUALITATIVE:
            return score_qualitative(self.tier, self.weight, self.percent)
        return score_quantitative(self.operator, self.target, self.actual, self.weight)


@dataclass
class Result:
    line_scores: list  # Decimal or None (not applicable)
    raw: Decimal  # sum of applicable scores
    possible: Decimal  # sum of applicable weights
    total: Decimal  # rescaled to 100
    grade: Grade


def execution_score(executed, budget, weight=DEFAULT_WEIGHTS["execution"]) -> Decimal:
    """预算执行率 line: execution rate × weight, capped at the weight."""
    return score_quantitative(Operator.GE, budget, executed, weight)


def total(lines: list[Line]) -> Result:
    """Sum the lines; drop not-applicable ones and rescale what remains to 100."""
    scores = []
    raw = Decimal(0)
    possible = Decimal(0)
    for line in lines:
        if not line.applicable:
            scores.append(None)
            continue
        s = line.score()
        scores.append(s)
        raw += s
        possible += Decimal(line.weight)
    if possible <= 0:
        result_total = Decimal("0.00")
    else:
        result_total = q2(min(HUNDRED, raw * HUNDRED / possible))
    return Result(scores, q2(raw), q2(possible), result_total, Grade.for_score(result_total))


def grade_for(score) -> Grade:
    return Grade.for_score(score)
