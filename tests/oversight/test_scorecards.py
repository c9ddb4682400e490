"""The work assessment (绩效管理工作考核): every automatic indicator against a count made here
from the rows themselves, the total rescaled over the applicable indicators, ranks, grades,
manual scores kept across recomputes, the circular, publication and who reads what."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from docx import Document

from portal.core.errors import DomainError, NotPermitted
from portal.extensions import db
from portal.ledger.models import Problem, ProblemSource, ProblemState
from portal.oversight import indicators, operations
from portal.oversight.models import AssessmentState, Scorecard
from portal.performance import models
from portal.publishing.models import PublicationKind, Snapshot, SnapshotState
from tests.factories import make_evaluation, make_project
from tests.performance.factories import make_goal

YEAR = 2026
AS_OF = date(2026, 11, 30)


def _build(world):
    """Two departments with projects in every condition the indicators look at."""
    from portal.ledger import operations as ledger_ops

    rows = []
    for n, unit in enumerate([world.subunit, world.department, world.department, world.other_department,
                              world.other_department, world.subunit]):
        p = make_project(unit, year=YEAR, name=f"考核项目{n}")
        if n != 2:  # every project but one has an approved goal; two approved after the budget day
            goal = make_goal(p, state=models.GoalState.APPROVED)
            goal.approved_at = datetime(YEAR, 1, 20) if n % 3 else datetime(YEAR, 3, 5)
        if n in (0, 3, 4):  # 1–7 月 reports: on time, on time, late
            db.session.add(models.MonitoringReport(project=p, month=7, executed=Decimal(1),
                                                   created_at=datetime(YEAR, 8, 10) if n != 4 else datetime(YEAR, 8, 20)))
        if n in (1, 3):
            make_evaluation(p, mode=models.EvaluationMode.SELF, score="85")
        if n == 5:  # a self-evaluation still in progress does not count
            make_evaluation(p, mode=models.EvaluationMode.SELF)
        rows.append(p)
    make_project(world.department, year=YEAR - 1, name="上年项目")  # another year: never counted
    deadlines = [AS_OF - timedelta(days=5), AS_OF + timedelta(days=30), AS_OF - timedelta(days=40),
                 AS_OF + timedelta(days=10)]
    for n, deadline in enumerate(deadlines):
        problem = ledger_ops.list_problem(actor=world.audit, source=ProblemSource.AUDIT,
                                          unit=world.subunit if n < 3 else world.other_department,
                                          category="资金管理", description=f"问题{n}", amount="1000",
                                          deadline=deadline, year=YEAR, notify_unit=False,
                                          listed_on=date(YEAR, 6, 1))
        if n in (1, 3):
            # closed (both bureaus signed off): one before its deadline, one of the other department
            problem.state, problem.closed_on = ProblemState.CLOSED, date(YEAR, 9, 1)
            problem.finance_signed_at = problem.audit_signed_at = datetime(YEAR, 9, 1)
    for p in rows:  # goals published: the department's in time (one withdrawn since), the other's late
        late = p.department_id == world.other_department.id
        db.session.add(_snapshot(p, datetime(YEAR, 4, 1) if late else datetime(YEAR, 2, 15),
                                 SnapshotState.WITHDRAWN if p.name == "考核项目1" else SnapshotState.PUBLISHED))
    db.session.commit()
    return rows


def _snapshot(project, at, state):
    return Snapshot(project_ref=project.id, kind=PublicationKind.GOALS, version=1, current=True, state=state,
                    data="{}", published_at=at, year=project.year, project_code=project.code,
                    project_name=project.name, department_ref=project.department_id,
                    department_name=project.department.name, unit_name=project.unit.name,
                    project_kind=project.kind.value, budget_type=project.budget_type.value,
                    amount=project.annual_budget, amount_band="1")


def independent(world, key, department_id, ctx) -> tuple[int, int]:
    """The indicator counted row by row, without the portal's queries."""
    projects = [p for p in db.session.query(models.Project).all()
                if p.year == YEAR and p.department_id == department_id]
    goals = db.session.query(models.PerformanceGoal).all()
    if key == "goal_coverage":
        hit = [p for p in projects if any(g.project_id == p.id and g.state == models.GoalState.APPROVED for g in goals)]
    elif key == "goals_before_budget":
        limit = datetime.combine(ctx.budget_approved_on, datetime.max.time())
        hit = [p for p in projects if any(g.project_id == p.id and g.approved_at and g.approved_at <= limit
                                          for g in goals)]
    elif key == "monitoring_on_time":
        limit = datetime.combine(ctx.monitoring_due_on, datetime.max.time())
        reports = db.session.query(models.MonitoringReport).all()
        hit = [p for p in projects if any(r.project_id == p.id and r.month == 7 and r.created_at <= limit
                                          for r in reports)]
    elif key == "self_evaluation_coverage":
        evaluations = db.session.query(models.Evaluation).all()
        hit = [p for p in projects if any(e.project_id == p.id and e.mode == models.EvaluationMode.SELF
                                          and e.state == models.EvaluationState.COMPLETED for e in evaluations)]
    elif key == "disclosure_on_time":
        snaps = db.session.query(Snapshot).all()
        limit = datetime.combine(ctx.disclosure_due_on, datetime.max.time())
        hit = [p for p in projects
               if any(s.project_ref == p.id and s.kind == PublicationKind.GOALS and s.current
                      and s.state == SnapshotState.PUBLISHED for s in snaps)
               and any(s.project_ref == p.id and s.kind == PublicationKind.GOALS and s.published_at <= limit
                       for s in snaps)]
    elif key == "ex_ante_coverage":  # the ex-ante module's rule: new, project or policy, ≥ 500 万元
        from portal.assessments.models import Assessment
        everything = db.session.query(models.Project).all()
        needing = [p for p in projects if p.kind.value in ("project", "policy")
                   and max(p.initial_budget, p.annual_budget) >= Decimal("5000000")
                   and not any(q.code == p.code and q.year < p.year for q in everything)]
        concluded = {a.project_id for a in db.session.query(Assessment).all() if a.conclusion is not None}
        return sum(p.id in concluded for p in needing), len(needing)
    else:
        problems = [x for x in db.session.query(Problem).all() if x.year == YEAR and x.department_id == department_id]
        if key == "due_rectification_rate":
            problems = [x for x in problems if x.state == ProblemState.CLOSED or x.deadline < ctx.as_of]
        return sum(x.state == ProblemState.CLOSED for x in problems), len(problems)
    return len(hit), len(projects)


