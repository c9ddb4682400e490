"""Every allowed and every refused transition, by role and state (table-driven)."""
import pytest

from portal.core.errors import DomainError, IllegalTransition, NotPermitted, StaleRecord
from portal.inquiries import operations as ops
from portal.inquiries.policies import MACHINE
from tests.inquiries.conftest import STATES, make_letter

SENDER_STAFF = {"finance", "finance_signer"}
SIGNER = {"finance_signer"}
ADDRESSEE_STAFF = {"audit", "audit_signer"}

# (action, state) -> who may; every other (role, state) pair is refused.
ALLOWED = {
    ("submit", "draft"): SENDER_STAFF,
    ("approve", "pending_signoff"): SIGNER,
    ("return", "pending_signoff"): SIGNER,
    ("withdraw", "sent"): SENDER_STAFF,
    ("acknowledge", "sent"): ADDRESSEE_STAFF,
    ("answer", "acknowledged"): ADDRESSEE_STAFF,
    ("follow_up", "answered"): SENDER_STAFF,
    ("close", "answered"): SENDER_STAFF,
}
ACTIONS = sorted({t.action for t in MACHINE.transitions})


def test_transition_table_by_role_and_state(inq):
    letters = {state: make_letter(inq, state) for state in STATES}
    for state, letter in letters.items():
        assert letter.state.value == state
        for name, user in inq.users().items():
            for action in ACTIONS:
                expected = name in ALLOWED.get((action, state), set())
                assert MACHINE.allowed(letter, action, user) == expected, (action, state, name)


def test_reverse_direction_mirrors_the_roles(inq):
    letter = make_letter(inq, "pending_signoff", reverse=True)
    assert MACHINE.allowed(letter, "approve", inq.audit_signer)
    assert not MACHINE.allowed(letter, "approve", inq.finance_signer)
    assert letter.doc_number == ""
    ops.approve(letter, actor=inq.audit_signer)
    assert letter.doc_number.startswith("临审函〔")


def test_refused_transitions_raise_clear_messages(inq):
    letter = make_letter(inq, "pending_signoff")
    with pytest.raises(NotPermitted):
        ops.approve(letter, actor=inq.finance)  # the drafter cannot sign their own letter
    with pytest.raises(NotPermitted):
        ops.approve(letter, actor=inq.audit_signer)  # nor the other bureau's signer
    with pytest.raises(IllegalTransition, match="理由"):
        ops.return_letter(letter, "  ", actor=inq.finance_signer)
    with pytest.raises(IllegalTransition):
        ops.acknowledge(letter, actor=inq.audit)
    with pytest.raises(StaleRecord, match="刷新"):
        ops.approve(letter, actor=inq.finance_signer, expected_state="draft")


def test_return_then_resubmit_and_withdraw_only_before_acknowledgement(inq):
    letter = make_letter(inq, "pending_signoff")
    ops.return_letter(letter, "请补充项目清单", actor=inq.finance_signer)
    assert letter.state.value == "draft"
    sent = make_letter(inq, "acknowledged")
    with pytest.raises(IllegalTransition):
        ops.withdraw(sent, "不再需要", actor=inq.finance)


def signed_reply(letter, answers, inq):
    """A reply drafted by the audit liaison and signed off by the audit bureau's signer."""
    part = ops.reply(letter, answers, actor=inq.audit, and_submit=True)
    ops.approve_reply(part, actor=inq.audit_signer)
    return part


def test_partial_replies_follow_up_and_close(inq):
    letter = make_letter(inq, "acknowledged")
    first, second = letter.items
    part = ops.reply(letter, {first.id: ("provided", "")}, actor=inq.audit)
    assert part.state.value == "draft" and first.outcome is None  # nothing reaches the item yet
    ops.submit_reply(part, actor=inq.audit)
    ops.approve_reply(part, actor=inq.audit_signer)
    assert letter.state.value == "acknowledged" and letter.open_items == [second]
    assert first.outcome.value == "provided" and first.answered_by == inq.audit and part.signer == inq.audit_signer
    with pytest.raises(DomainError, match="理由"):
        ops.reply(letter, {second.id: ("declined", "")}, actor=inq.audit)
    signed_reply(letter, {second.id: ("declined", "涉及正在进行的审计事项，暂不宜提供")}, inq)
    assert letter.state.value == "answered"
    ops.follow_up(letter, second.id, "请说明预计可提供的时间", actor=inq.finance)
    assert letter.state.value == "acknowledged" and second.outcome is None and second.follow_ups == 1
    signed_reply(letter, {second.id: ("partial", "审计结束后补充")}, inq)
    ops.close(letter, actor=inq.finance)
    assert letter.state.value == "closed" and letter.closed_at is not None
    with pytest.raises(DomainError):
        ops.reply(letter, {second.id: ("provided", "")}, actor=inq.audit)
