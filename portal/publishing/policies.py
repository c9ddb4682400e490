"""Who may publish (reach: portal/core/reach.py): finance officers of the finance bureau choose,
preview, publish and withdraw; admins read the published list and the log. Nobody else — the
review expert, though seated in the finance bureau, reads nothing here."""
from portal.core import reach
from portal.core.permissions import policy, scope
from portal.publishing.models import PublicationLog, PublishedFigures, Snapshot


def may_publish(user) -> bool:
    return reach.reaches_all(user, "snapshot", reach.WRITE)


def may_read(user) -> bool:
    return reach.reaches_all(user, "snapshot")


@policy(Snapshot)
def snapshot_policy(user, action, snapshot) -> bool:
    if action == "view":
        return may_read(user)
    return may_publish(user)  # preview, publish, withdraw


@scope(Snapshot)
def visible_snapshots(user, stmt):
    return stmt if may_read(user) else stmt.where(Snapshot.id < 0)


@policy(PublicationLog)
def log_policy(user, action, entry) -> bool:
    return action == "view" and may_read(user)


@scope(PublicationLog)
def visible_log(user, stmt):
    return stmt if may_read(user) else stmt.where(PublicationLog.id < 0)


@policy(PublishedFigures)
def figures_policy(user, action, row) -> bool:
    if action == "view":
        return may_read(user)
    return may_publish(user)  # preview, publish, withdraw (the operation checks the version is live)


@scope(PublishedFigures)
def visible_figures(user, stmt):
    return stmt if may_read(user) else stmt.where(PublishedFigures.id < 0)
