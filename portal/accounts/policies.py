"""Who may see and change organisations and users, and who reads the audit log
(reach: portal/core/reach.py)."""
import sqlalchemy as sa

from portal.accounts.models import Organisation, User
from portal.core import reach
from portal.core.audit import AuditEntry
from portal.core.permissions import org_subtree_ids, policy, scope


def sees_all_organisations(user) -> bool:
    return reach.reaches_all(user, "organisation")


def manages(user, kind: str) -> bool:
    return reach.reaches_all(user, kind, reach.WRITE)


@policy(Organisation)
def organisation_policy(user, action, org) -> bool:
    if action == "view":
        if sees_all_organisations(user):
            return True
        if not reach.has_scope(user, "organisation", reach.SUBTREE):
            return False
        return isinstance(org, type) or org.id in org_subtree_ids(user.organisation_id)
    return manages(user, "organisation")  # create, edit


@scope(Organisation)
def visible_organisations(user, stmt):
    if sees_all_organisations(user):
        return stmt
    if not reach.has_scope(user, "organisation", reach.SUBTREE):
        return stmt.where(sa.false())
    return stmt.where(Organisation.id.in_(org_subtree_ids(user.organisation_id)))


# 三权分立: what the security administrator does to an account (reach "security"); the system
# administrator edits the account itself (reach "user" write) and none of these.
SECURITY_ACTIONS = frozenset({"assign_roles", "end_sessions", "reset_2fa"})


def secures(user) -> bool:
    return reach.reaches_all(user, "security", reach.WRITE)


@policy(User)
def user_policy(user, action, target) -> bool:
    """view: the two administrators who keep accounts (system: to edit them; security: to give
    roles and end sessions) and the user themself; edit (create, names, organisation,
    deactivation, password reset): the system administrator; SECURITY_ACTIONS: the security
    administrator, never on their own roles."""
    one = not isinstance(target, type)
    if action in SECURITY_ACTIONS:
        return secures(user) and not (action == "assign_roles" and one and target.id == user.id)
    if action == "view":
        return manages(user, "user") or reach.reaches_all(user, "user") or (one and target.id == user.id)
    if action == "edit":
        return manages(user, "user")
    return False


@scope(User)
def visible_users(user, stmt):
    if manages(user, "user") or reach.reaches_all(user, "user"):
        return stmt
    return stmt.where(sa.false())


@policy(AuditEntry)
def audit_log_policy(user, action, entry) -> bool:
    """操作日志: read only, by those the reach table gives it to."""
    return action == "view" and reach.reaches_all(user, "audit_log")
