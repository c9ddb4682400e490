"""The co-review on the core write path: stale saves refused (A/B), transitions made once under
concurrency (real connections: threads, each with its own database connection), numbers of
rounds and versions never doubled or skipped, double submissions written once, and one audit
entry per record changed with before and after of the changed fields."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.core import clock
from portal.core.audit import AuditEntry
from portal.core.notifications import Notification
from portal.extensions import db
from portal.reviews import operations as ops
from portal.reviews.models import (
    AgencyDraw,
    Report,
    ReportState,
    ReportVersion,
    ReviewAssignment,
    ReviewRound,
    RoundState,
    RubricTemplate,
)
from tests.concurrency import in_parallel, signed_in
from tests.reviews.conftest import declared_round, docx_bytes


def _version_in(page) -> str:
    match = re.search(r'name="lock_version"[^>]*value="(\d+)"', page.get_data(as_text=True))
    assert match, "the edit form carries no lock_version"
    return match.group(1)


def _entries(record, action: str | None = None) -> list[AuditEntry]:
    stmt = sa.select(AuditEntry).where(AuditEntry.record_type == record.__tablename__,
                                       AuditEntry.record_id == str(record.id))
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    return list(db.session.scalars(stmt.order_by(AuditEntry.id)))


def _notifications(user, title_part: str) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.title.contains(title_part)))


def _settle():
    """End the test's own transaction so the threads' commits are what it reads next."""
    db.session.rollback()
    db.session.expire_all()


def _statuses(responses) -> list[int]:
    return sorted(r.status_code for r in responses)


# ---- A/B stale saves: B refused with who changed what, A's values intact, B's input kept -----------

def test_stale_report_edit_is_refused_and_keeps_bs_input(setup, app):
    w = setup.world
    report = setup.report
    original_title = report.title
    db.session.commit()
    a, b = signed_in(app, w.finance), signed_in(app, w.finance_signer)
    url = f"/reviews/reports/{report.id}/edit"
    version_a, version_b = _version_in(a.get(url)), _version_in(b.get(url))
    due = report.due_date.isoformat()
    later = (clock.today() + timedelta(days=75)).isoformat()
    response = a.post(url, data={"title": "A改过的报告标题", "due_date": due, "lock_version": version_a})
    assert response.status_code == 302
    response = b.post(url, data={"title": original_title, "due_date": later, "lock_version": version_b})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "已被" in body and w.finance.display_name in body and "修改（报告标题）" in body
    assert f'value="{later}"' in body  # B's input is still on the page
    _settle()
    report = db.session.get(Report, report.id)
    assert report.title == "A改过的报告标题" and report.due_date.isoformat() == due
    entry = _entries(report, "review_report.edit")[-1]
    assert entry.before_dict == {"title": original_title} and entry.after_dict == {"title": "A改过的报告标题"}


def test_stale_rubric_edit_is_refused_and_keeps_bs_input(db, world, app):
    rubric = ops.save_rubric("简化评分表", "质量 60\n规范 40", actor=world.finance)
    db.session.commit()
    a, b = signed_in(app, world.finance), signed_in(app, world.finance_signer)
    url = f"/reviews/rubrics/{rubric.id}/edit"
    version_a, version_b = _version_in(a.get(url)), _version_in(b.get(url))
    assert a.post(url, data={"name": "简化评分表（2026）", "criteria": "质量 60\n规范 40",
                             "lock_version": version_a}).status_code == 302
    response = b.post(url, data={"name": "简化评分表", "criteria": "质量 55\n规范 45", "lock_version": version_b})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "已被" in body and "修改（评分表名称）" in body
    assert "质量 55" in body
    _settle()
    rubric = db.session.get(RubricTemplate, rubric.id)
    assert rubric.name == "简化评分表（2026）" and [(c.name, c.weight) for c in rubric.criteria] == [
        ("质量", 60), ("规范", 40)]


def test_criteria_change_bumps_the_rubric_version_and_is_audited(db, world):
    rubric = ops.save_rubric("简化评分表", "质量 60\n规范 40", actor=world.finance)
    db.session.commit()
    version = rubric.lock_version
    ops.update_rubric(rubric, actor=world.finance, version=version, name="简化评分表", criteria="质量 70\n规范 30")
    db.session.commit()
    assert rubric.lock_version == version + 1
    entry = _entries(rubric, "review_rubric.edit")[-1]
    assert entry.before_dict == {"criteria": [["质量", 60], ["规范", 40]]}
    assert entry.after_dict == {"criteria": [["质量", 70], ["规范", 30]]}


def test_rubric_in_use_keeps_its_criteria(setup):
    w = setup.world
    setup.upload()
    rnd = setup.open_round()
    rubric = rnd.rubric
    from portal.core.errors import DomainError

    with pytest.raises(DomainError, match="已用于评审"):
        ops.update_rubric(rubric, actor=w.finance, version=rubric.lock_version, name=rubric.name,
                          criteria="质量 50\n规范 50")


def test_two_tabs_of_one_reviewer_do_not_overwrite_each_other(setup, app):
    w = setup.world
    rnd, mine = declared_round(setup)
    first = rnd.rubric.criteria[0]
    db.session.commit()
    tab_a, tab_b = signed_in(app, w.finance), signed_in(app, w.finance)
    url = f"/reviews/assignments/{mine.id}"
    version_a, version_b = _version_in(tab_a.get(url)), _version_in(tab_b.get(url))
    response = tab_a.post(url, data={f"score_{first.id}": "12", f"justification_{first.id}": "A的评分理由",
                                     "action": "save", "expected_state": "active", "lock_version": version_a})
    assert response.status_code == 302
    response = tab_b.post(url, data={"summary": "B写的总体意见", "comment_location_0": "第3页",
                                     "comment_text_0": "B写的批注", "action": "save", "expected_state": "active",
                                     "lock_version": version_b})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "已被" in body and w.finance.display_name in body and "评分）" in body
    assert "B写的总体意见" in body and "B写的批注" in body
    _settle()
    mine = db.session.get(ReviewAssignment, mine.id)
    assert mine.score_for(first.id).score == 12 and mine.score_for(first.id).justification == "A的评分理由"
    assert mine.summary == "" and mine.comments == [] and mine.revision == 1


def test_a_review_save_without_a_version_is_refused(setup, client, login):
    w = setup.world
    rnd, mine = declared_round(setup)
    db.session.commit()
    login(w.finance)
    response = client.post(f"/reviews/assignments/{mine.id}", data={"summary": "没有版本", "action": "save"})
    assert response.status_code == 422 and "版本信息" in response.get_data(as_text=True)


# ---- transitions made once under concurrency ---------------------------------------------------

def _endorsing_round(setup):
    setup.upload()
    rnd = setup.open_round()
    setup.review_all(rnd)
    ops.propose(rnd, actor=rnd.lead, opinion="## 存在问题\n\n1. 数据不一致。", decision="accepted")
    db.session.commit()
    return rnd


def test_parallel_endorsements_decide_once(setup, app):
    w = setup.world
    rnd = _endorsing_round(setup)
    users = [w.finance, w.finance_signer, w.audit, w.audit_signer]
    clients = [signed_in(app, u) for u in users]
    db.session.commit()
    url = f"/reviews/rounds/{rnd.id}/endorse"
    responses = in_parallel([lambda c=c: c.post(url, data={"expected_state": "endorsing"}) for c in clients])
    assert _statuses(responses) == [302, 302, 422, 422]  # one per bureau; the second of each bureau refused
    _settle()
    rnd = db.session.get(ReviewRound, rnd.id)
    assert rnd.state == RoundState.DECIDED and rnd.finance_endorser_id in (w.finance.id, w.finance_signer.id)
    assert rnd.audit_endorser_id in (w.audit.id, w.audit_signer.id)
    assert len(_entries(rnd, "review_round.endorse")) == 1 and len(_entries(rnd, "review_round.take_effect")) == 1
    report = db.session.get(Report, setup.report.id)
    assert report.state == ReportState.ACCEPTED and len(_entries(report, "review_report.decide")) == 1
    assert _notifications(w.agency, "评审结论") == 1 and _notifications(rnd.lead, "评审结论已生效") == 1


def _endorse_at_once(app, rnd, users) -> list:
    """Each of `users` posts 会签 on the round at the same moment, each in a session of their own."""
    clients = [signed_in(app, user) for user in users]
    db.session.commit()
    url = f"/reviews/rounds/{rnd.id}/endorse"
    return in_parallel([lambda c=c: c.post(url, data={"expected_state": "endorsing"}) for c in clients])


@pytest.mark.commits  # _endorse_at_once runs threads
def test_two_endorsements_of_one_bureau_at_once_count_once(setup, app):
    """Without the round's lock both would read "not endorsed yet" and the second overwrite the first."""
    w = setup.world
    rnd = _endorsing_round(setup)
    responses = _endorse_at_once(app, rnd, [w.finance, w.finance_signer])
    assert _statuses(responses) == [302, 422]
    refused = next(r for r in responses if r.status_code == 422).get_data(as_text=True)
    assert "财政局已会签" in refused
    _settle()
    rnd = db.session.get(ReviewRound, rnd.id)
    winner = next(u for u, r in zip((w.finance, w.finance_signer), responses, strict=True) if r.status_code == 302)
    assert rnd.state == RoundState.ENDORSING and rnd.finance_endorser_id == winner.id and rnd.audit_endorser_id is None
    assert len(_entries(rnd, "review_round.endorse")) == 1


