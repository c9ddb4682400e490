"""Who may see what in the co-review.

- Reports: bureaus, the congress observer and admins read every report; an agency reads only
  its own; an expert reads the reports of rounds they are assigned to (not withdrawn).
- A review (ReviewAssignment): its author always; nobody else while it is a draft. Once
  submitted, other reviewers of the round only after submitting their own (盲评), never a
  reviewer who withdrew for a conflict; bureau members outside the round and the lead may
  read submitted reviews. Agencies never read reviews (nor reviewer names).
- The consolidation page: bureau members (the lead drafts; finance and audit endorse).
"""
import sqlalchemy as sa

from portal.accounts.models import OrgKind, Role
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

READERS = (OrgKind.FINANCE_BUREAU, OrgKind.AUDIT_BUREAU, OrgKind.CONGRESS)


def internal_reader(user) -> bool:
    """Reads the internal side (reviewer names, reviews once submitted, endorsements)."""
    if user.has_role(Role.ADMIN):
        return True
    if user.org_kind in (OrgKind.FINANCE_BUREAU, OrgKind.AUDIT_BUREAU):
        return user.has_role(Role.FINANCE_OFFICER, Role.AUDIT_LIAISON, Role.CONFERENCE_MEMBER, Role.SIGNER)
    return user.org_kind == OrgKind.CONGRESS


def is_agency_user(user) -> bool:
    return user.org_kind == OrgKind.AGENCY


def _expert_on(user, report) -> bool:
    return any(a.reviewer_id == user.id and a.state != AssignmentState.CONFLICTED
               for r in report.rounds for a in r.assignments)


@policy(Report)
def report_policy(user, action, report) -> bool:
    if isinstance(report, type):
        return action == "view"
    if action == "view":
        if internal_reader(user):
            return True
        if is_agency_user(user):
            return report.agency_id == user.organisation_id
        return _expert_on(user, report)
    if action == "upload":
        return (is_agency_user(user) and user.has_role(Role.AGENCY_STAFF)
                and report.agency_id == user.organisation_id)
    if action in ("manage", "export"):
        if action == "export":
            return internal_reader(user)
        return user.is_finance and user.has_role(Role.FINANCE_OFFICER)
    return False


@scope(Report)
def visible_reports(user, stmt):
    if internal_reader(user):
        return stmt
    if is_agency_user(user):
        return stmt.where(Report.agency_id == user.organisation_id)
    mine = (sa.select(ReviewRound.report_id).join(ReviewAssignment)
            .where(ReviewAssignment.reviewer_id == user.id,
                   ReviewAssignment.state != AssignmentState.CONFLICTED))
    return stmt.where(Report.id.in_(mine))


policy(ReportVersion)(lambda user, action, v: action == "view" and (
    isinstance(v, type) or report_policy(user, "view", v.report)))


@policy(ReviewRound)
def round_policy(user, action, rnd) -> bool:
    if isinstance(rnd, type):
        return False
    if action == "view":  # the round page: reviewer names, assignment states
        return internal_reader(user) or _expert_on(user, rnd.report)
    if action == "consolidate":
        return internal_reader(user) and not _withdrawn(user, rnd) and _not_blind(user, rnd)
    if action == "manage":
        return user.is_finance and user.has_role(Role.FINANCE_OFFICER)
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
        return False
    if assignment.reviewer_id == user.id:
        return action in ("view", "edit")
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


policy(AgencyDraw)(lambda user, action, draw: action == "view" and (isinstance(draw, type) or internal_reader(user)))
policy(AgencyProfile)(lambda user, action, p: action == "view" and (
    isinstance(p, type) or internal_reader(user) or user.organisation_id == p.organisation_id))
policy(RubricTemplate)(lambda user, action, r: internal_reader(user) if action == "view" else (
    user.is_finance and user.has_role(Role.FINANCE_OFFICER)))
