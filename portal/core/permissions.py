"""The one place that decides what a user may do with a record.

Modules register a policy per model class:

    @policy(Project)
    def project_policy(user, action, project) -> bool: ...

    @scope(Project)
    def visible_projects(user, stmt): return stmt.where(...)

`can(user, action, record)` answers (a class stands for "any record of this kind", e.g.
`can(user, "create", Project)`); `visible(user, Project)` is the SELECT of what the user may
see, and every list query starts from it. Views use `load_or_404` / `require`.
"""
from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import abort, g, has_request_context

from portal.core.reach import unproxied

_policies: dict[type, Callable] = {}
_scopes: dict[type, Callable] = {}


def policy(model: type):
    def register(fn):
        _policies[model] = fn
        return fn
    return register


def scope(model: type):
    def register(fn):
        _scopes[model] = fn
        return fn
    return register


def _model_of(record) -> type:
    return record if isinstance(record, type) else type(record)


def can(user, action: str, record) -> bool:
    user = unproxied(user)
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    model = _model_of(record)
    for klass in model.__mro__:
        fn = _policies.get(klass)
        if fn is not None:
            return bool(fn(user, action, record))
    return False  # no policy: deny


def require(user, action: str, record) -> None:
    if not can(user, action, record):
        abort(403)


def visible(user, model: type, stmt=None):
    """SELECT of the records of `model` that `user` may see."""
    stmt = sa.select(model) if stmt is None else stmt
    fn = _scopes.get(model)
    if fn is None:
        raise LookupError(f"no scope registered for {model.__name__}")
    return fn(unproxied(user), stmt)


def load_or_404(model: type, record_id, action: str = "view", user=None):
    """Load → 404 when missing → 403 when the user may not `action` it."""
    from flask_login import current_user

    from portal.core.converters import DB_INTEGER_MAX
    from portal.extensions import db

    try:
        record_id = int(record_id)
    except (TypeError, ValueError):
        abort(404)
    if not (0 < record_id <= DB_INTEGER_MAX):
        abort(404)
    record = db.session.get(model, record_id)
    if record is None:
        abort(404)
    require(user or current_user, action, record)
    return record


def org_subtree_ids(org_id: int) -> frozenset[int]:
    """The organisation and every unit below it (a department sees its subordinate units)."""
    cache = g.setdefault("_org_subtrees", {}) if has_request_context() else {}
    if org_id in cache:
        return cache[org_id]
    from portal.extensions import db

    organisations = sa.table("organisations", sa.column("id"), sa.column("parent_id"))  # core knows no module
    edges = db.session.execute(sa.select(organisations.c.id, organisations.c.parent_id)).all()
    children: dict[int, list[int]] = {}
    for oid, parent in edges:
        children.setdefault(parent, []).append(oid)
    result, stack = set(), [org_id]
    while stack:
        current = stack.pop()
        if current not in result:
            result.add(current)
            stack.extend(children.get(current, []))
    cache[org_id] = frozenset(result)
    return cache[org_id]
