"""Organisations (机构) and users (用户) with roles (角色)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from portal.core.db import TimestampMixin, enum_column
from portal.core.enums import LabelledEnum
from portal.extensions import db


class OrgKind(LabelledEnum):
    FINANCE_BUREAU = "finance_bureau", "财政局", "Finance bureau", "tag-red"
    AUDIT_BUREAU = "audit_bureau", "审计局", "Audit bureau", "tag-blue"
    BUDGET_UNIT = "budget_unit", "预算部门/单位", "Budget unit", "tag-green"
    AGENCY = "agency", "第三方机构", "Third-party agency", "tag-amber"
    CONGRESS = "congress", "人大预算工委", "People's Congress budget committee", "tag-grey"


BUREAUS = (OrgKind.FINANCE_BUREAU, OrgKind.AUDIT_BUREAU)


class Role(LabelledEnum):
    ADMIN = "admin", "系统管理员", "Administrator"
    FINANCE_OFFICER = "finance_officer", "财政绩效管理人员", "Finance performance officer"
    SIGNER = "signer", "签发人", "Signing officer"
    AUDIT_LIAISON = "audit_liaison", "审计联络员", "Audit liaison"
    CONFERENCE_MEMBER = "conference_member", "联席会议成员", "Joint-conference member"
    UNIT_LIAISON = "unit_liaison", "单位联络员", "Budget-unit liaison"
    AGENCY_STAFF = "agency_staff", "第三方机构人员", "Agency staff"
    EXPERT = "expert", "评审专家", "Review expert"
    OBSERVER = "observer", "人大观察员", "Congress observer"


class Organisation(TimestampMixin, db.Model):
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


class User(UserMixin, TimestampMixin, db.Model):
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
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
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
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def __str__(self) -> str:
        return self.display_name
