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
    assert response.status_code == 422  # a refused form, as in every module
    assert "用户名或密码错误" in response.get_data(as_text=True)


def test_inactive_account_cannot_log_in(client, db, world):
    world.unit.is_active_account = False
    db.session.commit()
    response = client.post("/login", data={"username": "t_unit", "password": PASSWORD})
    assert "已停用" in response.get_data(as_text=True)


def test_huge_and_missing_input_never_500(client, world):
    assert client.post("/login", data={"username": "x" * 100000, "password": "y" * 100000}).status_code == 422
    assert client.post("/login", data={}).status_code == 422
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
    assert "至少三类" in response.get_data(as_text=True)
    response = client.post("/account/password", data={"current_password": PASSWORD, "new_password": "NewPass2026"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/").status_code == 302  # the change ended this session too
    db.session.refresh(world.unit)
    assert world.unit.check_password("NewPass2026") and world.unit.password_hash.startswith("scrypt")