@pytest.mark.commits  # _endorse_at_once runs threads
def test_both_bureaus_at_the_same_moment_both_count(setup, app):
    w = setup.world
    rnd = _endorsing_round(setup)
    responses = _endorse_at_once(app, rnd, [w.finance_signer, w.audit])
    assert _statuses(responses) == [302, 302]
    _settle()
    rnd = db.session.get(ReviewRound, rnd.id)
    assert (rnd.state, rnd.finance_endorser_id, rnd.audit_endorser_id) == (RoundState.DECIDED, w.finance_signer.id,
                                                                           w.audit.id)
    assert len(_entries(rnd, "review_round.take_effect")) == 1
    assert _notifications(w.agency, "评审结论") == 1


def test_parallel_open_round_opens_one_round(setup, app):
    w = setup.world
    setup.upload()
    db.session.commit()
    clients = [signed_in(app, w.finance) for _ in range(4)]  # four tabs of one officer
    db.session.commit()
    data = {"reviewer_ids": [w.finance.id, w.audit.id], "lead_id": w.finance.id, "expected_state": "submitted",
            "deadline": (clock.today() + timedelta(days=7)).isoformat()}
    url = f"/reviews/reports/{setup.report.id}/rounds"
    responses = in_parallel([lambda c=c: c.post(url, data=data) for c in clients])
    assert _statuses(responses) == [302, 422, 422, 422]
    _settle()
    rounds = list(db.session.scalars(sa.select(ReviewRound).where(ReviewRound.report_id == setup.report.id)))
    assert [r.number for r in rounds] == [1] and len(rounds[0].assignments) == 2
    assert len(_entries(rounds[0], "review_round.open")) == 1
    assert len(_entries(setup.report, "review_report.open_round")) == 1
    assert _notifications(w.audit, "请评审") == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RubricTemplate)) == 1  # the default, once


