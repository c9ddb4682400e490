"""A seeded demo database for the fuzz tests (once per session, SQLite; FUZZ_POSTGRES=1 adds
the local PostgreSQL server), both faces on it, one signed-in client per demo role."""
from __future__ import annotations

import logging
import os

import pytest

from tests.conftest import PG_HELP, _pg_server_url, _Postgres, app_config, demo_city_copy
from tests.fuzz import harness


def _backends():
    return ["sqlite", "postgresql"] if os.environ.get("FUZZ_POSTGRES") == "1" else ["sqlite"]


@pytest.fixture(scope="session", params=_backends())
def fuzz_world(request, tmp_root, shared_tmp):
    import public_site
    from portal import create_app
    from portal.demo import DEMO_PASSWORD
    from portal.extensions import db
    from tests.conftest import FreshRequestClient

    if request.param == "postgresql" and not _Postgres.exists(_pg_server_url()):
        pytest.skip(PG_HELP.format(url=_pg_server_url()))
    root = tmp_root / f"fuzz-{request.param}"
    url, _ids = demo_city_copy(request.param, shared_tmp, root)  # its own copy: the fuzz commits
    app = create_app(app_config(url, root, MAX_UPLOAD_MB=2))
    app.test_client_class = FreshRequestClient
    public = public_site.create_app(app_config(url, root))
    with app.app_context():
        pools = harness.id_pools(db)
    clients = {}
    for username in harness.ROLE_USERS:
        client = app.test_client()
        if username:
            response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
            assert response.status_code == 302, username
        clients[username or "anonymous"] = client
    catcher = harness.Unhandled()
    for name in ("", "portal", "public_site"):
        logging.getLogger(name).addHandler(catcher)
    counts = harness.RowCounts(app, db)
    yield {"app": app, "public": public, "clients": clients, "pools": pools, "catcher": catcher, "db": db,
           "backend": request.param, "row_counts": counts}
    counts.close()
    for name in ("", "portal", "public_site"):
        logging.getLogger(name).removeHandler(catcher)
    if request.param == "postgresql":
        with app.app_context():
            db.engine.dispose()
        _Postgres.drop(url)


@pytest.fixture(scope="session")
def form_names(fuzz_world):
    """endpoint -> the input names of the forms that post to it, read from every GET page as
    every role (the forms the users really see)."""
    import collections

    from werkzeug.exceptions import HTTPException

    app, pools = fuzz_world["app"], fuzz_world["pools"]
    adapter = app.url_map.bind("localhost")
    found: dict[str, set[str]] = collections.defaultdict(set)
    for route in harness.routes_of(app, method="GET"):
        if route.arguments and not all(a in pools or a in harness.PATH_WORDS for a in route.arguments):
            continue
        path = harness.path_for(route, pools, lambda xs: xs[0])
        for role in ("admin", "finance", "audit", "unit", "agency", "expert", "conference"):
            response = fuzz_world["clients"][role].get(path)
            if response.status_code != 200 or "html" not in response.content_type:
                continue
            for action, names in harness.scrape_forms(response.get_data(as_text=True), path).items():
                try:
                    endpoint, _args = adapter.match(action.removeprefix("http://localhost"), method="POST")
                except HTTPException:
                    continue
                found[endpoint].update(names)
    return found
