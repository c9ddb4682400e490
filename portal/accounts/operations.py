# Over 400 lines: sign-in, sessions, the second factor and account administration; to be split into sign-in and administration.
"""Every write to organisations and users. Views call these; tests call them directly.

Each authorises its actor through the one permission point (portal/accounts/policies.py): the
system administrator keeps accounts and organisations (create, edit, deactivate, reset a
password); the security administrator gives roles, ends sessions, resets 2FA and clears login
limits (三权分立). Only `create_user` takes `actor=None`: the command line's `create-user`, which
makes the first administrators."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from portal.accounts import passwords, sessions, throttle, twofactor
from portal.accounts.models import LoginThrottle, Organisation, OrgKind, RecoveryCode, Role, User
from portal.core import clock
from portal.core.audit import record_change
from portal.core.errors import DomainError, NotPermitted
from portal.core.permissions import can
from portal.core.versions import expect_version, touch
from portal.extensions import db

USER_FIELDS = ["username", "display_name", "email", "phone", "title", "organisation_id", "is_active_account"]
ORG_FIELDS = ["name", "short_name", "kind", "code", "parent_id", "contact_person", "contact_phone", "is_active"]


def password_problems(password: str, username: str = "", display_name: str = "") -> list[str]:
    """The password policy (see portal/accounts/passwords.py): the reasons it is refused."""
    return passwords.problems(password, username, display_name)


def authorise(actor, action: str, record) -> None:
    """Refuse (NotPermitted, a 403 in the views) what the permission point does not allow."""
    if not can(actor, action, record):
        raise NotPermitted(_("您没有执行此操作的权限。"))


def changes(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the fields that changed, as (before, after) for the audit entry."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def lock_account(user: User) -> None:
    """`portal.core.writes.lock` for a user: FOR UPDATE OF users only, because a user is loaded
    with its organisation joined (PostgreSQL refuses to lock the nullable side of an outer join)."""
    if db.session.get_bind().dialect.name == "postgresql" and sa.inspect(user).persistent:
        db.session.flush()
        db.session.refresh(user, with_for_update={"of": User})


# ---- login ---------------------------------------------------------------------------------

@dataclass
class LoginAttempt:
    """What a login did: the signed-in user and the started session, a second factor still to
    give (`second_factor`), or the refusal to show (the failure is recorded)."""

    user: User | None = None
    refusal: str | None = None
    started: sessions.Started | None = None
    second_factor: bool = False


_DUMMY_HASH: list[str] = []


def _dummy_hash() -> str:
    """A hash checked when the username is unknown, so both answer in the same time."""
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(generate_password_hash(secrets.token_hex(16), method="scrypt"))
    return _DUMMY_HASH[0]


def _set_login_fields(user: User, **values) -> None:
    """Login bookkeeping is written as plain UPDATEs: it is not an edit of the account, so it
    leaves `lock_version` alone (an administrator's open edit form stays valid)."""
    db.session.execute(sa.update(User).where(User.id == user.id).values(**values)
                       .execution_options(synchronize_session=False))
    db.session.refresh(user, attribute_names=list(values))


def _wait_refusal(seconds: int) -> str:
    return _("尝试次数过多，请%(n)s秒后再试。", n=seconds)


def log_in(username: str, password: str, *, address: str = "", user_agent: str = "",
           remember: bool = False) -> LoginAttempt:
    """Check a password and record the attempt; no account is ever locked.

    Failures are counted per username + address, per address and per username
    (`portal.accounts.throttle`): past the free tries an address waits a growing delay. An
    unknown username is checked against a dummy hash and counted under the same keys, so it
    answers with the same message in the same time. A refused login still writes (the counts),
    so it returns the refusal instead of raising: the caller commits it either way. An account
    with two-factor sign-in gets `second_factor=True` and no session yet."""
    name = username.strip()[:60]
    failure = _("用户名或密码错误。")
    wait = throttle.wait_seconds(name, address)
    if wait:
        return LoginAttempt(refusal=_wait_refusal(wait))
    user = db.session.execute(sa.select(User).where(User.username == name)).scalar_one_or_none()
    if user is None:
        check_password_hash(_dummy_hash(), password)
        throttle.record_failure(name, address)
        return LoginAttempt(refusal=failure)
    lock_account(user)
    if not user.check_password(password):
        throttle.record_failure(name, address)
        before = user.failed_logins
        _set_login_fields(user, failed_logins=User.failed_logins + 1)
        record_change(None, "user.login_failed", user, before={"failed_logins": before},
                      after={"failed_logins": user.failed_logins}, comment=address or None)
        return LoginAttempt(refusal=failure)
    throttle.record_success(name, address)
    if not user.is_active:
        return LoginAttempt(refusal=_("该账户已停用，请联系系统管理员。"))
    if user.has_totp:
        return LoginAttempt(user=user, second_factor=True)
    return _signed_in(user, address=address, user_agent=user_agent, remember=remember)


def _signed_in(user: User, *, address: str, user_agent: str, remember: bool, how: str = "") -> LoginAttempt:
    now = clock.now()
    before = {"failed_logins": user.failed_logins, "last_login_at": user.last_login_at}
    _set_login_fields(user, failed_logins=0, last_login_at=now)
    started = sessions.start(user, remember=remember, address=address, user_agent=user_agent)
    old, new = changes(before, {"failed_logins": 0, "last_login_at": now})
    record_change(user, "user.login", user, before=old, after=new, comment=how or None)
    return LoginAttempt(user=user, started=started)


def complete_second_factor(user_id: int, code: str, *, address: str = "", user_agent: str = "",
                           remember: bool = False) -> LoginAttempt:
    """The second step of a sign-in: a TOTP code (once per time step) or an unused recovery
    code. Wrong codes are counted like wrong passwords (the same growing delays)."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or not user.has_totp:
        return LoginAttempt(refusal=_("登录已失效，请重新输入用户名和密码。"))
    key = f"2fa:{user.username}"
    wait = throttle.wait_seconds(key, address)
    if wait:
        return LoginAttempt(refusal=_wait_refusal(wait))
    lock_account(user)
    step = twofactor.matching_step(user.totp_secret, code, after=user.totp_last_step)
    if step is not None:
        _set_login_fields(user, totp_last_step=step)
        throttle.record_success(key, address)
        return _signed_in(user, address=address, user_agent=user_agent, remember=remember)
    if twofactor.use_recovery_code(user, code):
        throttle.record_success(key, address)
        record_change(user, "user.recovery_code_used", user,
                      after={"recovery_codes_left": twofactor.recovery_codes_left(user)})
        return _signed_in(user, address=address, user_agent=user_agent, remember=remember, how="recovery code")
    throttle.record_failure(key, address)
    record_change(None, "user.second_factor_failed", user, comment=address or None)
    return LoginAttempt(refusal=_("验证码不正确或已使用，请输入验证器上的最新6位数字，或一个恢复码。"))


def log_out(token: str | None, user: User | None = None) -> bool:
    """End this session (its row, so a copy of the cookie or the remember token is refused)."""
    ended = sessions.end(token, "logout")
    if ended and user is not None:
        record_change(user, "user.logout", user)
    return ended


def authenticate(username: str, password: str) -> User:
    """`log_in` for callers that want an exception (the refusal as a DomainError)."""
    attempt = log_in(username, password)
    if attempt.user is None:
        raise DomainError(attempt.refusal)
    return attempt.user


def end_sessions(user: User, *, actor, reason: str = "signed_out_everywhere") -> int:
    """The security administrator's "sign out everywhere": every session and remember token of `user`."""
    authorise(actor, "end_sessions", user)
    count = sessions.end_all(user, reason)
    record_change(actor, "user.sessions_ended", user, after={"sessions": count})
    return count


def clear_login_limit(limit_id: int | None, *, actor) -> int:
    """The security administrator clears one login counter (or all, `limit_id=None`)."""
    from portal.accounts.duties import SecurityControls

    authorise(actor, "manage", SecurityControls)
    stmt = sa.delete(LoginThrottle)
    if limit_id is not None:
        row = db.session.get(LoginThrottle, limit_id)
        if row is None:
            return 0
        description = {"scope": row.scope, "key": row.key, "failures": row.failures}
        stmt = stmt.where(LoginThrottle.id == limit_id)
    else:
        description = {"scope": "all"}
    count = db.session.execute(stmt).rowcount
    from portal.core.audit import append

    append(actor, "login_limit.clear", "login_throttle", str(limit_id or "all"), before=description)
    return count


# ---- two-factor sign-in --------------------------------------------------------------------

def enable_totp(user: User, secret: str, code: str) -> list[str]:
    """Turn on two-factor sign-in with `secret` once `code` proves the authenticator has it.
    Returns the recovery codes (shown once)."""
    if not secret or len(secret) < 16:
        raise DomainError(_("请重新打开此页面以获取新的二维码。"), field="code")
    lock_account(user)
    if user.has_totp:
        raise DomainError(_("双因素认证已经开启。"))
    step = twofactor.matching_step(secret, code)
    if step is None:
        raise DomainError(_("验证码不正确，请输入验证器上显示的6位数字。"), field="code")
    user.totp_secret, user.totp_enabled_at, user.totp_last_step = secret, clock.now(), step
    codes = twofactor.new_recovery_codes(user)
    record_change(user, "user.totp_enabled", user, after={"totp": True})
    return codes


def new_recovery_codes(user: User, password: str) -> list[str]:
    if not user.has_totp:
        raise DomainError(_("请先开启双因素认证。"))
    if not user.check_password(password):
        raise DomainError(_("当前密码不正确。"), field="password")
    codes = twofactor.new_recovery_codes(user)
    record_change(user, "user.recovery_codes_renewed", user)
    return codes


def disable_totp(user: User, password: str) -> None:
    """A user turns their own two-factor sign-in off (not when their role requires it)."""
    if twofactor.required(user):
        raise DomainError(_("您的角色必须使用双因素认证，不能关闭。"))
    if not user.check_password(password):
        raise DomainError(_("当前密码不正确。"), field="password")
    _clear_totp(user)
    record_change(user, "user.totp_disabled", user, before={"totp": True}, after={"totp": False})


def _clear_totp(user: User) -> None:
    user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def reset_totp(user: User, *, actor) -> None:
    """The security administrator resets a lost authenticator: 2FA off (to be enrolled again at
    the next sign-in when required) and every session of the user ended."""
    authorise(actor, "reset_2fa", user)
    lock_account(user)
    if not user.has_totp:
        return
    _clear_totp(user)
    sessions.end_all(user, "totp_reset")
    record_change(actor, "user.totp_reset", user, before={"totp": True}, after={"totp": False})


# ---- users ---------------------------------------------------------------------------------

def _check_unique_username(username: str, exclude_id: int | None = None) -> None:
    stmt = sa.select(User.id).where(sa.func.lower(User.username) == username.lower())
    if exclude_id:
        stmt = stmt.where(User.id != exclude_id)
    if db.session.execute(stmt).first():
        raise DomainError(_("用户名“%(name)s”已被使用。", name=username), field="username")


def _organisation(organisation) -> Organisation:
    org = organisation if isinstance(organisation, Organisation) else (
        db.session.get(Organisation, organisation) if organisation else None)
    if org is None:
        raise DomainError(_("请选择机构。"), field="organisation_id")
    return org


def _check_username_format(username: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9_.\-]{3,60}", username):
        raise DomainError(_("用户名只能由3至60位字母、数字、下划线、点或横线组成。"), field="username")


def create_user(*, actor, username: str, display_name: str, organisation, password: str, roles=(),
                email: str = "", phone: str = "", title: str = "") -> User:
    """`organisation` is an Organisation or its id (from the form). The system administrator
    creates the account without roles (the security administrator gives them, `assign_roles`)
    and with a password the user must change at the first sign-in. `actor=None` is the command
    line (the first administrators: roles given, no forced change)."""
    if actor is not None:
        authorise(actor, "edit", User)
        if roles:
            authorise(actor, "assign_roles", User)
    username = username.strip()
    _check_username_format(username)
    _check_unique_username(username)
    org = _organisation(organisation)
    problems = password_problems(password, username, display_name)
    if problems:
        raise DomainError(" ".join(problems), field="password")
    if actor is None and not roles:
        raise DomainError(_("请至少选择一个角色。"), field="roles")
    user = User(username=username, display_name=display_name.strip(), organisation=org,
                email=email.strip(), phone=phone.strip(), title=title.strip(),
                must_change_password=actor is not None)
    user.set_password(password)
    user.set_roles(roles)
    db.session.add(user)
    try:
        with db.session.begin_nested():  # a parallel create of the same name: a message, not a 500
            db.session.flush()
    except sa.exc.IntegrityError:
        raise DomainError(_("用户名“%(name)s”已被使用。", name=username), field="username") from None
    record_change(actor, "user.create", user, after=_user_state(user))
    return user


def _user_state(user: User) -> dict:
    state = {f: getattr(user, f) for f in USER_FIELDS}
    state["roles"] = sorted(str(r) for r in user.roles)
    return state


def update_user(user: User, *, actor, version=None, organisation=None, **fields) -> User:
    """Edit an account (names, organisation, contact; roles are `assign_roles`). `version` is the
    lock_version the form was built on: a save over someone else's change is refused
    (StaleRecord) before anything is written."""
    authorise(actor, "edit", user)
    expect_version(user, version)
    before = _user_state(user)
    if organisation is not None:
        fields["organisation_id"] = _organisation(organisation).id
    if "username" in fields:
        fields["username"] = fields["username"].strip()
        _check_username_format(fields["username"])
        _check_unique_username(fields["username"], exclude_id=user.id)
    for name, value in fields.items():
        if name not in USER_FIELDS:
            raise ValueError(name)
        setattr(user, name, value.strip() if isinstance(value, str) else value)
    old, new = changes(before, _user_state(user))
    if new:
        record_change(actor, "user.update", user, before=old, after=new)
    return user


def assign_roles(user: User, roles, *, actor, version=None) -> User:
    """The security administrator gives an account its roles (none: it reaches only itself).
    No one holds two of the three administrators' roles (`User.set_roles`); a security
    administrator never changes their own. A change ends every session of the user."""
    authorise(actor, "assign_roles", user)
    expect_version(user, version)
    try:
        wanted = {Role.coerce(r) for r in roles}
    except ValueError:
        raise DomainError(_("角色不存在。"), field="roles") from None
    lock_account(user)
    before = sorted(str(r) for r in user.roles)
    if wanted == user.roles:
        return user
    user.set_roles(wanted)
    touch(user)  # a change of roles is a change of the account (its version moves on)
    ended = sessions.end_all(user, "roles_changed")  # sign in again under the new roles
    record_change(actor, "user.roles", user, before={"roles": before, "open_sessions": ended},
                  after={"roles": sorted(str(r) for r in wanted), "open_sessions": 0})
    return user


def set_active(user: User, active: bool, *, actor) -> None:
    authorise(actor, "edit", user)
    if user.id == actor.id and not active:
        raise DomainError(_("不能停用自己的账户。"))
    lock_account(user)
    before = user.is_active_account
    if before == active:
        return  # already so (another tab): nothing to record
    user.is_active_account = active
    if not active:
        sessions.end_all(user, "deactivated")
    record_change(actor, "user.activate" if active else "user.deactivate", user,
                  before={"is_active": before}, after={"is_active": active})


def _password_entry(actor, action: str, user: User, before: dict, ended: int) -> None:
    """The password itself is never written into the log (nor its hash): the entry records that
    it changed, the failure count a reset cleared and how many sessions it ended."""
    old, new = changes(before, {k: getattr(user, k) for k in before})
    if ended:
        old, new = {**old, "open_sessions": ended}, {**new, "open_sessions": 0}
    record_change(actor, action, user, before={**old, "password": _("（原密码）")},
                  after={**new, "password": _("（新密码）")})


def _set_new_password(user: User, new_password: str, field: str) -> int:
    """The policy, the reuse check, the history; then every session of the user ends."""
    problems = password_problems(new_password, user.username, user.display_name)
    if problems:
        raise DomainError(" ".join(problems), field=field)
    if passwords.reused(user, new_password):
        raise DomainError(_("不能使用最近%(n)s次用过的密码。", n=current_app.config["PASSWORD_HISTORY"]),
                          field=field)
    passwords.remember_old(user)
    user.set_password(new_password)
    return sessions.end_all(user, "password_changed")


def reset_password(user: User, new_password: str, *, actor) -> None:
    """The system administrator sets a new password: every session ends, and the user must
    change it at the next sign-in before anything else (the administrator knows this one)."""
    authorise(actor, "edit", user)
    lock_account(user)
    before = {"failed_logins": user.failed_logins, "must_change_password": user.must_change_password}
    ended = _set_new_password(user, new_password, "password")
    user.failed_logins = 0
    user.must_change_password = True
    _password_entry(actor, "user.reset_password", user, before, ended)


def change_own_password(user: User, current: str, new: str) -> None:
    """A user's own change; it ends every session, this one included (sign in again)."""
    if not user.check_password(current):
        raise DomainError(_("当前密码不正确。"), field="current_password")
    if current == new:
        raise DomainError(_("新密码不能与当前密码相同。"), field="new_password")
    before = {"failed_logins": user.failed_logins, "must_change_password": user.must_change_password}
    ended = _set_new_password(user, new, "new_password")
    user.must_change_password = False
    _password_entry(user, "user.change_password", user, before, ended)


# ---- organisations -------------------------------------------------------------------------

def _org_state(org: Organisation) -> dict:
    return {f: getattr(org, f) for f in ORG_FIELDS}


def save_organisation(org: Organisation | None, *, actor, version=None, **fields) -> Organisation:
    """Create (org None) or edit an organisation; an edit checks the form's `version` first."""
    authorise(actor, "edit", org or Organisation)
    creating = org is None
    if not creating:
        expect_version(org, version)
    org = org or Organisation()
    before = {} if creating else _org_state(org)
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
    if "kind" in fields:
        fields["kind"] = OrgKind(fields["kind"])
    for name, value in fields.items():
        if name not in ORG_FIELDS:
            raise ValueError(name)
        setattr(org, name, value)
    if creating:
        db.session.add(org)
    try:
        with db.session.begin_nested():  # a parallel save of the same name or code
            db.session.flush()
    except sa.exc.IntegrityError:
        raise DomainError(_("机构名称或单位编码已被其他机构使用。"), field="name") from None
    if creating:
        record_change(actor, "organisation.create", org, after=_org_state(org))
    else:
        old, new = changes(before, _org_state(org))
        if new:
            record_change(actor, "organisation.update", org, before=old, after=new)
    return org
