"""The joint teams' and the packages' API: who lists and reads what (a department that sits on no
team, and a unit for packages, must not read), forming teams in bulk all or nothing and
repeatably, and the endpoints in the aggregated OpenAPI document."""
from __future__ import annotations

from portal.core.tokens import create_token
from portal.core.writes import commit
from portal.extensions import db
from portal.oversight import operations, packages
from portal.oversight.models import CongressPackage, JointTeam
from tests.factories import make_evaluation, make_project
from tests.oversight.test_teams_packages import _reports, _team


def _headers(user) -> dict:
    _token, raw = create_token(user, "api test")
    db.session.commit()
    return {"Authorization": f"Bearer {raw}"}


def test_teams_listed_and_read_by_reach(app, db, world, client):
    evaluation, team = _team(world)
    operations.add_opinion(team, actor=world.observer, text="建议关注资金拨付进度。")
    db.session.commit()
    for user in (world.finance, world.observer, world.conference, world.unit, world.agency):
        body = client.get("/api/v1/teams", headers=_headers(user)).get_json()
        assert [t["id"] for t in body["items"]] == [team.id], user.username
    one = client.get(f"/api/v1/teams/{team.id}", headers=_headers(world.unit)).get_json()
    assert one["evaluation_id"] == evaluation.id and one["state"] == "working" and one["conclusion"] == ""
    assert {(m["side"], m["role"]) for m in one["members"]} == {
        ("finance", "lead"), ("congress", "member"), ("audit", "member"), ("department", "member"),
        ("agency", "observer")}
    assert [(o["side"], o["text"]) for o in one["opinions"]] == [("congress", "建议关注资金拨付进度。")]
    # who sits on no team reads none: another department, another agency, the expert
    for user in (world.other_unit, world.other_agency, world.expert, world.subunit_user):
        headers = _headers(user)
        assert client.get("/api/v1/teams", headers=headers).get_json()["items"] == [], user.username
        assert client.get(f"/api/v1/teams/{team.id}", headers=headers).status_code in (403, 404), user.username
    assert client.get("/api/v1/teams?year=2024", headers=_headers(world.finance)).get_json()["items"] == []
    assert client.get("/api/v1/teams?state=finalised", headers=_headers(world.finance)).get_json()["items"] == []
    assert client.get("/api/v1/teams?state=nonsense", headers=_headers(world.finance)).status_code in (400, 422)
    assert client.get("/api/v1/teams/999999", headers=_headers(world.finance)).status_code == 404


def _key_evaluation(world, name):
    return make_evaluation(make_project(world.subunit, year=2025, name=name), agency=world.agency_org, score="80")


def test_bulk_forms_teams_all_or_nothing_and_repeatably(app, db, world, client):
    first, second = _key_evaluation(world, "甲项目"), _key_evaluation(world, "乙项目")
    db.session.commit()
    body = {"teams": [
        {"evaluation_id": first.id, "members": [{"user_id": world.finance.id, "role": "lead"},
                                                {"user_id": world.observer.id, "role": "member"}]},
        {"evaluation_id": second.id, "members": [{"user_id": world.finance.id, "role": "lead"},
                                                 {"user_id": world.other_unit.id, "role": "member"}]}]}
    finance = _headers(world.finance)
    refused = client.post("/api/v1/teams/bulk", json=body, headers=finance)
    assert refused.status_code == 422  # the other department is not the project's: nothing saved
    error = refused.get_json()["error"]
    assert "第 2 项" in error["message"] and error["code"] == "validation_failed"
    assert [(d["index"], d["field"]) for d in error["details"]] == [(1, "members")]
    assert list(error["fields"]) == ["teams.1.members"]
    db.session.expire_all()
    assert db.session.query(JointTeam).count() == 0
    body["teams"][1]["members"][1]["user_id"] = world.unit.id
    saved = client.post("/api/v1/teams/bulk", json=body, headers=finance)
    assert saved.status_code == 200, saved.get_json()
    assert [len(t["members"]) for t in saved.get_json()["saved"]] == [2, 2]
    again = client.post("/api/v1/teams/bulk", json=body, headers=finance)  # the same request again
    assert again.status_code == 200 and [len(t["members"]) for t in again.get_json()["saved"]] == [2, 2]
    for user in (world.observer, world.unit, world.audit):
        assert client.post("/api/v1/teams/bulk", json=body, headers=_headers(user)).status_code == 403
    assert client.post("/api/v1/teams/bulk", json={"teams": []}, headers=finance).status_code in (400, 422)
    self_eval = make_evaluation(make_project(world.subunit, year=2025), mode="self")
    db.session.commit()
    bad = client.post("/api/v1/teams/bulk", json={"teams": [{"evaluation_id": self_eval.id, "members": [
        {"user_id": world.finance.id, "role": "lead"}]}]}, headers=finance)
    assert bad.status_code == 422 and "重点评价" in bad.get_json()["error"]["message"]
    # a good item between two refused ones: every refusal listed, the good team not saved either
    third = _key_evaluation(world, "丙项目")
    db.session.commit()
    lead = [{"user_id": world.finance.id, "role": "lead"}]
    many = client.post("/api/v1/teams/bulk", json={"teams": [
        {"evaluation_id": self_eval.id, "members": lead}, {"evaluation_id": third.id, "members": lead},
        {"evaluation_id": 999999, "members": lead}]}, headers=finance)
    error = many.get_json()["error"]
    assert many.status_code == 422 and "有 2 项未通过校验" in error["message"]
    assert list(error["fields"]) == ["teams.0.evaluation_id", "teams.2.evaluation_id"]
    db.session.expire_all()
    assert db.session.query(JointTeam).filter_by(evaluation_id=third.id).count() == 0


def test_packages_read_by_reach(app, db, world, client):
    _reports(world, 2025)
    package = packages.start(2025, "final_accounts", actor=world.finance)
    commit()
    package = db.session.get(CongressPackage, package.id)
    assert [p["id"] for p in client.get("/api/v1/packages", headers=_headers(world.finance)).get_json()["items"]] \
        == [package.id]
    observer = _headers(world.observer)
    assert client.get("/api/v1/packages", headers=observer).get_json()["items"] == []  # not submitted yet
    assert client.get(f"/api/v1/packages/{package.id}", headers=observer).status_code in (403, 404)
    packages.submit(package, actor=world.finance, note="随决算报送")
    db.session.commit()
    one = client.get(f"/api/v1/packages/{package.id}", headers=observer).get_json()
    assert one["state"] == "submitted" and one["submitted_by"] == world.finance.display_name
    assert one["sha256"] == package.sha256 and one["files"] == package.contents["files"]
    assert one["figures"]["self_reports"] == 1 and one["figures"]["key_reports"] == 1
    assert client.get("/api/v1/packages?kind=budget_draft", headers=observer).get_json()["items"] == []
    for user in (world.unit, world.agency, world.expert):  # the units never read the packages
        headers = _headers(user)
        assert client.get("/api/v1/packages", headers=headers).get_json()["items"] == [], user.username
        assert client.get(f"/api/v1/packages/{package.id}", headers=headers).status_code in (403, 404)


def test_the_endpoints_are_in_the_openapi_document(app, client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/teams", "/api/v1/teams/{team_id}", "/api/v1/teams/bulk", "/api/v1/packages",
                 "/api/v1/packages/{package_id}", "/api/v1/scorecards"):
        assert path in paths, path
    assert "post" in paths["/api/v1/teams/bulk"]
