"""A real browser walks one project from goal entry (htmx rows) through review to a graded
self-evaluation."""
import pytest

from portal.performance.models import LEVEL2_OF, Level1
from tests.factories import browser_sign_in, make_project
from tests.performance.factories import ROWS

pytestmark = pytest.mark.browser


def _fill_new_row(page, row):
    new = page.locator("tr.new-row")
    new.locator("select[name=level1]").select_option(row["level1"])
    # a changed first level fetches its children: wait until they are there
    new.locator(f"select[name=level2] option[value={row['level2']}]").wait_for(state="attached")
    new.locator("select[name=level2]").select_option(row["level2"])
    new.locator("input[name=name]").fill(row["name"])
    new.locator("select[name=operator]").select_option(row["operator"])
    new.locator("input[name=target_value]").fill(row.get("target_value", ""))
    new.locator("input[name=target_text]").fill(row.get("target_text", ""))
    new.locator("input[name=unit]").fill(row.get("unit", ""))
    new.locator("input[name=weight]").fill(row["weight"])
    new.get_by_role("button", name="添加指标").click()


def _level2_values(row) -> list[str]:
    return row.locator("select[name=level2] option").evaluate_all("options => options.map(o => o.value)")


def test_goal_entry_review_and_graded_self_evaluation(page, db, world):
    project_id = make_project(world.department, name="就业技能培训项目", budget="1000000").id
    db.session.commit()  # from here on the test never touches the session (SQLite: no write lock held)
    browser_sign_in(page, "t_unit")
    page.goto(f"/portal/projects/{project_id}")
    page.get_by_role("button", name="填报绩效目标").click()
    page.get_by_label("总体目标").fill("完成培训任务，促进就业。")
    page.get_by_role("button", name="保存总体目标").click()
    page.get_by_text("总体目标已保存").wait_for()

    # the second level offers the chosen first level's children only (fetched as it changes)
    new = page.locator("tr.new-row")
    new.locator("select[name=level2] option[value=quantity]").wait_for(state="attached")  # the row comes by htmx
    assert _level2_values(new) == [c.value for c in LEVEL2_OF[Level1.OUTPUT]]
    new.locator("select[name=level1]").select_option("benefit")
    new.locator("select[name=level2] option[value=social]").wait_for(state="attached")
    assert _level2_values(new) == [c.value for c in LEVEL2_OF[Level1.BENEFIT]]
    new.locator("select[name=level1]").select_option("satisfaction")
    new.locator("select[name=level2] option[value=service_satisfaction]").wait_for(state="attached")
    assert _level2_values(new) == ["service_satisfaction"]
    for row in ROWS:
        _fill_new_row(page, row)
        page.locator("#indicator-table td", has_text=row["name"]).first.wait_for()
    assert page.locator("#indicator-table tbody tr").count() == 7  # six rows + the new-row form
    assert page.url.endswith("/goal")  # htmx swapped the table; no navigation
    page.get_by_role("button", name="提交审核").click()
    page.get_by_text("绩效目标已提交审核").wait_for()

    browser_sign_in(page, "t_finance")
    page.goto(f"/portal/projects/{project_id}/goal")
    page.get_by_label("审核等级").select_option("excellent")
    page.get_by_label("审核意见").fill("目标明确，同意。")
    page.get_by_role("button", name="审核通过").click()
    page.get_by_text("审核结果已保存").wait_for()

    browser_sign_in(page, "t_unit")
    page.goto(f"/portal/projects/{project_id}")
    page.get_by_label("评价方式").select_option("self")
    page.get_by_role("button", name="开展评价").click()
    page.get_by_label("实际完成值 培训人次").fill("1250")
    page.get_by_label("实际完成值 培训合格率").fill("97")
    page.get_by_label("实际完成值 人均培训成本").fill("480")
    page.get_by_label("实际完成值 培训后就业率").fill("82")
    page.get_by_label("完成情况 长效机制").select_option("achieved")
    page.get_by_label("实际完成值 学员满意度").fill("95")
    page.get_by_role("button", name="完成评价").click()
    page.get_by_text("评价已完成").wait_for()
    page.get_by_text("总分 98.00").wait_for()  # execution 80 % → 8 of 10; everything else full
    assert page.locator(".badge", has_text="优").first.is_visible()
