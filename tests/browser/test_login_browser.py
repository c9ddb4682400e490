import pytest

from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_a_person_logs_in_and_sees_the_dashboard(page, world):
    page.goto("/portal/")
    assert "登录" in page.title()
    page.get_by_label("用户名").fill("t_unit")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/portal/")
    assert page.get_by_role("heading", name="工作台").is_visible()
    assert page.get_by_text(world.unit.display_name).first.is_visible()
