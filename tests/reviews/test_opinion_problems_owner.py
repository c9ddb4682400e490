"""Problems listed from a co-review opinion are defects of the agency's report: they go to the
agency (which sees and rectifies them), not to the evaluated unit (whose 整改率 they would spoil)."""
from datetime import timedelta

import sqlalchemy as sa

from portal.core import clock
from portal.core.permissions import can, visible
from portal.ledger.models import Problem
from portal.reviews import operations as ops


def _listed(setup):
    setup.upload()
    rnd = setup.open_round()
    setup.review_all(rnd)
    setup.decide(rnd, "revise")
    return ops.list_opinion_problems(rnd, actor=setup.world.finance, deadline=clock.today() + timedelta(days=30))


def test_opinion_problems_belong_to_the_agency_that_wrote_the_report(setup, db):
    problems = _listed(setup)
    assert [p.unit for p in problems] == [setup.world.agency_org] * 2  # before: the evaluated department
    assert all(p.project == setup.project for p in problems)  # still filed under the evaluated project


def test_the_agency_sees_and_rectifies_them_and_the_unit_does_not(setup, db):
    problems = _listed(setup)
    agency, unit = setup.world.agency, setup.world.unit
    assert all(can(agency, "view", p) and can(agency, "rectify", p) for p in problems)
    assert not any(can(unit, "rectify", p) for p in problems)
    seen = db.session.scalars(visible(agency, Problem)).all()
    assert {p.id for p in seen} == {p.id for p in problems}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(
        visible(unit, Problem).where(Problem.unit_id == setup.world.department.id).subquery())) == 0


def test_the_agency_is_told(setup, db):
    from portal.core.notifications import Notification

    _listed(setup)
    titles = db.session.scalars(sa.select(Notification.title).where(
        Notification.user_id == setup.world.agency.id)).all()
    assert any("新挂账问题" in t for t in titles)
