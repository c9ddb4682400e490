"""Real browser: a conference member records a meeting with two resolutions, links one to a
record and follows it to done; an audit liaison shares an audit report that finance then finds
by a phrase from its text."""
import pytest
from playwright.sync_api import expect

from tests.factories import browser_sign_in, make_project

pytestmark = pytest.mark.browser


def test_meeting_to_done_and_library_search(page, world, db):
    from datetime import timedelta

    from portal.core import clock

    due = (clock.today() + timedelta(days=60)).isoformat()
    project = make_project(world.department, name="义务教育薄弱环节改善项目")
    attendees = [str(world.finance.id), str(world.audit.id), str(world.conference.id)]
    project_id, finance_bureau = str(project.id), world.finance_bureau.name
    # end this session's transaction and touch no record afterwards: on SQLite an open write
    # transaction in the test thread would block the live server's writes
    db.session.commit()

    browser_sign_in(page, "t_conf", then="/portal/")
    page.locator("nav.mainnav summary", has_text="联合监督").click()  # the menu's group opens
    page.get_by_role("link", name="联席会议").first.click()
    page.get_by_role("link", name="登记会议").click()
    page.wait_for_url("**/meetings/new")
    page.wait_for_load_state()  # htmx is set up on DOMContentLoaded
    page.get_by_label("会议日期").fill("2026-03-12")
    page.get_by_label("会议地点").fill("审计局二楼会议室")
    page.get_by_label("出席人员").select_option(attendees)
    page.get_by_label("会议议题（每行一项）").fill("通报审计发现问题\n研究整改督办")
    page.locator("#minutes").fill("## 会议认为\n要**加强**财审联动。")
    page.locator("#minutes-preview strong", has_text="加强").wait_for()  # live preview
    page.get_by_role("button", name="保存").click()
    page.get_by_role("heading", name="2026年第1次联席会议").wait_for()

    for text in ("督促教育局细化义务教育项目绩效目标", "审计局共享预算执行审计问题清单"):
        page.get_by_label("议定事项", exact=True).fill(text)
        page.get_by_label("牵头单位").select_option(label=finance_bureau)
        page.get_by_label("完成时限").fill(due)  # ahead of today: a past due date is refused
        page.get_by_role("button", name="添加议定事项").click()
        page.get_by_role("link", name=text).wait_for()

    page.get_by_role("link", name="督促教育局细化义务教育项目绩效目标").click()
    page.get_by_label("记录类型").select_option(label="项目")
    page.get_by_label("记录编号").fill(project_id)
    page.get_by_role("button", name="添加关联").click()
    page.get_by_text("义务教育薄弱环节改善项目").wait_for()
    page.get_by_label("进展情况").fill("已约谈教育局，指标表正在修订。")
    page.get_by_role("button", name="填报进展").click()
    expect(page.locator("#action-state")).to_contain_text("推进中")  # swapped in place by htmx
    expect(page.locator("#notes")).to_contain_text("已约谈教育局")
    page.get_by_role("button", name="确认完成").click()
    page.get_by_text("议定事项状态已更新为“已完成”").wait_for()
    assert "已完成" in page.locator("#action-state").inner_text()

    browser_sign_in(page, "t_audit")
    page.goto("/portal/conference/library/new")
    page.get_by_label("资料标题").fill("2025年度市本级预算执行审计报告")
    page.get_by_label("资料类型").select_option(label="审计报告")
    page.get_by_label("资料文件").set_input_files(files=[{
        "name": "审计报告.txt", "mimeType": "text/plain",
        "buffer": "审计发现：棚户区改造专项资金结存超过两年，形成资金沉淀。".encode()}])
    page.get_by_role("button", name="共享", exact=True).click()
    page.get_by_text("资料已共享").wait_for()

    browser_sign_in(page, "t_finance", then="/portal/")
    page.locator("nav.mainnav summary", has_text="联合监督").click()
    page.get_by_role("link", name="共享资料").first.click()
    page.get_by_label("全文检索").fill("专项资金结存超过两年")
    page.get_by_role("button", name="查询").click()
    page.get_by_role("link", name="2025年度市本级预算执行审计报告").click()
    page.get_by_role("heading", name="2025年度市本级预算执行审计报告").wait_for()
