"""Conclusion bands at every boundary (each lower bound included), with the default and with
locally set bands; the round keeps the rules it opened with; weights must total 100."""
from decimal import Decimal

import pytest

from portal.assessments import operations as ops
from portal.assessments import rules
from portal.assessments.models import Conclusion
from portal.core.errors import DomainError
from tests.assessments.conftest import applied, assessed

DEFAULT_EDGES = [("100", Conclusion.SUPPORT), ("80.00", Conclusion.SUPPORT), ("79.99", Conclusion.ADJUST),
                 ("60.00", Conclusion.ADJUST), ("59.99", Conclusion.REJECT), ("0", Conclusion.REJECT)]


@pytest.mark.parametrize("score,expected", DEFAULT_EDGES)
def test_default_bands(score, expected):
    assert rules.Rules().conclusion_for(Decimal(score)) == expected


@pytest.mark.parametrize("score,expected", [("85", Conclusion.SUPPORT), ("84.99", Conclusion.ADJUST),
                                            ("70", Conclusion.ADJUST), ("69.99", Conclusion.REJECT)])
def test_local_bands(score, expected):
    local = rules.Rules(support_from=Decimal(85), adjust_from=Decimal(70))
    assert local.conclusion_for(Decimal(score)) == expected


@pytest.mark.parametrize("total,expected,state", [("80.00", "support", "supported"), ("79.99", "adjust", "revising"),
                                                  ("60.00", "adjust", "revising"), ("59.99", "reject", "rejected")])
def test_concluding_at_the_edges(db, world, total, expected, state):
    assessment = applied(world)
    rnd = assessed(world, assessment, Decimal(total))
    assert rnd.score == Decimal(total) and rnd.conclusion.value == expected and assessment.state.value == state
    assert assessment.recommended_amount == (Decimal(0) if expected == "reject" else Decimal("6400000.00"))


def test_the_round_keeps_the_rules_it_opened_with(db, world):
    assessment = applied(world)
    ops.submit(assessment, actor=world.unit)
    rnd = ops.arrange(assessment, actor=world.finance, method="finance")
    ops.update_rules({"threshold": "5000000", "from_year": "", "support_from": "90", "adjust_from": "70",
                      **{f"w_{d}": str(w) for d, w in rules.DEFAULT_WEIGHTS.items()}}, actor=world.admin, version=0)
    from tests.assessments.conftest import scores_for
    sheet = rnd.sheets[0]
    ops.save_sheet(sheet, actor=world.finance, version=sheet.lock_version, scores=scores_for(82), comment="意见",
                   submit=True)
    ops.conclude(assessment, actor=world.finance, opinion="意见", recommended_amount="7000000")
    assert rnd.conclusion == Conclusion.SUPPORT  # 82 ≥ 80, the bands when the round opened


def test_weights_must_total_100_and_bands_must_be_ordered(db, world):
    base = {"threshold": "5000000", "from_year": "", "support_from": "80", "adjust_from": "60",
            **{f"w_{d}": str(w) for d, w in rules.DEFAULT_WEIGHTS.items()}}
    with pytest.raises(DomainError, match="合计须为 100"):
        ops.update_rules({**base, "w_funding": "10"}, actor=world.admin, version=0)
    with pytest.raises(DomainError, match="结论分档"):
        ops.update_rules({**base, "adjust_from": "80"}, actor=world.admin, version=0)
    with pytest.raises(DomainError):
        ops.update_rules(base, actor=world.finance, version=0)  # the administrator's setting


def test_a_score_above_a_dimensions_weight_is_refused(db, world):
    assessment = applied(world)
    ops.submit(assessment, actor=world.unit)
    rnd = ops.arrange(assessment, actor=world.finance, method="finance")
    sheet = rnd.sheets[0]
    with pytest.raises(DomainError, match="立项必要性"):
        ops.save_sheet(sheet, actor=world.finance, version=sheet.lock_version,
                       scores={"necessity": "25.01"}, comment="")
    with pytest.raises(DomainError, match="尚有评分表未提交"):
        ops.conclude(assessment, actor=world.finance, opinion="意见", recommended_amount="100")
