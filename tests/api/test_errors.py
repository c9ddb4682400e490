"""The API's edge: every refusal is JSON {"error": {"code", "message", "fields"}} with the right
status, never an HTML page or a login redirect for a bearer-token client; the bulk project API
refuses type confusion with 422 and saves nothing; four concurrent clients see no error."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from portal.core.tokens import ApiToken, create_token
from portal.performance.models import Project
from tests import factories
from tests.concurrency import in_parallel
from tests.performance.factories import ROWS


@pytest.fixture()
def bearer(db, world):
    _token, raw = create_token(world.finance, "edge")
    db.session.commit()
    return {"Authorization": f"Bearer {raw}"}


def _error(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:300])
    assert response.is_json, response.get_data(as_text=True)[:200]
    error = response.get_json()["error"]
    assert {"code", "message", "fields"} <= set(error)
    return error


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_other_methods_on_a_get_endpoint_are_405_json(client, bearer, method):
    for url in ("/api/v1/projects", "/api/v1/problems/1", "/api/v1/library", "/api/v1/openapi.json"):
        response = client.open(url, method=method, headers=bearer, json={})
        error = _error(response, 405)
        assert error["code"] == "method_not_allowed" and "GET" in response.headers["Allow"]
    # without a token too: a 405, not a redirect to /login
    assert client.open("/api/v1/projects", method=method).status_code == 405
    assert _error(client.get("/api/v1/projects/bulk", headers=bearer), 405)


def test_unknown_paths_missing_tokens_and_bad_pages_are_json(client, bearer):
    assert _error(client.get("/api/v1/nothing-here", headers=bearer), 404)["code"] == "not_found"
    assert _error(client.get("/api/v1/nothing-here"), 404)  # never the login page
    assert _error(client.get("/api/v1/projects"), 401)["code"] == "unauthorized"
    assert _error(client.get("/api/v1/projects", headers={"Authorization": "Bearer nope"}), 401)
    error = _error(client.get("/api/v1/projects?page=abc", headers=bearer), 400)
    assert error["code"] == "invalid_parameter" and "page" in error["fields"]
    for query in ("page=" + "9" * 26, "per_page=0", "per_page=201", "year=-1", "year=" + "1" * 30,
                  "department=" + "9" * 26, "unit=abc", "kind=nope"):
        assert _error(client.get(f"/api/v1/projects?{query}", headers=bearer), 400)["fields"], query
    for url in ("/api/v1/projects/" + "9" * 20, "/api/v1/projects/99999999999", "/api/v1/problems/4294967296",
                "/api/v1/inquiries/" + "1" * 12, "/api/v1/reviews/2147483648"):
        assert _error(client.get(url, headers=bearer), 404), url
    assert client.get("/api/v1/projects?year=&page=", headers=bearer).status_code == 200  # empty = absent


def test_library_kind_is_validated(client, bearer):
    error = _error(client.get("/api/v1/library?kind=nonsense", headers=bearer), 400)
    assert "kind" in error["fields"]
    assert client.get("/api/v1/library?kind=plan", headers=bearer).get_json()["total"] == 0
    assert client.get("/api/v1/library?q=%01x", headers=bearer).status_code == 200  # the control character dropped


def _item(**override):
    goal = {"overall_goal": "完成培训", "indicators": [dict(r) for r in ROWS]}
    item = {"code": "API-1", "name": "就业技能培训", "year": 2026, "kind": "project", "budget_type": "general",
            "unit_code": "D1", "annual_budget": "1000000", "goal": goal}
    item.update(override)
    return item


CONFUSED = {
    "a list for a string": _item(code=["A", "B"]),
    "a number for a string": _item(name=12345),
    "an object for a string": _item(unit_code={"code": "D1"}),
    "a string for an object": _item(goal="完成培训"),
    "a string for the indicator list": _item(goal={"overall_goal": "x", "indicators": "row"}),
    "a number for an indicator": _item(goal={"overall_goal": "x", "indicators": [5]}),
    "a list for an amount": _item(annual_budget=[1]),
    "a boolean for an amount": _item(annual_budget=True),
    "a huge amount": _item(annual_budget="1" * 40),
    "a year as a string of letters": _item(year="二〇二六"),
    "a year out of range": _item(year=99999),
    "an unknown enum": _item(kind="nope"),
    "an unknown member": _item(colour="red"),
    "a control character": _item(name="就业\x00培训"),
    "a text too long": _item(name="长" * 201),
    "a lock version beyond the integer": _item(lock_version=2**70),
}


@pytest.mark.parametrize("case", sorted(CONFUSED))
def test_bulk_type_confusion_is_422_and_saves_nothing(client, db, bearer, case):
    response = client.post("/api/v1/projects/bulk", json={"projects": [CONFUSED[case]]}, headers=bearer)
    error = _error(response, 422)
    assert error["fields"] and all(key.startswith("projects") for key in error["fields"]), error
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Project)) == 0


@pytest.mark.parametrize("raw", [
    '{"projects": [{"code": "A", "name": "n", "year": 1e999, "kind": "project", "budget_type": "general", '
    '"unit_code": "D1"}]}',
    '{"projects": ' + "[" * 50_000 + "]" * 50_000 + "}",
    "[" * 200_000,
    '{"projects": "all of them"}',
    '{"projects": []}',
    '["projects"]',
    "12",
    "null",
])
def test_bulk_bodies_that_are_not_projects_are_422(client, db, bearer, raw):
    response = client.post("/api/v1/projects/bulk", data=raw, content_type="application/json", headers=bearer)
    _error(response, 422)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Project)) == 0


def test_bulk_bodies_that_are_not_json_are_400_and_too_large_413(client, app, bearer):
    for raw in ("", "{", "projects=1", "\xff\xfe"):
        _error(client.post("/api/v1/projects/bulk", data=raw, content_type="application/json", headers=bearer), 400)
    big = json.dumps({"projects": [_item(name="x" * 1000)] * (app.config["MAX_CONTENT_LENGTH"] // 1000 + 10)})
    _error(client.post("/api/v1/projects/bulk", data=big, content_type="application/json", headers=bearer), 413)


def test_bulk_still_saves_a_valid_request(client, db, bearer):
    response = client.post("/api/v1/projects/bulk", json={"projects": [_item(annual_budget=1000000)]},
                           headers=bearer)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["saved"][0]["annual_budget"] == "1000000.00"


def test_four_concurrent_api_clients_see_no_error(app, db, world):
    for _ in range(5):
        factories.make_project(world.department)
    raws = [create_token(world.finance, f"client {i}")[1] for i in range(4)]
    db.session.commit()
    urls = ["/api/v1/projects", "/api/v1/projects?per_page=2&page=2", "/api/v1/evaluations", "/api/v1/problems"]

    def client_run(raw):
        client, statuses = app.test_client(), []
        for i in range(150):
            response = client.get(urls[i % len(urls)], headers={"Authorization": f"Bearer {raw}"})
            statuses.append(response.status_code)
            response.close()  # as a WSGI server does: runs the after-response write of last_used_at
        return statuses

    results = in_parallel([lambda raw=raw: client_run(raw) for raw in raws])
    statuses = [s for run in results for s in run]
    assert len(statuses) == 600 and set(statuses) == {200}, {s: statuses.count(s) for s in set(statuses)}
    db.session.expire_all()
    used = db.session.scalars(sa.select(ApiToken.last_used_at)).all()
    assert all(used), used  # recorded after the response, once per token


def test_both_all_or_nothing_bodies_refuse_items_in_one_shape(client, db, bearer):
    """The bulk projects and the execution figures answer a refused item alike: 422
    validation_failed, details[] (index, field, message), the dotted path in fields."""
    one_row = {"overall_goal": "完成培训", "indicators": [dict(ROWS[0])]}  # weights short of 90
    projects = client.post("/api/v1/projects/bulk", json={"projects": [_item(), _item(code="API-2", goal=one_row)]},
                           headers=bearer)
    execution = client.post("/api/v1/execution", json={"year": 2026, "month": 7, "items": [
        {"code": "NOPE", "executed": "1"}]}, headers=bearer)
    for response, path in ((projects, "projects.1.goal"), (execution, "items.0.code")):
        error = _error(response, 422)
        assert error["code"] == "validation_failed" and list(error["fields"]) == [path], error
        index, field = path.split(".")[1:]
        assert error["details"] == [{"index": int(index), "field": field, "message": error["fields"][path]}]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Project)) == 0
