"""From the header: "/" focuses the search box, a phrase finds the unit's problem (and not another
unit's), the arrow keys reach the result and Enter opens it; a list sorts by its column header —
in a real browser."""
import shutil

import pytest
from playwright.sync_api import expect

from tests.factories import browser_sign_in
from tests.ledger.conftest import make_problem

pytestmark = pytest.mark.browser
PHRASE = "校舍抗震加固"


def test_header_search_opens_a_result_and_a_list_sorts(page, world, db, app, monkeypatch):
    from portal.core import outbox
    from portal.search import index

    monkeypatch.setitem(app.config, "PORTAL_INDEX_LIVE", True)
    shutil.rmtree(index.index_dir(), ignore_errors=True)
    index.rebuild()
    mine = make_problem(world, unit=world.department, amount="300000", description=f"{PHRASE}资金滞留未拨付")
    theirs = make_problem(world, unit=world.other_department, description=f"{PHRASE}工程验收资料缺失")
    make_problem(world, unit=world.department, amount="100000", description="政府采购程序不规范")
    outbox.drain()

    browser_sign_in(page, "t_unit", then="/portal/")
    page.keyboard.press("/")
    box = page.locator("#portal-search")
    expect(box).to_be_focused()
    box.fill(PHRASE)
    box.press("Enter")
    page.wait_for_url("**/portal/search/**")
    results = page.locator("a.search-hit")
    expect(results).to_have_count(1)  # the unit's own problem; the other unit's is not found
    expect(page.get_by_role("heading", name="问题台账")).to_be_visible()
    assert theirs.number not in page.content()
    page.locator("#search-page-q").focus()
    page.keyboard.press("ArrowDown")
    expect(results.first).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/portal/ledger/{mine.id}")

    page.goto("/portal/ledger/")
    page.get_by_role("link", name="问题金额").click()
    page.wait_for_url("**sort=amount**")
    header = page.locator("th[aria-sort]")
    expect(header).to_have_attribute("aria-sort", "ascending")
    first = page.locator("table.ledger tbody tr").first
    expect(first).to_contain_text("10.00万元")
    page.get_by_role("link", name="问题金额 ▲").click()
    page.wait_for_url("**sort=-amount**")
    expect(page.locator("th[aria-sort]")).to_have_attribute("aria-sort", "descending")
    expect(page.locator("table.ledger tbody tr").first).to_contain_text("30.00万元")
