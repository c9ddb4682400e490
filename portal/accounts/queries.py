"""What the account pages read: users and organisations for the administrators' lists."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.accounts.models import Organisation, OrgKind, User
from portal.core.errors import NotPermitted
from portal.core.permissions import visible
from portal.extensions import db


def organisation_choices(blank: str | None = None) -> list[tuple[int, str]]:
    """(id, name) of every organisation, by kind; `blank` adds a leading "none" choice."""
    orgs = db.session.execute(sa.select(Organisation).order_by(Organisation.kind, Organisation.id)).scalars()
    choices = [(o.id, o.name) for o in orgs]
    return ([(0, blank)] + choices) if blank is not None else choices


def users_for(viewer, search: str = "") -> sa.Select:
    """The users `viewer` may manage, matching `search` in the username or the display name."""
    stmt = visible(viewer, User).order_by(User.organisation_id, User.id)
    if search:
        stmt = stmt.where(sa.or_(User.username.contains(search), User.display_name.contains(search)))
    return stmt


def organisations_of_kind(kind: str = "") -> sa.Select:
    """Every organisation (or those of one kind), parents before their units."""
    stmt = sa.select(Organisation).order_by(Organisation.kind, Organisation.parent_id.nulls_first(), Organisation.id)
    if kind in {k.value for k in OrgKind}:
        stmt = stmt.where(Organisation.kind == OrgKind(kind))
    return stmt


def job_actor(job) -> User:
    """The account that started a background job, for the job to act as: NotPermitted when it has
    gone or been disabled since (a job never runs for an account that may no longer act)."""
    actor = db.session.get(User, job.user_id) if job.user_id else None
    if actor is None or not actor.is_active:
        raise NotPermitted(_("提交任务的账号已停用，任务未执行。"))
    return actor
