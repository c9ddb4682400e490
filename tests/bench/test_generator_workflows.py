"""The workflow plug-ins (problem ledger, letters, co-review) at the tiny scale: the rows are what the
modules' own operations would have left, so the portal carries on from them (numbers, states,
sign-offs, public problems). One test checks at the city scale that every co-review stage occurs."""
from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from bench.generate import FIXED_NOW, generate, load
from bench.scales import SCALES
from portal.accounts.models import Organisation, User
from portal.core import clock
from portal.core.attachments import attachments_of
from portal.core.counters import Counter
from portal.inquiries import operations as letter_ops
from portal.inquiries.models import (
    AWAITING_ANSWER,
    DeadlineExtension,
    Letter,
    LetterState,
    Outcome,
)
from portal.inquiries.workdays import add_workdays
from portal.ledger import operations as ledger_ops
from portal.ledger.models import (
    Bureau,
    ExtensionState,
    Problem,
    ProblemSource,
    ProblemState,
    RectificationType,
)
from portal.ledger.panels import public_problems
from portal.ledger.queries import BUCKETS, bucket_of, similar
from portal.performance.models import Project
from portal.reviews import operations as review_ops
from portal.reviews.models import (
    AgencyDraw,
    AssignmentState,
    Report,
    ReportState,
    ReviewRound,
    RoundState,
    RubricTemplate,
    Side,
)

pytestmark = pytest.mark.commits  # the bulk loader commits and vacuums through connections of its own

TODAY = FIXED_NOW.date()


def _load(db):
    """Generate the tiny scale into the test database; the plug-ins' shared context."""
    return load(db.engine, SCALES["tiny"], seed=1, quiet=True)


def _user(db, username: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == username))


# ---- problem ledger ------------------------------------------------------------------------------

def test_problems_are_in_every_state_and_closed_ones_carry_both_signoffs(db, app):
    _load(db)
    problems = db.session.scalars(sa.select(Problem)).all()
    assert 30 <= len(problems) <= 50
    assert {p.state for p in problems} == set(ProblemState)
    assert {bucket_of(p, TODAY) for p in problems if p.is_open} == set(BUCKETS)
    assert {p.source for p in problems} >= {ProblemSource.EVALUATION, ProblemSource.AUDIT, ProblemSource.MONITORING}
    for p in problems:
        assert p.deadline >= p.listed_on and p.created_at < FIXED_NOW and p.updated_at >= p.created_at
        assert p.department_id == p.unit.department.id
        signed = {s.bureau: s for s in p.signoffs}
        assert p.finance_signed_at == (signed[Bureau.FINANCE].signed_at if Bureau.FINANCE in signed else None)
        assert p.audit_signed_at == (signed[Bureau.AUDIT].signed_at if Bureau.AUDIT in signed else None)
        if p.state == ProblemState.CLOSED:
            assert ledger_ops.both_signed(p)
            assert p.closed_on == max(s.signed_at for s in p.signoffs).date() < TODAY
        else:
            assert p.closed_on is None and len(p.signoffs) < 2
        if p.state in (ProblemState.SUBMITTED, ProblemState.CLOSED):  # 申请销号 needs evidence
            assert p.submitted_at is not None and ledger_ops.has_evidence(p)
            assert p.updates[-1].is_submission and attachments_of(p.updates[-1], "evidence")
        else:
            assert p.submitted_at is None and not p.signoffs
        if p.state == ProblemState.LONG_TERM:
            assert p.rect_type == RectificationType.LONG_TERM
        if p.state == ProblemState.LISTED:
            assert not p.updates
        for name in ("rect_recovered", "rect_returned", "rect_reallocated", "rect_disbursed", "rect_adjusted",
                     "rect_other"):
            assert getattr(p, name) == sum((getattr(u, name) for u in p.updates), Decimal(0)) >= 0
        pending = [e for e in p.extensions if e.state == ExtensionState.PENDING]
        assert len(pending) <= 1 and (not pending or p.is_open)
        approved = [e for e in p.extensions if e.state == ExtensionState.APPROVED]
        if approved:
            assert p.deadline == approved[-1].new_deadline
        if p.source == ProblemSource.EVALUATION:
            finding = p.finding
            assert p.description == finding.description and p.project_id == finding.evaluation.project_id
            assert p.unit_id == p.project.unit_id and p.year == finding.evaluation.year
        if p.recurrence_of is not None:  # 屡查屡犯: same unit and category, an earlier year, listed before
            earlier = p.recurrence_of
            assert earlier.id < p.id and earlier.year < p.year and earlier.unit_id == p.unit_id
            assert earlier.category == p.category and similar(earlier.description, p.description)