def test_every_automatic_indicator_equals_an_independent_count(app, db, world):
    _build(world)
    assessment = operations.compute(YEAR, actor=world.finance, as_of=AS_OF)
    db.session.commit()
    ctx = indicators.Context(YEAR, AS_OF, assessment.budget_approved_on, assessment.monitoring_due_on,
                             assessment.disclosure_due_on)
    cards = {c.organisation_id: c for c in assessment.scorecards}
    assert set(cards) == {world.department.id, world.other_department.id}
    checked = set()
    for dept in (world.department, world.other_department):
        for line in cards[dept.id].lines:
            if not line.automatic:
                continue
            expected = independent(world, line.indicator.method, dept.id, ctx)
            assert (line.numerator, line.denominator) == expected, (dept.name, line.indicator.name)
            assert line.score == (indicators.score_of(line.indicator.weight, *expected) if expected[1] else None)
            checked.add(line.indicator.method)
    assert checked == set(indicators.AUTOMATIC)
    # the figures are not trivial: each indicator separates the two departments or misses somewhere
    edu = {line.indicator.method: (line.numerator, line.denominator) for line in cards[world.department.id].lines if line.automatic}
    assert edu["goal_coverage"] == (3, 4) and edu["goals_before_budget"] == (2, 4)
    assert edu["due_rectification_rate"] == (1, 3) and edu["rectification_rate"] == (1, 3)
    other = {line.indicator.method: line for line in cards[world.other_department.id].lines}
    assert other["disclosure_on_time"].numerator == 0 and other["monitoring_on_time"].numerator == 1


