"""The portal's language switch both ways (and the public site keeps its own language), and a
ledger bulk action that lands back on the ledger with its message — in a real browser."""
import pytest
from playwright.sync_api import expect

from tests.factories import browser_sign_in
from tests.ledger.conftest import make_problem

pytestmark = pytest.mark.browser


def test_language_switch_both_ways_on_the_portal(page, world, live_server):
    page.goto("/portal/login")
    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/portal/login")  # before: /login, the public site's 404
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("link", name="中文").click()
    page.wait_for_url("**/portal/login")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")

    browser_sign_in(page, "t_finance")
    page.goto("/portal/ledger/?year=2026")
    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/portal/ledger/?year=2026")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto("/")  # the public site keeps its language
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.goto("/portal/ledger/")
    page.get_by_role("link", name="中文").click()
    page.wait_for_url("**/portal/ledger/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


def test_a_ledger_bulk_action_lands_on_the_ledger(page, world, db):
    problem = make_problem(world)
    number, year = problem.number, problem.year
    db.session.commit()  # and no read of the test's own afterwards: SQLite would hold the server's write
    browser_sign_in(page, "t_finance")
    page.goto(f"/portal/ledger/?year={year}")
    page.get_by_label(f"选择 {number}").check()
    page.locator("fieldset.bulk select[name=action]").select_option("assign")
    page.locator("fieldset.bulk input[name=person]").fill("张明")
    page.get_by_role("button", name="执行").click()
    page.wait_for_url(f"**/portal/ledger/?year={year}")  # before: /ledger/…, the public site's 404
    expect(page.get_by_text("已办理 1 项。")).to_be_visible()
    expect(page.locator("table.ledger tbody tr", has_text=number)).to_contain_text("张明")


def test_changed_pages_read_events_in_words_and_screenshots(page, world, db):
    """The dashboard's 我的最近操作 and a problem's 处理记录 in words at desktop and phone widths.
    `SCREENSHOTS=1` saves them into docs/screenshots/ (the README links them)."""
    import os
    from pathlib import Path

    from portal.core.audit import record_change

    problem = make_problem(world)
    record_change(world.finance, "problem.assign", problem, before={"person_responsible": ""},
                  after={"person_responsible": "张明"})
    number, url = problem.number, f"/portal/ledger/{problem.id}"
    db.session.commit()
    browser_sign_in(page, "t_finance")
    out = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    for width, height, name in ((1280, 900, "desktop"), (390, 844, "phone")):
        page.set_viewport_size({"width": width, "height": height})
        page.goto("/portal/")
        recent = page.locator("section", has=page.get_by_role("heading", name="我的最近操作"))
        expect(recent).to_contain_text("指定整改责任人")
        expect(recent.get_by_role("link", name=f"问题“{number}”")).to_be_visible()
        if os.environ.get("SCREENSHOTS") == "1":
            page.screenshot(path=str(out / f"portal-dashboard-{name}.png"), full_page=True)
        page.goto(url)
        expect(page.locator("#history")).to_contain_text("指定整改责任人")
        expect(page.locator("#history")).not_to_contain_text("problem.assign")
        if os.environ.get("SCREENSHOTS") == "1":
            page.screenshot(path=str(out / f"portal-problem-{name}.png"), full_page=True)