def test_ledger_numbers_are_gapless_and_the_next_listing_continues_them(db, app):
    _load(db)
    by_year = defaultdict(list)
    for p in db.session.scalars(sa.select(Problem).order_by(Problem.id)):
        by_year[p.year].append(p)
    counters = {c.period: c.last for c in db.session.scalars(sa.select(Counter).where(Counter.scope == "ledger"))}
    assert set(counters) == set(by_year)
    for year, problems in by_year.items():
        assert [p.seq for p in problems] == list(range(1, len(problems) + 1))  # listing order
        assert [p.number for p in problems] == [f"ZG-{year}-{n:04d}" for n in range(1, len(problems) + 1)]
        assert counters[year] == len(problems)
    year = max(by_year)
    unit = db.session.get(Organisation, by_year[year][0].unit_id)
    problem = ledger_ops.list_problem(actor=_user(db, "finance"), source=ProblemSource.AUDIT, unit=unit,
                                      category="资金管理", description="测试：新挂账问题", year=year,
                                      deadline=clock.today() + timedelta(days=30), notify_unit=False)
    assert problem.seq == counters[year] + 1 and problem.number == f"ZG-{year}-{counters[year] + 1:04d}"
    db.session.commit()  # ids continue past the generated ones (PostgreSQL sequences moved on)


def test_public_problems_are_exactly_what_the_ledger_panel_returns(db, app):
    ctx = _load(db)
    published = ctx.data["public_problems"]
    assert published and sum(map(len, published.values())) == db.session.scalar(
        sa.select(sa.func.count()).select_from(Problem).where(Problem.project_id.is_not(None)))
    for project in db.session.scalars(sa.select(Project)):
        expected = public_problems(project)
        mine = published.get(project.id, [])
        assert mine == expected, project.id
        assert [[(k, type(v), str(v)) for k, v in row.items()] for row in mine] == \
            [[(k, type(v), str(v)) for k, v in row.items()] for row in expected]  # same Decimal places, dates


# ---- letters ---------------------------------------------------------------------------------------

def test_letters_are_in_every_state_with_answers_item_by_item(db, app):
    _load(db)
    letters = db.session.scalars(sa.select(Letter)).all()
    assert {letter.state for letter in letters} == set(LetterState)
    assert any(letter.state in AWAITING_ANSWER and letter.deadline < TODAY for letter in letters)  # overdue
    for letter in letters:
        assert {letter.sender_org.kind.value, letter.addressee_org.kind.value} == {"finance_bureau", "audit_bureau"}
        assert letter.items and letter.created_at < FIXED_NOW
        issued = letter.state not in (LetterState.DRAFT, LetterState.PENDING_SIGNOFF)
        assert (letter.number_seq is not None) == issued == (letter.sent_at is not None)
        if issued:
            assert letter.signer.has_role("signer") and letter.signer.organisation_id == letter.sender_org_id
            assert letter.created_at <= letter.sent_at < FIXED_NOW and letter.number_year == letter.sent_at.year
            extensions = db.session.scalars(sa.select(DeadlineExtension).where(DeadlineExtension.letter_id == letter.id)
                                            .order_by(DeadlineExtension.id)).all()
            if extensions:
                assert letter.deadline == extensions[-1].new_deadline
            elif letter.deadline_workdays:  # counted on the holiday table, 调休 included
                assert letter.deadline == add_workdays(letter.sent_at.date(), letter.deadline_workdays)
            assert letter.deadline > letter.sent_at.date()
        if letter.state in (LetterState.ANSWERED, LetterState.CLOSED):
            assert not letter.open_items and letter.answered_at >= letter.acknowledged_at >= letter.sent_at
        if letter.state == LetterState.ACKNOWLEDGED:
            assert letter.open_items and letter.answered_at is None
        if letter.state == LetterState.CLOSED:
            assert letter.closed_at > letter.answered_at
        if letter.state in (LetterState.SENT, LetterState.WITHDRAWN):
            assert letter.acknowledged_at is None and all(i.outcome is None for i in letter.items)
        for item in letter.items:
            if item.outcome is not None:
                assert item.reply_id is not None and item.answered_by.organisation_id == letter.addressee_org_id
            if item.outcome in (Outcome.DECLINED, Outcome.PARTIAL, Outcome.NOT_HELD):
                assert item.reason


def test_letter_numbers_are_gapless_and_the_next_signoff_continues_them(db, app):
    _load(db)
    numbered = db.session.scalars(sa.select(Letter).where(Letter.number_seq.is_not(None))
                                  .order_by(Letter.sent_at, Letter.id)).all()
    by_code = defaultdict(list)
    for letter in numbered:
        by_code[(letter.number_code, letter.number_year)].append(letter.number_seq)
    counters = {(c.scope.removeprefix("inquiry:"), c.period): c.last
                for c in db.session.scalars(sa.select(Counter).where(Counter.scope.like("inquiry:%")))}
    assert counters == {key: len(seqs) for key, seqs in by_code.items()}
    assert all(seqs == list(range(1, len(seqs) + 1)) for seqs in by_code.values())  # in signing order
    finance, signer = _user(db, "finance"), _user(db, "signer")
    audit_org = db.session.scalar(sa.select(Organisation).where(Organisation.kind == "audit_bureau"))
    last_sent = max(letter.sent_at for letter in numbered if letter.sender_org_id == finance.organisation_id)
    with clock.frozen(last_sent + timedelta(days=1)):
        letter = letter_ops.create_letter(letter_ops.LetterData(
            addressee_org_id=audit_org.id, title="关于提供审计资料的函", items=["审计报告"], deadline_workdays=10), actor=finance)
        letter_ops.submit(letter, actor=finance)
        letter_ops.approve(letter, actor=signer)
        year = clock.today().year
    assert letter.number_seq == counters.get((letter.number_code, year), 0) + 1
    assert letter.doc_number == f"{letter.number_code}〔{year}〕{letter.number_seq}号"
    db.session.commit()


