"""The review form as in HotCRP: as many comment rows as the reviewer needs (问题/意见, each with
the criterion it concerns), the consolidation form held back — with the reason — while a
reviewer is pending (and refused by the server too), and the reviewers' progress on the report
page for the lead, never for a reviewer still drafting (blind review)."""
import io
import re
from datetime import timedelta

import docx

from portal.core import clock
from portal.extensions import db
from portal.reviews import operations as ops
from portal.reviews.models import CommentKind, ReviewComment, RoundState
from tests.reviews.conftest import full_scores


def _form_scores(rnd, fraction=0.8):
    return {**{f"score_{c.id}": str(round(c.weight * fraction, 2)) for c in rnd.rubric.criteria},
            **{f"justification_{c.id}": "依据充分" for c in rnd.rubric.criteria}}


def _three_reviewers(setup):
    """A round led by finance with finance, audit and audit's signer as reviewers."""
    w = setup.world
    setup.upload()
    rnd = setup.open_round(reviewers=[w.finance, w.audit, w.audit_signer], lead=w.finance)
    return rnd, {a.reviewer_id: a for a in rnd.assignments}


def _audit_declared(setup):
    """The three-reviewer round and audit's review, conflict declared (ready to score)."""
    rnd, mine = _three_reviewers(setup)
    aud = mine[setup.world.audit.id]
    ops.declare(aud, actor=setup.world.audit, conflict=None)
    db.session.commit()
    return rnd, aud


def _row(body, reviewer_id) -> str:
    match = re.search(rf'<tr data-reviewer="{reviewer_id}">(.*?)</tr>', body, re.S)
    assert match, f"no progress row for reviewer {reviewer_id}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def test_any_number_of_comment_rows_are_saved_in_order_and_shown(setup, client, login):
    w = setup.world
    rnd, aud = _audit_declared(setup)
    first, third = rnd.rubric.criteria[0], rnd.rubric.criteria[2]
    login(w.audit)
    url = f"/reviews/assignments/{aud.id}"
    rows = {  # numbered with gaps, as after removing rows in the page: the order is kept
        "comment_kind_0": "problem", "comment_criterion_0": str(third.id), "comment_location_0": "",
        "comment_text_0": "抽样比例未说明。",
        "comment_kind_2": "opinion", "comment_criterion_2": "", "comment_location_2": "第12页",
        "comment_text_2": "表3数据口径与决算不一致。",
        "comment_kind_5": "problem", "comment_criterion_5": str(first.id), "comment_location_5": "第二章",
        "comment_text_5": "评价依据缺少2025年文件。",
        "comment_kind_7": "problem", "comment_criterion_7": "", "comment_location_7": "", "comment_text_7": "",
    }
    response = client.post(url, data={**_form_scores(rnd), **rows, "action": "save", "expected_state": "active",
                                      "lock_version": aud.lock_version})
    assert response.status_code == 302
    stored = db.session.query(ReviewComment).filter_by(assignment_id=aud.id).order_by(ReviewComment.id).all()
    assert [(c.kind, c.criterion_id, c.location, c.text) for c in stored] == [
        (CommentKind.PROBLEM, third.id, "", "抽样比例未说明。"),
        (CommentKind.OPINION, None, "第12页", "表3数据口径与决算不一致。"),
        (CommentKind.PROBLEM, first.id, "第二章", "评价依据缺少2025年文件。")]
    page = client.get(url).get_data(as_text=True)
    for i, text in enumerate(["抽样比例未说明。", "表3数据口径与决算不一致。", "评价依据缺少2025年文件。"]):
        assert re.search(rf'name="comment_text_{i}"[^>]*>{text}</textarea>', page)
    assert re.search(rf'name="comment_criterion_0".*?<option value="{third.id}" selected>', page, re.S)
    assert 'name="comment_text_3"' in page and 'name="comment_text_4"' not in page  # one blank row
    assert 'id="comment-row-template"' in page and 'id="add-comment"' in page

    aud = db.session.get(type(aud), aud.id)
    db.session.refresh(aud)
    client.post(url, data={**_form_scores(rnd), **rows, "action": "submit", "expected_state": "active",
                           "lock_version": aud.lock_version})
    client.post("/logout")
    login(w.finance_signer)  # a bureau member outside the round reads the submitted review
    body = client.get(url).get_data(as_text=True)
    assert "抽样比例未说明。" in body and third.name in body and "[第12页]" in body and "问题" in body
    summary = docx.Document(io.BytesIO(client.get(f"/reviews/rounds/{rnd.id}/summary.docx").data))
    lines = [p.text for p in summary.paragraphs]
    assert f"问题：{third.name}　抽样比例未说明。" in lines and "意见：[第12页]　表3数据口径与决算不一致。" in lines
    assert f"问题：{first.name}　[第二章]　评价依据缺少2025年文件。" in lines


