"""Table-driven tests pinning the scoring and traffic-light rules (pure functions, no database)."""
from decimal import Decimal as D

import pytest

from portal.performance.models import Grade, Level2, Operator
from portal.performance.monitoring import (
    Light,
    Thresholds,
    execution_warning,
    indicator_light,
    positive_light,
    schedule,
)
from portal.performance.scoring import (
    Line,
    Tier,
    execution_score,
    score_qualitative,
    score_quantitative,
    total,
)


@pytest.mark.parametrize("score, grade", [
    (100, Grade.EXCELLENT), (90, Grade.EXCELLENT), ("89.99", Grade.GOOD), (80, Grade.GOOD),
    ("79.99", Grade.FAIR), (60, Grade.FAIR), ("59.99", Grade.POOR), (0, Grade.POOR)])
def test_grade_boundaries(score, grade):
    assert Grade.for_score(score) == grade


@pytest.mark.parametrize("op, target, actual, weight, expected", [
    (Operator.GE, 100, 100, 10, "10.00"),   # met
    (Operator.GE, 100, 80, 10, "8.00"),     # actual ÷ target × weight
    (Operator.GE, 100, 150, 10, "10.00"),   # capped at the weight
    (Operator.GT, 3, 1, 6, "2.00"),
    (Operator.GE, 100, 0, 10, "0.00"),      # zero actual
    (Operator.GE, 100, None, 10, "0.00"),   # missing actual
    (Operator.GE, 0, 5, 10, "10.00"),       # zero target met by anything
    (Operator.LE, 5, 10, 10, "5.00"),       # reverse: target ÷ actual × weight
    (Operator.LE, 5, 4, 10, "10.00"),       # reverse, better than target: capped
    (Operator.LT, 5, 0, 10, "10.00"),       # reverse, zero actual: fully met
    (Operator.LE, 5, None, 10, "0.00"),
    (Operator.EQ, 100, 100, 5, "5.00"),
    (Operator.EQ, 100, 50, 5, "2.50"),
    (Operator.GE, 3, 2, 10, "6.67"),        # rounded half-up to cents
])
def test_quantitative_scores(op, target, actual, weight, expected):
    assert score_quantitative(op, target, actual, weight) == D(expected)


@pytest.mark.parametrize("tier, percent, expected", [
    (Tier.ACHIEVED, None, "10.00"), (Tier.ACHIEVED, 85, "8.50"), (Tier.ACHIEVED, 50, "8.00"),  # clamped
    (Tier.PARTIAL, None, "7.00"), (Tier.PARTIAL, 60, "6.00"), (Tier.PARTIAL, 95, "8.00"),
    (Tier.MISSED, None, "3.00"), (Tier.MISSED, 0, "0.00"), (Tier.MISSED, 70, "6.00"),
    (None, None, "0.00"),
])
def test_qualitative_tiers(tier, percent, expected):
    assert score_qualitative(tier, 10, percent) == D(expected)


def test_not_applicable_dropped_and_rescaled_to_100():
    lines = [Line(weight=D(10), target=100, actual=100),  # 10
             Line(weight=D(50), target=100, actual=80),   # 40
             Line(weight=D(30), target=10, actual=10, applicable=False),
             Line(weight=D(10), operator=Operator.QUALITATIVE, tier=Tier.ACHIEVED)]  # 10
    result = total(lines)
    assert result.line_scores[2] is None
    assert result.raw == D("60.00") and result.possible == D("70.00")
    assert result.total == D("85.71") and result.grade == Grade.GOOD


def test_all_full_marks_and_nothing_applicable():
    assert total([Line(weight=D(100), target=1, actual=1)]).total == D("100.00")
    nothing = total([Line(weight=D(10), applicable=False)])
    assert nothing.total == D("0.00") and nothing.grade == Grade.POOR


@pytest.mark.parametrize("executed, budget, expected", [(90, 100, "9.00"), (120, 100, "10.00"), (0, 100, "0.00"),
                                                         (10, 0, "10.00")])
def test_execution_line(executed, budget, expected):
    assert execution_score(executed, budget) == D(expected)


@pytest.mark.parametrize("value, light", [
    # target 120, month 6 → standard 60
    ("35.99", Light.RED), (36, Light.YELLOW), ("47.99", Light.YELLOW), (48, Light.GREEN),
    ("71.99", Light.GREEN), (72, Light.BLUE), (0, Light.RED), (None, Light.NONE)])
def test_positive_light_thresholds(value, light):
    assert positive_light(120, value, 6) == light


def test_configurable_thresholds_move_the_boundaries():
    t = Thresholds(red_below=D(50), green_from=D(70), blue_from=D(150))
    assert positive_light(120, 29, 6, t) == Light.RED
    assert positive_light(120, 30, 6, t) == Light.YELLOW
    assert positive_light(120, 40, 6, t) == Light.YELLOW
    assert positive_light(120, 89, 6, t) == Light.GREEN
    assert positive_light(120, 90, 6, t) == Light.BLUE
    with pytest.raises(ValueError):
        Thresholds(red_below=D(90), green_from=D(80)).validate()


