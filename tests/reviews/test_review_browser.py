"""A real browser walks the co-review: draw → upload → blind review → revise → V2 → accepted."""
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.reviews import operations as ops
from portal.reviews.models import Report, ReportState
from tests.factories import browser_sign_in, make_evaluation, make_project
from tests.reviews.conftest import docx_bytes

pytestmark = pytest.mark.browser


def review(page, assignment_id, fraction):
    page.goto(f"/portal/reviews/assignments/{assignment_id}")
    page.get_by_role("button", name="提交声明").click()
    weights = [w for _n, w, _g in ops.DEFAULT_CRITERIA]
    for i, weight in enumerate(weights):
        page.locator('input[name^="score_"]').nth(i).fill(str(round(weight * fraction)))
        page.locator('textarea[name^="justification_"]').nth(i).fill("依据充分，表述清楚。")
    page.locator('input[name="comment_location_0"]').fill("第二章")
    page.locator('textarea[name="comment_text_0"]').fill("抽样方法需说明。")
    page.get_by_role("button", name="提交评审意见").click()
    expect(page.get_by_text("评审意见已提交。")).to_be_visible()


def upload(page, report_id, tmp_path, name, note=None):
    path = tmp_path / name
    path.write_bytes(docx_bytes("临州市校园安全设施提升改造项目绩效评价报告。\n一、基本情况……"))
    page.goto(f"/portal/reviews/reports/{report_id}")
    page.get_by_label("报告文件（PDF 或 Word .docx）").set_input_files(str(path))
    if note:
        page.get_by_label("修改说明").fill(note)
    page.get_by_role("button", name="上传").click()
    expect(page.get_by_text("已提交 V").first).to_be_visible()


def consolidate(page, round_id, decision, opinion):
    page.goto(f"/portal/reviews/rounds/{round_id}/consolidate")
    page.get_by_label("合议意见（Markdown）").fill(opinion)
    page.get_by_label("拟定结论").select_option(label=decision)
    page.get_by_role("button", name="提交两局会签").click()
    page.get_by_role("button", name="会签同意").click()


def endorse(page, round_id):
    page.goto(f"/portal/reviews/rounds/{round_id}/consolidate")
    page.get_by_role("button", name="会签同意").click()
    expect(page.get_by_text("两局均已会签，评审结论已生效。")).to_be_visible()


def read(fn):
    """Read from the database and end the transaction at once: an open SQLite write transaction
    in the test would block the live server's writes."""
    db.session.expire_all()
    try:
        return fn()
    finally:
        db.session.commit()


def test_draw_upload_blind_review_revise_and_accept(page, world, tmp_path):
    evaluation = make_evaluation(make_project(world.department, year=2026, name="校园安全设施提升改造项目"))
    ops.set_pool(2026, [world.agency_org.id, world.other_agency_org.id], actor=world.finance)
    finance, audit, agency, other_agency = (SimpleNamespace(id=u.id, username=u.username, display_name=u.display_name)
                                            for u in (world.finance, world.audit, world.agency, world.other_agency))
    agency_org_id, evaluation_id = world.agency_org.id, evaluation.id
    db.session.commit()

    browser_sign_in(page, finance)
    page.goto(f"/portal/reviews/evaluations/{evaluation_id}/draw")
    page.get_by_label("监督人（见证人）").fill("周明、刘芳")
    page.get_by_role("button", name="抽签").click()
    expect(page.get_by_text("复核一致")).to_be_visible()
    report_id, chosen = read(lambda: db.session.query(Report.id, Report.agency_id).one())
    agency_user = agency if chosen == agency_org_id else other_agency

    browser_sign_in(page, agency_user)
    upload(page, report_id, tmp_path, "评价报告V1.docx")

    browser_sign_in(page, finance)
    page.goto(f"/portal/reviews/reports/{report_id}")
    page.get_by_label(f"{finance.display_name}（财政）", exact=True).check()
    page.get_by_label(f"{audit.display_name}（审计）", exact=True).check()
    page.get_by_label("评审截止日期").fill("2099-12-31")
    page.get_by_role("button", name="开启评审").click()
    expect(page.get_by_text("第1轮评审已开启。")).to_be_visible()

    def current_round():
        rnd = db.session.get(Report, report_id).current_round
        return rnd.id, rnd.number, rnd.version.number, {a.reviewer_id: a.id for a in rnd.assignments}

    round_id, _n, _v, mine = read(current_round)
    review(page, mine[finance.id], 0.8)

    browser_sign_in(page, audit)
    page.goto(f"/portal/reviews/assignments/{mine[finance.id]}")  # blind before submitting
    assert "403" in page.locator("h1").inner_text()
    review(page, mine[audit.id], 0.7)
    expect(page.get_by_text("其他评审人员的意见")).to_be_visible()

    browser_sign_in(page, finance)
    consolidate(page, round_id, "修改后重审", "## 存在问题\n\n1. 抽样方法未说明。\n2. 部分数据与决算不一致。")
    browser_sign_in(page, audit)
    endorse(page, round_id)

    browser_sign_in(page, agency_user)
    page.goto(f"/portal/reviews/reports/{report_id}")
    expect(page.get_by_text("部分数据与决算不一致")).to_be_visible()
    assert page.get_by_text(audit.display_name).count() == 0
    upload(page, report_id, tmp_path, "评价报告V2.docx", note="已补充抽样方法，更正数据。")

    round2, number, version, mine2 = read(current_round)
    assert (number, version) == (2, 2)
    browser_sign_in(page, finance)
    review(page, mine2[finance.id], 0.9)
    browser_sign_in(page, audit)
    review(page, mine2[audit.id], 0.9)
    browser_sign_in(page, finance)
    consolidate(page, round2, "通过", "## 合议意见\n\n修改稿已回应全部问题，同意通过。")
    browser_sign_in(page, audit)
    endorse(page, round2)
    page.goto(f"/portal/reviews/reports/{report_id}")
    expect(page.get_by_text("第2轮结论：通过")).to_be_visible()
    assert read(lambda: db.session.get(Report, report_id).state) == ReportState.ACCEPTED