def test_parallel_consolidation_proposes_once(setup, app):
    w = setup.world
    setup.upload()
    rnd = setup.open_round()
    setup.review_all(rnd)
    db.session.commit()
    clients = [signed_in(app, w.finance) for _ in range(4)]
    db.session.commit()
    url = f"/reviews/rounds/{rnd.id}/consolidate"
    responses = in_parallel([lambda c=c, i=i: c.post(url, data={
        "opinion": f"## 存在问题\n\n1. 第{i}稿意见。", "decision": "accepted", "expected_state": "open"})
        for i, c in enumerate(clients)])
    assert _statuses(responses) == [302, 422, 422, 422]
    _settle()
    rnd = db.session.get(ReviewRound, rnd.id)
    assert rnd.state == RoundState.ENDORSING and len(_entries(rnd, "review_round.propose")) == 1
    assert _notifications(w.audit, "合议意见待会签") == 1


def _parallel_uploads(app, setup, clients, n):
    url = f"/reviews/reports/{setup.report.id}/upload"
    return in_parallel([lambda c=c, i=i: c.post(url, content_type="multipart/form-data", data={
        "file": (io.BytesIO(docx_bytes(f"修改稿{n}-{i}")), f"V{n}-{i}.docx"), "note": f"第{i}个标签页",
        "expected_state": "revising"}) for i, c in enumerate(clients)])


