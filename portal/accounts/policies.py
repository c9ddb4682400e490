"""Who may see and change organisations and users."""
import sqlalchemy as sa

from portal.accounts.models import Organisation, OrgKind, Role, User
from portal.core.permissions import org_subtree_ids, policy, scope


def sees_all_organisations(user) -> bool:
    return user.has_role(Role.ADMIN) or user.org_kind in (OrgKind.FINANCE_BUREAU, OrgKind.AUDIT_BUREAU,
                                                           OrgKind.CONGRESS)


@policy(Organisation)
def organisation_policy(user, action, org) -> bool:
    if action == "view":
        if isinstance(org, type) or sees_all_organisations(user):
            return True
        return org.id in org_subtree_ids(user.organisation_id)
    return user.has_role(Role.ADMIN)  # create, edit


@scope(Organisation)
def visible_organisations(user, stmt):
    if sees_all_organisations(user):
        return stmt
    return stmt.where(Organisation.id.in_(org_subtree_ids(user.organisation_id)))


@policy(User)
def user_policy(user, action, target) -> bool:
    if user.has_role(Role.ADMIN):
        return True
    return action == "view" and not isinstance(target, type) and target.id == user.id


@scope(User)
def visible_users(user, stmt):
    if user.has_role(Role.ADMIN):
        return stmt
    return stmt.where(sa.false())
