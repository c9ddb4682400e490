"""Every role against an application of the department's subordinate unit, assigned to the expert:
who sees it, who edits it, who arranges and concludes, who reads the figures, who scores — through
the permission point, the list query and the write routes."""
import pytest
import sqlalchemy as sa

from portal.assessments import operations as ops
from portal.assessments.models import Assessment
from portal.core.errors import NotPermitted
from portal.core.permissions import can, visible
from tests.assessments.conftest import application
from tests.factories import make_project

# user attribute → (view, edit the application, manage, figures across departments, score the sheet)
EXPECTED = {
    "admin": (True, False, False, True, False),
    "finance": (True, True, True, True, False),
    "finance_signer": (True, True, True, True, False),
    "audit": (True, False, False, True, False),
    "audit_signer": (True, False, False, True, False),
    "conference": (True, False, False, True, False),
    "unit": (True, True, False, False, False),  # the department above the applying unit
    "subunit_user": (True, True, False, False, False),
    "other_unit": (False, False, False, False, False),
    "agency": (False, False, False, False, False),  # not commissioned for this one
    "other_agency": (False, False, False, False, False),
    "expert": (True, False, False, False, True),
    "observer": (True, False, False, True, False),
}


@pytest.fixture()
def assessment(db, world):
    project = make_project(world.subunit, year=2027, budget="8000000")
    record = ops.apply_for(project, application(), actor=world.subunit_user)
    ops.submit(record, actor=world.subunit_user)
    ops.arrange(record, actor=world.finance, method="experts", assessor_ids=[world.expert.id])
    db.session.commit()
    return record


def test_every_role(db, world, assessment):
    sheet = assessment.current_round.sheets[0]
    assert set(EXPECTED) == set(world.users())
    for name, user in world.users().items():
        view, edit, manage, overview, score = EXPECTED[name]
        listed = assessment.id in set(db.session.scalars(visible(user, Assessment, sa.select(Assessment.id))))
        got = (can(user, "view", assessment), can(user, "edit", assessment), can(user, "manage", assessment),
               can(user, "overview", Assessment), can(user, "edit", sheet))
        assert got == (view, edit, manage, overview, score), name
        assert listed == view, name


def test_the_operations_refuse_whoever_the_table_refuses(db, world, assessment):
    sheet = assessment.current_round.sheets[0]
    for user in (world.unit, world.audit, world.observer, world.agency):
        with pytest.raises(NotPermitted):
            ops.save_sheet(sheet, actor=user, version=sheet.lock_version, scores={}, comment="")
        with pytest.raises(NotPermitted):
            ops.conclude(assessment, actor=user, opinion="x", recommended_amount="1")
    with pytest.raises(NotPermitted):
        ops.apply_for(make_project(world.other_department, year=2027), application(), actor=world.unit)


@pytest.mark.parametrize("who", ["other_unit", "audit", "subunit_user", "observer", "expert"])
def test_write_routes_refuse(db, world, assessment, client, login, who):
    login(getattr(world, who))
    for action in ("arrange", "conclude"):
        response = client.post(f"/assessments/{assessment.id}/{action}", data={"method": "finance", "opinion": "x"})
        assert response.status_code in (403, 404), (who, action, response.status_code)
    assert db.session.get(Assessment, assessment.id).state.value == "assessing"


def test_an_agency_reads_what_it_was_commissioned_for(db, world):
    from portal.reviews.operations import set_pool

    set_pool(2027, [world.agency_org.id, world.other_agency_org.id], actor=world.finance)
    project = make_project(world.department, year=2027, budget="8000000")
    record = ops.apply_for(project, application(), actor=world.unit)
    ops.submit(record, actor=world.unit)
    rnd = ops.arrange(record, actor=world.finance, method="agency", witnesses="周明",
                      pool_ids=[world.agency_org.id, world.other_agency_org.id])
    chosen = world.agency if rnd.agency_id == world.agency_org.id else world.other_agency
    other = world.other_agency if chosen is world.agency else world.agency
    assert can(chosen, "view", record) and can(chosen, "edit", rnd.sheets[0])
    assert not can(other, "view", record) and not can(other, "edit", rnd.sheets[0])
