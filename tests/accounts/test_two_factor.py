"""Two-factor sign-in: enrolment with a server-drawn QR code, the code step, one-time codes and
recovery codes, required for administrators and signers (through the test client on both
databases, and once in a real browser)."""
from __future__ import annotations

import re
import time

import pyotp
import pytest
import sqlalchemy as sa

from portal.accounts import operations as ops
from portal.accounts.models import ADMIN_DUTIES, Role, User
from portal.core.errors import NotPermitted
from tests import factories
from tests.factories import PASSWORD


def _secret_on(page: str) -> str:
    return re.search(r"data-totp-secret>([A-Z2-7]+)<", page).group(1)


def _password_step(client, username):
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"].split("?")[0].endswith("/login")
    return response


def test_enrol_sign_in_with_a_code_once_and_with_a_recovery_code_once(app, db, world, client, login):
    login(world.unit)
    page = client.get("/account/2fa").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page
    secret = _secret_on(page)
    assert client.post("/account/2fa/enable", data={"code": "000000"}, follow_redirects=True).status_code == 200
    db.session.expire_all()
    assert not db.session.get(User, world.unit.id).has_totp
    shown = client.post("/account/2fa/enable", data={"code": pyotp.TOTP(secret).now()}).get_data(as_text=True)
    codes = re.findall(r"<code>([0-9a-f]{5}-[0-9a-f]{5})</code>", shown)
    assert codes, shown[-3000:]
    assert len(codes) == 10
    db.session.expire_all()
    user = db.session.get(User, world.unit.id)
    assert user.has_totp and all(c not in str(user.totp_secret) for c in codes)
    client.post("/logout")

    # the password alone no longer signs in
    _password_step(client, "t_unit")
    assert client.get("/").status_code == 302
    response = client.post("/login", data={"code": "123456"})
    assert response.status_code == 422 and "验证码不正确" in response.get_data(as_text=True)
    later = pyotp.TOTP(secret).at(time.time() + 30)  # the enrolment used this step's code
    assert client.post("/login", data={"code": later}).status_code == 302
    assert client.get("/").status_code == 200
    client.post("/logout")
    # the same code again: refused (one use per time step)
    _password_step(client, "t_unit")
    assert client.post("/login", data={"code": later}).status_code == 422
    # a recovery code works once
    assert client.post("/login", data={"code": codes[0].upper()}).status_code == 302
    client.post("/logout")
    _password_step(client, "t_unit")
    response = client.post("/login", data={"code": codes[0]})
    assert response.status_code == 422
    assert client.post("/login", data={"code": codes[1]}).status_code == 302


def test_administrators_and_signers_must_enrol_at_first_sign_in(app, db, world, client):
    signer = factories.make_user(world.finance_bureau, Role.SIGNER, username="new.signer", totp_secret=None)
    db.session.commit()
    response = client.post("/login", data={"username": "new.signer", "password": PASSWORD})
    assert response.status_code == 302
    for path in ("/", "/admin/users", "/notifications"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith("/account/2fa"), path
    page = client.get("/account/2fa").get_data(as_text=True)
    assert "您的角色须使用双因素认证" in page
    client.post("/account/2fa/enable", data={"code": pyotp.TOTP(_secret_on(page)).now()})
    assert client.get("/").status_code == 200
    # a signer cannot turn it off; the security administrator can reset it (and that ends their
    # sessions) — the system administrator cannot (三权分立)
    response = client.post("/account/2fa/disable", data={"disable-password": PASSWORD}, follow_redirects=True)
    assert "不能关闭" in response.get_data(as_text=True)
    with pytest.raises(NotPermitted):
        ops.reset_totp(db.session.get(User, signer.id), actor=world.admin)
    security = factories.make_user(world.finance_bureau, Role.SECURITY_ADMIN, username="t_security")
    ops.reset_totp(db.session.get(User, signer.id), actor=security)
    db.session.commit()
    assert client.get("/").status_code == 302


def test_required_for_all_by_configuration(app, db, world, client, monkeypatch):
    monkeypatch.setitem(app.config, "TOTP_REQUIRED_FOR", "all")
    client.post("/login", data={"username": "t_unit", "password": PASSWORD})
    assert client.get("/").headers["Location"].endswith("/account/2fa")
    monkeypatch.setitem(app.config, "TOTP_REQUIRED_FOR", "")
    assert client.get("/").status_code == 200


def test_wrong_codes_are_limited_like_passwords(app, db, world, client):
    _password_step(client, world.admin.username)
    for _ in range(6):
        client.post("/login", data={"code": "000000"})
    response = client.post("/login", data={"code": pyotp.TOTP(factories.TOTP_SECRET).now()})
    assert response.status_code == 422 and "秒后再试" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", sorted(ADMIN_DUTIES | {Role.SIGNER}, key=str))
def test_every_administrator_and_signer_must_use_it_by_default(app, db, world, role):
    from portal.accounts import twofactor
    from portal.config import load_config

    assert app.config["TOTP_REQUIRED_FOR"] == load_config()["TOTP_REQUIRED_FOR"]  # the shipped default
    user = factories.make_user(world.finance_bureau, role, username=f"must.{role}", totp_secret=None)
    assert twofactor.required(user)
    assert not twofactor.required(world.unit) and not twofactor.required(world.finance)
    db.session.rollback()


def test_demo_administrators_have_the_printed_secret_and_sign_in(app, db, client):
    from portal.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET, print_accounts, seed_organisations_and_users

    seed_organisations_and_users({})
    db.session.commit()
    for username in ("admin", "security", "auditor", "signer"):
        user = db.session.execute(sa.select(User).where(User.username == username)).scalar_one()
        assert user.totp_secret == DEMO_TOTP_SECRET and user.has_totp, username
        response = factories.sign_in(client, username, DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
        assert response.status_code == 302 and not response.headers["Location"].endswith("/login"), username
        assert client.get("/").status_code == 200, username
        client.post("/logout")
    lines = []
    print_accounts(lines.append, "x")
    assert any(DEMO_TOTP_SECRET in line for line in lines)
    db.session.rollback()


@pytest.mark.browser
def test_enrolment_and_sign_in_in_a_real_browser(page, app, db, world):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("browser journey runs on SQLite only")
    factories.make_user(world.audit_bureau, Role.SIGNER, username="browser.signer", totp_secret=None)
    db.session.commit()
    page.goto("/portal/login")
    page.get_by_label("用户名").fill("browser.signer")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/portal/account/2fa")
    assert page.locator('img[src^="data:image/svg+xml"]').count() == 1
    secret = page.locator("[data-totp-secret]").inner_text().strip()
    page.get_by_label("验证码").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="开启双因素认证").click()
    assert page.locator("ul.recovery-codes li").count() == 10
    page.get_by_role("link", name="我已保存，进入工作台").click()
    page.wait_for_url("**/portal/")
    page.context.clear_cookies()
    page.goto("/portal/login")
    page.get_by_label("用户名").fill("browser.signer")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_label("验证码").fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="验证").click()
    page.wait_for_url("**/portal/")
    assert "工作台" in page.content()
