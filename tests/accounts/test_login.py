from datetime import datetime, timedelta

from portal.core import clock
from tests.conftest import app_config
from tests.factories import PASSWORD


def test_login_dashboard_logout(client, world):
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = client.post("/login", data={"username": "t_unit", "password": PASSWORD}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "工作台" in page and world.unit.display_name in page
    client.post("/logout")
    assert client.get("/").status_code == 302


def test_wrong_password_is_a_clear_message(client, world):
    response = client.post("/login", data={"username": "t_unit", "password": "wrong-1"})
    assert response.status_code == 200
    assert "用户名或密码错误" in response.get_data(as_text=True)


def test_five_failures_lock_the_account_for_fifteen_minutes(client, db, world):
    start = datetime(2026, 11, 2, 9, 0)
    with clock.frozen(start):
        for _ in range(5):
            response = client.post("/login", data={"username": "t_unit", "password": "wrong-1"})
        assert "已锁定" in response.get_data(as_text=True)
        # even the right password is refused while locked
        response = client.post("/login", data={"username": "t_unit", "password": PASSWORD})
        assert "已锁定" in response.get_data(as_text=True)
    with clock.frozen(start + timedelta(minutes=14)):
        response = client.post("/login", data={"username": "t_unit", "password": PASSWORD})
        assert "1分钟后再试" in response.get_data(as_text=True)
    with clock.frozen(start + timedelta(minutes=16)):
        assert client.post("/login", data={"username": "t_unit", "password": PASSWORD}).status_code == 302


def test_inactive_account_cannot_log_in(client, db, world):
    world.unit.is_active_account = False
    db.session.commit()
    response = client.post("/login", data={"username": "t_unit", "password": PASSWORD})
    assert "已停用" in response.get_data(as_text=True)


def test_huge_and_missing_input_never_500(client, world):
    assert client.post("/login", data={"username": "x" * 100000, "password": "y" * 100000}).status_code == 200
    assert client.post("/login", data={}).status_code == 200
    assert "请输入用户名" in client.post("/login", data={}).get_data(as_text=True)


def test_open_redirect_after_login_is_refused(client, world):
    response = client.post("/login?next=//evil.example.com/", data={"username": "t_unit", "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_post_without_csrf_token_is_refused(database_url, tmp_root, db, world):
    from portal import create_app
    from tests.conftest import FreshRequestClient

    app = create_app(app_config(database_url, tmp_root, WTF_CSRF_ENABLED=True))
    app.test_client_class = FreshRequestClient
    client = app.test_client()
    response = client.post("/login", data={"username": "t_unit", "password": PASSWORD})
    assert response.status_code == 400 and "表单失效" in response.get_data(as_text=True)
    # with the token from the form it goes through; a later POST without one is refused again
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    assert client.post("/login", data={"username": "t_unit", "password": PASSWORD, "csrf_token": token}).status_code == 302
    response = client.post("/notifications/read-all")
    assert response.status_code == 400 and "请求有误" in response.get_data(as_text=True)


def test_own_password_change_enforces_the_policy(client, db, world, login):
    login(world.unit)
    response = client.post("/account/password", data={"current_password": PASSWORD, "new_password": "short"})
    assert "至少8位" in response.get_data(as_text=True)
    response = client.post("/account/password", data={"current_password": PASSWORD, "new_password": "onlyletters"})
    assert "字母和数字" in response.get_data(as_text=True)
    response = client.post("/account/password", data={"current_password": PASSWORD, "new_password": "NewPass2026"})
    assert response.status_code == 302
    db.session.refresh(world.unit)
    assert world.unit.check_password("NewPass2026") and world.unit.password_hash.startswith("scrypt")
