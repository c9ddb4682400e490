"""The portal's English/中文 switch behind the combined server (portal under /portal): it goes
back to the page it was clicked on, under the portal's prefix, and changes the portal only."""
BASE = "http://localhost/portal/"


def test_switch_goes_back_under_the_portal_prefix(client, db):
    response = client.get("/lang/en", query_string={"next": "/ledger/?state=open"}, base_url=BASE)
    assert response.status_code == 302
    assert response.headers["Location"] == "/portal/ledger/?state=open"  # before: /ledger/… — the public site's 404


def test_switch_link_on_the_login_page_carries_the_page_it_was_on(client, db):
    page = client.get("/login", base_url=BASE).get_data(as_text=True)
    assert 'href="/portal/lang/en?next=/login"' in page
    response = client.get("/lang/en", query_string={"next": "/login"}, base_url=BASE)
    assert response.headers["Location"] == "/portal/login"


def test_the_language_cookie_is_the_portals_own(client, db):
    response = client.get("/lang/en", query_string={"next": "/"}, base_url=BASE)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("lang=en") and "Path=/portal/" in cookie  # the public site keeps its language


def test_a_next_already_under_the_prefix_is_not_prefixed_twice(client, db):
    response = client.get("/lang/zh", query_string={"next": "/portal/ledger/"}, base_url=BASE)
    assert response.headers["Location"] == "/portal/ledger/"


def test_switch_back_to_chinese(client, world, login):
    login(world.finance)
    client.get("/lang/en", query_string={"next": "/"})
    assert 'lang="en"' in client.get("/").get_data(as_text=True)
    client.get("/lang/zh", query_string={"next": "/"})
    assert 'lang="zh-CN"' in client.get("/").get_data(as_text=True)
