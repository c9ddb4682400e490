"""A real browser walks the whole path in Chinese: finance drafts, its signer approves (number
shown), audit acknowledges, replies partly (with an item's evidence file), its signer signs the
reply off (finance sees nothing before), then the rest; finance closes."""
import re

import pytest
from playwright.sync_api import expect

from tests.factories import browser_sign_in, make_project

pytestmark = pytest.mark.browser


def sign_out(page):
    page.goto("about:blank")  # no request of the last page still in flight (each answer renews the session cookie)
    page.context.clear_cookies()


@pytest.fixture()
def sqlite_only(app):
    # The journey tests the pages, not the database; the database paths run on both backends
    # in the other tests. Running it once keeps the module's suite fast.
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("browser journey runs on SQLite only")


def test_letter_from_draft_to_closed(sqlite_only, page, inq, db):
    page.set_default_timeout(45000)  # the shared machine is often busy
    make_project(inq.department, name="义务教育薄弱环节改善项目", code="P2026EDU01")
    make_project(inq.department, name="公立医院综合改革补助", code="P2026HLT02")
    db.session.commit()
    browser_sign_in(page, "t_finance")
    page.goto("/portal/inquiries/")
    page.get_by_role("link", name="起草函件").click()
    page.get_by_label("主送机关").select_option(label="测试市审计局")
    page.get_by_label("标题").fill("关于提供2025年度20个重点评价项目审计报告及审计决定书的函")
    page.get_by_label("正文（Markdown）").fill("为做好预算项目财政评价工作，**现商请**贵局提供以下资料。")
    page.locator("#body-preview strong", has_text="现商请").wait_for()  # live Markdown preview
    page.get_by_label("按编码或名称查找项目").fill("EDU")
    assert page.locator("#project_ids option:not([hidden])").count() == 1
    page.get_by_label("相关项目").select_option(label="P2026EDU01 义务教育薄弱环节改善项目（2026）")
    page.get_by_label("事项").first.fill("20个重点评价项目的审计报告")
    page.get_by_role("button", name="添加一项").click()
    page.get_by_label("事项").nth(1).fill("相关审计决定书")
    page.get_by_role("button", name="保存并提交签发").click()
    page.get_by_text("已提交签发").wait_for()
    expect(page.locator(".badge", has_text="待签发").first).to_be_visible()
    url = page.url
    sign_out(page)

    browser_sign_in(page, "t_fsigner")
    page.goto(url)
    page.get_by_role("button", name="签发", exact=True).click()
    page.get_by_text(re.compile(r"临财绩函〔\d{4}〕1号")).first.wait_for()
    sign_out(page)

    browser_sign_in(page, "t_audit")
    page.goto("/portal/inquiries/?direction=incoming")
    page.get_by_role("link", name="关于提供2025年度20个重点评价项目审计报告及审计决定书的函").click()
    page.get_by_role("button", name="签收").click()
    page.get_by_text("已签收").first.wait_for()
    page.get_by_label("第 1 项答复结果").select_option(label="已提供")
    page.get_by_label("第 1 项说明").fill("随函附送")
    page.get_by_label("第 1 项证明材料").set_input_files(
        files=[{"name": "审计报告.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%report\n"}])
    page.get_by_role("button", name="提交签发").click()
    page.get_by_text("复函已提交签发").wait_for()
    expect(page.locator("#pending-reply .badge", has_text="待签发")).to_be_visible()
    sign_out(page)

    browser_sign_in(page, "t_finance")  # before the sign-off the asking bureau sees no answer
    page.goto(url)
    expect(page.get_by_text("随函附送")).to_have_count(0)
    expect(page.get_by_text("审计报告.pdf")).to_have_count(0)
    sign_out(page)

    browser_sign_in(page, "t_asigner")  # the audit bureau's signer signs the reply off
    page.goto(url)
    page.get_by_role("button", name="签发复函").click()
    page.get_by_text("已完成：签发复函").wait_for()
    sign_out(page)

    browser_sign_in(page, "t_audit")
    page.goto(url)
    page.get_by_label("第 2 项答复结果").select_option(label="部分提供")
    page.get_by_label("第 2 项说明").fill("已作出的决定书先行提供")
    page.get_by_role("button", name="保存复函草稿").click()
    page.get_by_text("复函草稿已保存").wait_for()
    expect(page.get_by_label("第 2 项说明")).to_have_value("已作出的决定书先行提供")  # the draft, kept
    page.get_by_role("button", name="提交签发").click()
    page.get_by_text("复函已提交签发").wait_for()
    sign_out(page)

    browser_sign_in(page, "t_asigner")
    page.goto(url)
    page.get_by_role("button", name="签发复函").click()
    page.get_by_text("已答复").first.wait_for()
    sign_out(page)

    browser_sign_in(page, "t_finance")
    page.goto(url)
    expect(page.get_by_role("link", name="审计报告.pdf")).to_be_visible()  # the item's evidence, after sign-off
    expect(page.get_by_text("随函附送")).to_be_visible()
    page.get_by_role("button", name="办结").click()
    page.get_by_text("已完成：办结").wait_for()
    history = page.locator(".history").inner_text()
    for word in ("起草", "提交签发", "签发", "签收", "答复", "办结"):
        assert word in history
