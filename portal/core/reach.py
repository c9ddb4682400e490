"""Every role's reach, in one place, as data: role × record kind × {read, write} → the scope in
words. The policies (portal/*/policies.py) ask this table whether a user's roles reach a kind of
record at all and how far ("all", "own unit and subordinates", …); the finer rules (a draft is its
author's, a letter's state, blind review) stay in the policies. docs/security.md renders the
table (`markdown_table()`), and tests/core/test_reach.py reads it to decide which answers to
expect from every route.

Roles and organisations decide together: a role counts only in the kinds of organisation it
belongs to (`HOME`), so a finance officer's role held in a budget unit reaches nothing of the
finance officer's, and a review expert (who sits in the finance bureau) reaches nothing of the
bureau's — only the reviews assigned to them."""
from __future__ import annotations

from werkzeug.local import LocalProxy

from portal.core.roles import OrgKind, Role, is_county_bureau

READ, WRITE = "read", "write"

# ---- scopes (the words of the table) ---------------------------------------------------------
ALL = "all"
SUBTREE = "own unit and subordinates"
EVALUATED = "evaluated by own organisation"
OWN_ORG = "own organisation's"
ASSIGNED = "assigned reviews only"
SUBMITTED = "submitted reviews (blind until one's own is in)"
BUREAU_LETTERS = "sent by own bureau, or issued to it"
ISSUED_AND_BUREAU = "own bureau's, and every issued letter"
ISSUED = "issued letters"
OWNED = "owned by own unit (and subordinates)"
OWN_BUREAU = "all; writes own bureau's plan"
SELF = "own account only"
PROFILES = "agency profiles only"
TEAM_MEMBER = "teams they sit on (联合评价组成员)"
CIRCULATED = "circulated assessments (已通报)"
OWN_CIRCULATED = "own organisation's, once circulated"
SUBMITTED_PACKAGES = "submitted packages (已报送)"
OWN_COUNTY = "own county's, and teams they sit on"

# ---- record kinds ----------------------------------------------------------------------------
KINDS: dict[str, str] = {
    "project": "Projects, performance goals, indicators, monitoring (项目、绩效目标、监控)",
    "evaluation": "Evaluations, findings, their exports, results (绩效评价、结果应用)",
    "library": "Indicator library (指标库)",
    "letter": "Letters (函询)",
    "report": "Third-party evaluation reports, rounds, agencies (同审报告)",
    "review": "Reviews: one reviewer's score sheet (评审意见)",
    "problem": "Ledger problems and rectification, statistics (问题台账、整改)",
    "conference": "Meetings, shared library, plans, joint overview (联席会议)",
    "action": "Conference actions (议定事项)",
    "snapshot": "Publishing: preview, published snapshots, log (信息公开)",
    "organisation": "Organisations (机构)",
    "user": "User accounts (用户)",
    "audit_log": "Audit log (操作日志)",
    "security": "Security controls: roles, sessions, login limits, 2FA resets (安全管理)",
    "settings": "Performance rules, letter codes and holidays (系统设置)",
    "assessment": "Ex-ante assessments, score sheets, their figures (事前绩效评估)",
    "team": "Joint evaluation teams: members, working papers, opinions (联合评价组)",
    "scorecard": "Assessment of the departments' work: scorecards, circular (绩效管理工作考核)",
    "package": "Packages for the People's Congress (报送人大材料)",
}

# Where each role counts (None: in any organisation).
BUREAUS = frozenset({OrgKind.FINANCE_BUREAU, OrgKind.AUDIT_BUREAU})
HOME: dict[Role, frozenset | None] = {
    Role.ADMIN: None,
    Role.FINANCE_OFFICER: frozenset({OrgKind.FINANCE_BUREAU}),
    Role.SIGNER: BUREAUS,
    Role.AUDIT_LIAISON: frozenset({OrgKind.AUDIT_BUREAU}),
    Role.CONFERENCE_MEMBER: BUREAUS | {OrgKind.CONGRESS},
    Role.UNIT_LIAISON: frozenset({OrgKind.BUDGET_UNIT}),
    Role.AGENCY_STAFF: frozenset({OrgKind.AGENCY}),
    Role.EXPERT: None,
    Role.OBSERVER: frozenset({OrgKind.CONGRESS}),
    Role.SECURITY_ADMIN: None,
    Role.AUDIT_ADMIN: None,
}

