"""Every transition by role and state (table-driven), and the closing invariant by every route."""
import threading

import pytest
import sqlalchemy as sa

from portal.core.errors import DomainError, IllegalTransition, NotPermitted
from portal.extensions import db as _db
from portal.ledger import operations as ops
from portal.ledger.models import Problem, ProblemSource, ProblemState, RectificationType
from tests.ledger.conftest import make_problem

S = ProblemState
ROLES = ["finance", "finance_signer", "audit", "audit_signer", "unit", "subunit_user", "other_unit", "conference",
         "observer", "agency", "expert", "admin"]
BUREAU = {"finance", "finance_signer", "audit", "audit_signer"}
FINANCE = {"finance", "finance_signer"}
# action -> (states it starts from, roles that may take it), for a problem of world.department
EXPECTED = {
    "start": ({S.LISTED}, {"unit"}),
    "long_term": ({S.LISTED, S.IN_PROGRESS}, FINANCE),
    "submit": ({S.LISTED, S.IN_PROGRESS, S.LONG_TERM}, {"unit"}),
    "return": ({S.SUBMITTED}, BUREAU),
    "close": (set(), set()),  # never directly: only the second sign-off closes
}


@pytest.fixture()
def by_state(db, world):
    return {state: make_problem(world, state=state) for state in S}


def test_transition_table(by_state, world):
    for state, problem in by_state.items():
        assert problem.state == state
        for action, (sources, roles) in EXPECTED.items():
            for role in ROLES:
                user = getattr(world, role)
                expected = state in sources and role in roles
                assert ops.MACHINE.allowed(problem, action, user) == expected, (state, action, role)


def test_refused_transitions_raise_clear_errors(by_state, world):
    with pytest.raises(NotPermitted, match="无权"):
        ops.MACHINE.apply(by_state[S.SUBMITTED], "return", actor=world.unit, comment="x")
    with pytest.raises(IllegalTransition, match="不能执行"):
        ops.MACHINE.apply(by_state[S.CLOSED], "submit", actor=world.unit)
    with pytest.raises(IllegalTransition, match="理由"):
        ops.return_problem(by_state[S.SUBMITTED], actor=world.audit, reason="  ")


def test_sign_off_by_role_and_state(by_state, world):
    for role in ROLES:
        user = getattr(world, role)
        for state, problem in by_state.items():
            allowed = state == S.SUBMITTED and role in BUREAU
            try:
                ops.sign_off(problem, actor=user)
            except DomainError:
                assert not allowed, (state, role)
            else:
                assert allowed, (state, role)
            _db.session.rollback()


def test_unit_side_operations_by_role(by_state, world):
    problem = by_state[S.IN_PROGRESS]
    for role in ROLES:
        user = getattr(world, role)
        try:
            with _db.session.begin_nested():
                ops.record_progress(problem, actor=user, text="进展")
        except NotPermitted:
            assert role != "unit"
        else:
            assert role == "unit"
    with pytest.raises(IllegalTransition):
        ops.record_progress(by_state[S.CLOSED], actor=world.unit, text="进展")
    with pytest.raises(IllegalTransition):
        ops.record_progress(by_state[S.SUBMITTED], actor=world.unit, text="进展")


def test_return_clears_sign_offs_and_a_new_round_needs_both_again(by_state, world):
    problem = by_state[S.SUBMITTED]
    ops.sign_off(problem, actor=world.audit)
    ops.return_problem(problem, actor=world.finance, reason="佐证材料不全")
    assert problem.state == S.IN_PROGRESS and problem.signoffs == [] and problem.audit_signed_at is None
    from tests.ledger.conftest import pdf_file

    ops.submit(problem, actor=world.unit, text="补充材料", files=[pdf_file()], evidence_date=problem.listed_on)
    ops.sign_off(problem, actor=world.finance)
    assert problem.state == S.SUBMITTED
    ops.sign_off(problem, actor=world.audit)
    assert problem.state == S.CLOSED


def test_one_bureau_cannot_sign_twice(by_state, world):
    problem = by_state[S.SUBMITTED]
    ops.sign_off(problem, actor=world.finance)
    with pytest.raises(DomainError, match="已确认过"):
        ops.sign_off(problem, actor=world.finance_signer)
    with pytest.raises(NotPermitted):
        ops.MACHINE.apply(problem, "close", actor=world.finance)
    assert problem.state == S.SUBMITTED


def test_database_refuses_closed_without_both_sign_offs(by_state, world):
    problem = by_state[S.SUBMITTED]
    ops.sign_off(problem, actor=world.finance)
    _db.session.commit()
    with pytest.raises(sa.exc.IntegrityError):
        _db.session.execute(sa.update(Problem).where(Problem.id == problem.id)
                            .values(state=S.CLOSED, closed_on=problem.listed_on))
    _db.session.rollback()


def test_no_route_closes_with_one_sign_off(app, by_state, world, client, login):
    problem = by_state[S.SUBMITTED]
    ops.sign_off(problem, actor=world.audit)
    _db.session.commit()
    login(world.finance)
    payloads = [{"decision": d, "state": "submitted", "action": a, "ids": [problem.id], "comment": "x",
                 "reason": "x", "text": "x"} for d in ("close", "signoff", "", "closed") for a in ("close", "remind")]
    rules = [r for r in app.url_map.iter_rules() if "POST" in r.methods and r.rule.startswith("/ledger")]
    for rule in rules:
        url = rule.rule
        for arg in rule.arguments:
            url = url.replace(f"<int:{arg}>", str(problem.id)).replace(f"<{arg}>", "close")
        for data in payloads:
            if "verify" in url and data["decision"] == "signoff":
                continue  # finance's sign-off is the legitimate second one
            client.post(url, data=data)
            _db.session.expire_all()
            assert _db.session.get(Problem, problem.id).state == S.SUBMITTED, url
    client.post(f"/ledger/{problem.id}/verify", data={"decision": "signoff", "state": "submitted"})
    _db.session.expire_all()
    assert _db.session.get(Problem, problem.id).state == S.CLOSED


@pytest.mark.commits  # real threads, each with its own connection
def test_twenty_concurrent_listings_get_gapless_numbers(app, db, world):
    from portal.accounts.models import Organisation, User

    user_id, unit_id = world.audit.id, world.department.id
    db.session.commit()
    errors, numbers = [], []

    def worker():
        try:
            with app.app_context():
                actor = _db.session.get(User, user_id)
                unit = _db.session.get(Organisation, unit_id)
                from datetime import date

                p = ops.list_problem(actor=actor, source=ProblemSource.AUDIT, unit=unit, category="资金管理",
                                     description="并发挂账", amount="1", rect_type=RectificationType.DEADLINE,
                                     deadline=date(2099, 1, 1), year=2026, notify_unit=False)
                _db.session.commit()
                numbers.append(p.number)
                _db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(repr(error))

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(numbers) == [f"ZG-2026-{i:04d}" for i in range(1, 21)]
