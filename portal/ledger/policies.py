"""Who may see and do what on the ledger.

Bureaus, conference members, the congress observer and admins read every problem; a budget
unit reads its own problems and its subordinate units'. Finance officers and audit liaisons
list problems and verify them; the unit's liaison rectifies (progress, extension, submission)."""
import sqlalchemy as sa

from portal.accounts.models import OrgKind, Role
from portal.core.permissions import org_subtree_ids, policy, scope
from portal.ledger.models import ExtensionRequest, Milestone, Problem, ProgressUpdate, SignOff

READ_ALL_KINDS = (OrgKind.FINANCE_BUREAU, OrgKind.AUDIT_BUREAU, OrgKind.CONGRESS)


def reads_all(user) -> bool:
    return user.org_kind in READ_ALL_KINDS or user.has_role(Role.ADMIN)


def is_finance_officer(user) -> bool:
    return user.is_finance and user.has_role(Role.FINANCE_OFFICER)


def is_audit_liaison(user) -> bool:
    return user.is_audit and user.has_role(Role.AUDIT_LIAISON)


def is_bureau_officer(user) -> bool:
    return is_finance_officer(user) or is_audit_liaison(user)


def is_unit_of(user, problem) -> bool:
    return (user.org_kind == OrgKind.BUDGET_UNIT and user.has_role(Role.UNIT_LIAISON)
            and problem.unit_id in org_subtree_ids(user.organisation_id))


def in_reach(user, problem) -> bool:
    if reads_all(user):
        return True
    return user.org_kind == OrgKind.BUDGET_UNIT and problem.unit_id in org_subtree_ids(user.organisation_id)


@policy(Problem)
def problem_policy(user, action, problem) -> bool:
    if isinstance(problem, type):
        if action == "view":
            return reads_all(user) or user.org_kind == OrgKind.BUDGET_UNIT
        if action in ("create", "import", "bulk"):
            return is_bureau_officer(user)
        if action == "stats":
            return reads_all(user) or user.org_kind == OrgKind.BUDGET_UNIT
        return False
    if action == "view":
        return in_reach(user, problem)
    if action == "rectify":  # progress, extension request, submission
        return is_unit_of(user, problem)
    if action == "verify":  # sign off or return
        return is_bureau_officer(user)
    if action in ("manage", "decide_extension"):  # long-term, milestones, assign, deadline
        return is_finance_officer(user) or (action == "manage" and is_audit_liaison(user))
    return False


@scope(Problem)
def visible_problems(user, stmt):
    if reads_all(user):
        return stmt
    if user.org_kind == OrgKind.BUDGET_UNIT:
        return stmt.where(Problem.unit_id.in_(org_subtree_ids(user.organisation_id)))
    return stmt.where(sa.false())


def _through_problem(user, action, record) -> bool:
    if isinstance(record, type):
        return action == "view"
    return action == "view" and problem_policy(user, "view", record.problem)


for _model in (ProgressUpdate, ExtensionRequest, SignOff, Milestone):
    policy(_model)(_through_problem)