@pytest.mark.parametrize("op, level2, target, so_far, expected, tier, light", [
    (Operator.LE, Level2.QUANTITY, 5, 3, None, None, Light.GREEN),           # reverse inside
    (Operator.LE, Level2.QUANTITY, 5, 6, None, None, Light.RED),             # reverse outside
    (Operator.LE, Level2.QUANTITY, 5, 3, 7, None, Light.RED),                # judged on expected value
    (Operator.GE, Level2.QUALITY, 95, 96, None, None, Light.GREEN),          # quality: range, no pro rata
    (Operator.GE, Level2.QUALITY, 95, 90, None, None, Light.RED),
    (Operator.LE, Level2.TIMELINESS, 30, 30, None, None, Light.GREEN),
    (Operator.LE, Level2.OUTPUT_COST, 100, 101, None, None, Light.RED),
    (Operator.EQ, Level2.QUANTITY, 1, 1, None, None, Light.GREEN),
    (Operator.GE, Level2.QUANTITY, 120, 48, None, None, Light.GREEN),        # positive, pro rata at month 6
    (Operator.QUALITATIVE, Level2.SOCIAL, None, None, None, Tier.ACHIEVED, Light.GREEN),
    (Operator.QUALITATIVE, Level2.SOCIAL, None, None, None, Tier.PARTIAL, Light.YELLOW),
    (Operator.QUALITATIVE, Level2.SOCIAL, None, None, None, Tier.MISSED, Light.RED),
    (Operator.QUALITATIVE, Level2.SOCIAL, None, None, None, None, Light.NONE),
])
def test_indicator_lights(op, level2, target, so_far, expected, tier, light):
    assert indicator_light(operator=op, level2=level2, target=target, value_so_far=so_far, expected=expected,
                           tier=tier, month=6) == light


@pytest.mark.parametrize("executed, month, warned", [
    # budget 1200; month 7 → schedule 58.33 %; warning when rate < 38.33 %
    (460, 7, False), (459, 7, True), (700, 7, False), (0, 1, False), (0, 3, True), (None, 7, False)])
def test_execution_lag_warning(executed, month, warned):
    assert execution_warning(executed, 1200, month) is warned


def test_schedule():
    assert schedule(12) == 100 and schedule(6) == 50
    with pytest.raises(ValueError):
        schedule(13)


# ---- every band boundary, both sides (issue 19) ---------------------------------------------

@pytest.mark.parametrize("score, grade", [
    ("100.00", Grade.EXCELLENT), ("90.00", Grade.EXCELLENT), ("90.01", Grade.EXCELLENT), ("89.99", Grade.GOOD),
    ("80.00", Grade.GOOD), ("80.01", Grade.GOOD), ("79.99", Grade.FAIR), ("60.00", Grade.FAIR),
    ("60.01", Grade.FAIR), ("59.99", Grade.POOR), ("0.01", Grade.POOR), ("0.00", Grade.POOR)])
def test_grade_bands_are_half_open_at_every_boundary(score, grade):
    assert Grade.for_score(score) == grade


@pytest.mark.parametrize("percent, tier", [
    (100, Tier.ACHIEVED), ("80.01", Tier.ACHIEVED), (80, Tier.ACHIEVED), ("79.99", Tier.PARTIAL),
    ("60.01", Tier.PARTIAL), (60, Tier.PARTIAL), ("59.99", Tier.MISSED), (0, Tier.MISSED)])
def test_achievement_tiers_are_half_open_at_every_boundary(percent, tier):
    from portal.performance.scoring import tier_for_percent

    assert tier_for_percent(percent) == tier


@pytest.mark.parametrize("percent", [-1, "100.01", "abc", None])
def test_a_percentage_outside_0_100_has_no_tier(percent):
    from portal.performance.scoring import tier_for_percent

    with pytest.raises(ValueError):
        tier_for_percent(percent)


@pytest.mark.parametrize("tier, percent, expected", [
    (Tier.ACHIEVED, 80, "80.00"), (Tier.ACHIEVED, 100, "100.00"), (Tier.ACHIEVED, 101, "100.00"),
    (Tier.PARTIAL, 80, "79.99"), (Tier.PARTIAL, "79.99", "79.99"), (Tier.PARTIAL, 60, "60.00"),
    (Tier.PARTIAL, 59, "60.00"), (Tier.MISSED, 60, "59.99"), (Tier.MISSED, "59.99", "59.99"), (Tier.MISSED, 0, "0.00")])
def test_a_percentage_is_clamped_into_its_half_open_tier(tier, percent, expected):
    """Weight 100, so the score is the percentage counted: 80 % of 部分达成 cannot be 80 (that is 达成)."""
    assert score_qualitative(tier, 100, percent) == D(expected)
