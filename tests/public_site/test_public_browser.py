"""The public site in Debian's chromium (issue 18): on a phone the search filters fold behind a
button above the results; the language switch works both ways and leaves the portal Chinese;
axe-core (from the npm registry, `make setup`) finds no critical or serious violation on the main
pages at desktop and phone widths, and the browser reports no Content-Security-Policy refusal
(the charts are SVG without script or inline style).

`SCREENSHOTS=1` also saves each page at both widths into docs/screenshots/ (the README shows them)."""
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from portal.config import PROJECT_ROOT
from portal.publishing import search
from public_site import live
from public_site.data import RENDERED
from tests.browser import axe
from tests.public_site.test_public_pages import _an_earlier_year, _setup

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SHOTS = PROJECT_ROOT / "docs" / "screenshots"


@pytest.fixture()
def published(db, world, corpus, index_dir):
    shack = _setup(db, world, corpus)
    _an_earlier_year(db, world)
    search.apply_queue()
    RENDERED.clear()
    live.forget()
    return {"shack": shack.id, "department": shack.department_id}


def _refusals(page) -> list:
    refused = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    return refused


def test_on_a_phone_the_search_filters_fold_behind_a_button(page, published):
    refused = _refusals(page)
    page.set_viewport_size(PHONE)
    page.goto("/search?q=改造")
    button = page.locator("summary.fold-button")
    facets = page.locator("aside.facets")
    expect(button).to_be_visible()
    expect(facets).to_be_hidden()
    assert button.bounding_box()["y"] < page.locator("ol.hits").bounding_box()["y"]  # above the results
    button.click()
    expect(facets).to_be_visible()
    expect(facets.get_by_role("heading", name="主管部门")).to_be_visible()
    facets.get_by_role("link", name="测试市住房和城乡建设局").click()
    page.wait_for_url("**department=*")
    expect(page.locator("summary.fold-button")).to_contain_text("已选 1 项")
    # on a desktop the filters are simply there, without the button
    page.set_viewport_size(DESKTOP)
    page.goto("/search?q=改造")
    expect(page.locator("aside.facets")).to_be_visible()
    expect(page.locator("summary.fold-button")).to_be_hidden()
    assert not refused, refused


def test_the_language_switch_works_both_ways_and_not_in_the_portal(page, published):
    page.goto("/trends")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    expect(page.get_by_role("heading", name="历年趋势", level=1)).to_be_visible()
    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/trends")
    assert page.locator("html").get_attribute("lang") == "en"
    expect(page.get_by_role("heading", name="Trends", level=1)).to_be_visible()
    page.goto(f"/projects/{published['shack']}")
    expect(page.locator("#table-problems th", has_text="Amount involved")).to_be_visible()
    page.goto("/portal/login")  # the portal keeps its own language
    assert page.locator("html").get_attribute("lang") != "en"
    expect(page.get_by_role("button", name="登录")).to_be_visible()
    page.goto(f"/projects/{published['shack']}")
    page.get_by_role("link", name="中文").click()
    page.wait_for_url(f"**/projects/{published['shack']}")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    expect(page.locator("#table-problems th", has_text="涉及金额")).to_be_visible()


def _pages(published) -> dict:
    return {"home": "/", "search": "/search?q=改造", "project": f"/projects/{published['shack']}",
            "department": f"/departments/{published['department']}", "trends": "/trends",
            "department-trends": f"/departments/{published['department']}/trends"}


def test_axe_finds_no_serious_violation_on_the_main_public_pages(page, published):
    axe.load(page)
    refused = _refusals(page)
    found = {}
    for width_name, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        for name, url in _pages(published).items():
            page.goto(url)
            if violations := axe.serious_violations(page):
                found[f"{width_name} {url}"] = violations
            if os.environ.get("SCREENSHOTS") == "1":
                SHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(Path(SHOTS) / f"public-{name}-{width_name}.png"), full_page=True)
    assert not found, found
    assert not refused, refused
