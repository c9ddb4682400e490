"""API rate limits (portal/core/ratelimit.py): a client over its limit gets the JSON error with
429 and Retry-After; the limit counts per token on the portal API and per client address on the
public API, so one busy client never throttles another. The rest of the suite runs with the
limits off (tests/conftest.py), so the fuzz is never throttled."""
from __future__ import annotations

import pytest

from portal.core.tokens import create_token
from tests.conftest import FreshRequestClient, app_config


@pytest.fixture()
def limited(app, tmp_root):
    """A portal and a public site with low limits, on the suite's database."""
    import public_site
    from portal import create_app

    config = app_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_root, RATELIMIT_ENABLED=True,
                        API_RATE_LIMIT="3 per minute", PUBLIC_API_RATE_LIMIT="2 per minute",
                        SEARCH_INDEX_DIR=app.config["SEARCH_INDEX_DIR"])
    portal_app, public_app = create_app(config), public_site.create_app(config)
    portal_app.test_client_class = public_app.test_client_class = FreshRequestClient
    return portal_app, public_app


def _too_many(response):
    assert response.status_code == 429, (response.status_code, response.get_data(as_text=True)[:200])
    assert response.is_json and "<html" not in response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "too_many_requests" and "请求过于频繁" in error["message"] and error["fields"] == {}
    assert 0 < int(response.headers["Retry-After"]) <= 60


def test_a_token_over_its_limit_gets_429_json_and_another_token_does_not(limited, db, world):
    portal_app, _public = limited
    _t1, first = create_token(world.finance, "busy")
    _t2, second = create_token(world.audit, "quiet")
    db.session.commit()
    client = portal_app.test_client()
    busy, quiet = ({"Authorization": f"Bearer {raw}"} for raw in (first, second))
    for _ in range(3):
        assert client.get("/api/v1/projects", headers=busy).status_code == 200
    _too_many(client.get("/api/v1/projects", headers=busy))
    _too_many(client.get("/api/v1/library", headers=busy))  # one limit per token, over every endpoint
    assert client.get("/api/v1/projects", headers=quiet).status_code == 200  # same address, other token
    # portal pages are not limited by it
    assert client.get("/login").status_code == 200


def test_the_public_api_limits_per_client_address(limited, db):
    _portal, public_app = limited
    client = public_app.test_client()
    here, there = {"REMOTE_ADDR": "203.0.113.7"}, {"REMOTE_ADDR": "198.51.100.9"}
    for _ in range(2):
        assert client.get("/api/v1/public/snapshots", environ_base=here).status_code == 200
    _too_many(client.get("/api/v1/public/snapshots", environ_base=here))
    assert client.get("/api/v1/public/snapshots", environ_base=there).status_code == 200
    assert client.get("/", environ_base=here).status_code in (200, 304)  # the site itself is not limited


def test_the_limits_are_off_in_the_suite_and_on_by_default(app):
    from portal.config import load_config

    assert app.config["RATELIMIT_ENABLED"] is False  # the fuzz and API tests are never throttled
    defaults = load_config()
    assert defaults["RATELIMIT_ENABLED"] is True and defaults["API_RATE_LIMIT"] == "120 per minute"
    assert defaults["RATELIMIT_STORAGE_URI"] == "memory://"
