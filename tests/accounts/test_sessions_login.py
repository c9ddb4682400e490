"""Sessions that can be revoked, login limits that are no lock-out weapon, the password policy
(等保 2.0 三级 identification, authentication and session management). Each runs on SQLite and
PostgreSQL."""
from __future__ import annotations

import statistics
import time
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.accounts import operations as ops
from portal.accounts.models import AuthSession, LoginThrottle, Role
from portal.accounts.sessions import REMEMBER_COOKIE
from portal.core import clock
from portal.core.errors import DomainError
from tests import factories
from tests.factories import PASSWORD

ATTACKER = {"REMOTE_ADDR": "203.0.113.7"}
OWNER = {"REMOTE_ADDR": "198.51.100.2"}


def _signed_in_with_remember(app, user):
    client = app.test_client()
    response = factories.sign_in(client, user.username, remember="y")
    assert response.status_code == 302
    session_cookie, remember_cookie = client.get_cookie("session"), client.get_cookie(REMEMBER_COOKIE)
    assert session_cookie is not None and remember_cookie is not None
    return client, session_cookie.value, remember_cookie.value


def _replayed(app, name, value):
    """A fresh client carrying only one captured cookie: its answer to the dashboard."""
    other = app.test_client()
    other.set_cookie(name, value)
    return other.get("/")


def test_the_remember_cookie_is_random_hashed_scoped_and_rotated(app, db, world):
    client = app.test_client()
    response = factories.sign_in(client, world.unit.username, remember="y")
    header = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(REMEMBER_COOKIE)][0]
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header and "Max-Age=604800" in header
    value = client.get_cookie(REMEMBER_COOKIE).value
    selector, validator = value.split(".")
    row = db.session.scalars(sa.select(AuthSession).where(AuthSession.remember_selector == selector)).one()
    assert validator not in (row.remember_hash or "") and str(world.unit.id) != selector
    # a remember cookie alone signs in, and comes back rotated
    second = app.test_client()
    second.set_cookie(REMEMBER_COOKIE, value)
    assert second.get("/").status_code == 200
    rotated = second.get_cookie(REMEMBER_COOKIE).value
    assert rotated != value and rotated.startswith(selector + ".")
    # the old value used again is a stolen copy: refused, and that sign-in ends for everyone
    assert _replayed(app, REMEMBER_COOKIE, value).status_code == 302
    assert _replayed(app, REMEMBER_COOKIE, rotated).status_code == 302
    db.session.expire_all()
    assert db.session.get(AuthSession, row.id).end_reason == "remember_reused"


def test_secure_remember_cookie_when_configured(app, db, world, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    response = factories.sign_in(app.test_client(), world.unit.username, remember="y")
    header = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(REMEMBER_COOKIE)][0]
    assert "Secure" in header


def _logout(app, db, world, client):
    assert client.post("/logout").status_code == 302


def _change_password(app, db, world, client):
    response = client.post("/account/password", data={"current_password": PASSWORD, "new_password": "Lzcz#Perf88"})
    assert response.status_code == 302


def _deactivate(app, db, world, client):
    ops.set_active(world.unit, False, actor=world.admin)
    db.session.commit()


def _security_admin(world):
    """三权分立: roles, sessions, 2FA resets and login limits are the security administrator's."""
    found = db_user("t_security")
    return found or factories.make_user(world.finance_bureau, Role.SECURITY_ADMIN, username="t_security")


def db_user(username):
    from portal.accounts.models import User
    from portal.extensions import db

    return db.session.scalars(sa.select(User).where(User.username == username)).one_or_none()


def _role_change(app, db, world, client):
    ops.assign_roles(world.unit, ["observer"], actor=_security_admin(world), version=world.unit.lock_version)
    db.session.commit()


def _admin_resets_password(app, db, world, client):
    ops.reset_password(world.unit, "Qiu#Lan-2026", actor=world.admin)
    db.session.commit()


@pytest.mark.parametrize("event", [_logout, _change_password, _deactivate, _role_change, _admin_resets_password],
                         ids=lambda f: f.__name__.strip("_"))
def test_cookies_captured_before_are_refused_after(app, db, world, event):
    client, session_value, remember_value = _signed_in_with_remember(app, world.unit)
    assert _replayed(app, "session", session_value).status_code == 200  # the copy works until then
    event(app, db, world, client)
    assert _replayed(app, "session", session_value).status_code == 302
    assert _replayed(app, REMEMBER_COOKIE, remember_value).status_code == 302
    assert client.get("/").status_code == 302
    db.session.expire_all()
    assert not db.session.scalars(sa.select(AuthSession).where(AuthSession.user_id == world.unit.id,
                                                               AuthSession.ended_at.is_(None))).all()