def test_total_rank_and_grade(app, db, world):
    _build(world)
    assessment = operations.compute(YEAR, actor=world.finance, as_of=AS_OF)
    for card in assessment.scorecards:  # manual indicator unscored: no total yet, publishing refused
        assert card.total is None and card.rank is None
    with pytest.raises(DomainError):
        operations.publish(assessment, actor=world.finance)
    edu, other = sorted(assessment.scorecards, key=lambda c: c.organisation_id != world.department.id)
    manual = next(line for line in edu.lines if not line.automatic)
    operations.score_line(edu, actor=world.finance, indicator_id=manual.indicator_id, score=manual.indicator.weight,
                          note="制度健全")
    operations.score_line(other, actor=world.finance, indicator_id=manual.indicator_id, score="1")
    for card in (edu, other):
        applicable = [line for line in card.lines if line.applicable]
        expected = (sum(line.score for line in applicable) * 100 / sum(line.indicator.weight for line in applicable)) \
            .quantize(Decimal("0.01"))
        assert card.total == expected
    assert {edu.rank, other.rank} == {1, 2}
    assert (edu.rank == 1) == (edu.total > other.total)
    from portal.performance.models import Grade
    assert edu.grade == Grade.for_score(edu.total)
    # a recompute keeps finance's scores
    operations.compute(YEAR, actor=world.finance, as_of=AS_OF)
    assert next(line for line in edu.lines if not line.automatic).score == manual.indicator.weight
    # a score above the indicator's weight is refused
    with pytest.raises(DomainError):
        operations.score_line(edu, actor=world.finance, indicator_id=manual.indicator_id,
                              score=manual.indicator.weight + Decimal("0.01"))
    operations.publish(assessment, actor=world.finance)
    db.session.commit()
    assert assessment.state == AssessmentState.PUBLISHED and assessment.circular_number.endswith("号")
    with pytest.raises(DomainError):
        operations.compute(YEAR, actor=world.finance)


def test_configured_system_weights_total_100(app, db, world):
    _build(world)
    assessment = operations.compute(YEAR, actor=world.finance, as_of=AS_OF)
    dates = {"budget_approved_on": date(YEAR, 3, 10), "monitoring_due_on": date(YEAR, 8, 31),
             "disclosure_due_on": date(YEAR, 3, 30)}
    with pytest.raises(DomainError):
        operations.configure(assessment, actor=world.finance, dates=dates,
                             rows=[{"name": "目标覆盖", "method": "goal_coverage", "weight": "60"}])
    operations.configure(assessment, actor=world.finance, dates=dates,
                         rows=[{"name": "目标覆盖", "method": "goal_coverage", "weight": "60"},
                               {"name": "目标随预算", "method": "goals_before_budget", "weight": "40"}])
    edu = next(c for c in assessment.scorecards if c.organisation_id == world.department.id)
    assert [line.indicator.name for line in edu.lines] == ["目标覆盖", "目标随预算"]
    # a later budget day: all three approved goals now count as approved with the budget
    assert (edu.lines[1].numerator, edu.lines[1].denominator) == (3, 4)
    assert edu.total == Decimal("75.00")


def test_a_plugged_in_indicator_is_scored_automatically(app, db, world):
    """事前评估覆盖率 comes from another module: registered, it is computed like the others."""
    _build(world)
    indicators.register_indicator("test_ex_ante", "事前绩效评估覆盖率", lambda ctx: {world.department.id: (1, 2)},
                                  default_weight=5)
    try:
        assessment = operations.compute(YEAR, actor=world.finance, as_of=AS_OF)
        edu = next(c for c in assessment.scorecards if c.organisation_id == world.department.id)
        line = next(line for line in edu.lines if line.indicator.method == "test_ex_ante")
        assert line.automatic and (line.numerator, line.denominator) == (1, 2) and line.score == Decimal("2.50")
        assert assessment.total_weight == 100
    finally:
        indicators.AUTOMATIC.pop("test_ex_ante")


