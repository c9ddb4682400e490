"""The work assessment's indicator system and its publication read their input through forms:
a tampered cell, row count or version is refused (nothing changes); proper input still works."""
from __future__ import annotations

from portal.extensions import db
from portal.oversight import operations
from portal.oversight.models import AssessmentState
from tests.oversight.test_scorecards import AS_OF, YEAR, _build, _publish_all

DATES = {"budget_approved_on": f"{YEAR}-03-10", "monitoring_due_on": f"{YEAR}-08-31",
         "disclosure_due_on": f"{YEAR}-03-30"}
ROWS = {"rows": "2", "name-0": "目标覆盖", "method-0": "goal_coverage", "weight-0": "60", "guidance-0": "",
        "name-1": "目标随预算", "method-1": "goals_before_budget", "weight-1": "40", "guidance-1": ""}


def _names(assessment):
    db.session.expire_all()
    return [i.name for i in db.session.get(type(assessment), assessment.id).indicators]


def test_the_indicator_system_refuses_tampered_cells(app, db, world, client, login):
    _build(world)
    assessment = operations.compute(YEAR, actor=world.finance, as_of=AS_OF)
    db.session.commit()
    before = _names(assessment)
    login(world.finance)
    url = f"/oversight/assessments/{YEAR}/system"
    for bad in ({"method-1": "drop_everything"}, {"name-0": "指" * 101}, {"guidance-0": "标" * 2001},
                {"weight-0": "6" * 21}, {"rows": str(10**26)}, {"rows": "-1"}):
        data = {**DATES, **ROWS, **bad, "lock_version": str(assessment.lock_version)}
        response = client.post(url, data=data)
        assert response.status_code == 422 and "目标随预算" in response.get_data(as_text=True), bad
        assert _names(assessment) == before, bad
    response = client.post(url, data={**DATES, **ROWS, "lock_version": str(assessment.lock_version)})
    assert response.status_code == 302
    assert _names(assessment) == ["目标覆盖", "目标随预算"]


def test_publishing_refuses_a_tampered_version(app, db, world, client, login):
    assessment = _publish_all(world)
    login(world.finance)
    for version in (str(10**26), "-1", "abc"):
        client.post(f"/oversight/assessments/{YEAR}/publish", data={"lock_version": version})
        db.session.expire_all()
        assert db.session.get(type(assessment), assessment.id).state != AssessmentState.PUBLISHED, version
    client.post(f"/oversight/assessments/{YEAR}/publish", data={"lock_version": str(assessment.lock_version)})
    db.session.expire_all()
    assert db.session.get(type(assessment), assessment.id).state == AssessmentState.PUBLISHED
