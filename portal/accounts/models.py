"""Organisations (机构) and users (用户) with roles (角色)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from portal.accounts.encryption import EncryptedSecret
from portal.core.db import TimestampMixin, enum_column
from portal.core.roles import ADMIN_DUTIES, BUREAUS, OrgKind, Role  # noqa: F401  (the accounts' vocabulary)
from portal.core.versions import Versioned
from portal.extensions import db

# The vocabulary the permission point decides with lives in core (portal/core/roles.py).


def check_admin_duties(roles) -> None:
    """No one holds two of the three administrators' roles, unless the configuration allows it
    (ALLOW_COMBINED_ADMIN_DUTIES, e.g. for a very small installation)."""
    from flask import current_app, has_app_context

    held = ADMIN_DUTIES & {Role.coerce(r) for r in roles}
    if len(held) < 2 or (has_app_context() and current_app.config.get("ALLOW_COMBINED_ADMIN_DUTIES")):
        return
    from flask_babel import gettext as _

    from portal.core.errors import DomainError

    raise DomainError(_("系统管理员、安全管理员和审计管理员须由不同的人担任（三权分立）。"), field="roles")


class Organisation(Versioned, TimestampMixin, db.Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    short_name: Mapped[str] = mapped_column(sa.String(60), default="")
    kind: Mapped[OrgKind] = mapped_column(enum_column(OrgKind), index=True)
    code: Mapped[str | None] = mapped_column(sa.String(40), unique=True)  # unit code in the budget system
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    contact_person: Mapped[str] = mapped_column(sa.String(60), default="")
    contact_phone: Mapped[str] = mapped_column(sa.String(40), default="")
    is_active: Mapped[bool] = mapped_column(default=True)

    parent: Mapped[Organisation | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Organisation]] = relationship(back_populates="parent", order_by="Organisation.id")
    users: Mapped[list[User]] = relationship(back_populates="organisation")

    @property
    def department(self) -> Organisation:
        """The supervising department (主管部门): the top of this unit's chain."""
        org = self
        while org.parent is not None and org.parent.kind == OrgKind.BUDGET_UNIT:
            org = org.parent
        return org

    def __str__(self) -> str:
        return self.name


class UserRole(db.Model):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[Role] = mapped_column(enum_column(Role), primary_key=True)


class User(Versioned, UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(60), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(60))
    email: Mapped[str] = mapped_column(sa.String(200), default="")
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    title: Mapped[str] = mapped_column(sa.String(60), default="")  # 职务
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    is_active_account: Mapped[bool] = mapped_column("is_active", default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)  # consecutive wrong passwords (shown, never a lock)
    last_login_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]  # for PASSWORD_MAX_AGE_DAYS
    # Set by an administrator's password reset (and an account an administrator created): the
    # user changes the password at the next sign-in before anything else.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Two-factor sign-in (TOTP): the base32 secret once enrolled — encrypted at rest, the key
    # outside the database (portal/accounts/encryption.py) — and the last time step used (a code
    # is accepted once).
    totp_secret: Mapped[str | None] = mapped_column(EncryptedSecret(255))
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    locale: Mapped[str] = mapped_column(sa.String(8), default="zh")

    organisation: Mapped[Organisation] = relationship(back_populates="users", lazy="joined")
    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    # Flask-Login
    @property
    def is_active(self) -> bool:
        return self.is_active_account

    @property
    def roles(self) -> set[Role]:
        return {r.role for r in self.role_rows}

    def set_roles(self, roles) -> None:
        wanted = {Role.coerce(r) for r in roles}
        check_admin_duties(wanted)
        self.role_rows = [r for r in self.role_rows if r.role in wanted]
        have = {r.role for r in self.role_rows}
        self.role_rows.extend(UserRole(role=r) for r in wanted - have)

    def has_role(self, *roles) -> bool:
        mine = self.roles
        return any(Role.coerce(r) in mine for r in roles)

    @property
    def org_kind(self) -> OrgKind:
        return self.organisation.kind

    @property
    def is_finance(self) -> bool:
        return self.org_kind == OrgKind.FINANCE_BUREAU

    @property
    def is_audit(self) -> bool:
        return self.org_kind == OrgKind.AUDIT_BUREAU

    @property
    def is_bureau(self) -> bool:
        return self.org_kind in BUREAUS

    def set_password(self, password: str) -> None:
        from portal.core import clock

        self.password_hash = generate_password_hash(password, method="scrypt")
        self.password_changed_at = clock.now()

    @property
    def has_totp(self) -> bool:
        return bool(self.totp_secret and self.totp_enabled_at)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def __str__(self) -> str:
        return self.display_name


class AuthSession(db.Model):
    """One sign-in (会话): the session cookie carries its random token, a remember-me cookie its
    selector and a random validator; both are stored hashed. Ending the row ends the session and
    its remember token; checked on every request."""

    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    remember_selector: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    remember_hash: Mapped[str | None] = mapped_column(sa.String(64))
    remember_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]  # the absolute lifetime of this session token
    ended_at: Mapped[datetime | None] = mapped_column(index=True)
    end_reason: Mapped[str] = mapped_column(sa.String(40), default="")
    address: Mapped[str] = mapped_column(sa.String(64), default="")
    user_agent: Mapped[str] = mapped_column(sa.String(200), default="")

    user: Mapped[User] = relationship()


class LoginThrottle(db.Model):
    """Failed sign-ins counted per key: `account` (a username, known or not), `address` (a client
    address) and `pair` (username + address). Past a free number of failures every further try
    waits a growing delay; nothing is ever locked for good. Administrators see and clear these."""

    __tablename__ = "login_throttles"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(sa.String(10))
    key: Mapped[str] = mapped_column(sa.String(140))
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime]
    blocked_until: Mapped[datetime | None]

    __table_args__ = (sa.UniqueConstraint("scope", "key"),)


class RecoveryCode(db.Model):
    """A one-time recovery code for two-factor sign-in (shown once, stored hashed)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    used_at: Mapped[datetime | None]


class PasswordHistory(db.Model):
    """Earlier password hashes, for PASSWORD_HISTORY (no reuse of the last N)."""

    __tablename__ = "password_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    created_at: Mapped[datetime]
