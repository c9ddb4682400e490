"""Every write of joint oversight's teams and work assessments. Operations authorise themselves,
validate, lock, change, audit (before/after) and notify; the caller (`writes.perform`) commits.
The packages for the People's Congress are written by portal/oversight/packages.py."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from portal.accounts.models import Organisation, OrgKind, Role, User
from portal.core import clock, counters
from portal.core.audit import append_many, record_change
from portal.core.errors import DomainError, ItemsRefused, NotPermitted
from portal.core.locale import N_
from portal.core.notifications import notify
from portal.core.parsing import clean_text, parse_amount
from portal.core.permissions import can
from portal.core.states import StateMachine, Transition
from portal.core.versions import expect_version
from portal.core.writes import lock
from portal.extensions import db
from portal.oversight import indicators, queries
from portal.oversight.models import (
    AssessmentIndicator,
    AssessmentState,
    JointTeam,
    Scorecard,
    ScorecardLine,
    TeamMember,
    TeamOpinion,
    TeamRole,
    TeamSide,
    TeamState,
    WorkAssessment,
)
from portal.oversight.policies import may_form_team
from portal.performance.models import Evaluation, EvaluationMode, Grade

OPINION_MAX = 5000

TEAM = StateMachine("joint_team", [
    Transition("finalise", {TeamState.WORKING}, TeamState.FINALISED, who=lambda u, t: can(u, "finalise", t),
               label=N_("定稿")),
])

ASSESSMENT = StateMachine("work_assessment", [
    Transition("publish", {AssessmentState.DRAFT}, AssessmentState.PUBLISHED,
               who=lambda u, a: can(u, "publish", a), label=N_("印发通报")),
])

# ---- joint evaluation teams ----------------------------------------------------------------------

SIDE_OF_KIND = {OrgKind.CONGRESS: TeamSide.CONGRESS, OrgKind.AUDIT_BUREAU: TeamSide.AUDIT,
                OrgKind.BUDGET_UNIT: TeamSide.DEPARTMENT, OrgKind.AGENCY: TeamSide.AGENCY,
                OrgKind.FINANCE_BUREAU: TeamSide.FINANCE}


def _side_for(evaluation: Evaluation, user: User) -> TeamSide:
    side = SIDE_OF_KIND[user.org_kind]
    if side == TeamSide.DEPARTMENT and user.organisation.department.id != evaluation.project.department_id:
        raise DomainError(_("主管部门成员须来自该项目的主管部门（%(dept)s）。",
                            dept=evaluation.project.department.name), field="user_id")
    if side == TeamSide.AGENCY and evaluation.agency_id and user.organisation_id != evaluation.agency_id:
        raise DomainError(_("第三方机构成员须来自承担该评价的机构（%(agency)s）。",
                            agency=evaluation.agency.name), field="user_id")
    if side == TeamSide.FINANCE and Role.FINANCE_OFFICER not in user.roles:
        raise DomainError(_("财政局成员须为绩效管理人员。"), field="user_id")
    return side


def team_of(evaluation: Evaluation) -> JointTeam | None:
    return db.session.scalars(sa.select(JointTeam).where(JointTeam.evaluation_id == evaluation.id)).first()


def add_member(evaluation: Evaluation, *, actor, user_id, role) -> TeamMember:
    """Finance puts a person on the evaluation's joint team (formed with its first member)."""
    if not may_form_team(actor, evaluation):
        raise NotPermitted(_("只有财政绩效管理人员可以为重点评价组建联合评价组。"))
    team = team_of(evaluation)
    if team is None:
        team = JointTeam(evaluation=evaluation, formed_by_id=actor.id, formed_at=clock.now())
        db.session.add(team)
        db.session.flush()
        record_change(actor, "team.form", team, after={"evaluation": evaluation.id})
    lock(team)
    if not can(actor, "form", team):
        raise DomainError(_("联合评价组已定稿，不能再调整成员。"))
    role = TeamRole.coerce(role) if role in [r.value for r in TeamRole] or isinstance(role, TeamRole) else None
    if role is None:
        raise DomainError(_("请选择组内角色。"), field="role")
    user = db.session.get(User, int(user_id)) if str(user_id or "").isdigit() else None
    if user is None or not user.is_active:
        raise DomainError(_("请选择在用的人员。"), field="user_id")
    if team.member_of(user) is not None:
        raise DomainError(_("%(name)s已在评价组中。", name=user.display_name), field="user_id")
    if role == TeamRole.LEAD and team.lead is not None:
        raise DomainError(_("评价组已有组长（%(name)s）。", name=team.lead.user.display_name), field="role")
    side = _side_for(evaluation, user)
    member = TeamMember(team=team, user=user, organisation_id=user.organisation_id, side=side, role=role,
                        added_at=clock.now())
    db.session.add(member)
    db.session.flush()
    record_change(actor, "team.add_member", team,
                  after={"member": user.display_name, "organisation": user.organisation.name,
                         "side": side.value, "role": role.value})
    notify([user], _("您已加入联合评价组：%(project)s", project=evaluation.project.name),
           link=queries.team_link(evaluation))
    return member


