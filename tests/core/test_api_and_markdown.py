import sqlalchemy as sa

from portal.core.api import create_token, revoke_token
from portal.core.audit import history
from portal.core.markdown import render_markdown
from portal.core.tokens import ApiToken


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
    refused = client.post("/tokens", data={"name": ""})
    assert refused.status_code == 422 and "请填写令牌用途" in refused.get_data(as_text=True)


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


def test_token_creation_and_revocation_are_audited(client, db, world, login):
    login(world.unit)
    assert client.post("/tokens", data={"name": "对接系统"}).status_code == 200
    token = db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == world.unit.id)).one()
    assert client.post(f"/tokens/{token.id}/revoke").status_code == 302
    assert client.post(f"/tokens/{token.id}/revoke").status_code == 302  # a second click: no second entry
    created, revoked = history(token)
    assert created.action == "api_token.create" and created.after_dict["name"] == "对接系统"
    assert revoked.action == "api_token.revoke" and revoked.before_dict == {"revoked_at": None}
    assert revoked.after_dict["revoked_at"]


def test_the_preview_and_the_token_form_refuse_over_long_input(client, db, world, login):
    login(world.finance)
    assert client.post("/markdown/preview", data={"body": "字" * 200_001}).status_code == 422
    assert "<strong>x</strong>" in client.post("/markdown/preview", data={"body": "**x**"}).get_data(as_text=True)
    response = client.post("/tokens", data={"name": "用" * 101})
    assert response.status_code == 422 and "不能超过 100 个字符" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0
    assert client.post("/tokens", data={"name": "对\x00接\x1b"}).status_code == 200
    assert db.session.scalars(sa.select(ApiToken.name)).all() == ["对接"]
