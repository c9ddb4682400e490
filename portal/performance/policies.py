"""Who may see and change projects and everything hanging off them (reach: portal/core/reach.py).

Bureau staff, the congress observer and admins see every project; a unit liaison sees its own and
its subordinate units' projects; an agency sees the projects it evaluates; a review expert sees
none (they read only the reviews assigned to them)."""
import sqlalchemy as sa

from portal.accounts.models import Role
from portal.core import reach
from portal.core.permissions import org_subtree_ids, policy, scope, visible
from portal.performance.models import (
    Evaluation,
    EvaluationFinding,
    Indicator,
    LibraryIndicator,
    PerformanceGoal,
    PerformanceSetting,
    Project,
)


def reads_all_projects(user) -> bool:
    return reach.reaches_all(user, "project")


def is_finance_officer(user) -> bool:
    return Role.FINANCE_OFFICER in reach.effective_roles(user)


def is_unit_liaison(user) -> bool:
    return Role.UNIT_LIAISON in reach.effective_roles(user)


def project_in_reach(user, project: Project) -> bool:
    if reads_all_projects(user):
        return True
    if reach.has_scope(user, "project", reach.SUBTREE):
        return project.unit_id in org_subtree_ids(user.organisation_id)
    if reach.has_scope(user, "project", reach.EVALUATED):
        return any(e.agency_id == user.organisation_id for e in project.evaluations)
    return False


@policy(Project)
def project_policy(user, action, project) -> bool:
    if isinstance(project, type):  # e.g. can(user, "create", Project)
        if action == "view":
            return reach.reaches(user, "project")
        if action == "view_all":  # the monitoring warnings across units (监控预警)
            return reads_all_projects(user)
        if action == "create":  # a unit liaison files projects for its own and subordinate units
            return is_finance_officer(user) or is_unit_liaison(user)
        return is_finance_officer(user)
    if action == "view":
        return project_in_reach(user, project)
    if action == "edit":
        if reach.reaches_all(user, "project", reach.WRITE):
            return True
        return (reach.has_scope(user, "project", reach.SUBTREE, reach.WRITE)
                and project.unit_id in org_subtree_ids(user.organisation_id))
    return False


@scope(Project)
def visible_projects(user, stmt):
    if reads_all_projects(user):
        return stmt
    if reach.has_scope(user, "project", reach.SUBTREE):
        return stmt.where(Project.unit_id.in_(org_subtree_ids(user.organisation_id)))
    if reach.has_scope(user, "project", reach.EVALUATED):
        evaluated = sa.select(Evaluation.project_id).where(Evaluation.agency_id == user.organisation_id)
        return stmt.where(Project.id.in_(evaluated))
    return stmt.where(sa.false())


def _through_project(get_project):
    def check(user, action, record):
        if isinstance(record, type):
            return action == "view" and reach.reaches(user, "project")
        return project_policy(user, action, get_project(record))
    return check


policy(PerformanceGoal)(_through_project(lambda g: g.project))
policy(Indicator)(_through_project(lambda i: i.goal.project))
policy(EvaluationFinding)(_through_project(lambda f: f.evaluation.project))


@policy(Evaluation)
def evaluation_policy(user, action, evaluation) -> bool:
    if isinstance(evaluation, type):
        if action == "view":
            return reach.reaches(user, "evaluation")
        return reach.reaches_all(user, "evaluation", reach.WRITE)
    if not reach.reaches(user, "evaluation"):
        return False
    if reach.has_scope(user, "evaluation", reach.OWN_ORG) and not reads_all_projects(user):
        return action == "view" and evaluation.agency_id == user.organisation_id
    if action == "score":  # who fills in the scores, by mode (self: the unit; department: its department)
        finance = is_finance_officer(user)
        if str(evaluation.mode) == "self":
            return project_policy(user, "edit", evaluation.project)
        if str(evaluation.mode) == "department":
            return finance or (is_unit_liaison(user)
                               and user.organisation_id == evaluation.project.department_id)
        return finance
    return project_policy(user, action, evaluation.project)


@scope(Evaluation)
def visible_evaluations(user, stmt):
    if reach.reaches_all(user, "evaluation"):
        return stmt
    if reach.has_scope(user, "evaluation", reach.OWN_ORG):
        return stmt.where(Evaluation.agency_id == user.organisation_id)
    return stmt.where(Evaluation.project_id.in_(visible(user, Project, sa.select(Project.id))))


@policy(LibraryIndicator)
def library_policy(user, action, item) -> bool:
    """指标库: every role but the review expert reads it; finance performance officers and admins
    maintain it."""
    if action == "view":
        return reach.reaches(user, "library")
    return reach.reaches_all(user, "library", reach.WRITE)


@policy(PerformanceSetting)
def settings_policy(user, action, _setting) -> bool:
    """绩效规则设置: the administrator."""
    return reach.reaches(user, "settings", reach.WRITE if action == "edit" else reach.READ)
