"""The joint-oversight plug-in at the tiny scale (two counties): teams are what the operations
leave (one lead, the four organisations, opinions by members only, finalised ones with their
text), and the circulated scorecards — per department and per county finance bureau — are exactly
what `operations.compute` makes of the same data: recomputed by the portal, every line, total,
rank and grade stays as generated."""
from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa

from bench.generate import load
from bench.scales import SCALES
from portal.accounts.models import User
from portal.oversight import operations
from portal.oversight.models import (
    AssessmentState,
    JointTeam,
    Scorecard,
    SubjectKind,
    TeamRole,
    TeamState,
    WorkAssessment,
)
from portal.performance.models import EvaluationMode

pytestmark = pytest.mark.commits  # the bulk loader commits through connections of its own


def test_generated_teams_and_scorecards_are_what_the_operations_leave(db, app):
    load(db.engine, SCALES["tiny"], seed=1, quiet=True)
    teams = db.session.scalars(sa.select(JointTeam)).all()
    assert teams and {t.state for t in teams} <= set(TeamState)
    for team in teams:
        assert team.evaluation.mode == EvaluationMode.FINANCE
        assert [m.role for m in team.members].count(TeamRole.LEAD) == 1
        assert {"finance", "congress", "audit", "department"} <= {m.side.value for m in team.members}
        assert all(o.member.role != TeamRole.OBSERVER for o in team.opinions)
        department = next(m for m in team.members if m.side.value == "department")
        assert department.organisation_id == team.evaluation.project.department_id
        assert (team.state == TeamState.FINALISED) == bool(team.conclusion)
    assessment = db.session.scalars(sa.select(WorkAssessment)).one()
    assert assessment.state == AssessmentState.PUBLISHED and assessment.circular_number
    kinds = Counter(c.subject_kind for c in assessment.scorecards)
    assert kinds[SubjectKind.COUNTY] == SCALES["tiny"].counties and kinds[SubjectKind.DEPARTMENT] == 0
    generated = {c.organisation_id: (c.total, c.rank, c.grade,
                                     [(line.indicator.name, line.numerator, line.denominator, line.score)
                                      for line in c.lines]) for c in assessment.scorecards}
    # the portal recomputes the same year from the same data (manual scores are kept)
    db.session.execute(sa.update(WorkAssessment).values(state="draft"))
    db.session.commit()
    finance = db.session.scalar(sa.select(User).where(User.username == "finance"))
    db.session.expire_all()
    again = operations.compute(assessment.year, actor=finance, as_of=assessment.as_of)
    recomputed = {c.organisation_id: (c.total, c.rank, c.grade,
                                      [(line.indicator.name, line.numerator, line.denominator, line.score)
                                       for line in c.lines]) for c in again.scorecards}
    assert recomputed == generated
    assert db.session.scalar(sa.select(sa.func.count(Scorecard.id))) == len(generated)
    db.session.rollback()