def test_sign_out_everywhere_from_the_security_page(app, db, world, client, login):
    phone, desktop = app.test_client(), app.test_client()
    for device in (phone, desktop):
        assert factories.sign_in(device, world.unit.username, remember="y").status_code == 302
    login(_security_admin(world))
    page = client.get(f"/security/users/{world.unit.id}").get_data(as_text=True)
    assert "退出全部会话" in page and "当前有效会话：2个" in page
    response = client.post(f"/security/users/{world.unit.id}/sessions/end", follow_redirects=True)
    assert "已退出该用户的全部会话（2个）" in response.get_data(as_text=True)
    assert phone.get("/").status_code == 302 and desktop.get("/").status_code == 302
    assert client.get("/").status_code == 200  # the administrator's own session goes on


def test_idle_timeout_and_absolute_lifetime(app, db, world):
    start = datetime(2026, 11, 2, 8, 0)
    client = app.test_client()
    with clock.frozen(start):
        assert factories.sign_in(client, world.unit.username).status_code == 302
    with clock.frozen(start + timedelta(minutes=29)):
        assert client.get("/").status_code == 200
    with clock.frozen(start + timedelta(minutes=29 + 31)):
        assert client.get("/").status_code == 302  # idle for more than 30 minutes
    with clock.frozen(start):
        assert factories.sign_in(client, world.unit.username).status_code == 302
    for step in range(1, 36):  # a request every 20 minutes, up to 11 h 40 min
        moment = start + timedelta(minutes=20 * step)
        with clock.frozen(moment):
            assert client.get("/notifications").status_code == 200, moment
    with clock.frozen(start + timedelta(hours=12, minutes=5)):
        assert client.get("/notifications").status_code == 302  # 12 hours after signing in, whatever happens


def test_twenty_wrong_passwords_from_one_address_do_not_stop_the_owner(app, db, world):
    attacker = app.test_client()
    for _ in range(20):
        response = attacker.post("/login", data={"username": "t_unit", "password": "wrong-1"}, environ_base=ATTACKER)
        assert response.status_code == 422
    assert "秒后再试" in response.get_data(as_text=True)
    # that address now waits even with the right password ...
    response = attacker.post("/login", data={"username": "t_unit", "password": PASSWORD}, environ_base=ATTACKER)
    assert response.status_code == 422 and "秒后再试" in response.get_data(as_text=True)
    # ... while the owner signs in from their own address at once
    owner = app.test_client()
    response = owner.post("/login", data={"username": "t_unit", "password": PASSWORD}, environ_base=OWNER)
    assert response.status_code == 302
    assert owner.get("/", environ_base=OWNER).status_code == 200


def test_delays_grow_and_an_administrator_sees_and_clears_them(app, db, world, client, login):
    start = clock.now()
    attacker = app.test_client()
    with clock.frozen(start):
        for _ in range(6):
            attacker.post("/login", data={"username": "t_unit", "password": "wrong-1"}, environ_base=ATTACKER)
        first = db.session.scalars(sa.select(LoginThrottle).where(LoginThrottle.scope == "pair")).one()
        assert first.failures == 6 and first.blocked_until == start + timedelta(seconds=2)
    with clock.frozen(start + timedelta(seconds=3)):
        attacker.post("/login", data={"username": "t_unit", "password": "wrong-1"}, environ_base=ATTACKER)
        db.session.expire_all()
        assert db.session.get(LoginThrottle, first.id).blocked_until == start + timedelta(seconds=3 + 4)
    login(_security_admin(world))  # 三权分立: login limits are the security administrator's
    page = client.get("/security/login-limits").get_data(as_text=True)
    assert "t_unit|203.0.113.7" in page and "203.0.113.7" in page
    # a tampered id is refused: it must neither fail nor clear every counter
    count = db.session.scalar(sa.select(sa.func.count(LoginThrottle.id)))
    for bad in (str(10**26), "-1", "abc", "1.5"):
        assert client.post("/security/login-limits/clear", data={"limit_id": bad}).status_code == 400, bad
        assert db.session.scalar(sa.select(sa.func.count(LoginThrottle.id))) == count, bad
    client.post("/security/login-limits/clear", data={"limit_id": first.id})
    assert db.session.get(LoginThrottle, first.id) is None
    response = attacker.post("/login", data={"username": "t_unit", "password": PASSWORD}, environ_base=ATTACKER)
    assert response.status_code == 302


