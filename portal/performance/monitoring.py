"""Monitoring traffic lights (绩效运行监控, 双监控): pure functions, no database.

- 序时进度 (time schedule) = month ÷ 12.
- A positive quantitative indicator (≥ >, quantity/benefit…) is compared with its standard
  value = annual target × month ÷ 12: progress below 60 % of it is red, 60–80 % yellow,
  80–120 % green, 120 % and above blue (the target may have been set too low).
- Reverse (≤ <), "=" and quality / timeliness / cost indicators are green inside their range
  (judged on the expected full-year value when given, else the value so far) and red outside.
- Qualitative: 达成 green, 部分达成 yellow, 未达成 red.
- Budget execution lagging the schedule by more than `lag_points` (default 20) is a warning.
Thresholds are data (`Thresholds`), loaded from the settings table by `settings.thresholds()`.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from portal.core.enums import LabelledEnum
from portal.performance.models import Level2, Operator
from portal.performance.scoring import Tier, to_decimal


class Light(LabelledEnum):
    RED = "red", "红灯", "Red", "tag-red"
    YELLOW = "yellow", "黄灯", "Yellow", "tag-amber"
    GREEN = "green", "绿灯", "Green", "tag-green"
    BLUE = "blue", "蓝灯", "Blue", "tag-blue"
    NONE = "none", "未填报", "Not reported", "tag-grey"


@dataclass(frozen=True)
class Thresholds:
    red_below: Decimal = Decimal(60)  # % of the standard value
    green_from: Decimal = Decimal(80)
    blue_from: Decimal = Decimal(120)
    lag_points: Decimal = Decimal(20)  # execution lag vs 序时进度, percentage points

    def validate(self) -> None:
        if not (0 < self.red_below < self.green_from < self.blue_from):
            raise ValueError("thresholds must rise: red < green < blue")
        if not (0 < self.lag_points <= 100):
            raise ValueError("lag must be within (0, 100]")


DEFAULT = Thresholds()
RANGE_LEVEL2 = {Level2.QUALITY, Level2.TIMELINESS, Level2.OUTPUT_COST, Level2.ECONOMIC_COST,
                Level2.SOCIAL_COST, Level2.ECOLOGICAL_COST}


def schedule(month: int) -> Decimal:
    """序时进度 as a percentage."""
    if not 1 <= month <= 12:
        raise ValueError("month must be 1..12")
    return Decimal(month) * 100 / 12


def execution_rate(executed, budget) -> Decimal | None:
    """预算执行率 in percent."""
    executed, budget = to_decimal(executed), to_decimal(budget)
    if executed is None or not budget:
        return None
    return executed * 100 / budget


def execution_warning(executed, budget, month: int, t: Thresholds = DEFAULT) -> bool:
    """True when execution lags the time schedule by more than the threshold."""
    rate = execution_rate(executed, budget)
    if rate is None:
        return False
    return schedule(month) - rate > t.lag_points


def positive_light(target, value, month: int, t: Thresholds = DEFAULT) -> Light:
    target, value = to_decimal(target), to_decimal(value)
    if target is None or value is None:
        return Light.NONE
    standard = target * month / 12
    if standard <= 0:
        return Light.GREEN if value >= 0 else Light.RED
    progress = value * 100 / standard
    if progress < t.red_below:
        return Light.RED
    if progress < t.green_from:
        return Light.YELLOW
    if progress < t.blue_from:
        return Light.GREEN
    return Light.BLUE


def in_range(operator, target, value) -> bool:
    operator = Operator.coerce(operator)
    return {
        Operator.GE: value >= target, Operator.GT: value > target,
        Operator.LE: value <= target, Operator.LT: value < target,
        Operator.EQ: value == target,
    }[operator]


def range_light(operator, target, value) -> Light:
    target, value = to_decimal(target), to_decimal(value)
    if target is None or value is None:
        return Light.NONE
    return Light.GREEN if in_range(operator, target, value) else Light.RED


def qualitative_light(tier: str | None) -> Light:
    return {Tier.ACHIEVED: Light.GREEN, Tier.PARTIAL: Light.YELLOW, Tier.MISSED: Light.RED}.get(tier, Light.NONE)


def indicator_light(*, operator, level2, target, value_so_far, expected=None, tier=None, month: int,
                    t: Thresholds = DEFAULT) -> Light:
    """The light for one indicator at a checkpoint."""
    operator = Operator.coerce(operator)
    if operator == Operator.QUALITATIVE:
        return qualitative_light(tier)
    if operator in (Operator.GE, Operator.GT) and Level2.coerce(level2) not in RANGE_LEVEL2:
        return positive_light(target, value_so_far, month, t)
    judged = expected if to_decimal(expected) is not None else value_so_far
    return range_light(operator, target, judged)


def default_month(year: int, today) -> int:
    """The checkpoint a monitoring page opens on (截止月份): the current month during the project's
    year, December once the year is over, January before it starts."""
    if year < today.year:
        return 12
    if year > today.year:
        return 1
    return today.month


def over_budget(executed, budget) -> bool:
    """执行数超预算: spent more than the year's budget (a typing error or spending to be checked)."""
    executed, budget = to_decimal(executed), to_decimal(budget)
    return executed is not None and budget is not None and executed > budget
