"""Finance lists an evaluation's problems, the unit reports and submits with evidence, audit and
finance sign off, the problem is closed and the unit's rate updates — in a real browser."""
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.factories import PDF, browser_sign_in, make_evaluation, make_project

pytestmark = pytest.mark.browser


def test_problem_from_evaluation_to_closed(page, world, db):
    from portal.performance.models import EvaluationFinding

    project = make_project(world.department, name="校舍维修改造项目")
    evaluation = make_evaluation(project, score=72)
    db.session.add(EvaluationFinding(evaluation=evaluation, category="资金管理", description="结余资金未及时上缴国库",
                                     amount=Decimal("250000"), suggestion="及时上缴结余资金"))
    db.session.add(EvaluationFinding(evaluation=evaluation, category="项目管理", description="项目未按期完工"))
    db.session.commit()

    browser_sign_in(page, "t_finance")
    page.goto("/portal/ledger/evaluations")
    page.get_by_role("link", name="挂账").first.click()
    page.get_by_label("结余资金未及时上缴国库").check()
    page.get_by_label("整改时限").fill("2099-12-31")
    page.get_by_role("button", name="挂账所选问题").click()
    expect(page.get_by_text("已挂账 1 个问题")).to_be_visible()
    number = page.locator("table.ledger tbody a").first.inner_text()
    assert number.startswith("ZG-")

    browser_sign_in(page, "t_unit")
    page.goto("/portal/ledger/")
    page.get_by_role("link", name=number).click()
    page.locator("#s-text").fill("结余资金25万元已上缴国库")
    page.locator("#s-rect_returned").fill("250000")
    page.locator("#s-files").set_input_files(files=[{"name": "缴款书.pdf", "mimeType": "application/pdf",
                                                     "buffer": PDF}])
    page.locator("#s-evidence_date").fill("2026-01-15")
    page.get_by_role("button", name="申请销号").click()
    expect(page.get_by_text("已申请销号")).to_be_visible()
    expect(page.get_by_role("link", name="缴款书.pdf")).to_be_visible()
    url = page.url

    browser_sign_in(page, "t_audit")
    page.goto(url)
    page.get_by_role("button", name="确认销号").click()
    expect(page.get_by_text("已确认销号。")).to_be_visible()
    expect(page.get_by_text("本局已确认销号")).to_be_visible()

    browser_sign_in(page, "t_finance")
    page.goto(url)
    page.get_by_role("button", name="确认销号").click()
    expect(page.get_by_text("双方均已确认，问题已销号。")).to_be_visible()
    page.goto("/portal/ledger/stats?by=unit")
    expect(page.locator("#rates tr", has_text=world.department.name)).to_contain_text("100.0%")
    expect(page.locator("#overall-count-rate")).to_have_text("100.0%")
