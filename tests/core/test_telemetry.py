"""Health, readiness, request ids in the logs, metrics: what an operator on call relies on."""
from __future__ import annotations

import logging
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from portal.core import clock, outbox
from portal.core.writes import perform
from tests.conftest import app_config
from tests.publishing import corpus as corpus_module

pytestmark = pytest.mark.commits  # readiness checks start background index rebuilds (their own connections)


@pytest.fixture(autouse=True)
def fresh_index(app):
    """Each test starts without another test's index (or its background rebuild)."""
    import threading

    def settle():
        for thread in threading.enumerate():
            if thread.name == "search-index-rebuild":
                thread.join(120)
        shutil.rmtree(Path(app.config["SEARCH_INDEX_DIR"]), ignore_errors=True)
    settle()
    yield
    settle()


def _public(app, tmp_root):
    import public_site

    return public_site.create_app(app_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_root,
                                             SEARCH_INDEX_DIR=app.config["SEARCH_INDEX_DIR"]))


def _published(world):
    from portal.publishing import operations, search
    from tests.publishing.test_publishing import ALL

    corpus_module.build(world)
    operations.publish(2026, None, ALL, actor=world.finance)
    from portal.extensions import db

    db.session.commit()
    search.reindex()


def test_healthz_and_readyz_answer_without_login_on_both_faces(app, db, client, tmp_root):
    public = _public(app, tmp_root).test_client()
    for c in (client, public):
        assert c.get("/healthz").get_json() == {"status": "ok"}
        ready = c.get("/readyz")
        assert ready.status_code == 200, ready.get_json()
        assert ready.get_json()["status"] == "ready"
    assert set(client.get("/readyz").get_json()["checks"]) == {"database", "migrations", "search_index", "outbox",
                                                                "job_queue"}


def test_readyz_fails_when_the_database_is_down(tmp_root):
    from portal import create_app

    down = create_app(app_config("postgresql+psycopg://postgres@127.0.0.1:1/nowhere", tmp_root,
                                 SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 2}}))
    response = down.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"] == {"database": "OperationalError"}
    assert down.test_client().get("/healthz").status_code == 200  # alive, not ready


def test_readyz_fails_when_the_index_is_missing_or_incomplete(app, db, world, client):
    from portal.core.versions import Versioned  # noqa: F401  (models loaded)

    _published(world)
    assert client.get("/readyz").status_code == 200
    shutil.rmtree(Path(app.config["SEARCH_INDEX_DIR"]))
    response = client.get("/readyz")
    assert response.status_code == 503 and response.get_json()["checks"]["search_index"] == "missing"


def test_readyz_fails_when_the_outbox_is_stuck(app, db, world, client, monkeypatch):
    from portal.core import jobs

    monkeypatch.setattr(jobs, "drain_soon", lambda: None)  # no worker running
    perform(lambda: outbox.enqueue("email", {"to": "a@example.gov.cn", "subject": "s", "text": "t"}))
    assert client.get("/readyz").status_code == 200  # just queued: not lagging yet
    with clock.frozen(clock.now() + timedelta(hours=1)):
        response = client.get("/readyz")
    assert response.status_code == 503 and response.get_json()["checks"]["outbox"] == "lagging"


def test_a_request_is_logged_with_its_request_id(app, db, client, caplog):
    caplog.set_level(logging.INFO, logger="portal")
    ok = client.get("/healthz", headers={"X-Request-ID": "req-abc-12345"})
    assert ok.headers["X-Request-ID"] == "req-abc-12345"
    caplog.clear()
    response = client.get("/readyz", headers={"X-Request-ID": "req-ready-0001"})
    assert any(r.request_id == "req-ready-0001" and "/readyz" in r.getMessage() for r in caplog.records)
    assert response.headers["X-Request-ID"] == "req-ready-0001"


def test_an_unhandled_exception_is_logged_with_its_traceback_and_request_id(tmp_root, caplog):
    from portal import create_app

    application = create_app(app_config(f"sqlite:///{tmp_root / 'boom.db'}", tmp_root))

    @application.get("/boom-for-the-log")
    def boom():
        raise RuntimeError("boom for the log")
    from portal.core.login_gate import login_required_everywhere

    application.before_request_funcs[None].remove(login_required_everywhere)
    caplog.set_level(logging.INFO, logger="portal")
    response = application.test_client().get("/boom-for-the-log", headers={"X-Request-ID": "req-boom-0001"})
    assert response.status_code == 500
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors and errors[0].request_id == "req-boom-0001" and errors[0].exc_info is not None
    assert "boom for the log" in caplog.text


def test_a_malformed_request_id_is_replaced(client, db):
    response = client.get("/healthz", headers={"X-Request-ID": "bad id <script>"})
    assert response.headers["X-Request-ID"] != "bad id <script>" and len(response.headers["X-Request-ID"]) == 32


def test_metrics_from_loopback_only_unless_a_token_is_configured(app, db, client, monkeypatch):
    client.get("/healthz")
    client.get("/login")
    body = client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_data(as_text=True)
    assert "flask_http_request_duration_seconds" in body and "portal_outbox_pending" in body
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 403
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "s3cret-token")
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 403
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"},
                      headers={"Authorization": "Bearer s3cret-token"}).status_code == 200


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_log_lines_carry_request_id_in_both_formats(fmt):
    import json

    from portal.core.telemetry import RequestContext, TextFormatter

    record = logging.LogRecord("portal.request", logging.INFO, __file__, 1, "GET / 200", (), None)
    RequestContext().filter(record)
    record.request_id, record.user_id = "abc12345", "7"
    if fmt == "json":
        from pythonjsonlogger.json import JsonFormatter

        line = JsonFormatter("%(levelname)s %(message)s").format(record)
        assert json.loads(line)["request_id"] == "abc12345"
    else:
        assert "[req=abc12345 user=7]" in TextFormatter("%(message)s").format(record)
