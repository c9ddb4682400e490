"""Test fixtures. Every test that uses `app` (or `client`, `db`) runs twice: on SQLite and on
PostgreSQL. PostgreSQL comes from TEST_POSTGRES_URL (set by .ci/run), else the local server on
127.0.0.1:5432 if it answers; each test worker gets a throwaway database of its own.
With REQUIRE_POSTGRES=1 (CI) an unreachable server is a failure, otherwise a skip."""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url

from tests import factories

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_HELP = ("PostgreSQL not reachable ({url}): PostgreSQL cases skipped. Start a server on 127.0.0.1:5432 "
           "(user postgres, trust auth) or set TEST_POSTGRES_URL to run them.")


def _pg_server_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL") or DEFAULT_PG


def _create_pg_database() -> str | None:
    """Create a throwaway database for this worker; returns its URL or None if unreachable."""
    server = make_url(_pg_server_url())
    name = f"t_{server.database or 'portal'}_{os.getpid()}_{uuid.uuid4().hex[:6]}".lower()[:60]
    try:
        engine = sa.create_engine(server, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
    except Exception as error:  # unreachable or refused
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.exit(f"PostgreSQL required but unreachable at {server!r}: {error}", returncode=1)
        return None
    return server.set(database=name).render_as_string(hide_password=False)


def _drop_pg_database(url: str) -> None:
    server = make_url(_pg_server_url())
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session")
def tmp_root():
    path = Path(tempfile.mkdtemp(prefix="portal-tests-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_root):
    """A migrated, empty database on each backend."""
    from portal.core.migrations_check import upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_root / 'portal.db'}"
        upgrade(url)
        yield url
        return
    url = _create_pg_database()
    if url is None:
        pytest.skip(PG_HELP.format(url=_pg_server_url()))
    upgrade(url)
    yield url
    _drop_pg_database(url)


def app_config(url: str, tmp_root: Path, **extra) -> dict:
    name = make_url(url).get_backend_name()
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": url,
        "INSTANCE_DIR": str(tmp_root / f"instance-{name}"),
        "UPLOAD_DIR": str(tmp_root / f"uploads-{name}"),
        "SEARCH_INDEX_DIR": str(tmp_root / f"index-{name}"),
        "WTF_CSRF_ENABLED": False,
        "MAX_UPLOAD_MB": 2,
        **extra,
    }


class FreshRequestClient(FlaskClient):
    """Tests hold an application context (to share db.session with the requests they make);
    Flask would then reuse it for every request, so `g` and the locale would leak from one
    request to the next. Give every request a fresh `g` and locale, as in production."""

    def open(self, *args, **kwargs):
        import flask_babel
        from flask.globals import _cv_app

        ctx = _cv_app.get(None)
        if ctx is not None:
            ctx.g = ctx.app.app_ctx_globals_class()
            flask_babel.refresh()
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(database_url, tmp_root):
    from portal import create_app

    os.environ.setdefault("INSTANCE_DIR", str(tmp_root / "instance"))
    application = create_app(app_config(database_url, tmp_root))
    application.test_client_class = FreshRequestClient
    return application


@pytest.fixture()
def db(app):
    """An application context over an empty database; every table is emptied afterwards."""
    from portal.core import notifications
    from portal.extensions import db as database

    with app.app_context():
        yield database
        database.session.rollback()
        database.session.remove()
        _empty_all_tables(database)
    notifications.outbox.clear()


def _empty_all_tables(database) -> None:
    tables = [t.name for t in reversed(database.metadata.sorted_tables)]
    engine = database.engine
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
            for table in tables:
                conn.exec_driver_sql(f'DELETE FROM "{table}"')
            conn.exec_driver_sql("DELETE FROM sqlite_sequence") if _has_sqlite_sequence(conn) else None


def _has_sqlite_sequence(conn) -> bool:
    return conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'").first() is not None


@pytest.fixture()
def client(app, db):
    return app.test_client()


@pytest.fixture()
def login(client):
    """login(user) signs the test client in through the real login form."""
    def sign_in(user, password: str = factories.PASSWORD):
        response = client.post("/login", data={"username": user.username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client
    return sign_in


@pytest.fixture()
def world(db):
    """A small organisation tree with one user per role (see factories.make_world)."""
    return factories.make_world()


# ---- real browser --------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture()
def live_server(app, db, tmp_root):
    """The combined development app (public site at /, portal at /portal/) on a free port."""
    from werkzeug.middleware.dispatcher import DispatcherMiddleware
    from werkzeug.serving import make_server

    import public_site

    public_app = public_site.create_app(app_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_root))
    public_app.wsgi_app = DispatcherMiddleware(public_app.wsgi_app, {"/portal": app})
    server = make_server("127.0.0.1", 0, public_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture()
def page(live_server):
    """A Playwright page in Debian's chromium (never a downloaded browser)."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} not installed: browser tests skipped (apt-get install chromium to run them)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        context = browser.new_context(locale="zh-CN", base_url=live_server)
        context.set_default_timeout(15000)
        yield context.new_page()
        browser.close()
