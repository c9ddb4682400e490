"""Who may see and do what on the ledger (reach: portal/core/reach.py).

Bureau staff, conference members, the congress observer and admins read every problem; a unit
liaison reads its own problems and its subordinate units'; review experts and agencies none.
Finance officers and audit liaisons list problems and verify them; the unit's liaison
rectifies (progress, extension, submission)."""
import sqlalchemy as sa

from portal.accounts.models import Role
from portal.core import reach
from portal.core.permissions import org_subtree_ids, policy, scope
from portal.ledger.models import ExtensionRequest, Milestone, Problem, ProgressUpdate, SignOff


def reads_all(user) -> bool:
    return reach.reaches_all(user, "problem")


def reads_subtree(user) -> bool:
    return reach.has_scope(user, "problem", reach.SUBTREE)


def is_finance_officer(user) -> bool:
    return Role.FINANCE_OFFICER in reach.effective_roles(user)


def is_audit_liaison(user) -> bool:
    return Role.AUDIT_LIAISON in reach.effective_roles(user)


def is_bureau_officer(user) -> bool:
    return is_finance_officer(user) or is_audit_liaison(user)


def is_unit_of(user, problem) -> bool:
    return (reach.has_scope(user, "problem", reach.SUBTREE, reach.WRITE)
            and problem.unit_id in org_subtree_ids(user.organisation_id))


def in_reach(user, problem) -> bool:
    if reads_all(user):
        return True
    return reads_subtree(user) and problem.unit_id in org_subtree_ids(user.organisation_id)


@policy(Problem)
def problem_policy(user, action, problem) -> bool:
    if isinstance(problem, type):
        if action == "view":
            return reads_all(user) or reads_subtree(user)
        if action in ("create", "import", "bulk"):
            return is_bureau_officer(user)
        if action == "stats":
            return reads_all(user) or reads_subtree(user)
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
    if reads_subtree(user):
        return stmt.where(Problem.unit_id.in_(org_subtree_ids(user.organisation_id)))
    return stmt.where(sa.false())


def _through_problem(user, action, record) -> bool:
    if isinstance(record, type):
        return action == "view" and problem_policy(user, "view", Problem)
    return action == "view" and problem_policy(user, "view", record.problem)


for _model in (ProgressUpdate, ExtensionRequest, SignOff, Milestone):
    policy(_model)(_through_problem)
