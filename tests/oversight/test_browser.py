"""In Chromium: a key evaluation's four-organisation team where the congress member adds an
opinion and the lead finalises; finance computes the year's scorecards, scores its indicator,
circulates and downloads the 通报; the congress observer downloads the year's submitted package."""
from __future__ import annotations

import io
import zipfile

import pytest
from docx import Document
from playwright.sync_api import expect

from portal.extensions import db
from tests.factories import browser_sign_in, make_evaluation, make_project

pytestmark = pytest.mark.browser


def test_four_organisation_team_congress_opinion(page, world):
    project = make_project(world.subunit, year=2025, name="校舍维修改造项目")
    evaluation = make_evaluation(project, agency=world.agency_org, score="82")
    url = f"/portal/oversight/evaluations/{evaluation.id}/team"
    people = [(f"{user.organisation.name} · {user.display_name}", role) for user, role in (
        (world.finance, "组长"), (world.observer, "成员"), (world.audit, "成员"), (world.unit, "成员"),
        (world.agency, "列席观察"))]
    db.session.commit()
    db.session.close()  # no read transaction of the test's own open while the browser writes
    browser_sign_in(page, "t_finance")
    page.goto(url)
    for label, role in people:
        page.get_by_label("人员").select_option(label=label)
        page.get_by_label("组内角色").select_option(label=role)
        page.get_by_role("button", name="加入评价组").click()
        expect(page.get_by_text("成员已加入评价组。")).to_be_visible()
    for side in ("人大预算工委", "审计局", "主管部门", "第三方机构"):
        expect(page.locator("#members").get_by_text(side, exact=True)).to_be_visible()

    browser_sign_in(page, "t_observer")
    page.goto(url)
    expect(page.locator("#papers")).to_contain_text("评价底稿")
    page.get_by_label("意见").fill("建议补充资金使用效益的量化分析。")
    page.get_by_role("button", name="提交意见").click()
    expect(page.locator("#opinions")).to_contain_text("建议补充资金使用效益的量化分析。")

    browser_sign_in(page, "t_agency")  # the observer reads, and has no opinion form
    page.goto(url)
    expect(page.locator("#opinions")).to_contain_text("建议补充资金使用效益的量化分析。")
    expect(page.get_by_role("button", name="提交意见")).to_have_count(0)

    browser_sign_in(page, "t_finance")
    page.goto(url)
    page.get_by_label("联合评价意见").fill("评价结论客观，同意报告提出的问题和建议。")
    page.get_by_role("button", name="定稿").click()
    expect(page.locator("#team-state")).to_contain_text("已定稿")


def test_finance_computes_scorecards_and_downloads_the_circular(page, world):
    make_project(world.department, year=2025)
    make_project(world.other_department, year=2025)
    names = {world.department.name, world.other_department.name}
    db.session.commit()
    db.session.close()
    browser_sign_in(page, "t_finance")
    page.goto("/portal/oversight/assessments")
    page.get_by_label("考核年度").fill("2025")
    page.get_by_role("button", name="计算考核得分").click()
    expect(page.get_by_text("考核得分已按平台数据计算。")).to_be_visible()
    for name in sorted(names):
        page.get_by_role("link", name=name).click()
        page.get_by_label("得分").fill("4")
        page.get_by_role("button", name="保存评分").click()
        expect(page.get_by_text("评分已保存。")).to_be_visible()
        page.goto("/portal/oversight/assessments/2025")
    page.get_by_role("button", name="印发通报").click()
    expect(page.locator("#assessment-state")).to_contain_text("已通报")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载通报（Word）").click()
    doc = Document(download_info.value.path())
    assert "2025年度预算绩效管理工作考核结果的通报" in "\n".join(p.text for p in doc.paragraphs)
    assert {row.cells[1].text for row in doc.tables[0].rows[1:]} == names


def test_congress_downloads_the_years_package(page, world):
    from werkzeug.datastructures import FileStorage

    from portal.performance import operations as perf_ops
    from portal.performance.models import EvaluationMode
    from tests.reviews.conftest import docx_bytes

    project = make_project(world.subunit, year=2025, name="自评项目")
    evaluation = make_evaluation(project, mode=EvaluationMode.SELF, score="90")
    perf_ops.attach_file(evaluation, FileStorage(io.BytesIO(docx_bytes()), filename="自评报告.docx"),
                         actor=world.finance, purpose="report", allowed={"docx"})
    finance_name = world.finance.display_name
    db.session.commit()
    db.session.close()
    browser_sign_in(page, "t_finance")
    page.goto("/portal/oversight/packages")
    page.get_by_label("年度").fill("2025")
    page.get_by_role("button", name="生成材料包").click()
    page.get_by_role("link", name="查看结果").or_(page.get_by_text("材料包已生成")).first.wait_for()
    page.goto("/portal/oversight/packages")
    page.get_by_role("link", name="随决算报送：绩效自评与重点评价").click()
    page.get_by_role("button", name="确认报送").click()
    expect(page.locator("#package-state")).to_contain_text("已报送")

    browser_sign_in(page, "t_observer")
    page.goto("/portal/oversight/packages")
    page.get_by_role("link", name="随决算报送：绩效自评与重点评价").click()
    expect(page.locator("#submission")).to_contain_text(finance_name)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载材料包（zip）").click()
    names = zipfile.ZipFile(download_info.value.path()).namelist()
    assert any(n.endswith("自评报告.docx") for n in names) and "索引.xlsx" in names
