"""Who may see and do what with letters.

Seeing: the sender bureau (every state) and the addressee bureau (once issued); conference
members and the congress observer read issued letters. Budget units and agencies never.
Doing: see the transition table in `MACHINE` below; its predicates are defined here."""
from __future__ import annotations

import sqlalchemy as sa

from portal.accounts.models import BUREAUS, OrgKind, Role
from portal.core.permissions import policy, scope
from portal.core.states import StateMachine, Transition
from portal.core.web import N_
from portal.inquiries.models import ISSUED, Letter, LetterItem, LetterReply
from portal.inquiries.models import LetterState as S

STAFF_ROLES = (Role.FINANCE_OFFICER, Role.AUDIT_LIAISON)


# Bureau members who deal with letters (an expert on the finance bureau's books does not).
BUREAU_READER_ROLES = (*STAFF_ROLES, Role.SIGNER, Role.CONFERENCE_MEMBER, Role.ADMIN)


def is_bureau_reader(user) -> bool:
    return user.org_kind in BUREAUS and user.has_role(*BUREAU_READER_ROLES)


def is_bureau_staff(user) -> bool:
    return user.org_kind in BUREAUS and user.has_role(*STAFF_ROLES)


def is_observer(user) -> bool:
    """Read-only readers of issued letters: conference members and the congress."""
    return user.has_role(Role.CONFERENCE_MEMBER, Role.OBSERVER) or user.org_kind == OrgKind.CONGRESS


def sender_staff(user, letter) -> bool:
    return user.organisation_id == letter.sender_org_id and user.has_role(*STAFF_ROLES)


def sender_signer(user, letter) -> bool:
    return user.organisation_id == letter.sender_org_id and user.has_role(Role.SIGNER)


def sender_any(user, letter) -> bool:
    return sender_staff(user, letter) or sender_signer(user, letter)


def addressee_staff(user, letter) -> bool:
    return user.organisation_id == letter.addressee_org_id and user.has_role(*STAFF_ROLES)


MACHINE = StateMachine("inquiry", [
    Transition("submit", {S.DRAFT}, S.PENDING_SIGNOFF, who=sender_staff, label=N_("提交签发")),
    Transition("approve", {S.PENDING_SIGNOFF}, S.SENT, who=sender_signer, label=N_("签发")),
    Transition("return", {S.PENDING_SIGNOFF}, S.DRAFT, who=sender_signer, label=N_("退回修改"), needs_comment=True),
    Transition("withdraw", {S.SENT}, S.WITHDRAWN, who=sender_any, label=N_("撤回"), needs_comment=True),
    Transition("acknowledge", {S.SENT}, S.ACKNOWLEDGED, who=addressee_staff, label=N_("签收")),
    Transition("answer", {S.ACKNOWLEDGED}, S.ANSWERED, who=addressee_staff, label=N_("答复完毕")),
    Transition("follow_up", {S.ANSWERED}, S.ACKNOWLEDGED, who=sender_staff, label=N_("追问"), needs_comment=True),
    Transition("close", {S.ANSWERED}, S.CLOSED, who=sender_staff, label=N_("办结")),
])

# Actions outside the state change table, by the states they apply to.
EDITABLE = (S.DRAFT,)
REPLYABLE = (S.ACKNOWLEDGED,)
EXTENDABLE = (S.SENT, S.ACKNOWLEDGED)
REMINDABLE = (S.SENT, S.ACKNOWLEDGED)


def can_see(user, letter) -> bool:
    if user.organisation_id == letter.sender_org_id:
        return is_bureau_reader(user)
    if letter.state not in ISSUED:
        return False
    if user.organisation_id == letter.addressee_org_id:
        return is_bureau_reader(user)
    return is_observer(user) and user.org_kind in (*BUREAUS, OrgKind.CONGRESS)


@policy(Letter)
def letter_policy(user, action, letter) -> bool:
    if isinstance(letter, type):
        if action == "view":
            return is_bureau_reader(user) or (is_observer(user) and user.org_kind == OrgKind.CONGRESS)
        if action == "create":
            return is_bureau_staff(user)
        return False
    if not can_see(user, letter):
        return False
    if action == "view":
        return True
    if action == "edit":
        return letter.state in EDITABLE and sender_staff(user, letter)
    if action == "reply":
        return letter.state in REPLYABLE and addressee_staff(user, letter)
    if action in ("extend", "remind"):
        return letter.state in EXTENDABLE and sender_staff(user, letter)
    if action in {t.action for t in MACHINE.transitions}:
        return MACHINE.allowed(letter, action, user)
    return False


@policy(LetterReply)
def reply_policy(user, action, reply) -> bool:
    if isinstance(reply, type):
        return False
    return action == "view" and letter_policy(user, "view", reply.letter)


@policy(LetterItem)
def item_policy(user, action, item) -> bool:
    if isinstance(item, type):
        return False
    return action == "view" and letter_policy(user, "view", item.letter)


@scope(Letter)
def visible_letters(user, stmt):
    mine = Letter.sender_org_id == user.organisation_id
    issued = Letter.state.in_(ISSUED)
    if is_bureau_reader(user):
        clause = sa.or_(mine, sa.and_(issued, Letter.addressee_org_id == user.organisation_id))
        if is_observer(user):
            clause = sa.or_(clause, issued)
        return stmt.where(clause)
    if user.org_kind == OrgKind.CONGRESS and is_observer(user):
        return stmt.where(issued)
    return stmt.where(sa.false())