def test_a_comment_row_without_place_or_text_is_refused_and_what_was_typed_kept(setup, client, login):
    w = setup.world
    rnd, aud = _audit_declared(setup)
    login(w.audit)
    url = f"/reviews/assignments/{aud.id}"
    base = {**_form_scores(rnd), "action": "save", "expected_state": "active", "lock_version": aud.lock_version,
            "comment_location_0": "第3页", "comment_text_0": "第一条好的批注"}
    response = client.post(url, data={**base, "comment_kind_1": "problem", "comment_text_1": "没有出处的问题"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "第 2 条批注须注明章节或页码" in body
    assert "第一条好的批注" in body and "没有出处的问题" in body
    response = client.post(url, data={**base, "comment_criterion_1": "999999", "comment_text_1": "别的评分表"})
    assert response.status_code == 422 and "不在本轮评分表中" in response.get_data(as_text=True)
    assert db.session.query(ReviewComment).filter_by(assignment_id=aud.id).count() == 0


def test_consolidation_waits_for_the_pending_reviewers_and_names_them(setup, client, login):
    w = setup.world
    rnd, mine = _three_reviewers(setup)
    fin, aud, sig = mine[w.finance.id], mine[w.audit.id], mine[w.audit_signer.id]
    for a in (fin, aud):
        ops.declare(a, actor=a.reviewer, conflict=None)
    ops.save_review(fin, version=fin.lock_version, actor=w.finance, scores=full_scores(rnd), submit=True)
    ops.save_review(aud, version=aud.lock_version, actor=w.audit, scores=full_scores(rnd))  # a draft
    db.session.commit()
    login(w.finance)
    url = f"/reviews/rounds/{rnd.id}/consolidate"
    page = client.get(url).get_data(as_text=True)
    reason = f"等待 {w.audit.display_name}、{w.audit_signer.display_name} 提交评分。"
    assert reason in page
    assert re.search(r'<fieldset disabled aria-describedby="consolidate-why"', page)
    response = client.post(url, data={"opinion": "## 合议意见\n\n同意通过。", "decision": "accepted",
                                      "expected_state": "open"})  # the disabled form, sent anyway
    assert response.status_code == 422 and reason in response.get_data(as_text=True)
    db.session.refresh(rnd)
    assert rnd.state == RoundState.OPEN and rnd.opinion == ""

    for a in (aud, sig):
        db.session.refresh(a)
        if a.state.value == "pending":
            ops.declare(a, actor=a.reviewer, conflict=None)
        ops.save_review(a, version=a.lock_version, actor=a.reviewer, scores=full_scores(rnd), submit=True)
    db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert "<fieldset disabled" not in page and "提交评分。" not in page
    response = client.post(url, data={"opinion": "## 合议意见\n\n同意通过。", "decision": "accepted",
                                      "expected_state": "open"})
    assert response.status_code == 302
    db.session.refresh(rnd)
    assert rnd.state == RoundState.ENDORSING


def test_the_lead_sees_each_reviewers_progress_on_the_report_page(setup, client, login):
    w = setup.world
    rnd, mine = _three_reviewers(setup)
    fin, aud = mine[w.finance.id], mine[w.audit.id]
    start = clock.now().replace(hour=9, minute=0, second=0)
    with clock.frozen(start):
        ops.declare(fin, actor=w.finance, conflict=None)
        ops.declare(aud, actor=w.audit, conflict=None)
    with clock.frozen(start + timedelta(minutes=30)):
        ops.save_review(aud, version=aud.lock_version, actor=w.audit, scores=full_scores(rnd))
    with clock.frozen(start + timedelta(minutes=45)):
        ops.save_review(aud, version=aud.lock_version, actor=w.audit, scores=full_scores(rnd, 0.7))
    with clock.frozen(start + timedelta(hours=2)):
        ops.save_review(fin, version=fin.lock_version, actor=w.finance, scores=full_scores(rnd), submit=True)
    db.session.commit()

    def stamp(delta):
        at = start + delta
        return f"{at.year}年{at.month}月{at.day}日 {at:%H:%M}"

    report_url = f"/reviews/reports/{setup.report.id}"
    login(w.finance)  # the lead
    body = client.get(report_url).get_data(as_text=True)
    assert "评审进度" in body and "您是本轮牵头人" in body
    assert _row(body, w.finance.id) == (f"{w.finance.display_name} 财政 已提交评分 {stamp(timedelta())} "
                                        f"{stamp(timedelta(hours=2))} {stamp(timedelta(hours=2))}")
    assert _row(body, w.audit.id) == (f"{w.audit.display_name} 审计 草稿已保存 2 次 {stamp(timedelta())} "
                                      f"{stamp(timedelta(minutes=45))} —")
    assert _row(body, w.audit_signer.id) == f"{w.audit_signer.display_name} 审计 尚未开始（待声明利益冲突） — — —"

    client.post("/logout")
    login(w.finance_signer)  # a bureau member outside the round
    assert "草稿已保存 2 次" in client.get(report_url).get_data(as_text=True)


def test_reviewers_still_drafting_do_not_see_the_others_progress(setup, client, login):
    w = setup.world
    rnd, mine = _three_reviewers(setup)
    fin, aud = mine[w.finance.id], mine[w.audit.id]
    for a in (fin, aud):
        ops.declare(a, actor=a.reviewer, conflict=None)
    ops.save_review(fin, version=fin.lock_version, actor=w.finance, scores=full_scores(rnd), submit=True)
    db.session.commit()
    report_url, round_url = f"/reviews/reports/{setup.report.id}", f"/reviews/rounds/{rnd.id}"
    login(w.audit)  # a reviewer, not the lead, still drafting
    report = client.get(report_url).get_data(as_text=True)
    assert "评审进度" not in report and f'data-reviewer="{w.finance.id}"' not in report
    page = client.get(round_url).get_data(as_text=True)
    assert "盲评：提交自己的评审意见后可见" in page and "已提交评分" not in page
    assert w.audit_signer.display_name not in re.sub(r"<table.*?</table>", "", page, flags=re.S)  # no names pending
    ops.save_review(aud, version=aud.lock_version, actor=w.audit, scores=full_scores(rnd), submit=True)
    db.session.commit()
    assert "评审进度" in client.get(report_url).get_data(as_text=True)  # once their own is in
    client.post("/logout")
    login(w.agency)  # the agency reads its report, never the reviewers
    report = client.get(report_url).get_data(as_text=True)
    assert "评审进度" not in report and w.audit.display_name not in report


def test_a_lead_who_reviews_too_sees_the_progress_before_submitting(setup, client, login):
    w = setup.world
    setup.upload()
    rnd = setup.open_round(reviewers=[w.finance, w.audit], lead=w.audit)
    aud = next(a for a in rnd.assignments if a.reviewer_id == w.audit.id)
    ops.declare(aud, actor=w.audit, conflict=None)
    db.session.commit()
    login(w.audit)
    body = client.get(f"/reviews/reports/{setup.report.id}").get_data(as_text=True)
    assert "您是本轮牵头人" in body and "尚未开始（待声明利益冲突）" in _row(body, w.finance.id)
    assert "等待" in client.get(f"/reviews/rounds/{rnd.id}").get_data(as_text=True)
