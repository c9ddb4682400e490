"""Who may see what in the co-review.

- Reports: bureaus, the congress observer and admins read every report; an agency reads only
  its own; an expert reads the reports of rounds they are assigned to (not withdrawn).
- A review (ReviewAssignment): its author always; nobody else while it is a draft. Once
  submitted, other reviewers of the round only after submitting their own (盲评), never a
  reviewer who withdrew for a conflict; bureau members outside the round and the lead may
  read submitted reviews. Agencies never read reviews (nor reviewer names).
- The consolidation page: bureau members (the lead drafts; finance and audit endorse).
- A round's progress (who has declared, saved a draft, submitted, when): the lead always, and
  whoever may open the consolidation page — so, as in HotCRP's blind review, a reviewer who has
  not submitted does not learn how far the others are (nor who is still drafting).
"""
import sqlalchemy as sa

from portal.accounts.models import Role
from portal.core import reach
from portal.core.permissions import policy, scope
from portal.reviews.models import (
    AgencyDraw,
    AgencyProfile,
    AssignmentState,
    Report,
    ReportVersion,
    ReviewAssignment,
    ReviewRound,
    RubricTemplate,
)


def internal_reader(user) -> bool:
    """Reads the internal side (every report, reviewer names, reviews once submitted, endorsements)."""
    return reach.reaches_all(user, "report")


def is_agency_user(user) -> bool:
    """Reads its own organisation's reports (and never reviews nor reviewer names)."""
    return reach.has_scope(user, "report", reach.OWN_ORG) and not internal_reader(user)


def is_assigned_reader(user) -> bool:
    """A reviewer outside the bureaus' staff (the expert): the rounds assigned to them only."""
    return reach.has_scope(user, "report", reach.ASSIGNED)


def is_finance_officer(user) -> bool:
    return Role.FINANCE_OFFICER in reach.effective_roles(user)


def is_audit_member(user) -> bool:
    return Role.AUDIT_LIAISON in reach.effective_roles(user)


def is_expert(user) -> bool:
    return Role.EXPERT in reach.effective_roles(user)


def is_agency_of(user, report) -> bool:
    """Staff of the agency that wrote the report (the role counts in an agency only)."""
    return Role.AGENCY_STAFF in reach.effective_roles(user) and user.organisation_id == report.agency_id


def _expert_on(user, report) -> bool:
    return any(a.reviewer_id == user.id and a.state != AssignmentState.CONFLICTED
               for r in report.rounds for a in r.assignments)


@policy(Report)
def report_policy(user, action, report) -> bool:
    if isinstance(report, type):
        if action == "view":
            return reach.reaches(user, "report")
        return action in ("manage", "export") and report_policy(user, action, None)
    if action == "view":
        if internal_reader(user):
            return True
        if is_agency_user(user) and report.agency_id == user.organisation_id:
            return True
        return is_assigned_reader(user) and _expert_on(user, report)
    if action == "upload":
        return (reach.has_scope(user, "report", reach.OWN_ORG, reach.WRITE)
                and report.agency_id == user.organisation_id)
    if action == "export":
        return internal_reader(user)
    if action == "manage":
        return reach.reaches_all(user, "report", reach.WRITE)
    return False


@scope(Report)
def visible_reports(user, stmt):
    if internal_reader(user):
        return stmt
    if is_agency_user(user):
        return stmt.where(Report.agency_id == user.organisation_id)
    if not is_assigned_reader(user):
        return stmt.where(sa.false())
    mine = (sa.select(ReviewRound.report_id).join(ReviewAssignment)
            .where(ReviewAssignment.reviewer_id == user.id,
                   ReviewAssignment.state != AssignmentState.CONFLICTED))
    return stmt.where(Report.id.in_(mine))


policy(ReportVersion)(lambda user, action, v: action == "view" and (
    report_policy(user, "view", v if isinstance(v, type) else v.report)))


@policy(ReviewRound)
def round_policy(user, action, rnd) -> bool:
    if isinstance(rnd, type):
        return False
    if action == "view":  # the round page: reviewer names, assignment states
        return internal_reader(user) or (is_assigned_reader(user) and _expert_on(user, rnd.report))
    if action == "consolidate":
        return internal_reader(user) and not _withdrawn(user, rnd) and _not_blind(user, rnd)
    if action == "progress":  # who has declared, saved a draft, submitted, and when
        return rnd.lead_id == user.id or round_policy(user, "consolidate", rnd)
    if action == "manage":
        return reach.reaches_all(user, "report", reach.WRITE)
    return False


def _withdrawn(user, rnd) -> bool:
    return any(a.reviewer_id == user.id and a.state == AssignmentState.CONFLICTED for a in rnd.assignments)


def _not_blind(user, rnd) -> bool:
    """A reviewer of the round who has not submitted yet must not see the others' reviews."""
    mine = next((a for a in rnd.assignments if a.reviewer_id == user.id), None)
    return mine is None or mine.state == AssignmentState.SUBMITTED


@policy(ReviewAssignment)
def assignment_policy(user, action, assignment) -> bool:
    if isinstance(assignment, type):
        return action == "view" and reach.reaches(user, "review")
    if assignment.reviewer_id == user.id:  # one's own score sheet (every role that reviews)
        return action in ("view", "edit") and reach.reaches(user, "review", reach.WRITE)
    if action != "view" or assignment.state != AssignmentState.SUBMITTED:
        return False  # drafts are their author's alone
    rnd = assignment.round
    if is_agency_user(user):
        return False
    if _withdrawn(user, rnd) or not _not_blind(user, rnd):
        return False
    if any(a.reviewer_id == user.id for a in rnd.assignments):
        return True  # a fellow reviewer who has submitted
    return internal_reader(user)


@scope(ReviewAssignment)
def visible_assignments(user, stmt):
    """Only for lists of one's own work; reading others' reviews goes through the policy."""
    return stmt.where(ReviewAssignment.reviewer_id == user.id)


policy(AgencyDraw)(lambda user, action, draw: action == "view" and internal_reader(user))


@policy(AgencyProfile)
def profile_policy(user, action, profile) -> bool:
    """An agency's profile and quality record: internal readers and the agency itself read it;
    finance officers and admins maintain it (`manage`)."""
    if action == "manage":
        return is_finance_officer(user) or Role.ADMIN in reach.effective_roles(user)
    if action != "view":
        return False
    if isinstance(profile, type) or internal_reader(user):
        return internal_reader(user)
    return is_agency_user(user) and user.organisation_id == profile.organisation_id


policy(RubricTemplate)(lambda user, action, r: internal_reader(user) if action == "view" else is_finance_officer(user))
