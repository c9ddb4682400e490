"""Who may see and do what in joint oversight (reach: portal/core/reach.py, kinds team,
scorecard, package).

Teams: the bureaus, the conference and the congress read every team; a budget unit's or an
agency's staff only the teams they sit on. Finance forms the team (adds and removes members);
the lead and the members add opinions; an observer reads only; the lead finalises. Scorecards:
finance computes and scores them; once the year is circulated (已通报) the conference, the
congress and the bureaus read them all and a department its own. A county finance bureau
(县级财政局) reaches its own county only (reach.COUNTY): its own card once circulated, the teams on
its county's evaluations or that its staff sit on, and no package. Packages: finance builds and
submits them; the others read the submitted ones."""
import sqlalchemy as sa

from portal.core import reach
from portal.core.permissions import org_subtree_ids, policy, scope
from portal.oversight.models import (
    AssessmentState,
    CongressPackage,
    JointTeam,
    PackageState,
    Scorecard,
    TeamMember,
    TeamRole,
    TeamState,
    WorkAssessment,
)
from portal.performance.models import Evaluation, EvaluationMode, Project


def _member(user, team: JointTeam) -> TeamMember | None:
    return team.member_of(user)


@policy(JointTeam)
def team_policy(user, action, team) -> bool:
    if isinstance(team, type):
        if action == "view":  # the list of teams (everyone with any reach sees the ones they may)
            return reach.reaches(user, "team")
        return reach.reaches_all(user, "team", reach.WRITE)
    member = _member(user, team)
    if action == "view":
        if reach.reaches_all(user, "team"):
            return True
        if reach.has_scope(user, "team", reach.OWN_COUNTY):  # a county bureau: its county's, or its own seat
            return member is not None or team.evaluation.project.department_id in org_subtree_ids(user.organisation_id)
        return member is not None and reach.has_scope(user, "team", reach.TEAM_MEMBER)
    if action == "form":  # add or remove members: finance, while the team works
        return team.state == TeamState.WORKING and reach.reaches_all(user, "team", reach.WRITE)
    if team.state != TeamState.WORKING or member is None:
        return False
    writes = reach.reaches_all(user, "team", reach.WRITE) or reach.has_scope(user, "team", reach.TEAM_MEMBER,
                                                                             reach.WRITE)
    if action == "opine":
        return writes and member.role in (TeamRole.LEAD, TeamRole.MEMBER)
    if action == "finalise":
        return writes and member.role == TeamRole.LEAD
    return False


@scope(JointTeam)
def visible_teams(user, stmt):
    if reach.reaches_all(user, "team"):
        return stmt
    seats = JointTeam.id.in_(sa.select(TeamMember.team_id).where(TeamMember.user_id == user.id))
    if reach.has_scope(user, "team", reach.OWN_COUNTY):
        county = (sa.select(Evaluation.id).join(Project, Evaluation.project_id == Project.id)
                  .where(Project.department_id.in_(org_subtree_ids(user.organisation_id))))
        return stmt.where(sa.or_(seats, JointTeam.evaluation_id.in_(county)))
    if reach.has_scope(user, "team", reach.TEAM_MEMBER):
        return stmt.where(seats)
    return stmt.where(sa.false())


def may_form_team(user, evaluation: Evaluation) -> bool:
    """Only a key (finance) evaluation gets a joint team, formed by finance."""
    return evaluation.mode == EvaluationMode.FINANCE and reach.reaches_all(user, "team", reach.WRITE)


@policy(WorkAssessment)
def assessment_policy(user, action, assessment) -> bool:
    writes = reach.reaches_all(user, "scorecard", reach.WRITE)
    if action == "view":
        if isinstance(assessment, type):
            return reach.reaches(user, "scorecard")
        if writes or reach.has_scope(user, "scorecard", reach.ALL):
            return True
        return assessment.state == AssessmentState.PUBLISHED and (
            reach.has_scope(user, "scorecard", reach.CIRCULATED) or reach.has_scope(user, "scorecard", reach.OWN_CIRCULATED))
    if action in ("compute", "score", "configure", "publish"):
        if isinstance(assessment, type):
            return writes
        return writes and assessment.state == AssessmentState.DRAFT
    if action == "circular":  # the 通报 .docx: finance any time (a draft is marked 征求意见稿), others once circulated
        if isinstance(assessment, type):
            return writes
        return writes or reach.has_scope(user, "scorecard", reach.ALL) or (
            assessment.state == AssessmentState.PUBLISHED and reach.has_scope(user, "scorecard", reach.CIRCULATED))
    return False


@scope(WorkAssessment)
def visible_assessments(user, stmt):
    if reach.has_scope(user, "scorecard", reach.ALL):
        return stmt
    if reach.has_scope(user, "scorecard", reach.CIRCULATED) or reach.has_scope(user, "scorecard",
                                                                               reach.OWN_CIRCULATED):
        return stmt.where(WorkAssessment.state == AssessmentState.PUBLISHED)
    return stmt.where(sa.false())


@policy(Scorecard)
def scorecard_policy(user, action, card) -> bool:
    if isinstance(card, type):
        return action == "view" and reach.reaches(user, "scorecard")
    if action == "view":
        if reach.reaches_all(user, "scorecard", reach.WRITE) or reach.has_scope(user, "scorecard", reach.ALL):
            return True
        if card.assessment.state == AssessmentState.PUBLISHED and reach.has_scope(user, "scorecard", reach.CIRCULATED):
            return True
        return (card.assessment.state == AssessmentState.PUBLISHED
                and reach.has_scope(user, "scorecard", reach.OWN_CIRCULATED)
                and card.organisation_id in org_subtree_ids(user.organisation_id))
    if action == "score":
        return assessment_policy(user, "score", card.assessment)
    return False


@scope(Scorecard)
def visible_scorecards(user, stmt):
    if reach.has_scope(user, "scorecard", reach.ALL):
        return stmt
    published = sa.select(WorkAssessment.id).where(WorkAssessment.state == AssessmentState.PUBLISHED)
    if reach.has_scope(user, "scorecard", reach.CIRCULATED):
        return stmt.where(Scorecard.assessment_id.in_(published))
    if reach.has_scope(user, "scorecard", reach.OWN_CIRCULATED):
        return stmt.where(Scorecard.assessment_id.in_(published),
                          Scorecard.organisation_id.in_(org_subtree_ids(user.organisation_id)))
    return stmt.where(sa.false())


@policy(CongressPackage)
def package_policy(user, action, package) -> bool:
    writes = reach.reaches_all(user, "package", reach.WRITE)
    if isinstance(package, type):
        if action == "view":
            return reach.reaches(user, "package")
        return writes  # build
    if action in ("view", "download"):
        if reach.has_scope(user, "package", reach.ALL):
            return package.state in (PackageState.READY, PackageState.SUBMITTED) or action == "view"
        return (package.state == PackageState.SUBMITTED
                and reach.has_scope(user, "package", reach.SUBMITTED_PACKAGES))
    if action == "submit":
        return writes and package.state == PackageState.READY
    return False


@scope(CongressPackage)
def visible_packages(user, stmt):
    if reach.has_scope(user, "package", reach.ALL):
        return stmt
    if reach.has_scope(user, "package", reach.SUBMITTED_PACKAGES):
        return stmt.where(CongressPackage.state == PackageState.SUBMITTED)
    return stmt.where(sa.false())
