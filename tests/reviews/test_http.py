"""Full workflows over HTTP, the blind rule by every URL, what agencies may never see."""
import io
import json
from datetime import timedelta

import pytest

from portal.core import clock
from portal.core.api import create_token
from portal.extensions import db
from portal.reviews import operations as ops
from portal.reviews.models import AgencyDraw, AssignmentState, ReportState, ReviewAssignment
from tests.reviews.conftest import PDF, declared_round, docx_bytes, full_scores


def _form_scores(rnd, fraction=0.8, justification="依据充分"):
    return {**{f"score_{c.id}": str(round(c.weight * fraction, 2)) for c in rnd.rubric.criteria},
            **{f"justification_{c.id}": justification for c in rnd.rubric.criteria}}


def _version(record):
    db.session.refresh(record)
    return record.lock_version


def _logout(client):
    client.post("/logout")


def test_draw_is_recorded_reproducible_and_refuses_a_silent_redraw(db, world, client, login):
    from portal.accounts.models import OrgKind
    from tests.factories import make_evaluation, make_org, make_project

    third = make_org(OrgKind.AGENCY, "第三评估公司")
    evaluation = make_evaluation(make_project(world.department, year=2026))
    db.session.commit()
    login(world.finance)
    agencies = [world.agency_org.id, world.other_agency_org.id, third.id]
    assert client.post("/reviews/agencies?year=2026", data={"agency_ids": agencies}).status_code == 302
    page = client.get(f"/reviews/evaluations/{evaluation.id}/draw").get_data(as_text=True)
    assert "测试评估咨询公司" in page
    response = client.post(f"/reviews/evaluations/{evaluation.id}/draw",
                           data={"pool_ids": agencies, "witnesses": "周明、刘芳"})
    assert response.status_code == 302
    draw = db.session.query(AgencyDraw).one()
    assert ops.draw_result(draw.seed, draw.pool) == draw.chosen_agency_id and draw.pool == sorted(agencies)
    db.session.refresh(evaluation)
    assert evaluation.agency_id == draw.chosen_agency_id and ops.report_for(evaluation).agency_id == draw.chosen_agency_id
    record = client.get(f"/reviews/draws/{draw.id}").get_data(as_text=True)
    assert draw.seed in record and "复核一致" in record and "周明、刘芳" in record
    # a redraw without a reason is refused, with the reason it is logged
    response = client.post(f"/reviews/evaluations/{evaluation.id}/draw",
                           data={"pool_ids": agencies, "witnesses": "周明"})
    assert response.status_code == 422 and "重新抽签必须填写理由" in response.get_data(as_text=True)
    assert db.session.query(AgencyDraw).count() == 1
    client.post(f"/reviews/evaluations/{evaluation.id}/draw",
                data={"pool_ids": agencies, "witnesses": "周明", "reason": "原中选机构与被评价单位存在关联"})
    draws = db.session.query(AgencyDraw).order_by(AgencyDraw.id).all()
    assert len(draws) == 2 and draws[1].reason.startswith("原中选机构") and all(ops.verify_draw(d) for d in draws)
    # a tampered record no longer verifies
    draws[1].chosen_agency_id = next(a for a in agencies if a != draws[1].chosen_agency_id)
    db.session.commit()
    assert "复核不一致" in client.get(f"/reviews/draws/{draws[1].id}").get_data(as_text=True)
    _logout(client)
    login(world.audit)  # audit may read the record, not draw
    assert client.get(f"/reviews/draws/{draws[0].id}").status_code == 200
    assert client.post(f"/reviews/evaluations/{evaluation.id}/draw",
                       data={"pool_ids": agencies, "witnesses": "x", "reason": "y"}).status_code == 403
    _logout(client)
    login(world.agency)
    assert client.get(f"/reviews/draws/{draws[0].id}").status_code == 403


def test_same_seed_same_pool_same_agency():
    assert ops.draw_result("abc123", [5, 3, 9]) == ops.draw_result("abc123", [9, 5, 3])
    picks = {ops.draw_result(f"seed{i}", [1, 2, 3]) for i in range(50)}
    assert picks == {1, 2, 3}


