"""Operations and state machines of the co-review, called directly."""
from datetime import timedelta
from decimal import Decimal

import pytest

from portal.core import clock
from portal.core.errors import DomainError, NotPermitted, StaleRecord
from portal.core.notifications import run_reminders
from portal.extensions import db
from portal.reviews import operations as ops
from portal.reviews.models import AssignmentState, Decision, ReportState, ReviewRevision, RoundState
from tests.reviews.conftest import PDF, declared_round, full_scores


def test_round_needs_finance_and_audit_reviewers(setup):
    w = setup.world
    setup.upload()
    for reviewers in ([w.finance, w.finance_signer], [w.audit, w.expert], [w.expert]):
        with pytest.raises(DomainError, match="一名财政人员和一名审计人员"):
            setup.open_round(reviewers=reviewers)
    rnd = setup.open_round(reviewers=[w.finance, w.audit, w.expert])
    assert {a.side.value for a in rnd.assignments} == {"finance", "audit", "expert"}
    assert setup.report.state == ReportState.IN_REVIEW


def test_agency_staff_and_units_cannot_be_reviewers(setup):
    w = setup.world
    setup.upload()
    with pytest.raises(DomainError, match="只能是财政、审计人员或评审专家"):
        setup.open_round(reviewers=[w.finance, w.audit, w.agency])


def test_conflict_declaration_removes_reviewer_and_blocks_until_replaced(setup):
    w = setup.world
    setup.upload()
    rnd = setup.open_round(reviewers=[w.finance, w.audit])
    mine = {a.reviewer_id: a for a in rnd.assignments}
    fin, aud = mine[w.finance.id], mine[w.audit.id]
    ops.declare(aud, actor=w.audit, conflict="agency", note="曾在该机构任职")
    assert aud.state == AssignmentState.CONFLICTED and aud.conflict_kind.value == "agency"
    with pytest.raises(DomainError, match="回避"):
        ops.save_review(aud, version=aud.lock_version, actor=w.audit, scores=full_scores(rnd), submit=True)
    ops.declare(fin, actor=w.finance, conflict=None)
    ops.save_review(fin, version=fin.lock_version, actor=w.finance, scores=full_scores(rnd), submit=True)
    assert "缺少财政或审计" in ops.round_ready(rnd)
    with pytest.raises(DomainError, match="缺少财政或审计"):
        ops.propose(rnd, actor=w.finance, opinion="意见", decision="accepted")
    with pytest.raises(DomainError, match="已在本轮"):
        ops.add_reviewer(rnd, w.audit, actor=w.finance)  # the conflicted one cannot come back
    new = ops.add_reviewer(rnd, w.audit_signer, actor=w.finance)
    ops.declare(new, actor=w.audit_signer, conflict=None)
    ops.save_review(new, version=new.lock_version, actor=w.audit_signer, scores=full_scores(rnd), submit=True)
    assert ops.round_ready(rnd) is None


def test_rubric_arithmetic(setup):
    w = setup.world
    setup.upload()
    rnd = setup.open_round(reviewers=[w.finance, w.audit])
    weights = [c.weight for c in rnd.rubric.criteria]
    assert sum(weights) == 100 and [c.name for c in rnd.rubric.criteria][0] == "评价依据与程序"
    mine = {a.reviewer_id: a for a in rnd.assignments}
    fin, aud = mine[w.finance.id], mine[w.audit.id]
    for a, values in ((fin, [15, 18, 16, 17, 12, 9]), (aud, [11, 14, 20, 13.5, 10, 8])):
        ops.declare(a, actor=a.reviewer, conflict=None)
        scores = {c.id: (str(v), "理由") for c, v in zip(rnd.rubric.criteria, values, strict=True)}
        ops.save_review(a, version=a.lock_version, actor=a.reviewer, scores=scores, submit=True)
    assert fin.total == Decimal(87) and aud.total == Decimal("76.5")
    assert ops.round_score(rnd) == Decimal("81.75")
    stats = ops.criterion_stats(rnd)
    assert stats[0]["mean"] == Decimal("13.00") and stats[0]["spread"] == Decimal(4)
    assert stats[3]["mean"] == Decimal("15.25") and stats[3]["spread"] == Decimal("3.5")


