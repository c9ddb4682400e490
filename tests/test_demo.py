"""The demo: every account can log in and sees its dashboard in Chinese."""
from portal.demo import DEMO_PASSWORD, USERS
from tests import factories


def test_every_demo_account_logs_in_to_a_chinese_dashboard(demo_app, demo_db):
    client = demo_app.test_client()
    for username, name, *_rest in USERS:
        response = factories.sign_in(client, username, DEMO_PASSWORD)  # admin and signers: the TOTP step too
        assert response.status_code == 302, username
        page = client.get("/").get_data(as_text=True)
        assert "工作台" in page and name in page, username
        client.post("/logout")