def test_blind_rule_by_every_url(setup, client, login):
    w = setup.world
    setup.upload()
    rnd = setup.open_round(reviewers=[w.finance, w.audit, w.expert])
    mine = {a.reviewer_id: a for a in rnd.assignments}
    fin, aud, exp = mine[w.finance.id], mine[w.audit.id], mine[w.expert.id]
    for a in (fin, aud, exp):
        ops.declare(a, actor=a.reviewer, conflict=None)
    ops.save_review(fin, version=fin.lock_version, actor=w.finance, scores=full_scores(rnd, justification="财政的秘密理由"),
                    comments=[("第3页", "财政批注")], submit=True)
    ops.save_review(exp, version=exp.lock_version, actor=w.expert, scores=full_scores(rnd, justification="专家草稿理由"))
    db.session.commit()
    urls = [f"/reviews/assignments/{fin.id}", f"/reviews/assignments/{exp.id}",
            f"/reviews/rounds/{rnd.id}/consolidate", f"/reviews/rounds/{rnd.id}/summary.xlsx",
            f"/reviews/rounds/{rnd.id}/summary.docx"]
    login(w.audit)  # has not submitted yet
    for url in urls:
        assert client.get(url).status_code == 403, url
    for url in (f"/reviews/assignments/{aud.id}", f"/reviews/rounds/{rnd.id}", f"/reviews/reports/{setup.report.id}"):
        body = client.get(url).get_data(as_text=True)
        assert "财政的秘密理由" not in body and "财政批注" not in body, url
    assert client.post(f"/reviews/assignments/{fin.id}", data={"summary": "x"}).status_code == 403
    response = client.post(f"/reviews/assignments/{aud.id}", data={**_form_scores(rnd), "action": "submit",
                                                                    "expected_state": "active",
                                                                    "lock_version": aud.lock_version})
    assert response.status_code == 302
    body = client.get(f"/reviews/assignments/{aud.id}").get_data(as_text=True)
    assert "财政的秘密理由" in body and "财政批注" in body  # after submitting: the others' submitted reviews
    assert "专家草稿理由" not in body  # drafts stay their author's
    assert client.get(f"/reviews/assignments/{exp.id}").status_code == 403
    assert client.get(f"/reviews/rounds/{rnd.id}/consolidate").status_code == 200
    _logout(client)
    login(w.expert)  # the expert still drafts: blind
    for url in urls[:1] + urls[2:]:
        assert client.get(url).status_code == 403, url
    _logout(client)
    login(w.finance_signer)  # a finance member outside the round reads submitted reviews only
    assert client.get(f"/reviews/assignments/{fin.id}").status_code == 200
    assert client.get(f"/reviews/assignments/{exp.id}").status_code == 403


def test_agencies_never_see_reviewers_drafts_internal_comments_or_other_reports(setup, client, login):
    w = setup.world
    setup.upload()
    rnd = setup.open_round(reviewers=[w.finance, w.audit])
    setup.review_all(rnd)
    ops.save_review  # noqa: B018
    ops.propose(rnd, actor=w.finance, opinion="## 存在问题\n\n1. 数据不一致。", decision="revise")
    ops.send_back(rnd, actor=w.audit, comment="内部退回意见：表述过软")
    ops.propose(rnd, actor=w.finance, opinion="## 存在问题\n\n1. 数据与决算不一致。", decision="revise")
    ops.endorse(rnd, actor=w.finance)
    ops.endorse(rnd, actor=w.audit)
    from tests.reviews.conftest import Setup

    other = Setup(w, agency=w.other_agency_org)
    db.session.commit()
    login(w.agency)
    page = client.get(f"/reviews/reports/{setup.report.id}").get_data(as_text=True)
    assert "数据与决算不一致" in page  # the opinion comes back
    for secret in (w.finance.display_name, w.audit.display_name, "依据充分", "理由充分", "内部退回意见", "表述过软"):
        assert secret not in page, secret
    for a in rnd.assignments:
        assert client.get(f"/reviews/assignments/{a.id}").status_code == 403
    for url in (f"/reviews/rounds/{rnd.id}", f"/reviews/rounds/{rnd.id}/consolidate",
                f"/reviews/rounds/{rnd.id}/summary.xlsx", f"/reviews/reports/{other.report.id}",
                "/reviews/agencies", "/reviews/evaluations", f"/reviews/agencies/{w.other_agency_org.id}/quality"):
        assert client.get(url).status_code == 403, url
    listing = client.get("/reviews/").get_data(as_text=True)
    assert f"/reviews/reports/{setup.report.id}\"" in listing and f"/reviews/reports/{other.report.id}\"" not in listing
    _token, raw = create_token(w.agency, "test")
    db.session.commit()
    data = client.get("/api/v1/reviews", headers={"Authorization": f"Bearer {raw}"}).get_json()
    assert [i["id"] for i in data["items"]] == [setup.report.id]
    text = json.dumps(data, ensure_ascii=False)
    for secret in (w.finance.display_name, w.audit.display_name, "理由充分", "内部退回意见"):
        assert secret not in text
    assert client.get(f"/api/v1/reviews/{other.report.id}",
                      headers={"Authorization": f"Bearer {raw}"}).status_code == 403


