"""Test fixtures. Every test that uses `app` (or `client`, `db`) runs twice: on SQLite and on
PostgreSQL. PostgreSQL comes from TEST_POSTGRES_URL (set by .ci/run), else the local server on
127.0.0.1:5432 if it answers; each test worker gets a throwaway database of its own.
With REQUIRE_POSTGRES=1 (CI) an unreachable server is a failure, otherwise a skip."""
from __future__ import annotations

import contextlib
import gc
import json
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

from tests import demo_city, factories, transactions

pytest_plugins = ["tests.fuzz.tally"]  # the fuzz request count in the summary, also under xdist

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
transactions.install()
PG_HELP = ("PostgreSQL not reachable ({url}): PostgreSQL cases skipped. Start a server on 127.0.0.1:5432 "
           "(user postgres, trust auth) or set TEST_POSTGRES_URL to run them.")


def _pg_server_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL") or DEFAULT_PG


def _create_pg_database(template: str | None = None, name: str | None = None) -> str | None:
    """Create a throwaway database for this worker (empty, or a copy of the database named
    `template`), called `name` (replacing one left so called) or a name of its own; returns
    its URL or None if unreachable."""
    server = make_url(_pg_server_url())
    name = name or f"t_{server.database or 'portal'}_{os.getpid()}_{uuid.uuid4().hex[:6]}".lower()[:60]
    try:
        engine = sa.create_engine(server, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
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


def _pg_database_exists(url: str) -> bool:
    try:
        engine = sa.create_engine(make_url(_pg_server_url()), connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            found = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                {"name": make_url(url).database})
        engine.dispose()
    except Exception:  # unreachable: the cached city cannot be used
        return False
    return found is not None


class _Postgres:
    """How tests/demo_city.py makes, finds and drops PostgreSQL databases on the test server."""
    create = staticmethod(_create_pg_database)
    exists = staticmethod(_pg_database_exists)
    drop = staticmethod(_drop_pg_database)

    @staticmethod
    def server() -> str:
        server = make_url(_pg_server_url())
        return f"{server.host}:{server.port}"


@pytest.fixture(scope="session")
def tmp_root():
    path = Path(tempfile.mkdtemp(prefix="portal-tests-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def kept():
    """What the backend-parametrised session fixtures make (databases, apps, demo cities), made
    once per worker on first use and kept to the end of the run: tests of both backends may then
    come in any order (heavy tests first, see pytest_collection_modifyitems) without pytest
    tearing one backend's fixtures down each time the other's test comes."""
    with contextlib.ExitStack() as stack:
        yield {"stack": stack}


def _keep(kept: dict, key, make):
    """kept[key], made by `make(stack)` the first time (it registers its own clean-up)."""
    if key not in kept:
        kept[key] = make(kept["stack"])
    return kept[key]


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_root, kept):
    """A migrated, empty database on each backend."""
    from portal.core.migrations_check import upgrade

    def make(stack):
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_root / 'portal.db'}"
        else:
            url = _create_pg_database()
            if url is None:
                pytest.skip(PG_HELP.format(url=_pg_server_url()))
            stack.callback(_drop_pg_database, url)
        upgrade(url)
        return url
    return _keep(kept, ("database", request.param), make)


def app_config(url: str, tmp_root: Path, **extra) -> dict:
    name = make_url(url).get_backend_name()
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": url,
        "INSTANCE_DIR": str(tmp_root / f"instance-{name}"),
        "UPLOAD_DIR": str(tmp_root / f"uploads-{name}"),
        "SEARCH_INDEX_DIR": str(tmp_root / f"index-{name}"),
        # the portal's own index: its folder per backend; kept live only by the tests that ask
        # (tests/search/conftest.py), so other tests' outbox counts and timings stay their own
        "PORTAL_INDEX_DIR": str(tmp_root / f"portal-index-{name}"),
        "PORTAL_INDEX_LIVE": False,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,  # the fuzz sends thousands of API requests; tests/api/test_rate_limits.py turns it on
        "MAX_UPLOAD_MB": 2,
        "LOG_FORMAT": "text",
        **({"SQLALCHEMY_ENGINE_OPTIONS": PG_TEST_ENGINE_OPTIONS} if name == "postgresql" else {}),
        **extra,
    }


# A commit of a test's throwaway database need not wait for the server's disk (3–4 ms each,
# against 0.2–0.4 ms): a setting of the test's own connections, not of the shared server; commits
# are as visible to other connections as with the default (only a crash of the server could lose
# the last ones, and a crash ends the run anyway).
PG_TEST_ENGINE_OPTIONS = {"pool_pre_ping": True, "connect_args": {"options": "-c synchronous_commit=off"}}


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
def app(database_url, tmp_root, kept):
    from portal import create_app

    def make(_stack):
        os.environ.setdefault("INSTANCE_DIR", str(tmp_root / "instance"))
        application = create_app(app_config(database_url, tmp_root))
        application.test_client_class = FreshRequestClient
        return application
    return _keep(kept, ("app", database_url), make)


