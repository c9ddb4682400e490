"""Who may publish: finance officers of the finance bureau (and admins may read the log)."""
from portal.accounts.models import Role
from portal.core.permissions import policy, scope
from portal.publishing.models import PublicationLog, Snapshot


def may_publish(user) -> bool:
    return user.is_finance and user.has_role(Role.FINANCE_OFFICER)


@policy(Snapshot)
def snapshot_policy(user, action, snapshot) -> bool:
    if action == "view":
        return user.is_finance or user.has_role(Role.ADMIN)
    return may_publish(user)


@scope(Snapshot)
def visible_snapshots(user, stmt):
    return stmt if (user.is_finance or user.has_role(Role.ADMIN)) else stmt.where(Snapshot.id < 0)


@policy(PublicationLog)
def log_policy(user, action, entry) -> bool:
    return action == "view" and (user.is_finance or user.has_role(Role.ADMIN))


@scope(PublicationLog)
def visible_log(user, stmt):
    return stmt if (user.is_finance or user.has_role(Role.ADMIN)) else stmt.where(PublicationLog.id < 0)
