"""Every write to organisations and users. Views call these; tests call them directly."""
from __future__ import annotations

import math
import re
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from portal.accounts.models import Organisation, Role, User
from portal.core import clock
from portal.core.audit import record_change
from portal.core.errors import DomainError
from portal.extensions import db

USER_FIELDS = ["username", "display_name", "email", "phone", "title", "organisation_id", "is_active_account"]
ORG_FIELDS = ["name", "short_name", "kind", "code", "parent_id", "contact_person", "contact_phone", "is_active"]


def password_problems(password: str, username: str = "") -> list[str]:
    """The password policy: at least 8 characters with letters and digits, not the username."""
    problems = []
    if len(password) < 8:
        problems.append(_("密码至少8位。"))
    if len(password) > 128:
        problems.append(_("密码不能超过128位。"))
    if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        problems.append(_("密码须同时包含字母和数字。"))
    if username and password.lower() == username.lower():
        problems.append(_("密码不能与用户名相同。"))
    return problems


def authenticate(username: str, password: str) -> User:
    """Check a login. Five failures lock the account for 15 minutes."""
    user = db.session.execute(sa.select(User).where(User.username == username.strip()[:60])).scalar_one_or_none()
    failure = DomainError(_("用户名或密码错误。"))
    if user is None:
        raise failure
    now = clock.now()
    if user.locked_until and user.locked_until > now:
        minutes = max(1, math.ceil((user.locked_until - now).total_seconds() / 60))
        raise DomainError(_("登录失败次数过多，账户已锁定，请%(n)s分钟后再试。", n=minutes))
    if not user.check_password(password):
        user.failed_logins += 1
        if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
            user.locked_until = now + timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
            user.failed_logins = 0
            record_change(None, "user.locked", user, comment=_("连续登录失败，账户锁定"))
            db.session.commit()
            raise DomainError(_("登录失败次数过多，账户已锁定%(n)s分钟。", n=current_app.config["LOGIN_LOCK_MINUTES"]))
        db.session.commit()
        raise failure
    if not user.is_active:
        raise DomainError(_("该账户已停用，请联系系统管理员。"))
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    record_change(user, "user.login", user)
    return user


def _check_unique_username(username: str, exclude_id: int | None = None) -> None:
    stmt = sa.select(User.id).where(sa.func.lower(User.username) == username.lower())
    if exclude_id:
        stmt = stmt.where(User.id != exclude_id)
    if db.session.execute(stmt).first():
        raise DomainError(_("用户名“%(name)s”已被使用。", name=username), field="username")


def create_user(*, actor, username: str, display_name: str, organisation: Organisation, roles, password: str,
                email: str = "", phone: str = "", title: str = "") -> User:
    username = username.strip()
    if not re.fullmatch(r"[A-Za-z0-9_.\-]{3,60}", username):
        raise DomainError(_("用户名只能由3至60位字母、数字、下划线、点或横线组成。"), field="username")
    _check_unique_username(username)
    problems = password_problems(password, username)
    if problems:
        raise DomainError(" ".join(problems), field="password")
    if not roles:
        raise DomainError(_("请至少选择一个角色。"), field="roles")
    user = User(username=username, display_name=display_name.strip(), organisation=organisation,
                email=email.strip(), phone=phone.strip(), title=title.strip())
    user.set_password(password)
    user.set_roles(roles)
    db.session.add(user)
    db.session.flush()
    record_change(actor, "user.create", user, after={**_user_state(user)})
    return user


def _user_state(user: User) -> dict:
    state = {f: getattr(user, f) for f in USER_FIELDS}
    state["roles"] = sorted(str(r) for r in user.roles)
    return state


def update_user(user: User, *, actor, roles=None, **fields) -> User:
    before = _user_state(user)
    if "username" in fields:
        _check_unique_username(fields["username"], exclude_id=user.id)
    for name, value in fields.items():
        if name not in USER_FIELDS:
            raise ValueError(name)
        setattr(user, name, value.strip() if isinstance(value, str) else value)
    if roles is not None:
        if not roles:
            raise DomainError(_("请至少选择一个角色。"), field="roles")
        user.set_roles(roles)
    record_change(actor, "user.update", user, before=before, after=_user_state(user))
    return user


def set_active(user: User, active: bool, *, actor) -> None:
    if user.id == actor.id and not active:
        raise DomainError(_("不能停用自己的账户。"))
    before = user.is_active_account
    user.is_active_account = active
    record_change(actor, "user.activate" if active else "user.deactivate", user,
                  before={"is_active": before}, after={"is_active": active})


def reset_password(user: User, new_password: str, *, actor) -> None:
    problems = password_problems(new_password, user.username)
    if problems:
        raise DomainError(" ".join(problems), field="password")
    user.set_password(new_password)
    user.failed_logins = 0
    user.locked_until = None
    record_change(actor, "user.reset_password", user)


def change_own_password(user: User, current: str, new: str) -> None:
    if not user.check_password(current):
        raise DomainError(_("当前密码不正确。"), field="current_password")
    if current == new:
        raise DomainError(_("新密码不能与当前密码相同。"), field="new_password")
    problems = password_problems(new, user.username)
    if problems:
        raise DomainError(" ".join(problems), field="new_password")
    user.set_password(new)
    record_change(user, "user.change_password", user)


def save_organisation(org: Organisation | None, *, actor, **fields) -> Organisation:
    creating = org is None
    org = org or Organisation()
    before = None if creating else {f: getattr(org, f) for f in ORG_FIELDS}
    clash = sa.select(Organisation.id).where(Organisation.name == fields.get("name", org.name))
    if not creating:
        clash = clash.where(Organisation.id != org.id)
    if db.session.execute(clash).first():
        raise DomainError(_("机构名称已存在。"), field="name")
    code = fields.get("code")
    if code:
        clash = sa.select(Organisation.id).where(Organisation.code == code)
        if not creating:
            clash = clash.where(Organisation.id != org.id)
        if db.session.execute(clash).first():
            raise DomainError(_("单位编码已被其他机构使用。"), field="code")
    parent_id = fields.get("parent_id")
    if parent_id and not creating:
        from portal.core.permissions import org_subtree_ids

        if parent_id in org_subtree_ids(org.id):
            raise DomainError(_("上级单位不能是本单位或其下属单位。"), field="parent_id")
    for name, value in fields.items():
        if name not in ORG_FIELDS:
            raise ValueError(name)
        setattr(org, name, value)
    db.session.add(org)
    db.session.flush()
    record_change(actor, "organisation.create" if creating else "organisation.update", org,
                  before=before, after={f: getattr(org, f) for f in ORG_FIELDS})
    return org


def users_with_role(role: Role, org_kind=None, organisation_id: int | None = None) -> list[User]:
    """Active users holding `role`, optionally limited to an organisation kind or one organisation."""
    from portal.accounts.models import UserRole

    stmt = (sa.select(User).join(UserRole).join(Organisation, User.organisation_id == Organisation.id)
            .where(UserRole.role == role, User.is_active_account.is_(True)))
    if org_kind is not None:
        stmt = stmt.where(Organisation.kind == org_kind)
    if organisation_id is not None:
        stmt = stmt.where(User.organisation_id == organisation_id)
    return list(db.session.execute(stmt.order_by(User.id)).scalars().unique())
