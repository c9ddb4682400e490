"""A real browser on the score sheet: the running total follows what the reviewer types, a
score out of range is flagged and left out, comment rows are added and removed, and what the
server stores is what the page showed."""
import os
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.reviews import operations as ops
from portal.reviews.models import CommentKind, ReviewAssignment
from tests.browser import axe
from tests.factories import ReviewSetup, browser_sign_in

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _check_widths(page, name: str) -> None:
    """axe finds nothing serious at desktop and phone widths; `SCREENSHOTS=1` saves both into
    docs/screenshots/ (the README links them)."""
    for width, height, label in ((1280, 900, "desktop"), (390, 844, "phone")):
        page.set_viewport_size({"width": width, "height": height})
        assert axe.serious_violations(page) == [], (name, label)
        if os.environ.get("SCREENSHOTS") == "1":
            page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_running_total_out_of_range_flag_and_comment_rows(page, world):
    axe.load(page)
    setup = ReviewSetup(world)
    setup.upload()
    rnd = setup.open_round()
    aud = next(a for a in rnd.assignments if a.reviewer_id == world.audit.id)
    ops.declare(aud, actor=world.audit, conflict=None)
    criteria = [SimpleNamespace(id=c.id, name=c.name, weight=c.weight) for c in rnd.rubric.criteria]
    assignment_id, audit = aud.id, SimpleNamespace(username=world.audit.username)
    report_id, finance = setup.report.id, SimpleNamespace(username=world.finance.username)
    audit_id = world.audit.id
    db.session.commit()

    browser_sign_in(page, audit)
    page.goto(f"/portal/reviews/assignments/{assignment_id}")
    total = page.locator("#score-total")
    expect(total).to_have_text("—")
    expect(page.locator("#score-count")).to_have_text(f"已评 0/{len(criteria)} 项")

    page.get_by_label(criteria[0].name, exact=True).fill("12")
    expect(total).to_have_text("12")
    page.get_by_label(criteria[1].name, exact=True).fill("16.5")
    expect(total).to_have_text("28.5")
    page.get_by_label(criteria[2].name, exact=True).fill("18.25")
    expect(total).to_have_text("46.75")
    expect(page.locator("#score-count")).to_have_text(f"已评 3/{len(criteria)} 项")

    # above the criterion's maximum: flagged, left out of the total, said next to the box
    over = page.get_by_label(criteria[3].name, exact=True)
    over.fill(str(criteria[3].weight + 5))
    expect(total).to_have_text("46.75")
    expect(over).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#range_{criteria[3].id}")).to_contain_text("超出范围")
    expect(page.locator("#score-problems")).to_have_text("1 项得分超出范围，未计入合计")
    over.fill("15")
    expect(total).to_have_text("61.75")
    expect(page.locator("#score-problems")).to_have_text("")
    assert over.get_attribute("aria-invalid") is None
    page.get_by_label(criteria[1].name, exact=True).fill("")  # clearing a score takes it out again
    expect(total).to_have_text("45.25")
    page.get_by_label(criteria[1].name, exact=True).fill("16.5")
    expect(total).to_have_text("61.75")

    # comment rows: one blank to start with, add two, remove the middle one
    rows = page.locator("#comment-rows tr.comment-row")
    expect(rows).to_have_count(1)
    page.locator('textarea[name="comment_text_0"]').fill("抽样比例未说明。")
    page.locator('select[name="comment_criterion_0"]').select_option(label=criteria[2].name)
    page.get_by_role("button", name="添加一条批注").click()
    page.get_by_role("button", name="添加一条批注").click()
    expect(rows).to_have_count(3)
    page.locator('textarea[name="comment_text_1"]').fill("这一条会被删除。")
    page.locator('input[name="comment_location_1"]').fill("第1页")
    page.locator('select[name="comment_kind_2"]').select_option(label="意见")
    page.locator('input[name="comment_location_2"]').fill("第12页")
    page.locator('textarea[name="comment_text_2"]').fill("表3口径与决算不一致。")
    rows.nth(1).get_by_role("button", name="删除").click()
    expect(rows).to_have_count(2)
    expect(page.locator('textarea[name="comment_text_1"]')).to_have_value("表3口径与决算不一致。")  # renumbered

    page.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_text("草稿已保存。")).to_be_visible()
    expect(page.locator("#score-total")).to_have_text("61.75")  # the page after the save agrees
    page.get_by_label(criteria[3].name, exact=True).fill("99")  # a flagged row passes axe too
    _check_widths(page, "portal-review-form")

    browser_sign_in(page, finance)  # the lead: the audit reviewer's draft on the report page
    page.goto(f"/portal/reviews/reports/{report_id}")
    expect(page.get_by_role("table", name="评审进度（您是本轮牵头人）")).to_be_visible()
    expect(page.locator(f'tr[data-reviewer="{audit_id}"]')).to_contain_text("草稿已保存 1 次")
    _check_widths(page, "portal-review-progress")

    db.session.expire_all()
    try:
        saved = db.session.get(ReviewAssignment, assignment_id)
        assert saved.total == Decimal("61.75")  # the server's own total of what was typed
        assert [(c.kind, c.criterion_id, c.location, c.text) for c in saved.comments] == [
            (CommentKind.PROBLEM, criteria[2].id, "", "抽样比例未说明。"),
            (CommentKind.OPINION, None, "第12页", "表3口径与决算不一致。")]
    finally:
        db.session.commit()
