"""schemathesis over both OpenAPI documents: every operation with generated parameters and bodies
(schema-valid and schema-violating), as a finance user with a real bearer token, on SQLite and
PostgreSQL (the `app` fixture). Every answer must be below 500, in JSON, and conform to the
documented response schema; a refused bulk write changes nothing. Prints how many requests it sent."""
from __future__ import annotations

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from portal.core.tokens import create_token
from tests.fuzz import tally
from tests.fuzz.harness import SCALE

# Per operation and generation mode (20 at the full budget, FUZZ_EXAMPLES=1): runs in seconds.
EXAMPLES = max(2, int(20 * SCALE))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _counts(db) -> dict:
    from portal.core.audit import AuditEntry
    from portal.performance.models import Indicator, PerformanceGoal, Project

    return {m.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(m))
            for m in (Project, PerformanceGoal, Indicator, AuditEntry)}


def fuzz(schema, call, db, *, known_ids: dict[str, int]) -> tuple[int, list[str]]:
    """Run every operation of `schema`; returns (requests sent, failures)."""
    sent, failures = 0, []
    for result in schema.get_all_operations():
        operation = result.ok()
        strategies = [operation.as_strategy(generation_mode=mode) for mode in
                      (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
        params = {p["name"] for p in operation.definition.raw.get("parameters", []) if p["in"] == "path"}
        if params and params <= set(known_ids):  # also on records that exist, for the 200 answers
            strategies.append(operation.as_strategy(path_parameters={p: known_ids[p] for p in params}))
        for strategy in strategies:
            @SETTINGS
            @given(case=strategy)
            def run(case):
                nonlocal sent
                before = _counts(db) if case.method != "GET" else None
                response = call(case)
                sent += 1
                tally.count_api(response.status_code)
                label = f"{case.method} {case.formatted_path} {case.query} {case.body!r:.200} → {response.status_code}"
                if response.status_code >= 500:
                    failures.append(label + " " + response.content[:300].decode(errors="replace"))
                    return
                if "application/json" not in (response.headers.get("content-type") or [""])[0]:
                    failures.append(label + " not JSON")
                    return
                if response.status_code >= 400:
                    error = response.json().get("error", {})
                    if not {"code", "message", "fields"} <= set(error):
                        failures.append(label + f" error shape {error}")
                    if before is not None and _counts(db) != before:
                        failures.append(label + " a refused request changed the database")
                try:
                    case.validate_response(response, checks=[response_schema_conformance])
                except Exception as error:  # noqa: BLE001  collected, reported together
                    failures.append(f"{label} does not conform: {str(error)[:400]}")
            run()
    return sent, failures


@pytest.fixture()
def seeded(demo_app, demo_db):
    """The demo city (projects, goals, monitoring, evaluations, letters, problems, reviews, meetings),
    so that the detail endpoints also answer 200 and their bodies are checked against the schema."""
    from portal.accounts.models import User
    from portal.assessments.models import Assessment
    from portal.inquiries.models import Letter
    from portal.ledger.models import Problem
    from portal.performance.models import MonitoringReport
    from portal.reviews.models import Report

    db = demo_db
    _token, raw = create_token(db.session.get(User, demo_app.demo["users"]["finance"]), "fuzz")
    db.session.commit()
    first = {name: db.session.scalar(sa.select(sa.func.min(column))) for name, column in (
        ("project_id", MonitoringReport.project_id), ("problem_id", Problem.id), ("letter_id", Letter.id),
        ("report_id", Report.id), ("assessment_id", Assessment.id))}
    return {"raw": raw, "ids": {name: value for name, value in first.items() if value is not None}}


def test_portal_api_fuzz(demo_app, demo_db, seeded, capsys):
    app, db = demo_app, demo_db
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    auth = {"Authorization": f"Bearer {seeded['raw']}"}
    client = app.test_client()
    sent, failures = fuzz(schema, lambda case: case.call(headers=auth), db, known_ids=seeded["ids"])
    extra = _every_other_method(client, schema, auth)
    with capsys.disabled():
        print(f"\n[api fuzz, portal, {app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}] "
              f"{sent + extra} requests, {len(failures)} failures")
    assert failures == [], "\n".join(failures)


def test_public_api_fuzz(app, db, tmp_root, capsys):
    import public_site
    from tests.conftest import app_config

    # An index of its own: not one another test's background rebuild is still writing (a search
    # during that window fails inside portal/core/search/matching.py — reported separately).
    public = public_site.create_app(app_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_root,
                                               SEARCH_INDEX_DIR=str(tmp_root / "index-api-fuzz")))
    schema = schemathesis.openapi.from_wsgi("/api/v1/public/openapi.json", public)
    client = public.test_client()
    with public.app_context():
        sent, failures = fuzz(schema, lambda case: case.call(), db, known_ids={})
        extra = _every_other_method(client, schema, {})
    with capsys.disabled():
        print(f"\n[api fuzz, public, {app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}] "
              f"{sent + extra} requests, {len(failures)} failures")
    assert failures == [], "\n".join(failures)


def _every_other_method(client, schema, headers) -> int:
    """Each documented path with each method it does not document: a JSON 405, never a login redirect."""
    sent = 0
    for path, ops in schema.raw_schema["paths"].items():
        url = path.replace("{", "").replace("}", "")
        url = "/".join("1" if part.endswith("_id") or part == "ref" else part for part in url.split("/"))
        for method in METHODS:
            if method.lower() in ops:
                continue
            response = client.open(url, method=method, headers=headers, json={})
            sent += 1
            tally.count_api(response.status_code)
            assert response.status_code == 405, (method, url, response.status_code)
            assert response.is_json and response.get_json()["error"]["code"] == "method_not_allowed"
            assert "Allow" in response.headers
    return sent
