"""The security administrator's pages (安全管理, 三权分立): roles, sessions, 2FA resets and login
limits. Every route asks the one permission point (`can`/`require` on User and
SecurityControls, portal/accounts/policies.py and duties.py); the operations check again."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts import operations as account_operations
from portal.accounts import sessions, throttle
from portal.accounts.duties import SecurityControls
from portal.accounts.forms import ClearLimitForm, RolesForm
from portal.accounts.models import AuthSession, User
from portal.core import clock, parsing
from portal.core.pagination import paginate
from portal.core.permissions import can, load_or_404, require, visible
from portal.core.writes import status, submit
from portal.extensions import db

security_bp = Blueprint("security", __name__, url_prefix="/security")


def _open_counts(user_ids) -> dict[int, int]:
    now = clock.now()
    rows = db.session.execute(
        sa.select(AuthSession.user_id, sa.func.count())
        .where(AuthSession.user_id.in_(user_ids), AuthSession.ended_at.is_(None),
               sa.or_(AuthSession.expires_at > now, AuthSession.remember_until > now))
        .group_by(AuthSession.user_id)).all()
    return dict(rows)


@security_bp.get("/")
def users():
    """Every account with its roles, 2FA and open sessions."""
    require(current_user, "manage", SecurityControls)
    stmt = visible(current_user, User).order_by(User.organisation_id, User.id)
    q = request.args.get("q", "").strip()[:60]
    if q:
        stmt = stmt.where(sa.or_(User.username.contains(q), User.display_name.contains(q)))
    page = paginate(stmt)
    return render_template("portal/accounts/security_users.html", page=page, q=q,
                           open_counts=_open_counts([u.id for u in page.items]))


@security_bp.get("/users/<int:user_id>")
def user(user_id):
    account = load_or_404(User, user_id, "view")
    require(current_user, "manage", SecurityControls)
    form = RolesForm(obj=account)
    form.roles.data = [str(r) for r in account.roles]
    return _user_page(account, form)


def _user_page(account: User, form: RolesForm):
    return render_template(
        "portal/accounts/security_user.html", account=account, form=form,
        open_sessions=sessions.open_sessions(account),
        can_assign=can(current_user, "assign_roles", account),
        can_end=can(current_user, "end_sessions", account),
        can_reset=can(current_user, "reset_2fa", account) and account.has_totp), status(form)


@security_bp.post("/users/<int:user_id>/roles")
def set_roles(user_id):
    account = load_or_404(User, user_id, "assign_roles")
    form = RolesForm()
    if form.validate_on_submit():
        done = submit(account_operations.assign_roles, account, form.roles.data, actor=current_user,
                      version=form.lock_version.data, form=form,
                      redirect_to=url_for("security.user", user_id=account.id),
                      success=_("已更新“%(name)s”的角色，其全部会话已退出。", name=account.display_name))
        if done:
            return done
    return _user_page(account, form)


@security_bp.post("/users/<int:user_id>/sessions/end")
def end_sessions(user_id):
    """Sign out everywhere: every session and remember token of the user."""
    account = load_or_404(User, user_id, "end_sessions")
    target = url_for("security.user", user_id=account.id)
    return submit(account_operations.end_sessions, account, actor=current_user, redirect_to=target,
                  success=lambda n: _("已退出该用户的全部会话（%(n)s个）。", n=n)) or redirect(target)


@security_bp.post("/users/<int:user_id>/2fa/reset")
def reset_two_factor(user_id):
    account = load_or_404(User, user_id, "reset_2fa")
    target = url_for("security.user", user_id=account.id)
    return submit(account_operations.reset_totp, account, actor=current_user, redirect_to=target,
                  success=_("已重置该用户的双因素认证，其全部会话已退出。")) or redirect(target)


@security_bp.get("/login-limits")
def login_limits():
    """Failed sign-ins counted per username + address, per address and per username."""
    require(current_user, "manage", SecurityControls)
    return render_template("portal/accounts/login_limits.html", limits=throttle.active(), now=clock.now())


@security_bp.post("/login-limits/clear")
def clear_login_limits():
    require(current_user, "manage", SecurityControls)
    target = url_for("security.login_limits")
    form = ClearLimitForm()
    parsing.require_valid(form)  # a tampered id must not clear every counter: 400
    return submit(account_operations.clear_login_limit, form.limit_id.data, actor=current_user, redirect_to=target,
                  success=_("已清除登录限制。")) or redirect(target)