def form_teams(items, *, actor) -> list[JointTeam]:
    """Form or extend several key evaluations' teams at once (the API's bulk): `items` are
    (evaluation id, [(user id, role)]); a member already on the team in that role is skipped, so a
    repeated request changes nothing. All or nothing: every item is tried, each in a savepoint,
    and any refusal refuses the request with every refused item (`ItemsRefused`)."""
    if not can(actor, "create", JointTeam):
        raise NotPermitted(_("只有财政绩效管理人员可以为重点评价组建联合评价组。"))
    teams: list[JointTeam] = []
    refused: list[dict] = []
    for index, (evaluation_id, members) in enumerate(items):
        try:
            with db.session.begin_nested():
                team = _form_team(evaluation_id, members, actor=actor)
        except DomainError as error:
            refused.append({"index": index, "field": error.field,
                            "message": _("第 %(n)s 项：%(msg)s", n=index + 1, msg=error.message)})
            continue
        if team is not None and team not in teams:
            teams.append(team)
    if refused:
        message = refused[0]["message"] if len(refused) == 1 else _(
            "有 %(n)s 项未通过校验，未保存任何评价组。", n=len(refused))
        raise ItemsRefused(message, refused, collection="teams")
    return teams


def _form_team(evaluation_id: int, members, *, actor) -> JointTeam | None:
    evaluation = db.session.get(Evaluation, evaluation_id)
    if evaluation is None or evaluation.mode != EvaluationMode.FINANCE:
        raise DomainError(_("评价不存在或不是重点评价（财政评价）。"), field="evaluation_id")
    for user_id, role in members:
        team = team_of(evaluation)
        present = next((m for m in team.members if m.user_id == user_id), None) if team else None
        if present is not None and present.role.value == role:
            continue
        try:
            add_member(evaluation, actor=actor, user_id=user_id, role=role)
        except DomainError as error:
            raise DomainError(error.message, field="members") from None
    return team_of(evaluation)


def remove_member(team: JointTeam, member_id, *, actor) -> JointTeam:
    lock(team)
    if not can(actor, "form", team):
        raise NotPermitted(_("您无权调整该评价组的成员。"))
    member = next((m for m in team.members if str(m.id) == str(member_id)), None)
    if member is None:
        raise DomainError(_("该成员不在评价组中。"))
    if any(o.member_id == member.id for o in team.opinions):
        raise DomainError(_("已提出意见的成员不能移出评价组（意见须保留）。"))
    record_change(actor, "team.remove_member", team,
                  before={"member": member.user.display_name, "side": member.side.value, "role": member.role.value})
    team.members.remove(member)
    return team


