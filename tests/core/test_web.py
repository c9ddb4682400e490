def test_security_headers_and_private_cache(client, world, login):
    login(world.finance)
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "private" in response.headers["Cache-Control"]
    assert "HX-Request" in response.headers["Vary"]


def test_error_pages_are_chinese_and_english_on_request(client, world, login):
    login(world.finance)
    response = client.get("/no-such-page")
    assert response.status_code == 404 and "页面不存在" in response.get_data(as_text=True)
    client.get("/lang/en")
    page = client.get("/").get_data(as_text=True)
    assert 'lang="en"' in page and "Dashboard" in page


def test_public_site_runs_alone_without_portal_routes(database_url, tmp_root):
    import public_site
    from tests.conftest import app_config

    app = public_site.create_app(app_config(database_url, tmp_root))
    client = app.test_client()
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "临州市预算绩效信息公开" in page and 'lang="zh-CN"' in page
    assert client.get("/login").status_code == 404
    assert client.get("/portal/").status_code == 404
    assert not any(rule.endpoint.startswith(("auth.", "admin.", "core.")) for rule in app.url_map.iter_rules())


def test_both_faces_freeze_start_up_objects_after_their_first_request_outside_tests(tmp_path):
    """Long-lived start-up objects leave the collector after warm-up (a full pass over them took
    110 ms on a production-sized process); tests, which build hundreds of apps, keep them in."""
    import gc

    import portal
    import public_site

    for factory in (portal.create_app, public_site.create_app):
        gc.unfreeze()
        config = {"SECRET_KEY": "x", "INSTANCE_DIR": str(tmp_path), "SQLALCHEMY_DATABASE_URI": "sqlite://",
                  "SEARCH_INDEX_DIR": str(tmp_path / "index")}
        testing = factory({**config, "TESTING": True}).test_client()
        testing.get("/static/css/portal.css")
        assert gc.get_freeze_count() == 0
        production = factory(config).test_client()
        assert gc.get_freeze_count() == 0  # not before the first request has warmed the process
        production.get("/static/css/portal.css")
        assert gc.get_freeze_count() > 10_000
        gc.unfreeze()


def test_core_pages_never_write_on_get(client, db, world, login):
    """The core guard turns a GET that flushes anything into a 500: every shell page is a 200."""
    from portal.core.notifications import notify
    from portal.core.tokens import create_token

    notify([world.admin], "待阅通知", link="/notifications")
    create_token(world.admin, "对接")
    db.session.commit()
    login(world.admin)
    for url in ("/", "/notifications", "/tokens", "/lang/zh?next=/"):
        assert client.get(url).status_code in (200, 302), url
    client.post("/logout")
    login(world.conference)  # the audit log is the audit administrator's and the conference office's
    for url in ("/audit", "/audit?record_type=users"):
        assert client.get(url).status_code == 200, url


def test_a_notification_read_twice_keeps_the_first_reading(client, db, world, login):
    from datetime import datetime

    from portal.core import clock
    from portal.core.notifications import Notification, notify

    notify([world.unit], "新函件待签收", link="/inquiries/")
    notify([world.unit], "另一条通知", link="/")
    db.session.commit()
    with clock.frozen(datetime(2026, 11, 2, 8, 55)):  # signed in on the same (frozen) clock: no idle timeout
        login(world.unit)
    note = db.session.query(Notification).filter_by(title="新函件待签收").one()
    with clock.frozen(datetime(2026, 11, 2, 9, 0)):
        first = client.post(f"/notifications/{note.id}/read", data={"form_key": "read-1"})
    with clock.frozen(datetime(2026, 11, 2, 9, 20)):
        again = client.post(f"/notifications/{note.id}/read", data={"form_key": "read-1"})
        other_tab = client.post(f"/notifications/{note.id}/read", data={"form_key": "read-2"})
    assert first.headers["Location"] == again.headers["Location"] == other_tab.headers["Location"] == "/inquiries/"
    db.session.expire_all()
    assert db.session.get(Notification, note.id).read_at == datetime(2026, 11, 2, 9, 0)
    with clock.frozen(datetime(2026, 11, 2, 9, 25)):
        assert client.post("/notifications/read-all").headers["Location"] != "/login"
    db.session.expire_all()
    assert db.session.query(Notification).filter(Notification.read_at.is_(None)).count() == 0
