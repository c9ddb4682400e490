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
    ops.approve(letter, inq.audit_signer)
    assert letter.doc_number.startswith("临审函〔")


def test_refused_transitions_raise_clear_messages(inq):
    letter = make_letter(inq, "pending_signoff")
    with pytest.raises(NotPermitted):
        ops.approve(letter, inq.finance)  # the drafter cannot sign their own letter
    with pytest.raises(NotPermitted):
        ops.approve(letter, inq.audit_signer)  # nor the other bureau's signer
    with pytest.raises(IllegalTransition, match="理由"):
        ops.return_letter(letter, inq.finance_signer, "  ")
    with pytest.raises(IllegalTransition):
        ops.acknowledge(letter, inq.audit)
    with pytest.raises(StaleRecord, match="刷新"):
        ops.approve(letter, inq.finance_signer, expected_state="draft")


def test_return_then_resubmit_and_withdraw_only_before_acknowledgement(inq):
    letter = make_letter(inq, "pending_signoff")
    ops.return_letter(letter, inq.finance_signer, "请补充项目清单")
    assert letter.state.value == "draft"
    sent = make_letter(inq, "acknowledged")
    with pytest.raises(IllegalTransition):
        ops.withdraw(sent, inq.finance, "不再需要")


def test_partial_replies_follow_up_and_close(inq):
    letter = make_letter(inq, "acknowledged")
    first, second = letter.items
    ops.reply(letter, inq.audit, {first.id: ("provided", "")})
    assert letter.state.value == "acknowledged" and letter.open_items == [second]
    with pytest.raises(DomainError, match="理由"):
        ops.reply(letter, inq.audit, {second.id: ("declined", "")})
    ops.reply(letter, inq.audit, {second.id: ("declined", "涉及正在进行的审计事项，暂不宜提供")})
    assert letter.state.value == "answered"
    ops.follow_up(letter, inq.finance, second.id, "请说明预计可提供的时间")
    assert letter.state.value == "acknowledged" and second.outcome is None and second.follow_ups == 1
    ops.reply(letter, inq.audit, {second.id: ("partial", "审计结束后补充")})
    ops.close(letter, inq.finance)
    assert letter.state.value == "closed" and letter.closed_at is not None
    with pytest.raises(DomainError):
        ops.reply(letter, inq.audit, {second.id: ("provided", "")})
