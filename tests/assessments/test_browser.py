"""The whole ex-ante journey in a real browser: the unit applies; its goal is refused (先评估后入库);
the expert scores, finance concludes 调整后支持; the unit revises and resubmits; finance scores
and supports; only then is the goal submitted."""
import pytest
from playwright.sync_api import expect

from tests.factories import browser_sign_in, make_project
from tests.performance.factories import make_goal

pytestmark = pytest.mark.browser


def _score(page, scores):
    page.get_by_role("link", name="填写评分表").click()
    for label, value in scores.items():
        page.get_by_label(label).fill(value)
    page.get_by_label("评估意见").fill("立项依据充分；建议压缩规模。")
    page.get_by_role("button", name="提交评分").click()
    expect(page.get_by_text("已提交评分。")).to_be_visible()


def _conclude(page, amount: str, opinion: str, shown: str):
    """Finance's 作出结论 on the assessment page, and the conclusion it shows."""
    page.get_by_label("建议安排金额（元）").fill(amount)
    page.get_by_label("评估意见").fill(opinion)
    page.get_by_role("button", name="作出结论").click()
    expect(page.get_by_text(shown)).to_be_visible()


def test_apply_adjust_revise_support_then_submit_the_goal(page, db, world):
    project = make_project(world.department, year=2027, name="智慧校园建设项目", budget="8000000")
    make_goal(project)
    project_id, expert_name = project.id, world.expert.display_name
    db.session.commit()

    browser_sign_in(page, "t_unit")
    page.goto(f"/portal/projects/{project_id}/goal")
    page.get_by_role("button", name="提交审核").click()
    expect(page.get_by_text("须先申报事前绩效评估")).to_be_visible()

    page.goto(f"/portal/assessments/new?project_id={project_id}")
    page.get_by_label("立项依据").fill("依据市教育发展规划。")
    page.get_by_label("实施方案").fill("分三期建设。")
    page.get_by_label("资金测算").fill("按设备单价测算。")
    page.get_by_label("总体目标（草案）").fill("建成智慧校园 20 所。")
    page.get_by_label("申请金额（元）").fill("8000000")
    page.get_by_label("一级指标 1").select_option("output")
    page.get_by_label("三级指标 1").fill("建成学校数量")
    page.get_by_label("指标值 1").fill("≥20所")
    page.get_by_label("分值 1").fill("50")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已保存申请草稿。")).to_be_visible()
    detail = page.url
    page.get_by_role("button", name="提交评估申请").click()
    expect(page.get_by_text("已提交评估申请。")).to_be_visible()

    browser_sign_in(page, "t_finance")
    page.goto(detail)
    page.get_by_label("评估方式").select_option("experts")
    page.get_by_label(expert_name).check()
    page.get_by_role("button", name="组织评估").click()
    expect(page.get_by_text("已组织评估。")).to_be_visible()

    browser_sign_in(page, "t_expert")
    page.goto(detail)
    _score(page, {"立项必要性": "20", "投入经济性": "12", "绩效目标合理性": "14", "实施方案可行性": "14",
                  "筹资合规性": "10"})  # 70: 调整后支持

    browser_sign_in(page, "t_finance")
    page.goto(detail)
    _conclude(page, "6000000", "建议压缩建设规模后支持。", "评估结论：调整后支持（70.00分）。")

    browser_sign_in(page, "t_unit")
    page.goto(f"/portal/projects/{project_id}/goal")
    page.get_by_role("button", name="提交审核").click()
    expect(page.get_by_text("调整后支持")).to_be_visible()
    page.goto(detail)
    page.get_by_role("link", name="修改申请").click()
    page.get_by_label("申请金额（元）").fill("6000000")
    page.get_by_label("实施方案").fill("压缩为两期建设。")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已保存申请。")).to_be_visible()
    page.get_by_role("button", name="重新提交评估申请").click()
    expect(page.get_by_text("已提交评估申请。")).to_be_visible()

    browser_sign_in(page, "t_finance")
    page.goto(detail)
    page.get_by_label("评估方式").select_option("finance")
    page.get_by_role("button", name="组织评估").click()
    _score(page, {"立项必要性": "23", "投入经济性": "17", "绩效目标合理性": "18", "实施方案可行性": "18",
                  "筹资合规性": "12"})  # 88: 予以支持
    _conclude(page, "6000000", "修改后的方案可行，予以支持。", "评估结论：予以支持（88.00分）。")

    browser_sign_in(page, "t_unit")
    page.goto(f"/portal/projects/{project_id}/goal")
    page.get_by_role("button", name="提交审核").click()
    expect(page.get_by_text("绩效目标已提交审核")).to_be_visible()