def test_revisions_and_rounds_are_numbered_without_doubles_or_gaps(setup, app):
    w = setup.world
    setup.upload()
    rnd = setup.open_round()
    clients = None
    for n in (2, 3):
        setup.review_all(rnd)
        setup.decide(rnd, "revise")
        db.session.commit()
        clients = clients or [signed_in(app, w.agency) for _ in range(4)]
        db.session.commit()
        assert _statuses(_parallel_uploads(app, setup, clients, n)) == [302, 422, 422, 422]
        _settle()
        report = db.session.get(Report, setup.report.id)
        setup.report = report
        versions = db.session.scalars(sa.select(ReportVersion.number).where(ReportVersion.report_id == report.id)
                                      .order_by(ReportVersion.number)).all()
        rounds = db.session.scalars(sa.select(ReviewRound.number).where(ReviewRound.report_id == report.id)
                                    .order_by(ReviewRound.number)).all()
        assert versions == list(range(1, n + 1)) and rounds == list(range(1, n + 1))
        assert report.state == ReportState.IN_REVIEW
        rnd = report.current_round
        assert rnd.number == n and rnd.version.number == n
        assert len(_entries(rnd, "review_round.open")) == 1


# ---- double submissions ------------------------------------------------------------------------

def test_commission_posted_twice_with_one_form_key_makes_one_report(db, world, client, login):
    from tests.factories import make_evaluation, make_project

    evaluation = make_evaluation(make_project(world.department), agency=world.other_agency_org)
    db.session.commit()
    login(world.finance)
    url = f"/reviews/evaluations/{evaluation.id}/commission"
    first = client.post(url, data={"form_key": "commission-once"})
    second = client.post(url, data={"form_key": "commission-once"})
    assert first.status_code == second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    _settle()
    reports = db.session.scalars(sa.select(Report).where(Report.evaluation_id == evaluation.id)).all()
    assert len(reports) == 1 and len(_entries(reports[0], "review_report.create")) == 1


def _pool_and_evaluation(world):
    from portal.accounts.models import OrgKind
    from tests.factories import make_evaluation, make_org, make_project

    third = make_org(OrgKind.AGENCY, "第三评估公司")
    agencies = [world.agency_org.id, world.other_agency_org.id, third.id]
    ops.set_pool(2026, agencies, actor=world.finance)
    evaluation = make_evaluation(make_project(world.department, year=2026))
    db.session.commit()
    return evaluation, agencies


def test_draw_posted_twice_with_one_form_key_draws_once(db, world, client, login):
    evaluation, agencies = _pool_and_evaluation(world)
    login(world.finance)
    url = f"/reviews/evaluations/{evaluation.id}/draw"
    data = {"pool_ids": agencies, "witnesses": "周明、刘芳", "form_key": "draw-once"}
    first, second = client.post(url, data=data), client.post(url, data=data)
    assert first.status_code == second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    _settle()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AgencyDraw)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 1


def test_parallel_draws_of_one_evaluation_draw_once(db, world, app):
    evaluation, agencies = _pool_and_evaluation(world)
    clients = [signed_in(app, world.finance), signed_in(app, world.finance), signed_in(app, world.finance_signer)]
    db.session.commit()
    url = f"/reviews/evaluations/{evaluation.id}/draw"
    responses = in_parallel([lambda c=c, i=i: c.post(url, data={
        "pool_ids": agencies, "witnesses": "周明", "form_key": "same-key" if i < 2 else "other-key"})
        for i, c in enumerate(clients)])
    statuses = _statuses(responses)
    assert statuses.count(302) in (1, 2) and statuses.count(422) == 3 - statuses.count(302)
    _settle()
    draws = db.session.scalars(sa.select(AgencyDraw)).all()
    assert len(draws) == 1  # the same form twice writes once; another draw without a reason is refused
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 1


def test_parallel_listing_on_the_ledger_lists_once(setup, app):
    from portal.ledger.models import Problem

    setup.upload()
    rnd = setup.open_round()
    setup.review_all(rnd)
    setup.decide(rnd, "accepted")
    db.session.commit()
    clients = [signed_in(app, setup.world.finance) for _ in range(3)]
    db.session.commit()
    url = f"/reviews/rounds/{rnd.id}/ledger"
    responses = in_parallel([lambda c=c: c.post(url, data={"deadline": "2026-12-31"}) for c in clients])
    assert _statuses(responses) == [302, 422, 422]
    _settle()
    problems = db.session.scalars(sa.select(Problem).order_by(Problem.id)).all()
    assert [p.description for p in problems] == ["抽样方法未说明。", "数据不一致。"]
    assert len({p.number for p in problems}) == 2