@pytest.fixture()
def db(request, app):
    """An application context over an empty database. The test's writes are rolled back at its
    end; a test marked `commits` (or using live_server, page, tests/concurrency.py) commits for
    real and every table is emptied afterwards (tests/transactions.py)."""
    from portal.core import mail
    from portal.extensions import db as database

    checkpoints = Path(app.config["INSTANCE_DIR"]) / "audit-checkpoints.jsonl"
    checkpoints.unlink(missing_ok=True)
    with app.app_context():
        if needs_commits(request):
            yield database
            # the test's session first: on SQLite its open transaction holds the write lock a
            # rebuild still running waits for (30 s of busy timeout, then a failed rebuild)
            database.session.rollback()
            database.session.remove()
            join_rebuild_threads()  # one a publication started must not run into the next test
            transactions.empty_all_tables(database)
        else:
            with transactions.RolledBack(database.engine) as transaction:
                yield database
                database.session.remove()
            if transaction.foreign:
                pytest.fail(f"threads {sorted(set(transaction.foreign))} connected to the database of a rolled-back "
                            "test: mark it @pytest.mark.commits (tests/transactions.py)")
    mail.test_mailbox.clear()
    checkpoints.unlink(missing_ok=True)


@pytest.fixture(autouse=True)
def _job_runner_restored():
    """The job runner (huey) is one per process: an app built with the production config (no
    TESTING) switches it to a queue no worker drains, and every later job of this test worker
    would wait for ever. Each test gets it back as it found it."""
    from portal.core import jobs

    kept = jobs.huey.storage, jobs.huey.immediate
    yield
    jobs.huey.immediate, jobs.huey.storage = kept[1], kept[0]


COMMITTING_FIXTURES = {"live_server", "page"}


def join_rebuild_threads(timeout: float = 60) -> None:
    """Wait for the search index's background rebuilds this process started (health.heal)."""
    from portal.publishing.search import health

    health.wait_for_rebuilds(timeout)


def needs_commits(request) -> bool:
    return (request.node.get_closest_marker("commits") is not None
            or not COMMITTING_FIXTURES.isdisjoint(request.fixturenames))


def pytest_collection_modifyitems(items):
    """A test that calls tests/concurrency.py (real threads) commits for real (a helper calling
    it for the test is refused at run time: in_parallel asks for the marker). The longest tests
    go first, so no worker is left running one alone at the end: as long as they took in the
    last run (DURATIONS), else the heavy ones (fuzz, browser, the demo city's) first."""
    for item in items:
        function = getattr(item, "function", None)
        if function is not None and not CONCURRENCY_HELPERS.isdisjoint(_names_used(function.__code__)):
            item.add_marker(pytest.mark.commits)
    known = _known_durations()
    items.sort(key=lambda item: -known.get(item.nodeid, HEAVY_GUESS if _heavy(item) else 0.0))


def pytest_collection_finish(session):
    """What is alive once the tests are collected (the imported code, its modules and the test
    items) lives to the end of the run: move it out of the garbage collector's sight, and let the
    young generation grow larger between collections, as portal/core/gc_freeze.py does for a
    server. About 5 % less CPU time a worker."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


# How long each test took when it last ran (setup, call and teardown), kept between runs for the
# order above; a clean clone has none and falls back to the heavy-first guess.
DURATIONS = Path(__file__).resolve().parents[1] / ".cache" / "test-durations.json"
HEAVY_GUESS = 10.0  # seconds: a heavy test never run before goes before the ones that took less
_timed: dict[str, float] = {}


def _known_durations() -> dict[str, float]:
    try:
        return json.loads(DURATIONS.read_text())
    except (OSError, ValueError):
        return {}


def pytest_runtest_logreport(report):
    _timed[report.nodeid] = _timed.get(report.nodeid, 0.0) + report.duration


def _save_durations() -> None:
    if not _timed:
        return
    merged = {**_known_durations(), **{node: round(seconds, 3) for node, seconds in _timed.items()}}
    DURATIONS.parent.mkdir(parents=True, exist_ok=True)
    partial = DURATIONS.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(merged, sort_keys=True))
    partial.replace(DURATIONS)


def _heavy(item) -> bool:
    names = set(getattr(item, "fixturenames", ()))
    return "/fuzz/" in str(item.path) or not names.isdisjoint({"page", "demo_app", "fuzz_world"})


CONCURRENCY_HELPERS = {"in_parallel", "signed_in", "concurrency"}


def _names_used(code) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            names |= _names_used(const)
    return names


# ---- the demo city, seeded once per run and backend (tests/demo_city.py) --------------------

@pytest.fixture(scope="session")
def shared_tmp(tmp_path_factory, pytestconfig) -> Path:
    """A folder every xdist worker of this run shares (the parent of their own); the run's own
    folder without xdist (`-p no:xdist` or `-n 0`)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if hasattr(pytestconfig, "workerinput") else base


