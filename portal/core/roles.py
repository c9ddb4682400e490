"""The vocabulary the permission point decides with: the kinds of organisation (机构类型) and the
roles (角色). Kept in core so that core's permission point and reach table need no module; the
accounts module stores them on organisations and users."""
from __future__ import annotations

from portal.core.enums import LabelledEnum


class OrgKind(LabelledEnum):
    FINANCE_BUREAU = "finance_bureau", "财政局", "Finance bureau", "tag-red"
    AUDIT_BUREAU = "audit_bureau", "审计局", "Audit bureau", "tag-blue"
    BUDGET_UNIT = "budget_unit", "预算部门/单位", "Budget unit", "tag-green"
    AGENCY = "agency", "第三方机构", "Third-party agency", "tag-amber"
    CONGRESS = "congress", "人大预算工委", "People's Congress budget committee", "tag-grey"


BUREAUS = (OrgKind.FINANCE_BUREAU, OrgKind.AUDIT_BUREAU)


def is_county_bureau(org) -> bool:
    """县（市、区）财政局: a finance bureau under another (the province's or the city's) — there is no
    kind of its own; the top finance bureau is the one without a parent."""
    return org is not None and org.kind == OrgKind.FINANCE_BUREAU and org.parent_id is not None


def province_scale() -> bool:
    """Whether the installation is a province's (省级) rather than a city's (市级): the configuration's
    JURISDICTION_LEVEL. County bureaus do not tell (a city has counties too). Outside an
    application, a city."""
    from flask import current_app, has_app_context

    return has_app_context() and current_app.config.get("JURISDICTION_LEVEL", "city") == "province"


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
    # 三权分立: with ADMIN (系统管理员: accounts and organisations), two more administrators,
    # none of the three held together (ADMIN_DUTIES; ALLOW_COMBINED_ADMIN_DUTIES to allow it).
    SECURITY_ADMIN = "security_admin", "安全管理员", "Security administrator"  # roles, sessions, 2FA resets
    AUDIT_ADMIN = "audit_admin", "审计管理员", "Audit administrator"  # reads and verifies the audit log


ADMIN_DUTIES = frozenset({Role.ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})
