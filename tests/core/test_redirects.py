"""Redirects and headers (issue 15, item 7): `next=` only as a path on this site, on login and on
the language switch; downloads of non-public data `private, no-store`; HSTS behind HTTPS."""
import pytest

from portal.core.redirects import is_safe_path, safe_next
from tests.conftest import app_config
from tests.factories import PASSWORD
from tests.inquiries.conftest import inq, make_letter  # noqa: F401

# every form an attacker uses to leave the site, raw and percent-encoded
REFUSED = [
    "https://evil.example/",
    "http:evil.example",
    "javascript:alert(1)",
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "/\t/evil.example/",
    "/%09/evil.example/",
    "/%2509/evil.example/",
    "/\r\n/evil.example/",
    "/%0d%0a/evil.example/",
    "/%0a/evil.example/",
    "/%2F%2Fevil.example/",
    "/%2f/evil.example/",
    "%2F%2Fevil.example/",
    "/%5Cevil.example/",
    "/%255Cevil.example/",
    "/%00/evil.example/",
    " //evil.example/",
    "evil.example",
    "",
    "/" + "a" * 3000,
]
ACCEPTED = ["/", "/inquiries/", "/projects/12?tab=goals&page=2", "/search?q=%E6%94%B9%E9%80%A0", "/a/b#c"]


@pytest.mark.parametrize("target", REFUSED)
def test_each_open_redirect_form_is_refused(target):
    assert not is_safe_path(target)
    assert safe_next(target, "/home") == "/home"


@pytest.mark.parametrize("target", ACCEPTED)
def test_paths_on_this_site_are_kept(target):
    assert safe_next(target, "/home") == target


@pytest.mark.parametrize("target", REFUSED)
def test_login_refuses_each_form(client, world, target):
    response = client.post("/login", query_string={"next": target},
                           data={"username": world.unit.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/", target


def test_login_keeps_a_path_on_this_site(client, world):
    response = client.post("/login", query_string={"next": "/inquiries/?page=2"},
                           data={"username": world.unit.username, "password": PASSWORD})
    assert response.headers["Location"] == "/inquiries/?page=2"


@pytest.mark.parametrize("target", REFUSED)
def test_language_switch_refuses_each_form_without_login(client, db, target):
    response = client.get("/lang/en", query_string={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/", target


def test_language_switch_keeps_a_path(client, db):
    assert client.get("/lang/en?next=/notifications").headers["Location"] == "/notifications"


def test_downloads_of_non_public_data_are_never_stored(db, world, client, login):
    from datetime import date

    from tests.conference.conftest import make_meeting

    meeting = make_meeting(world, date(2026, 5, 6), minutes="## 一、会议认为\n加强财审联动。")
    db.session.commit()
    login(world.observer)
    response = client.get(f"/conference/meetings/{meeting.id}/minutes.docx")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert client.get("/").headers["Cache-Control"] == "private, no-store"


def test_letter_docx_is_never_stored(inq, client, login, db):  # noqa: F811

    letter = make_letter(inq, "sent")
    login(inq.audit)
    response = client.get(f"/inquiries/{letter.id}/docx")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-store"


def test_hsts_only_when_cookies_are_secure(database_url, tmp_root, db, client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    from portal import create_app

    secure = create_app(app_config(database_url, tmp_root, SESSION_COOKIE_SECURE=True))
    response = secure.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