def _publish_all(world):
    _build(world)
    assessment = operations.compute(YEAR, actor=world.finance, as_of=AS_OF)
    for card in assessment.scorecards:
        manual = next(line for line in card.lines if not line.automatic)
        operations.score_line(card, actor=world.finance, indicator_id=manual.indicator_id,
                              score=manual.indicator.weight)
    db.session.commit()
    return assessment


def test_only_finance_computes_and_who_reads_what(app, db, world, client, login):
    for user in (world.audit, world.unit, world.observer, world.conference, world.agency):
        with pytest.raises(NotPermitted):
            operations.compute(YEAR, actor=user)
    assessment = _publish_all(world)
    edu = next(c for c in assessment.scorecards if c.organisation_id == world.department.id)
    other = next(c for c in assessment.scorecards if c.organisation_id != world.department.id)
    # a draft: finance only
    for user, status in ((world.finance, 200), (world.observer, 403), (world.conference, 403), (world.unit, 403)):
        login(user)
        assert client.get(f"/oversight/assessments/{YEAR}").status_code == status, user.username
        client.post("/logout")
    operations.publish(assessment, actor=world.finance)
    db.session.commit()
    expected = {  # user: (year page, own card, other card, circular)
        world.finance: (200, 200, 200, 200), world.observer: (200, 200, 200, 200),
        world.conference: (200, 200, 200, 200), world.audit: (200, 200, 200, 200),
        world.unit: (200, 200, 403, 403), world.other_unit: (200, 403, 200, 403),
        world.subunit_user: (200, 403, 403, 403),  # the year, without a scorecard of its own world.agency: (403, 403, 403, 403),
        world.expert: (403, 403, 403, 403),
    }
    for user, (year_page, own, foreign, circular) in expected.items():
        login(user)
        got = (client.get(f"/oversight/assessments/{YEAR}").status_code,
               client.get(f"/oversight/scorecards/{edu.id}").status_code,
               client.get(f"/oversight/scorecards/{other.id}").status_code,
               client.get(f"/oversight/assessments/{YEAR}/circular.docx").status_code)
        assert got == (year_page, own, foreign, circular), user.username
        client.post("/logout")
    login(world.unit)  # the department's year page lists its own scorecard only
    page = client.get(f"/oversight/assessments/{YEAR}").get_data(as_text=True)
    assert world.department.name in page and world.other_department.name not in page


def test_circular_docx_in_the_official_layout(app, db, world, client, login):
    assessment = _publish_all(world)
    operations.publish(assessment, actor=world.finance)
    db.session.commit()
    login(world.finance)
    response = client.get(f"/oversight/assessments/{YEAR}/circular.docx")
    assert response.status_code == 200
    doc = Document(io.BytesIO(response.data))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "文件" in doc.paragraphs[0].text and assessment.circular_number == doc.paragraphs[1].text
    assert f"关于{YEAR}年度预算绩效管理工作考核结果的通报" in text and "抄送：" in text
    table = doc.tables[0]
    names = [row.cells[1].text for row in table.rows[1:]]
    ranked = sorted(assessment.scorecards, key=lambda c: c.rank)
    assert names == [c.organisation.name for c in ranked]
    assert [row.cells[-2].text for row in table.rows[1:]] == [f"{c.total:.2f}" for c in ranked]


def test_history_across_years(app, db, world, client, login):
    assessment = _publish_all(world)
    operations.publish(assessment, actor=world.finance)
    make_project(world.department, year=YEAR + 1)
    later = operations.compute(YEAR + 1, actor=world.finance, as_of=AS_OF)
    db.session.commit()
    card = next(c for c in later.scorecards if c.organisation_id == world.department.id)
    login(world.finance)
    page = client.get(f"/oversight/scorecards/{card.id}").get_data(as_text=True)
    assert f">{YEAR}<" in page and f">{YEAR + 1}<" in page
    client.post("/logout")
    login(world.unit)  # the department sees its circulated year, not finance's draft of the next
    assert client.get(f"/oversight/scorecards/{card.id}").status_code == 403
    assert db.session.query(Scorecard).count() == 3  # two in the first year, one (a single department) after
