"""A journalist, new to the site, finds 棚户区改造 from the home page, reads the project's
indicator table and grade, downloads the list as CSV and finds the department's feed."""
import pytest

from portal.publishing import operations, search

pytestmark = pytest.mark.browser


def test_a_journalist_finds_a_project_and_its_feed(page, db, world, corpus, index_dir):
    operations.publish(2026, None, ["goals", "self_evaluation", "finance_evaluation", "report"], actor=world.finance)
    db.session.commit()
    search.apply_queue()

    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.get_by_label("搜索绩效信息").fill("棚户区改造")
    page.get_by_label("搜索绩效信息").press("Enter")
    page.wait_for_url("**/search?q=*")
    assert page.get_by_text("找到").first.is_visible()
    page.get_by_role("link", name="城东片区棚户区改造项目").first.click()
    page.wait_for_url("**/projects/*")
    assert page.get_by_role("heading", name="城东片区棚户区改造项目", level=1).is_visible()
    table = page.locator("table.indicators")
    assert "改造户数" in table.inner_text() and "≥1200户" in table.inner_text()
    assert page.locator("#finance_evaluation .grade").inner_text() == "中"
    assert "72.50" in page.locator("#finance_evaluation .score").inner_text()

    feed = page.get_by_role("link", name="订阅本部门公开信息")
    assert feed.get_attribute("href").endswith(".atom")

    page.get_by_role("link", name="测试市住房和城乡建设局").first.click()
    page.wait_for_url("**/departments/*")
    assert page.get_by_role("link", name="订阅本部门公开信息（Atom）").is_visible()
    page.get_by_role("link", name="本部门评价结果").click()
    page.wait_for_url("**/results?department=*")
    with page.expect_download() as info:
        page.get_by_role("link", name="CSV").click()
    path = info.value.path()
    data = open(path, "rb").read()
    assert data.startswith(b"\xef\xbb\xbf")
    assert "城东片区棚户区改造项目" in data.decode("utf-8-sig")
