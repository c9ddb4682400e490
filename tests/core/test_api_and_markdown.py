from portal.core.api import create_token, revoke_token
from portal.core.markdown import render_markdown


def test_markdown_is_sanitised():
    html = str(render_markdown("**重点**<script>alert(1)</script>[x](javascript:alert(1)) <img src=x onerror=alert(1)>"))
    assert "<strong>重点</strong>" in html
    assert "<script" not in html and "javascript:" not in html and "onerror" not in html


def test_markdown_preview_endpoint_needs_login_and_sanitises(client, world, login):
    assert client.post("/markdown/preview", data={"text": "# 标题"}).status_code == 302
    login(world.finance)
    response = client.post("/markdown/preview", data={"text": "# 标题\n<script>x</script>"})
    assert "<h1>标题</h1>" in response.get_data(as_text=True) and "<script" not in response.get_data(as_text=True)


def test_api_needs_a_live_token(client, db, world):
    token, raw = create_token(world.finance, "预算系统对接")
    db.session.commit()
    assert client.get("/api/v1/openapi.json").status_code == 200
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert raw not in str(token.token_hash)  # only the hash is stored
    from portal.core.api import token_user

    with client.application.test_request_context(headers={"Authorization": f"Bearer {raw}"}):
        assert token_user() == world.finance
    revoke_token(token, actor=world.finance)
    db.session.commit()
    with client.application.test_request_context(headers={"Authorization": f"Bearer {raw}"}):
        assert token_user() is None
    with client.application.test_request_context(headers={"Authorization": "Bearer nonsense"}):
        assert token_user() is None


def test_tokens_page_shows_the_secret_once_and_revokes(client, db, world, login):
    login(world.unit)
    page = client.post("/tokens", data={"name": "对接"}).get_data(as_text=True)
    assert "只显示这一次" in page and "jx_" in page
    page = client.get("/tokens").get_data(as_text=True)
    assert "只显示这一次" not in page
    assert client.post("/tokens", data={"name": ""}).status_code == 200


def test_notifications_read_and_unread_count(client, db, world, login):
    from portal.core.notifications import notify

    notify([world.unit, world.unit, world.finance], "新函件待签收", link="/notifications")
    db.session.commit()
    login(world.unit)
    page = client.get("/").get_data(as_text=True)
    assert page.count("新函件待签收") == 1 and '<span class="count"' in page
    from portal.core.notifications import Notification

    note = db.session.query(Notification).filter_by(user_id=world.unit.id).one()
    assert client.post(f"/notifications/{note.id}/read").status_code == 302
    other = db.session.query(Notification).filter_by(user_id=world.finance.id).one()
    assert client.post(f"/notifications/{other.id}/read").status_code == 404  # not yours