def add_opinion(team: JointTeam, *, actor, text: str) -> TeamOpinion:
    """A member (or the lead) adds an opinion on the working papers."""
    lock(team)
    if not can(actor, "opine", team):
        raise NotPermitted(_("只有评价组的组长和成员可以在评价定稿前提出意见。"))
    text = clean_text(text or "").strip()
    if not text:
        raise DomainError(_("请填写意见。"), field="text")
    if len(text) > OPINION_MAX:
        raise DomainError(_("意见不能超过 %(n)s 个字。", n=OPINION_MAX), field="text")
    member = team.member_of(actor)
    opinion = TeamOpinion(team=team, member=member, text=text, created_at=clock.now())
    db.session.add(opinion)
    db.session.flush()
    record_change(actor, "team.opinion", team, after={"opinion": text, "side": member.side.value})
    lead = team.lead
    if lead is not None and lead.user_id != actor.id:
        notify([lead.user], _("%(who)s对联合评价提出了意见", who=actor.display_name), link=queries.team_link(team.evaluation))
    return opinion


def finalise(team: JointTeam, *, actor, conclusion: str, version=None) -> JointTeam:
    """The lead writes the team's joint opinion (联合评价意见) and closes the team's work."""
    if version is not None:
        expect_version(team, version)
    conclusion = clean_text(conclusion or "").strip()
    if not conclusion:
        raise DomainError(_("请填写联合评价意见。"), field="conclusion")
    if len(conclusion) > OPINION_MAX:
        raise DomainError(_("意见不能超过 %(n)s 个字。", n=OPINION_MAX), field="conclusion")
    TEAM.apply(team, "finalise", actor=actor, audit=False)
    team.conclusion, team.finalised_by_id, team.finalised_at = conclusion, actor.id, clock.now()
    record_change(actor, "team.finalise", team, before={"state": TeamState.WORKING.value},
                  after={"state": TeamState.FINALISED.value, "conclusion": conclusion})
    notify([m.user for m in team.members if m.user_id != actor.id],
           _("联合评价已定稿：%(project)s", project=team.evaluation.project.name), link=queries.team_link(team.evaluation))
    return team


# ---- the work assessment (绩效管理工作考核) ----------------------------------------------------------

def default_dates(year: int) -> tuple[date, date, date]:
    """预算批复日 31 January, 1–7 月监控 due 15 August, disclosure 20 days after the budget's approval
    (预算法 第十四条) — local facts finance corrects on the assessment's page."""
    budget = date(year, 1, 31)
    return budget, date(year, 8, 15), budget + timedelta(days=20)


def _assessment(year: int, actor) -> WorkAssessment:
    assessment = db.session.scalars(sa.select(WorkAssessment).where(WorkAssessment.year == year)).first()
    if assessment is None:
        budget, monitoring, disclosure = default_dates(year)
        assessment = WorkAssessment(year=year, budget_approved_on=budget, monitoring_due_on=monitoring,
                                    disclosure_due_on=disclosure)
        db.session.add(assessment)
        for position, (name, method, weight, guidance) in enumerate(indicators.default_system()):
            assessment.indicators.append(AssessmentIndicator(position=position, name=name, method=method,
                                                             weight=weight, guidance=guidance))
        db.session.flush()
        record_change(actor, "assessment.create", assessment,
                      after={"year": year, "indicators": [i.name for i in assessment.indicators]})
    return assessment


