"""Tampered input on the assessment's forms is refused at the edge (422, the typed text kept,
nothing written); the same forms, filled in properly, still work."""
import pytest
import sqlalchemy as sa

from portal.assessments import operations as ops
from portal.assessments.models import Assessment, AssessmentRound, SheetState
from tests.assessments.conftest import applied, scores_for

ROW = {"basis": "依据市政府工作报告。", "ind_level1": ["output"], "ind_name": ["改造学校数量"],
       "ind_target": ["≥12所"], "ind_weight": ["60"]}


def _indicators(db, assessment):
    db.session.expire_all()
    return [(i.level1.value, i.name, i.weight) for i in db.session.get(Assessment, assessment.id).indicators]


@pytest.mark.commits  # the saved application starts the search index's rebuild thread
def test_the_indicator_table_refuses_tampered_columns(db, world, client, login):
    assessment = applied(world)
    db.session.commit()
    before = _indicators(db, assessment)
    login(world.unit)
    url = f"/assessments/{assessment.id}/edit"
    for bad in ({"ind_level1": ["nope"]}, {"ind_name": ["指" * 201]}, {"ind_weight": ["9" * 21]},
                {"ind_level1": ["output"] * 101, "ind_name": ["一"] * 101}):
        data = {**ROW, **bad, "lock_version": str(assessment.lock_version)}
        response = client.post(url, data=data)
        assert response.status_code == 422 and "依据市政府工作报告" in response.get_data(as_text=True), bad
        assert _indicators(db, assessment) == before, bad
    response = client.post(url, data={**ROW, "lock_version": str(assessment.lock_version)})
    assert response.status_code == 302
    assert [(lv, name) for lv, name, _w in _indicators(db, assessment)] == [("output", "改造学校数量")]


def test_arranging_refuses_ids_that_are_not_offered(db, world, client, login):
    assessment = applied(world)
    ops.submit(assessment, actor=world.unit)
    db.session.commit()
    login(world.finance)
    url = f"/assessments/{assessment.id}/arrange"
    for bad in ({"assessor_ids": [str(10**26)]}, {"assessor_ids": ["-1"]}, {"assessor_ids": ["x"]},
                {"assessor_ids": [str(world.unit.id)]},  # a user who is not an expert
                {"method": "agency", "pool_ids": [str(world.department.id), str(10**26)], "witnesses": "周明"},
                {"method": "lottery"}):
        data = {"method": "experts", "expected_state": "submitted", **bad}
        response = client.post(url, data=data)
        assert response.status_code == 422, bad
        assert db.session.scalar(sa.select(sa.func.count(AssessmentRound.id))) == 0, bad
    response = client.post(url, data={"method": "experts", "assessor_ids": [str(world.expert.id)],
                                      "expected_state": "submitted"})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(AssessmentRound.id))) == 1


def test_the_score_sheet_submits_only_when_its_button_is_pressed(db, world, client, login):
    assessment = applied(world)
    ops.submit(assessment, actor=world.unit)
    sheet = ops.arrange(assessment, actor=world.finance, method="finance").sheets[0]
    db.session.commit()
    login(world.finance)
    scores = {f"score_{d}": v for d, v in scores_for(85).items()}
    url = f"/assessments/sheets/{sheet.id}"
    assert client.post(url, data={**scores, "lock_version": str(sheet.lock_version), "comment": "草稿",
                                  "save": ""}).status_code == 302
    db.session.refresh(sheet)
    assert sheet.state != SheetState.SUBMITTED
    response = client.post(url, data={**scores, "lock_version": str(sheet.lock_version), "comment": "意" * 20_001,
                                      "submit": ""})
    assert response.status_code == 422
    db.session.refresh(sheet)
    assert sheet.state != SheetState.SUBMITTED and sheet.comment == "草稿"
    assert client.post(url, data={**scores, "lock_version": str(sheet.lock_version), "comment": "意见",
                                  "submit": ""}).status_code == 302
    db.session.refresh(sheet)
    assert sheet.state == SheetState.SUBMITTED
