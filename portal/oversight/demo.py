"""Demo data: joint evaluation teams on two key evaluations (one working, with the congress's
and audit's opinions; one finalised), the 2025 work assessment circulated and the 2026 one being
scored, and the 2025 packages for the People's Congress (final accounts submitted, goals ready)."""
from __future__ import annotations

import sqlalchemy as sa

from portal.extensions import db


def seed(ctx: dict) -> None:
    from portal.oversight import operations, packages
    from portal.oversight.models import CongressPackage, PackageKind
    from portal.performance.models import Evaluation, EvaluationMode

    users, orgs = ctx["users"], ctx["orgs"]
    finance = users["finance"]
    key = db.session.scalars(sa.select(Evaluation).where(Evaluation.mode == EvaluationMode.FINANCE)
                             .order_by(Evaluation.id)).all()
    edu = [e for e in key if e.project.department_id == orgs["edu"].id]
    housing = [e for e in key if e.project.department_id == orgs["housing"].id]
    if housing:  # the four organisations, working: the congress and audit have given opinions
        evaluation = housing[0]
        operations.add_member(evaluation, actor=finance, user_id=finance.id, role="lead")
        operations.add_member(evaluation, actor=finance, user_id=users["congress"].id, role="member")
        operations.add_member(evaluation, actor=finance, user_id=users["audit"].id, role="member")
        operations.add_member(evaluation, actor=finance, user_id=users["unit3"].id, role="member")
        if evaluation.agency_id in (None, orgs["agency1"].id):
            operations.add_member(evaluation, actor=finance, user_id=users["agency"].id, role="observer")
        team = operations.team_of(evaluation)
        operations.add_opinion(team, actor=users["congress"],
                               text="建议评价报告补充资金使用效益的量化分析，并说明与上年相比的变化。")
        operations.add_opinion(team, actor=users["audit"],
                               text="审计发现的专项资金结存问题应在“存在问题”中体现，并提出盘活措施。")
    if edu:  # finalised by its lead, the audit liaison
        evaluation = edu[0]
        operations.add_member(evaluation, actor=finance, user_id=users["audit"].id, role="lead")
        operations.add_member(evaluation, actor=finance, user_id=users["congress"].id, role="member")
        operations.add_member(evaluation, actor=finance, user_id=users["unit"].id, role="member")
        team = operations.team_of(evaluation)
        operations.add_opinion(team, actor=users["unit"], text="项目延期原因为校舍改造审批滞后，已在整改计划中明确完成时限。")
        operations.finalise(team, actor=users["audit"],
                            conclusion="评价组认为评价结论客观，同意报告提出的问题和建议，建议纳入问题台账跟踪整改。")
    db.session.flush()

    # the work assessment: 2025 scored and circulated, 2026 computed with finance's indicator unscored
    past = operations.compute(2025, actor=finance)
    for n, card in enumerate(past.scorecards):
        manual = next((line for line in card.lines if not line.automatic), None)
        if manual is not None:
            score = min(manual.indicator.weight, manual.indicator.weight * (10 - n % 4) / 10)
            operations.score_line(card, actor=finance, indicator_id=manual.indicator_id, score=f"{score:.2f}",
                                  note="制度健全，按时报送绩效管理工作总结。")
    operations.publish(past, actor=finance)
    operations.compute(2026, actor=finance)
    db.session.flush()

    # the packages of 2025, built here without the worker
    for kind in (PackageKind.FINAL_ACCOUNTS, PackageKind.BUDGET_DRAFT):
        package = CongressPackage(year=2025, kind=kind, version=1, built_by_id=finance.id)
        db.session.add(package)
        db.session.flush()
        packages.build(package, finance)
        if kind == PackageKind.FINAL_ACCOUNTS:
            packages.submit(package, actor=finance, note="随2025年度决算草案报送市人大常委会。")
    db.session.flush()
