import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_a_person_logs_in_and_sees_the_dashboard(page, world):
    page.goto("/portal/")
    assert "登录" in page.title()
    page.get_by_label("用户名").fill("t_unit")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/portal/")
    expect(page.get_by_role("heading", name="工作台")).to_be_visible()
    expect(page.get_by_text(world.unit.display_name).first).to_be_visible()