def test_listing_is_once_per_round_even_after_the_title_changed(setup):
    from portal.core.errors import DomainError

    setup.upload()
    rnd = setup.open_round()
    setup.review_all(rnd)
    setup.decide(rnd, "revise")
    ops.list_opinion_problems(rnd, actor=setup.world.finance, deadline=clock.today() + timedelta(days=30))
    ops.update_report(setup.report, actor=setup.world.finance, version=setup.report.lock_version,
                      title="改名后的评价报告", due_date=setup.report.due_date)
    with pytest.raises(DomainError, match="已列入台账"):
        ops.list_opinion_problems(rnd, actor=setup.world.finance, deadline=clock.today() + timedelta(days=30))


# ---- audit: one entry per record changed, before and after of what changed -------------------

def test_every_entry_of_a_whole_co_review_names_only_what_changed(setup):
    w = setup.world
    ops.set_pool(2026, [w.agency_org.id, w.other_agency_org.id], actor=w.finance)
    ops.set_pool(2026, [w.agency_org.id], actor=w.finance)
    ops.update_report(setup.report, actor=w.finance, version=setup.report.lock_version, title="新标题",
                      due_date=setup.report.due_date)
    setup.upload()
    rnd = setup.open_round(reviewers=[w.finance, w.audit, w.expert])
    expert = next(a for a in rnd.assignments if a.reviewer_id == w.expert.id)
    ops.declare(expert, actor=w.expert, conflict="agency", note="曾在该机构任职")
    setup.review_all(rnd)
    ops.propose(rnd, actor=rnd.lead, opinion="## 存在问题\n\n1. 数据不一致。", decision="revise")
    ops.send_back(rnd, actor=w.audit, comment="表述需具体")
    setup.decide(rnd, "revise")
    setup.upload()
    db.session.flush()
    entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.record_type.like("review%")
                                                              | AuditEntry.record_type.like("agency%"))).all()
    for entry in entries:
        before, after = entry.before_dict, entry.after_dict
        if entry.before is not None and entry.after is not None:
            assert before.keys() == after.keys(), entry.action
            assert all(before[k] != after[k] for k in before), (entry.action, before, after)
        assert entry.before is not None or entry.after is not None, entry.action
    pool = [e for e in entries if e.action.startswith("agency.pool")]
    assert sorted(e.action for e in pool) == ["agency.pool_add", "agency.pool_add", "agency.pool_remove"]
    conflict = _entries(expert, "review_assignment.declare_conflict")
    assert len(conflict) == 1 and conflict[0].after_dict["state"] == "conflicted"
    assert conflict[0].after_dict["conflict_kind"] == "agency"
    decided = _entries(rnd, "review_round.take_effect")
    assert len(decided) == 1 and decided[0].after_dict["state"] == "decided"
    assert decided[0].after_dict["decision"] == "revise" and "audit_endorser_id" in decided[0].after_dict
    submitted = _entries(next(a for a in rnd.assignments if a.reviewer_id == w.audit.id),
                         "review_assignment.submit")
    assert submitted[0].before_dict["state"] == "active" and submitted[0].after_dict["state"] == "submitted"
    report_entries = [(e.action, e.after_dict.get("state")) for e in _entries(setup.report)]
    assert report_entries == [("review_report.create", "awaiting"), ("review_report.edit", None),
                              ("review_report.upload", "submitted"), ("review_report.open_round", "in_review"),
                              ("review_report.decide", "revising"), ("review_report.upload", "in_review")]


def test_a_draw_logs_the_draw_the_evaluation_and_the_report(db, world):
    evaluation, agencies = _pool_and_evaluation(world)
    draw = ops.draw_agency(evaluation, actor=world.finance, pool_ids=agencies, witnesses="周明")
    report = ops.report_for(evaluation)
    assert len(_entries(draw, "agency.draw")) == 1
    assert _entries(evaluation, "evaluation.agency")[0].after_dict == {"agency_id": draw.chosen_agency_id}
    assert _entries(report, "review_report.create")[0].after_dict["agency_id"] == draw.chosen_agency_id
    seed = next(f"s{i}" for i in range(100) if ops.draw_result(f"s{i}", agencies) != draw.chosen_agency_id)
    again = ops.draw_agency(evaluation, actor=world.finance, pool_ids=agencies, witnesses="周明", reason="回避",
                            seed=seed)
    moved = _entries(report, "review_report.agency")
    assert len(moved) == 1 and moved[0].before_dict == {"agency_id": draw.chosen_agency_id}
    assert moved[0].after_dict == {"agency_id": again.chosen_agency_id} and moved[0].comment == "回避"