# role → kind → (read scope, write scope); a kind left out (or None) is no reach.
_BUREAU_READS = {"project": (ALL, None), "evaluation": (ALL, None), "library": (ALL, None),
                 "report": (ALL, None), "review": (SUBMITTED, ASSIGNED), "problem": (ALL, None),
                 "conference": (ALL, None), "action": (ALL, None), "organisation": (ALL, None),
                 "user": (SELF, None), "assessment": (ALL, None), "team": (ALL, None),
                 "scorecard": (CIRCULATED, None), "package": (SUBMITTED_PACKAGES, None)}

REACH: dict[Role, dict[str, tuple[str | None, str | None]]] = {
    Role.ADMIN: {
        **_BUREAU_READS, "library": (ALL, ALL), "letter": (BUREAU_LETTERS, None), "snapshot": (ALL, None),
        "report": (ALL, PROFILES),
        "organisation": (ALL, ALL), "user": (ALL, ALL), "settings": (ALL, ALL),  # 三权分立: no audit log
    },
    Role.FINANCE_OFFICER: {
        **_BUREAU_READS, "project": (ALL, ALL), "evaluation": (ALL, ALL), "library": (ALL, ALL),
        "letter": (BUREAU_LETTERS, BUREAU_LETTERS), "report": (ALL, ALL), "problem": (ALL, ALL),
        "conference": (ALL, OWN_BUREAU), "action": (ALL, ALL), "snapshot": (ALL, ALL),
        "assessment": (ALL, ALL),
        "team": (ALL, ALL), "scorecard": (ALL, ALL), "package": (ALL, ALL),
    },
    Role.SIGNER: {**_BUREAU_READS, "letter": (BUREAU_LETTERS, BUREAU_LETTERS)},
    Role.AUDIT_LIAISON: {
        **_BUREAU_READS, "letter": (BUREAU_LETTERS, BUREAU_LETTERS), "problem": (ALL, ALL),
        "conference": (ALL, OWN_BUREAU), "action": (ALL, ALL), "team": (ALL, TEAM_MEMBER),
    },
    Role.CONFERENCE_MEMBER: {
        **_BUREAU_READS, "letter": (ISSUED_AND_BUREAU, None), "conference": (ALL, ALL), "action": (ALL, ALL),
        "audit_log": (ALL, None),  # the joint-conference office reads the audit log
    },
    Role.UNIT_LIAISON: {
        "project": (SUBTREE, SUBTREE), "evaluation": (SUBTREE, SUBTREE), "library": (ALL, None),
        "problem": (SUBTREE, SUBTREE), "action": (OWNED, OWNED), "organisation": (SUBTREE, None),
        "user": (SELF, None), "assessment": (SUBTREE, SUBTREE), "team": (TEAM_MEMBER, TEAM_MEMBER),
        "scorecard": (OWN_CIRCULATED, None),
    },
    Role.AGENCY_STAFF: {
        "project": (EVALUATED, None), "evaluation": (OWN_ORG, None), "library": (ALL, None),
        "report": (OWN_ORG, OWN_ORG), "action": (OWNED, OWNED), "organisation": (SUBTREE, None),
        "problem": (SUBTREE, SUBTREE),  # the co-review findings on its own reports, to rectify
        "user": (SELF, None), "assessment": (OWN_ORG, OWN_ORG),  # commissioned assessments
        "team": (TEAM_MEMBER, TEAM_MEMBER),
    },
    Role.EXPERT: {"report": (ASSIGNED, None), "review": (ASSIGNED, ASSIGNED), "user": (SELF, None),
                  "assessment": (ASSIGNED, ASSIGNED)},
    Role.OBSERVER: {**_BUREAU_READS, "letter": (ISSUED, None), "team": (ALL, TEAM_MEMBER)},
    # 三权分立 (docs/security.md "Three administrators"): the security administrator keeps roles,
    # sessions, login limits and 2FA resets; the audit administrator reads and verifies the log.
    Role.SECURITY_ADMIN: {"security": (ALL, ALL), "user": (ALL, None)},
    Role.AUDIT_ADMIN: {"audit_log": (ALL, None), "user": (SELF, None)},
}