def pytest_sessionfinish(session):
    if not hasattr(session.config, "workerinput"):  # the controller, after every worker
        demo_city.drop_seeded(session.config._tmp_path_factory.getbasetemp(), _drop_pg_database)
        _save_durations()


def seed_demo_city(url: str, root: Path) -> dict:
    """Migrate `url` and seed the demo city in it (instance folder `root`); the context's ids."""
    from werkzeug.security import generate_password_hash

    from portal import create_app
    from portal.accounts import models as account_models
    from portal.core.migrations_check import upgrade
    from portal.demo import seed
    from portal.extensions import db as database

    upgrade(url)
    application = create_app(app_config(url, root))
    scrypt = account_models.generate_password_hash
    # the demo hashes passwords with scrypt; a cheap hash keeps the seeding fast
    account_models.generate_password_hash = lambda password, method=None: generate_password_hash(
        password, "pbkdf2:sha256:1")
    try:
        with application.app_context():
            ids = _ids(seed())
            # end the transaction that read the ids first: on SQLite it holds the write lock the
            # index's rebuild (started by the seeding's publications) waits for, 30 s, in vain
            database.session.remove()
            join_rebuild_threads()  # the index the seeding started
            database.engine.dispose()
    finally:
        account_models.generate_password_hash = scrypt
    return ids


def demo_city_copy(backend: str, shared: Path, target: Path) -> tuple[str, dict]:
    """This worker's own copy of the seeded demo city: its URL and the seeding's ids."""
    return demo_city.copy(backend, shared, target, pg=_Postgres, seed=seed_demo_city)


@pytest.fixture(scope="session")
def demo_app(database_url, tmp_root, shared_tmp, kept):
    """The portal over the demo city (portal.demo.seed, as `make run` shows it), seeded once per
    test run and backend and copied to a database of this worker's own. Use it through
    `demo_db`: every test on it is rolled back, so the city stays as seeded. The seeding's
    context, with ids for records, is `demo_app.demo` ({"projects": [ids], "users": {"finance": id}, ...})."""
    from portal import create_app
    from portal.extensions import db as database

    def make(stack):
        url, ids = demo_city_copy(make_url(database_url).get_backend_name(), shared_tmp, tmp_root / "demo")
        if make_url(url).get_backend_name() == "postgresql":
            stack.callback(_drop_pg_database, url)
        application = create_app(app_config(url, tmp_root / "demo"))
        application.test_client_class = FreshRequestClient
        application.demo = ids

        def dispose():
            with application.app_context():
                database.engine.dispose()
        stack.callback(dispose)
        return application
    return _keep(kept, ("demo", database_url), make)


def _ids(ctx: dict) -> dict:
    """The seeding's context with every record replaced by its id (records die with their session)."""
    def ids(value):
        if isinstance(value, dict):
            return {key: ids(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [ids(item) for item in value]
        return getattr(value, "id", value)
    return ids(ctx)


@pytest.fixture()
def demo_db(demo_app):
    """An application context over the demo city; the test's writes are rolled back."""
    from portal.core import mail
    from portal.extensions import db as database

    with demo_app.app_context():
        with transactions.RolledBack(database.engine, reset_sequences=False) as transaction:
            yield database
            database.session.remove()
    mail.test_mailbox.clear()
    if transaction.foreign:
        pytest.fail(f"threads {sorted(set(transaction.foreign))} connected to the demo city's database")


@pytest.fixture()
def client(app, db):
    return app.test_client()


@pytest.fixture()
def login(client):
    """login(user) signs the test client in (factories.sign_in_directly: a real session row and
    cookie, no form); login(user, password) posts the real login form (with the TOTP step when
    asked), for a test whose point is the password."""
    def sign_in(user, password: str | None = None):
        if password is None:
            factories.sign_in_directly(client, user)
            return client
        response = factories.sign_in(client, user.username, password)
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

    transactions.require_commits("live_server")
    public_app = public_site.create_app(app_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_root))
    public_app.wsgi_app = DispatcherMiddleware(public_app.wsgi_app, {"/portal": app})
    server = make_server("127.0.0.1", 0, public_app, threaded=True)
    # shutdown() waits for the loop to look up: every 50 ms, not the default half second (per test)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium (never a downloaded browser), started once per test worker."""
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
        yield browser
        browser.close()


@pytest.fixture()
def page(live_server, browser):
    """A Playwright page in a fresh browser context (its own cookies and storage) per test."""
    context = browser.new_context(locale="zh-CN", base_url=live_server)
    context.set_default_timeout(15000)
    yield context.new_page()
    context.close()
