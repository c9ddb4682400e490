"""Who may see and change projects and everything hanging off them.

Bureaus, the congress observer and admins see every project; a budget unit sees its own and
its subordinate units' projects; an agency sees the projects it evaluates."""
import sqlalchemy as sa

from portal.accounts.models import OrgKind, Role
from portal.core.permissions import org_subtree_ids, policy, scope, visible
from portal.performance.models import Evaluation, EvaluationFinding, Indicator, PerformanceGoal, Project

READ_ALL_KINDS = (OrgKind.FINANCE_BUREAU, OrgKind.AUDIT_BUREAU, OrgKind.CONGRESS)


def reads_all_projects(user) -> bool:
    return user.org_kind in READ_ALL_KINDS or user.has_role(Role.ADMIN)


def project_in_reach(user, project: Project) -> bool:
    if reads_all_projects(user):
        return True
    if user.org_kind == OrgKind.BUDGET_UNIT:
        return project.unit_id in org_subtree_ids(user.organisation_id)
    if user.org_kind == OrgKind.AGENCY:
        return any(e.agency_id == user.organisation_id for e in project.evaluations)
    return False


@policy(Project)
def project_policy(user, action, project) -> bool:
    if isinstance(project, type):  # e.g. can(user, "create", Project)
        if action == "view":
            return True
        if action == "create":  # a unit liaison files projects for its own and subordinate units
            return (user.is_finance and user.has_role(Role.FINANCE_OFFICER)) or (
                user.org_kind == OrgKind.BUDGET_UNIT and user.has_role(Role.UNIT_LIAISON))
        return user.is_finance and user.has_role(Role.FINANCE_OFFICER)
    if action == "view":
        return project_in_reach(user, project)
    if action == "edit":
        if user.is_finance and user.has_role(Role.FINANCE_OFFICER):
            return True
        return (user.org_kind == OrgKind.BUDGET_UNIT and user.has_role(Role.UNIT_LIAISON)
                and project.unit_id in org_subtree_ids(user.organisation_id))
    return False


@scope(Project)
def visible_projects(user, stmt):
    if reads_all_projects(user):
        return stmt
    if user.org_kind == OrgKind.BUDGET_UNIT:
        return stmt.where(Project.unit_id.in_(org_subtree_ids(user.organisation_id)))
    if user.org_kind == OrgKind.AGENCY:
        evaluated = sa.select(Evaluation.project_id).where(Evaluation.agency_id == user.organisation_id)
        return stmt.where(Project.id.in_(evaluated))
    return stmt.where(sa.false())


def _through_project(get_project):
    def check(user, action, record):
        if isinstance(record, type):
            return action == "view"
        return project_policy(user, action, get_project(record))
    return check


policy(PerformanceGoal)(_through_project(lambda g: g.project))
policy(Indicator)(_through_project(lambda i: i.goal.project))
policy(EvaluationFinding)(_through_project(lambda f: f.evaluation.project))


@policy(Evaluation)
def evaluation_policy(user, action, evaluation) -> bool:
    if isinstance(evaluation, type):
        return action == "view" or (user.is_finance and user.has_role(Role.FINANCE_OFFICER))
    if user.org_kind == OrgKind.AGENCY:
        return action == "view" and evaluation.agency_id == user.organisation_id
    if action == "score":  # who fills in the scores, by mode (self: the unit; department: its department)
        finance = user.is_finance and user.has_role(Role.FINANCE_OFFICER)
        if str(evaluation.mode) == "self":
            return project_policy(user, "edit", evaluation.project)
        if str(evaluation.mode) == "department":
            return finance or (user.org_kind == OrgKind.BUDGET_UNIT and user.has_role(Role.UNIT_LIAISON)
                               and user.organisation_id == evaluation.project.department_id)
        return finance
    return project_policy(user, action, evaluation.project)


@scope(Evaluation)
def visible_evaluations(user, stmt):
    if reads_all_projects(user):
        return stmt
    if user.org_kind == OrgKind.AGENCY:
        return stmt.where(Evaluation.agency_id == user.organisation_id)
    return stmt.where(Evaluation.project_id.in_(visible(user, Project, sa.select(Project.id))))