def test_scores_out_of_range_or_without_justification_are_refused_and_nothing_lost(setup):
    w = setup.world
    rnd, a = declared_round(setup)
    first = rnd.rubric.criteria[0]
    ops.save_review(a, version=a.lock_version, actor=w.finance, scores={first.id: ("10", "草稿理由")}, summary="草稿")
    db.session.commit()
    for raw, message in (("16", "0 到 15"), ("-1", "0 到 15"), ("abc", "数字"), ("1.234", "两位小数"), ("NaN", "0 到 15")):
        with pytest.raises(DomainError, match=message) as info:
            ops.save_review(a, version=a.lock_version, actor=w.finance, scores={first.id: (raw, "x")})
        assert info.value.field == f"score_{first.id}"
        db.session.rollback()
    scores = full_scores(rnd)
    scores[first.id] = ("12", "")
    with pytest.raises(DomainError, match="评分理由"):
        ops.save_review(a, version=a.lock_version, actor=w.finance, scores=scores, submit=True)
    db.session.rollback()
    db.session.refresh(a)
    assert a.state == AssignmentState.ACTIVE and a.score_for(first.id).score == Decimal(10)
    assert a.summary == "草稿"


def test_every_edit_keeps_the_earlier_version(setup):
    w = setup.world
    rnd, a = declared_round(setup)
    c = rnd.rubric.criteria[0]
    ops.save_review(a, version=a.lock_version, actor=w.finance, scores={c.id: ("10", "第一稿")}, comments=[("第二章", "样本不足")])
    ops.save_review(a, version=a.lock_version, actor=w.finance, scores={c.id: ("12", "第二稿")})
    ops.save_review(a, version=a.lock_version, actor=w.finance, scores=full_scores(rnd), submit=True)
    revisions = db.session.query(ReviewRevision).filter_by(assignment_id=a.id).order_by(ReviewRevision.number).all()
    assert [r.data["scores"][str(c.id)] for r in revisions] == [["10.00", "第一稿"], ["12.00", "第二稿"]]
    assert revisions[0].data["comments"] == [["第二章", "样本不足", "opinion", None]]
    with pytest.raises(DomainError, match="不能再修改"):
        ops.save_review(a, version=a.lock_version, actor=w.finance, scores=full_scores(rnd))


def test_comment_needs_location_and_text(setup):
    w = setup.world
    rnd, a = declared_round(setup)
    with pytest.raises(DomainError, match="章节或页码"):
        ops.save_review(a, version=a.lock_version, actor=w.finance, scores={}, comments=[("", "没有位置的批注")])


def test_decision_needs_both_bureaus_and_either_can_send_back(setup):
    w = setup.world
    setup.upload()
    rnd = setup.open_round()
    setup.review_all(rnd)
    with pytest.raises(NotPermitted):
        ops.propose(rnd, actor=w.audit, opinion="意见", decision="accepted")  # not the lead
    ops.propose(rnd, actor=w.finance, opinion="同意通过。", decision="accepted")
    ops.endorse(rnd, actor=w.finance)
    assert rnd.state == RoundState.ENDORSING and rnd.decision is None
    with pytest.raises(DomainError, match="财政局已会签"):
        ops.endorse(rnd, actor=w.finance_signer)
    with pytest.raises(NotPermitted):
        ops.endorse(rnd, actor=w.expert)
    with pytest.raises(DomainError, match="理由"):
        ops.send_back(rnd, actor=w.audit, comment="")
    ops.send_back(rnd, actor=w.audit, comment="问题表述需更具体")
    assert rnd.state == RoundState.RETURNED and rnd.finance_endorser_id is None
    ops.propose(rnd, actor=w.finance, opinion="修改后同意通过。", decision="accepted", expected_state="returned")
    ops.endorse(rnd, actor=w.audit)
    assert rnd.state == RoundState.ENDORSING
    ops.endorse(rnd, actor=w.finance_signer)
    assert rnd.state == RoundState.DECIDED and rnd.decision == Decision.ACCEPTED
    assert setup.report.state == ReportState.ACCEPTED and setup.report.final_score == Decimal("80.00")
    with pytest.raises(StaleRecord):
        ops.send_back(rnd, actor=w.audit, comment="晚了", expected_state="endorsing")