def compute(year: int, *, actor, as_of: date | None = None) -> WorkAssessment:
    """Compute (or recompute) every scorecard of `year`: the automatic lines from the database,
    the manual lines keep finance's scores; then totals, ranks and grades."""
    if not can(actor, "compute", WorkAssessment):
        raise NotPermitted(_("只有财政绩效管理人员可以计算考核得分。"))
    assessment = _assessment(year, actor)
    lock(assessment)
    if assessment.state != AssessmentState.DRAFT:
        raise DomainError(_("该年度考核已通报，不能重新计算。"))
    assessment.as_of = as_of or clock.today()
    ctx = indicators.Context(year, assessment.as_of, assessment.budget_approved_on, assessment.monitoring_due_on,
                             assessment.disclosure_due_on)
    figures = {i.method: indicators.AUTOMATIC[i.method].compute(ctx)
               for i in assessment.indicators if i.method in indicators.AUTOMATIC}
    subjects = queries.subjects(year)
    existing = {c.organisation_id: c for c in assessment.scorecards}
    for org_id in set(existing) - {s.org.id for s in subjects}:
        assessment.scorecards.remove(existing.pop(org_id))
    for subject in subjects:
        card = existing.get(subject.org.id)
        if card is None:
            card = Scorecard(organisation_id=subject.org.id, subject_kind=subject.kind)
            assessment.scorecards.append(card)
        kept = {line.indicator_id: line for line in card.lines}
        for indicator in assessment.indicators:
            old = kept.pop(indicator.id, None)
            line = old or ScorecardLine(indicator=indicator)
            line.position = indicator.position
            if indicator.method in figures:
                numerator = sum(figures[indicator.method].get(d, (0, 0))[0] for d in subject.department_ids)
                denominator = sum(figures[indicator.method].get(d, (0, 0))[1] for d in subject.department_ids)
                line.automatic, line.numerator, line.denominator = True, numerator, denominator
                line.score = indicators.score_of(indicator.weight, numerator, denominator) if denominator else None
            else:
                if old is not None and old.automatic:  # was automatic: finance scores it now
                    line.score, line.note = None, ""
                line.automatic, line.numerator, line.denominator = False, None, None
            if old is None:
                card.lines.append(line)
        for line in kept.values():  # an indicator no longer in the system
            card.lines.remove(line)
    _rank(assessment)
    assessment.computed_at = clock.now()
    db.session.flush()
    record_change(actor, "assessment.compute", assessment,
                  after={"as_of": assessment.as_of.isoformat(), "scorecards": len(assessment.scorecards)})
    append_many(actor, "scorecard.compute", [(c, {"total": c.total, "rank": c.rank,
                                                  "grade": c.grade.value if c.grade else None})
                                             for c in assessment.scorecards])
    return assessment


def _rank(assessment: WorkAssessment) -> None:
    """Totals, grades in the usual half-open bands, and competition ranks (1, 2, 2, 4) per kind."""
    for card in assessment.scorecards:
        card.total = indicators.total_of(card.lines)
        card.grade = Grade.for_score(card.total) if card.total is not None else None
    for kind in {c.subject_kind for c in assessment.scorecards}:
        cards = sorted((c for c in assessment.scorecards if c.subject_kind == kind and c.total is not None),
                       key=lambda c: c.total, reverse=True)
        for index, card in enumerate(cards):
            card.rank = index + 1 if index == 0 or card.total != cards[index - 1].total else cards[index - 1].rank
        for card in assessment.scorecards:
            if card.subject_kind == kind and card.total is None:
                card.rank = None


def score_line(card: Scorecard, *, actor, indicator_id, score, note: str = "") -> Scorecard:
    """Finance scores a manual indicator of one scorecard (0 to its weight)."""
    assessment = card.assessment
    lock(assessment)
    if not can(actor, "score", card):
        raise NotPermitted(_("该年度考核已通报或您无权评分。"))
    line = next((x for x in card.lines if str(x.indicator_id) == str(indicator_id)), None)
    if line is None or line.automatic:
        raise DomainError(_("只有由财政评分的指标可以手工评分。"), field="score")
    value = parse_amount(score, label=_("得分"), lo=Decimal(0), hi=line.indicator.weight, places=2,
                         field="score", required=True)
    note = clean_text(note or "").strip()[:2000]
    before = {"indicator": line.indicator.name, "score": line.score, "note": line.note}
    line.score, line.note = value, note
    _rank(assessment)
    record_change(actor, "scorecard.score", card, before=before,
                  after={"indicator": line.indicator.name, "score": value, "note": note, "total": card.total})
    return card