def _timed_login(app, username, address):
    client = app.test_client()
    began = time.perf_counter()
    response = client.post("/login", data={"username": username, "password": "Wrong#Guess42"},
                           environ_base={"REMOTE_ADDR": address})
    return time.perf_counter() - began, response


def test_known_and_unknown_usernames_answer_alike(app, db, world):
    known = factories.make_user(world.department, Role.UNIT_LIAISON, username="real.person")
    known.set_password("Lzcz#Perf88")  # a real scrypt hash, as every account has outside the tests
    db.session.commit()
    _timed_login(app, "warm.up", "192.0.2.1")
    known_times, unknown_times = [], []
    for i in range(5):
        seconds, k = _timed_login(app, "real.person", f"192.0.2.{10 + i}")
        known_times.append(seconds)
        seconds, u = _timed_login(app, "no.such.person", f"192.0.2.{30 + i}")
        unknown_times.append(seconds)
        assert k.status_code == u.status_code == 422
        assert "用户名或密码错误" in k.get_data(as_text=True) and "用户名或密码错误" in u.get_data(as_text=True)
        assert (k.get_data(as_text=True).replace("real.person", "X")
                == u.get_data(as_text=True).replace("no.such.person", "X"))
    a, b = statistics.median(known_times), statistics.median(unknown_times)
    assert max(a, b) / min(a, b) < 2.0, (known_times, unknown_times)


@pytest.mark.parametrize(("password", "reason"), [
    ("password1", "至少三类"),
    ("aaaaaaa1", "至少三类"),
    ("Short1!", "至少8位"),
    ("Passw0rd!", "过于常见"),
    ("Qwerty123!", "过于常见"),
    ("T_unit#2026", "不能包含用户名或姓名"),
])
def test_a_weak_password_is_refused_with_the_reason(client, db, world, login, password, reason):
    login(world.unit)
    response = client.post("/account/password", data={"current_password": PASSWORD, "new_password": password})
    assert response.status_code == 422 and reason in response.get_data(as_text=True)


def test_the_last_passwords_are_not_reused_and_old_ones_expire(app, db, world, client):
    ops.reset_password(world.unit, "Lzcz#Perf88", actor=world.admin)
    ops.reset_password(world.unit, "Qiu#Lan-2026", actor=world.admin)
    db.session.commit()
    with pytest.raises(DomainError, match="最近5次"):
        ops.reset_password(world.unit, "Lzcz#Perf88", actor=world.admin)
    db.session.rollback()
    world.unit.password_changed_at = clock.now() - timedelta(days=91)
    world.unit.must_change_password = False  # this test is about expiry, not the reset's forced change
    db.session.commit()
    assert factories.sign_in(client, "t_unit", "Qiu#Lan-2026").status_code == 302
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/password")


def _set_cookie(response, name: str) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "="))


@pytest.mark.parametrize("secure", [False, True], ids=["http", "https"])
def test_the_session_cookie_is_scoped_to_the_portal_lax_and_secure_behind_https(app, db, world, monkeypatch, secure):
    """Mounted under /portal (the combined server, or SCRIPT_NAME behind a proxy), the session
    cookie is the portal's alone: never sent to the public site beside it."""
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", secure)
    monkeypatch.setitem(app.config, "SESSION_COOKIE_PATH", None)
    client = app.test_client()
    response = client.post("/login", data={"username": world.unit.username, "password": PASSWORD, "remember": "y"},
                           base_url="http://localhost/portal")
    assert response.status_code == 302
    for name in ("session", REMEMBER_COOKIE):
        header = _set_cookie(response, name)
        assert "Path=/portal/" in header and "SameSite=Lax" in header and "HttpOnly" in header, header
        assert ("Secure" in header) is secure, header
    assert client.get("/", base_url="http://localhost/portal").status_code == 200  # it comes back to the portal
    # a configured SESSION_COOKIE_PATH wins (the combined development server sets /portal)
    monkeypatch.setitem(app.config, "SESSION_COOKIE_PATH", "/portal")
    response = client.get("/", base_url="http://localhost/portal")
    assert "Path=/portal;" in _set_cookie(response, "session") or _set_cookie(response, "session").endswith("Path=/portal")