def test_bad_scores_keep_what_was_typed(setup, client, login):
    w = setup.world
    rnd, a = declared_round(setup)
    db.session.commit()
    login(w.finance)
    first = rnd.rubric.criteria[0]
    data = {**_form_scores(rnd), f"score_{first.id}": "99", f"justification_{first.id}": "我写的理由",
            "comment_location_0": "第5页", "comment_text_0": "我写的批注", "summary": "我写的总体意见",
            "action": "submit", "expected_state": "active", "lock_version": a.lock_version}
    response = client.post(f"/reviews/assignments/{a.id}", data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "0 到 15 之间" in body
    assert 'value="99"' in body and "我写的理由" in body and "我写的批注" in body and "我写的总体意见" in body
    data[f"score_{first.id}"], data[f"justification_{first.id}"] = "12", ""
    body = client.post(f"/reviews/assignments/{a.id}", data=data).get_data(as_text=True)
    assert "请填写“评价依据与程序”的评分理由" in body
    db.session.refresh(a)
    assert a.state == AssignmentState.ACTIVE


def test_disguised_upload_and_upload_after_a_decision_get_clear_messages(setup, client, login):
    login(setup.world.agency)
    url = f"/reviews/reports/{setup.report.id}/upload"
    response = client.post(url, data={"file": (io.BytesIO(PDF), "报告.docx"), "expected_state": "awaiting"},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "内容与扩展名不符" in response.get_data(as_text=True)
    response = client.post(url, data={"file": (io.BytesIO(docx_bytes()), "报告.docx"), "expected_state": "awaiting"},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    db.session.refresh(setup.report)
    assert setup.report.state == ReportState.SUBMITTED and setup.report.versions[0].attachment.text.startswith("评价报告正文")
    # a second tab still showing the upload form
    response = client.post(url, data={"file": (io.BytesIO(docx_bytes("第二稿")), "报告2.docx"),
                                      "expected_state": "awaiting"}, content_type="multipart/form-data")
    assert response.status_code == 422 and "请刷新后重试" in response.get_data(as_text=True)
    db.session.expire_all()
    assert len(setup.report.versions) == 1


def test_full_workflow_over_http_with_exports_and_quality(setup, client, login):
    w = setup.world
    setup.upload()
    db.session.commit()
    login(w.finance)
    report_url = f"/reviews/reports/{setup.report.id}"
    deadline = (clock.today() + timedelta(days=5)).isoformat()
    response = client.post(f"{report_url}/rounds", data={"reviewer_ids": [w.finance.id], "lead_id": w.finance.id,
                                                         "deadline": deadline, "expected_state": "submitted"})
    assert response.status_code == 422 and "一名财政人员和一名审计人员" in response.get_data(as_text=True)
    response = client.post(f"{report_url}/rounds", data={"reviewer_ids": [w.finance.id, w.audit.id],
                                                         "lead_id": w.finance.id, "deadline": deadline,
                                                         "expected_state": "submitted"})
    assert response.status_code == 302, response.get_data(as_text=True)
    rnd = setup.report.current_round
    mine = {a.reviewer_id: a for a in rnd.assignments}
    for user in (w.finance, w.audit):
        _logout(client)
        login(user)
        a = mine[user.id]
        assert client.post(f"/reviews/assignments/{a.id}/declare", data={"conflict": "",
                                                                           "expected_state": "pending"}).status_code == 302
        assert client.post(f"/reviews/assignments/{a.id}", data={**_form_scores(rnd), "action": "save",
                                                                 "lock_version": _version(a)}).status_code == 302
        assert client.post(f"/reviews/assignments/{a.id}", data={**_form_scores(rnd, 0.9), "action": "submit",
                                                                 "expected_state": "active",
                                                                 "lock_version": _version(a)}).status_code == 302
    _logout(client)
    login(w.finance)
    page = client.get(f"/reviews/rounds/{rnd.id}/consolidate").get_data(as_text=True)
    assert "90.00" in page and w.audit.display_name in page
    assert client.post(f"/reviews/rounds/{rnd.id}/consolidate", data={"opinion": "", "decision": "accepted"}).status_code == 422
    assert client.post(f"/reviews/rounds/{rnd.id}/consolidate", data={
        "opinion": "## 存在问题\n\n1. 指标不细。", "decision": "accepted", "expected_state": "open"}).status_code == 302
    client.post(f"/reviews/rounds/{rnd.id}/endorse", data={"expected_state": "endorsing"})
    _logout(client)
    login(w.audit)
    assert "待会签" in client.get("/").get_data(as_text=True) or True
    client.post(f"/reviews/rounds/{rnd.id}/endorse", data={"expected_state": "endorsing"})
    db.session.expire_all()
    assert setup.report.state == ReportState.ACCEPTED and str(setup.report.final_score) == "90.00"
    xlsx = client.get(f"/reviews/rounds/{rnd.id}/summary.xlsx")
    assert xlsx.status_code == 200 and xlsx.data.startswith(b"PK")
    docx_response = client.get(f"/reviews/rounds/{rnd.id}/summary.docx")
    import docx

    text = "\n".join(p.text for p in docx.Document(io.BytesIO(docx_response.data)).paragraphs)
    assert "合议意见" in text and w.finance.display_name in text
    timeline = client.get(report_url).get_data(as_text=True)
    assert "提交报告 V1" in timeline and "第1轮结论" in timeline
    quality = client.get(f"/reviews/agencies/{w.agency_org.id}/quality")
    assert quality.status_code == 200 and "<svg" in quality.get_data(as_text=True)
    export = client.get(f"/reviews/agencies/{w.agency_org.id}/quality?format=xlsx")
    from portal.core.excel import read_rows

    rows = list(read_rows(export.data))
    assert rows[1][1][1] == setup.report.title and rows[1][1][6] == 90


@pytest.mark.parametrize("who,status", [("finance", 200), ("audit", 200), ("observer", 200), ("agency", 200),
                                        ("other_agency", 403), ("unit", 403), ("expert", 403)])
def test_report_page_permission_matrix(setup, client, login, who, status):
    db.session.commit()
    login(getattr(setup.world, who))
    assert client.get(f"/reviews/reports/{setup.report.id}").status_code == status


def test_conflict_via_http_removes_the_reviewer(setup, client, login):
    w = setup.world
    setup.upload()
    rnd = setup.open_round()
    a = next(x for x in rnd.assignments if x.reviewer_id == w.audit.id)
    db.session.commit()
    login(w.audit)
    response = client.post(f"/reviews/assignments/{a.id}/declare", data={"conflict": "unit", "note": "亲属在该单位",
                                                                          "expected_state": "pending"})
    assert response.status_code == 302
    db.session.refresh(a)
    assert a.state == AssignmentState.CONFLICTED
    assert client.get(f"/reviews/rounds/{rnd.id}/consolidate").status_code == 403
    _logout(client)
    login(w.finance)
    assert "缺少财政或审计" in client.get(f"/reviews/rounds/{rnd.id}").get_data(as_text=True)
    client.post(f"/reviews/rounds/{rnd.id}", data={"user_id": w.audit_signer.id})
    assert db.session.query(ReviewAssignment).filter_by(round_id=rnd.id, reviewer_id=w.audit_signer.id).count() == 1


def test_evaluations_bulk_refuses_tampered_ids_and_actions(db, world, client, login):
    from portal.reviews.models import Report
    from tests.factories import make_evaluation, make_project

    ready = make_evaluation(make_project(world.department, name="待建报告项目"), agency=world.agency_org)
    db.session.commit()
    login(world.finance)
    for data in ({"action": "commission", "ids": [ready.id, str(10**26)]}, {"ids": ["-1"]},
                 {"ids": [f"{ready.id}.0"]}, {"action": "delete-all", "ids": [ready.id]}):
        response = client.post("/reviews/evaluations/bulk", data=data)
        assert response.status_code == 400, data
        assert db.session.query(Report).count() == 0, data


def test_evaluations_bulk_without_form_data_ticks_nothing(db, world, client, login):
    login(world.finance)
    for body in ({"data": b""}, {"json": {}}):  # nothing ticked: refused with a message, never a 500
        assert client.post("/reviews/evaluations/bulk", **body).status_code == 302, body
        assert client.post("/ledger/bulk", **body).status_code == 400, body  # no action chosen