# A county finance bureau (县（市、区）财政局: a finance bureau under another, portal/core/roles.py) is
# itself a subject of the work assessment, not its assessor: in joint oversight its staff reach
# their own county only, whatever their roles reach at the province's bureau. kind → (read, write),
# each taking the place of whatever the user's roles give on that kind (a role with no reach on it
# keeps none); a kind left out here is as REACH says.
COUNTY: dict[str, tuple[str | None, str | None]] = {
    "scorecard": (OWN_CIRCULATED, None),  # its own card (and its departments'), once circulated
    "team": (OWN_COUNTY, TEAM_MEMBER),  # teams on its county's evaluations, or that its staff sit on
    "package": (None, None),  # the province's packages for the People's Congress are not the county's
}


def unproxied(user):
    """The user behind Flask-Login's `current_user` (a proxy: each attribute read through it
    looks the user up again, and a permission check reads dozens), or `user` itself."""
    return user._get_current_object() if isinstance(user, LocalProxy) else user


def effective_roles(user) -> set[Role]:
    """The user's roles that count in their organisation (an inactive user has none)."""
    user = unproxied(user)
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    kind = user.org_kind
    return {r for r in user.roles if r in HOME and (HOME[r] is None or kind in HOME[r])}


def scopes(user, kind: str, mode: str = READ) -> set[str]:
    """Every scope the user's roles give on `kind` (empty: no reach)."""
    index = 0 if mode == READ else 1
    user = unproxied(user)
    found = set()
    for role in effective_roles(user):
        scope = REACH.get(role, {}).get(kind, (None, None))[index]
        if scope is not None:
            found.add(scope)
    if found and kind in COUNTY and is_county_bureau(user.organisation):
        narrowed = COUNTY[kind][index]
        return {narrowed} if narrowed is not None else set()
    return found


def reaches(user, kind: str, mode: str = READ) -> bool:
    return bool(scopes(user, kind, mode))


def reaches_all(user, kind: str, mode: str = READ) -> bool:
    found = scopes(user, kind, mode)
    return ALL in found or (mode == READ and OWN_BUREAU in found)


def has_scope(user, kind: str, scope: str, mode: str = READ) -> bool:
    return scope in scopes(user, kind, mode)


def markdown_table() -> str:
    """The reach table for docs/security.md: one row per role and record kind it reaches."""
    lines = ["| role | record kind | read | write |", "| --- | --- | --- | --- |"]
    for role, kinds in REACH.items():
        home = "any organisation" if HOME[role] is None else ", ".join(sorted(k.value for k in HOME[role]))
        first = True
        for kind, words in KINDS.items():
            read, write = kinds.get(kind, (None, None))
            if read is None and write is None:
                continue
            who = f"{role.zh} `{role.value}` (in {home})" if first else ""
            lines.append(f"| {who} | {words} | {read or '—'} | {write or '—'} |")
            first = False
    for kind, (read, write) in COUNTY.items():
        who = "any role, in a county finance bureau (a finance bureau under another)" if kind == next(iter(COUNTY)) else ""
        lines.append(f"| {who} | {KINDS[kind]} | {read or '—'} | {write or '—'} |")
    return "\n".join(lines) + "\n"