def test_revise_opens_next_round_on_upload_and_rounds_are_capped(setup, app):
    w = setup.world
    setup.upload()
    rnd = setup.open_round(reviewers=[w.finance, w.audit, w.expert])
    for n in (1, 2):
        setup.review_all(rnd)
        setup.decide(rnd, "revise")
        assert setup.report.state == ReportState.REVISING
        version = setup.upload()
        assert version.number == n + 1
        rnd = setup.report.current_round
        assert rnd.number == n + 1 and rnd.version == version and len(rnd.assignments) == 3
    setup.review_all(rnd)
    with pytest.raises(DomainError, match="上限"):
        ops.propose(rnd, actor=w.finance, opinion="再改", decision="revise")
    setup.decide(rnd, "accepted")
    assert setup.report.state == ReportState.ACCEPTED
    assert [r.decision.value for r in setup.report.rounds] == ["revise", "revise", "accepted"]
    with pytest.raises(DomainError):
        setup.upload()


def test_cap_is_configurable(setup, app):
    w = setup.world
    app.config["REVIEW_MAX_ROUNDS"] = 1
    try:
        setup.upload()
        rnd = setup.open_round()
        setup.review_all(rnd)
        with pytest.raises(DomainError, match="上限 1 轮"):
            ops.propose(rnd, actor=w.finance, opinion="改", decision="revise")
    finally:
        app.config["REVIEW_MAX_ROUNDS"] = 3


def test_upload_racing_a_decision_gets_a_clear_message(setup):
    setup.upload()
    rnd = setup.open_round()
    setup.review_all(rnd)
    setup.decide(rnd, "accepted")
    db.session.commit()
    import io

    from werkzeug.datastructures import FileStorage

    from tests.reviews.conftest import docx_bytes

    with pytest.raises(StaleRecord, match="刷新"):
        ops.upload_version(setup.report, FileStorage(io.BytesIO(docx_bytes()), filename="V2.docx"),
                           actor=setup.world.agency, expected_state="revising")
    db.session.rollback()
    assert len(setup.report.versions) == 1


def test_disguised_file_is_refused(setup):
    with pytest.raises(DomainError, match="不符"):
        setup.upload(data=PDF, name="报告.docx")
    db.session.rollback()
    with pytest.raises(DomainError, match="不受支持"):
        setup.upload(data=b"MZ\x90\x00" + b"\x00" * 64, name="报告.pdf")
    db.session.rollback()
    assert setup.report.versions == [] and setup.report.state == ReportState.AWAITING


def test_only_the_reports_agency_uploads(setup):
    with pytest.raises(NotPermitted):
        setup.upload(user=setup.world.other_agency)
    with pytest.raises(NotPermitted):
        setup.upload(user=setup.world.finance)


def test_late_reviewers_are_reminded_once(setup):
    w = setup.world
    setup.upload()
    rnd = setup.open_round(reviewers=[w.finance, w.audit])
    setup.review_all_first = None
    a = next(x for x in rnd.assignments if x.reviewer_id == w.finance.id)
    ops.declare(a, actor=w.finance, conflict=None)
    ops.save_review(a, version=a.lock_version, actor=w.finance, scores=full_scores(rnd), submit=True)
    db.session.commit()
    later = clock.now() + timedelta(days=8)
    assert run_reminders(later)["reviews"] == 1  # only the audit reviewer, who has not submitted
    assert run_reminders(later)["reviews"] == 0
    assert rnd.overdue(later.date())


def test_opinion_problems_lists_the_problems_section(setup):
    setup.upload()
    rnd = setup.open_round()
    rnd.opinion = "## 合议意见\n\n总体较好。\n\n## 存在问题\n\n1. 抽样方法未说明。\n2、数据不一致。\n- 建议不具体\n\n## 修改要求\n\n- 不是问题"
    assert ops.opinion_problems(rnd) == ["抽样方法未说明。", "数据不一致。", "建议不具体"]


def test_custom_rubric_weights_must_total_100(setup):
    w = setup.world
    with pytest.raises(DomainError, match="合计须为 100，当前为 90"):
        ops.save_rubric("简化评分表", ops.parse_criteria("质量 50\n规范 40"), actor=w.finance)
    with pytest.raises(DomainError, match="格式"):
        ops.parse_criteria("质量")
    with pytest.raises(NotPermitted):
        ops.save_rubric("简化评分表", [("质量", 100)], actor=w.audit)
    rubric = ops.save_rubric("简化评分表", ops.parse_criteria("质量 60\n规范，40"), actor=w.finance)
    assert rubric.total_weight == 100