def configure(assessment: WorkAssessment, *, actor, rows: list[dict], dates: dict, version=None) -> WorkAssessment:
    """The year's indicator system and dates; weights total 100. Recomputes the scorecards."""
    if version is not None:
        expect_version(assessment, version)
    lock(assessment)
    if not can(actor, "configure", assessment):
        raise NotPermitted(_("该年度考核已通报或您无权修改指标体系。"))
    parsed = []
    for n, row in enumerate(rows, start=1):
        name = clean_text(row.get("name", "")).strip()
        if not name and not str(row.get("weight", "")).strip():
            continue
        if not name or len(name) > 100:
            raise DomainError(_("第 %(n)s 行：请填写指标名称（不超过 100 字）。", n=n), field="indicators")
        method = row.get("method") or indicators.MANUAL
        if method != indicators.MANUAL and method not in indicators.AUTOMATIC:
            raise DomainError(_("第 %(n)s 行：计分方式无效。", n=n), field="indicators")
        weight = parse_amount(row.get("weight"), label=_("第 %(n)s 行分值", n=n), lo=Decimal("0.01"),
                              hi=Decimal(100), field="indicators", required=True)
        parsed.append((name, method, weight, clean_text(row.get("guidance", "")).strip()[:2000]))
    if not parsed:
        raise DomainError(_("指标体系至少要有一项指标。"), field="indicators")
    if sum((w for _n, _m, w, _g in parsed), Decimal(0)) != 100:
        raise DomainError(_("各项指标分值合计须为 100 分。"), field="indicators")
    if len({n for n, *_rest in parsed}) != len(parsed):
        raise DomainError(_("指标名称不能重复。"), field="indicators")
    keys = ("budget_approved_on", "monitoring_due_on", "disclosure_due_on")
    if any(not isinstance(dates.get(k), date) for k in keys):
        raise DomainError(_("请填写预算批复日期、监控报送截止日和公开截止日。"), field="budget_approved_on")
    before = {"indicators": [f"{i.name}:{i.method}:{i.weight}" for i in assessment.indicators],
              **{k: getattr(assessment, k).isoformat() for k in keys}}
    by_name = {i.name: i for i in assessment.indicators}
    dropped = {i.id for i in assessment.indicators if i.name not in {n for n, *_rest in parsed}}
    for card in assessment.scorecards:
        card.lines = [line for line in card.lines if line.indicator_id not in dropped]
    kept = []
    for position, (name, method, weight, guidance) in enumerate(parsed):
        item = by_name.pop(name, None) or AssessmentIndicator(name=name)
        item.position, item.method, item.weight, item.guidance = position, method, weight, guidance
        kept.append(item)
    assessment.indicators = kept
    for k in keys:
        setattr(assessment, k, dates[k])
    db.session.flush()
    record_change(actor, "assessment.configure", assessment, before=before,
                  after={"indicators": [f"{i.name}:{i.method}:{i.weight}" for i in kept],
                         **{k: dates[k].isoformat() for k in keys}})
    return compute(assessment.year, actor=actor, as_of=assessment.as_of)


def publish(assessment: WorkAssessment, *, actor, version=None) -> WorkAssessment:
    """印发通报: every scorecard complete; the circular gets its number; departments are told."""
    if version is not None:
        expect_version(assessment, version)
    lock(assessment)
    if not assessment.scorecards:
        raise DomainError(_("请先计算考核得分。"))
    missing = [c.organisation.name for c in assessment.scorecards if c.total is None]
    if missing:
        raise DomainError(_("以下对象尚有指标未评分：%(names)s。", names="、".join(missing[:10])))
    ASSESSMENT.apply(assessment, "publish", actor=actor, audit=False)
    prefix = current_app.config.get("ASSESSMENT_CIRCULAR_PREFIX", "临财绩通")
    issued = clock.today().year
    assessment.circular_number = f"{prefix}〔{issued}〕{counters.take('assessment_circular', issued)}号"
    assessment.published_at = clock.now()
    record_change(actor, "assessment.publish", assessment, before={"state": AssessmentState.DRAFT.value},
                  after={"state": AssessmentState.PUBLISHED.value, "circular_number": assessment.circular_number})
    liaisons = db.session.scalars(sa.select(User).join(Organisation, User.organisation_id == Organisation.id)
                                  .where(Organisation.id.in_([c.organisation_id for c in assessment.scorecards]))).all()
    notify([u for u in liaisons if Role.UNIT_LIAISON in u.roles or u.org_kind == OrgKind.FINANCE_BUREAU],  # a county's
           _("%(year)s年度绩效管理工作考核结果已通报", year=assessment.year), link=queries.assessment_link(assessment))
    return assessment
