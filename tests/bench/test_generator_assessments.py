"""The ex-ante assessment plug-in at the tiny scale: the rows are what the operations would have
left — every state occurs, each round's score is the operations' own (mean per dimension) and its
conclusion the default band, draws reproduce, and the portal carries on from them: a generated
supported project's goal goes in, a rejected one's is refused, the figures count them."""
from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa

from bench.generate import load
from bench.scales import SCALES
from portal.accounts.models import User
from portal.assessments import operations as ops
from portal.assessments import queries, rules
from portal.assessments.models import Assessment, AssessmentRound
from portal.core.errors import DomainError
from portal.performance import operations as performance_ops
from tests.performance.factories import make_goal

pytestmark = pytest.mark.commits  # the bulk loader commits through connections of its own


def test_generated_assessments_are_what_the_operations_leave(db, app):
    load(db.engine, SCALES["tiny"], seed=1, quiet=True)
    found = db.session.scalars(sa.select(Assessment)).all()
    assert len(found) == SCALES["tiny"].assessments
    states = Counter(a.state.value for a in found)
    assert {"supported", "rejected"} <= set(states)
    band = rules.Rules()
    for rnd in db.session.scalars(sa.select(AssessmentRound)):
        if rnd.conclusion is not None:
            assert rnd.score == ops.round_score(rnd) and band.conclusion_for(rnd.score) == rnd.conclusion
        if rnd.method.value == "agency":
            assert ops.verify_draw(rnd)
    finance = db.session.scalar(sa.select(User).where(User.username == "finance"))
    _rows, total = queries.figures(finance, found[0].year)
    assert total.assessed == sum(a.conclusion is not None for a in found)
    assert total.rejected == states["rejected"]
    supported = next(a for a in found if a.state.value == "supported")
    rejected = next(a for a in found if a.state.value == "rejected")
    unit = db.session.scalar(sa.select(User).where(User.username == "finance"))
    assert performance_ops.submit_goal(supported.project.current_goal or make_goal(supported.project), actor=unit).state.value == "submitted"
    with pytest.raises(DomainError, match="先评估后入库"):
        performance_ops.submit_goal(make_goal(rejected.project), actor=unit)
