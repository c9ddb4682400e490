"""axe-core (from the npm registry, `make setup`) finds no critical or serious violation on the
portal's main pages at desktop and phone widths, signed in as a finance officer: the dashboard,
the ledger and a problem, the letters and a letter, the co-reviews and a report, a project and
its goal, the meetings and a meeting (issue 18). The public site's pages are checked in
tests/public_site/test_public_browser.py the same way."""
import pytest

from tests.browser.axe import load, serious_violations
from tests.factories import (
    ReviewSetup,
    browser_sign_in,
    make_goal,
    make_letter,
    make_meeting,
    make_problem,
    setup_letter_codes,
)
from tests.public_site.test_public_browser import DESKTOP, PHONE

pytestmark = pytest.mark.browser

def _pages(world) -> dict[str, str]:
    setup_letter_codes(world)
    problem = make_problem(world)
    letter = make_letter(world, "acknowledged")
    review = ReviewSetup(world)
    goal = make_goal(review.project)
    meeting = make_meeting(world)
    return {"dashboard": "/portal/", "ledger": "/portal/ledger/", "problem": f"/portal/ledger/{problem.id}",
            "letters": "/portal/inquiries/", "letter": f"/portal/inquiries/{letter.id}",
            "reviews": "/portal/reviews/", "report": f"/portal/reviews/reports/{review.report.id}",
            "project": f"/portal/projects/{review.project.id}", "goal": f"/portal/projects/{goal.project_id}/goal",
            "meetings": "/portal/conference/", "meeting": f"/portal/conference/meetings/{meeting.id}"}


def test_axe_finds_no_serious_violation_on_the_main_portal_pages(page, world, db):
    load(page)
    pages = _pages(world)
    db.session.commit()
    browser_sign_in(page, "t_finance")
    page.goto(pages["dashboard"])  # the check itself sees a violation: an image without a text
    page.evaluate("() => document.querySelector('main').append(document.createElement('img'))")
    assert any(v.startswith("image-alt") for v in serious_violations(page))
    found = {}
    for width_name, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        for url in pages.values():
            response = page.goto(url)
            assert response.status == 200, url
            if violations := serious_violations(page):
                found[f"{width_name} {url}"] = violations
        page.goto(pages["ledger"])  # a group of the menu opened: its entries are checked too
        page.locator("nav.mainnav summary").first.click()
        if violations := serious_violations(page):
            found[f"{width_name} open menu"] = violations
    assert not found, found
