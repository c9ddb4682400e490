"""Who may see and do what with letters.

Seeing: the sender bureau (every state) and the addressee bureau (once issued); conference
members and the congress observer read issued letters. Budget units and agencies never.
Doing: see the transition table in `MACHINE` below; its predicates are defined here."""
from __future__ import annotations

import sqlalchemy as sa

from portal.accounts.models import BUREAUS, OrgKind, Role
from portal.core import reach
from portal.core.locale import N_
from portal.core.permissions import policy, scope
from portal.core.states import StateMachine, Transition
from portal.inquiries.models import (
    ISSUED,
    Holiday,
    IssuingCode,
    Letter,
    LetterItem,
    LetterReply,
    LetterState,
    ReplyAnswer,
    ReplyState,
)

STAFF_ROLES = (Role.FINANCE_OFFICER, Role.AUDIT_LIAISON)




def is_bureau_reader(user) -> bool:
    """Reads its own bureau's letters (reach: letter — sent by own bureau, or issued to it)."""
    return user.org_kind in BUREAUS and bool(
        reach.scopes(user, "letter") & {reach.BUREAU_LETTERS, reach.ISSUED_AND_BUREAU})


def _staff(user) -> bool:
    """Holds a drafting role where it counts (a role outside its kind of organisation is none)."""
    return bool(reach.effective_roles(user) & set(STAFF_ROLES))


def is_bureau_staff(user) -> bool:
    return user.org_kind in BUREAUS and _staff(user)


def is_observer(user) -> bool:
    """Read-only readers of issued letters: conference members and the congress observer."""
    return bool(reach.scopes(user, "letter") & {reach.ISSUED, reach.ISSUED_AND_BUREAU})


def sender_staff(user, letter) -> bool:
    return user.organisation_id == letter.sender_org_id and _staff(user)


def sender_signer(user, letter) -> bool:
    return user.organisation_id == letter.sender_org_id and Role.SIGNER in reach.effective_roles(user)


def sender_any(user, letter) -> bool:
    return sender_staff(user, letter) or sender_signer(user, letter)


def addressee_staff(user, letter) -> bool:
    return user.organisation_id == letter.addressee_org_id and _staff(user)


def addressee_signer(user, letter) -> bool:
    return user.organisation_id == letter.addressee_org_id and Role.SIGNER in reach.effective_roles(user)


def addressee_any(user, letter) -> bool:
    return addressee_staff(user, letter) or addressee_signer(user, letter)


MACHINE = StateMachine("inquiry", [
    Transition("submit", {LetterState.DRAFT}, LetterState.PENDING_SIGNOFF,
               who=sender_staff, label=N_("提交签发")),
    Transition("approve", {LetterState.PENDING_SIGNOFF}, LetterState.SENT, who=sender_signer, label=N_("签发")),
    Transition("return", {LetterState.PENDING_SIGNOFF}, LetterState.DRAFT,
               who=sender_signer, label=N_("退回修改"), needs_comment=True),
    Transition("withdraw", {LetterState.SENT}, LetterState.WITHDRAWN,
               who=sender_any, label=N_("撤回"), needs_comment=True),
    Transition("acknowledge", {LetterState.SENT}, LetterState.ACKNOWLEDGED,
               who=addressee_staff, label=N_("签收")),
    # made by the addressee's signer when the reply that answers the last open item is signed off
    Transition("answer", {LetterState.ACKNOWLEDGED}, LetterState.ANSWERED,
               who=addressee_any, label=N_("答复完毕")),
    Transition("follow_up", {LetterState.ANSWERED}, LetterState.ACKNOWLEDGED,
               who=sender_staff, label=N_("追问"), needs_comment=True),
    Transition("close", {LetterState.ANSWERED}, LetterState.CLOSED, who=sender_staff, label=N_("办结")),
])

# The reply (复函) mirrors the letter's own sign-off: the addressee's officer drafts it and
# submits it, the addressee's signer signs it off (the asking bureau sees it from then on) or
# returns it with a comment.
REPLY_MACHINE = StateMachine("inquiry_reply", [
    Transition("submit", {ReplyState.DRAFT}, ReplyState.PENDING_SIGNOFF,
               who=lambda u, r: addressee_staff(u, r.letter),
               label=N_("提交签发")),
    Transition("approve", {ReplyState.PENDING_SIGNOFF}, ReplyState.SENT,
               who=lambda u, r: addressee_signer(u, r.letter),
               label=N_("签发复函")),
    Transition("return", {ReplyState.PENDING_SIGNOFF}, ReplyState.DRAFT,
               who=lambda u, r: addressee_signer(u, r.letter),
               label=N_("退回修改"), needs_comment=True),
])
REPLY_PARTIES = {t.action: t.who for t in REPLY_MACHINE.transitions}

# Who may ask for an action whatever the letter's state is now: the party the table names. A
# post is authorised by `can(user, party(action), letter)`; whether the state still allows it is
# the operation's to say under its row lock (a page opened before someone else moved the letter
# gets that message, not a 403).
PARTIES = {**{t.action: t.who for t in MACHINE.transitions},
           "edit": sender_staff, "reply": addressee_staff, "follow_up_item": sender_staff,
           "extend": sender_staff, "remind": sender_staff}


def party(action: str) -> str:
    """The policy action "is the party who may ask for `action`" (see PARTIES)."""
    return f"party:{action}"


# Actions outside the state change table, by the states they apply to.
EDITABLE = (LetterState.DRAFT,)
REPLYABLE = (LetterState.ACKNOWLEDGED,)
EXTENDABLE = (LetterState.SENT, LetterState.ACKNOWLEDGED)
REMINDABLE = (LetterState.SENT, LetterState.ACKNOWLEDGED)


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
        if action in ("create", "bulk"):  # bulk: the list's bar (each letter is asked again)
            return is_bureau_staff(user)
        return False
    if not can_see(user, letter):
        return False
    if action == "view":
        return True
    if action.startswith("party:"):
        who = PARTIES.get(action.removeprefix("party:"))
        return who is not None and who(user, letter)
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
    """The addressee's staff and signers see their reply at every stage; everyone else who sees
    the letter (the asking bureau first) only once it is signed off."""
    if isinstance(reply, type) or not letter_policy(user, "view", reply.letter):
        return False
    if action == "view":
        return reply.state == ReplyState.SENT or addressee_any(user, reply.letter)
    if action.startswith("party:"):
        who = REPLY_PARTIES.get(action.removeprefix("party:"))
        return who is not None and who(user, reply)
    if action in REPLY_PARTIES:
        return REPLY_MACHINE.allowed(reply, action, user)
    return False


@policy(ReplyAnswer)
def answer_policy(user, action, answer) -> bool:
    """An item's answer and its evidence files: seen as its reply is."""
    if isinstance(answer, type):
        return False
    return action == "view" and reply_policy(user, "view", answer.reply)


@policy(LetterItem)
def item_policy(user, action, item) -> bool:
    if isinstance(item, type):
        return False
    return action == "view" and letter_policy(user, "view", item.letter)


@policy(IssuingCode)
@policy(Holiday)
def settings_policy(user, action, _record) -> bool:
    """发文机关代字 and the holiday table: system settings (reach "settings")."""
    return reach.reaches_all(user, "settings", reach.WRITE if action != "view" else reach.READ)


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