# ---- co-review ------------------------------------------------------------------------------------

def test_reviews_score_within_the_rubric_and_decisions_are_endorsed_by_both_bureaus(db, app):
    _load(db)
    rubric = db.session.scalar(sa.select(RubricTemplate).where(RubricTemplate.is_default.is_(True)))
    assert rubric.total_weight == 100
    reports = db.session.scalars(sa.select(Report)).all()
    assert reports
    for report in reports:
        evaluation = report.evaluation
        assert evaluation.mode.value == "finance" and report.agency_id == evaluation.agency_id
        assert [v.number for v in report.versions] == list(range(1, len(report.versions) + 1))
        assert [r.number for r in report.rounds] == list(range(1, len(report.rounds) + 1))
        assert all(r.version.number == r.number for r in report.rounds)
        last = report.current_round
        if report.state == ReportState.AWAITING:
            assert not report.versions
        elif report.state == ReportState.SUBMITTED:
            assert len(report.versions) == 1 and not report.rounds
        elif report.state == ReportState.IN_REVIEW:
            assert last.state != RoundState.DECIDED and len(report.versions) == len(report.rounds)
        elif report.state == ReportState.REVISING:
            assert last.decision.value == "revise" and len(report.rounds) < review_ops.max_rounds()
        else:
            assert last.state == RoundState.DECIDED and last.decision.value == report.state.value
            assert report.final_score == last.score and report.decided_at == last.decided_at
        for rnd in report.rounds:
            _check_round(rnd, rubric)
    for draw in db.session.scalars(sa.select(AgencyDraw)):  # 抽签: reproducible from seed and pool
        assert review_ops.verify_draw(draw) and draw.chosen_agency_id == draw.evaluation.agency_id


def _check_round(rnd: ReviewRound, rubric) -> None:
    weights = {c.id: c.weight for c in rubric.criteria}
    active = rnd.active_assignments
    assert {Side.FINANCE, Side.AUDIT} <= {a.side for a in active}
    for a in rnd.assignments:
        assert a.side == review_ops.side_of(a.reviewer)
        for s in a.scores:
            assert s.score is None or 0 <= s.score <= weights[s.criterion_id]
        if a.state == AssignmentState.SUBMITTED:
            assert len(a.scores) == len(weights) and all(s.score is not None and s.justification for s in a.scores)
        if a.state == AssignmentState.CONFLICTED:
            assert a.conflict_kind is not None and not a.scores
        assert [r.number for r in a.revisions] == list(range(2, a.revision + 1))
    if rnd.state != RoundState.OPEN:  # proposed: everyone who may review has submitted
        assert all(a.state == AssignmentState.SUBMITTED for a in active)
        assert rnd.score == review_ops.round_score(rnd) and rnd.opinion and rnd.proposed_decision
    if rnd.state == RoundState.DECIDED:
        assert rnd.decision == rnd.proposed_decision
        conflicted = {a.reviewer_id for a in rnd.assignments if a.state == AssignmentState.CONFLICTED}
        assert review_ops.is_finance_officer(rnd.finance_endorser) and review_ops.is_audit_member(rnd.audit_endorser)
        assert not {rnd.finance_endorser_id, rnd.audit_endorser_id} & conflicted
    if rnd.state == RoundState.RETURNED:
        assert rnd.finance_endorser_id is None and rnd.audit_endorser_id is None


def test_every_coreview_stage_occurs_at_the_city_scale(tmp_path):
    url = f"sqlite:///{tmp_path / 'city.db'}"
    generate(url, "city", seed=1, quiet=True)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        stages = set(conn.exec_driver_sql(
            "SELECT r.state, CASE WHEN r.state = 'in_review' THEN (SELECT x.state FROM review_rounds x "
            "WHERE x.report_id = r.id ORDER BY x.number DESC LIMIT 1) END FROM review_reports r").all())
        open_problems = conn.exec_driver_sql("SELECT count(*) FROM problems WHERE state IN ('listed', "
                                             "'in_progress', 'long_term') AND deadline < ?", (TODAY.isoformat(),)).scalar()
    engine.dispose()
    assert {s for s, _r in stages} == {s.value for s in ReportState}
    assert {r for s, r in stages if s == "in_review"} == {"open", "endorsing", "returned"}
    assert open_problems > 0

