"""Long-term problems with milestones over HTTP; dashboard panel and joint-overview section."""
from datetime import date, timedelta

from portal.core.registry import OVERVIEW_SECTIONS
from portal.ledger import operations
from portal.ledger.models import ProblemState, RectificationType
from tests.ledger.conftest import hidden, make_problem


def test_long_term_with_milestones(db, world, client, login, frozen_today):
    problem = make_problem(world, state=ProblemState.IN_PROGRESS)
    login(world.unit)
    assert client.post(f"/ledger/{problem.id}/long-term", data={"reason": "x"}).status_code == 403
    client.post("/logout")
    login(world.finance)
    page = client.post(f"/ledger/{problem.id}/long-term", data={"state": "in_progress", "reason": ""}
                       ).get_data(as_text=True)
    assert "请填写理由" in page
    response = client.post(f"/ledger/{problem.id}/long-term", data={
        "state": "in_progress", "reason": "涉及体制机制调整", "milestone_title": "制定整改方案",
        "milestone_due": "2026-07-01"})
    assert response.status_code == 302
    page = client.post(f"/ledger/{problem.id}/milestones", data={"title": "完成制度修订", "due_date": "2020-01-01"}
                       ).get_data(as_text=True)
    assert "不能早于挂账日期" in page
    client.post(f"/ledger/{problem.id}/milestones", data={"title": "完成制度修订", "due_date": "2026-12-01"})
    db.session.refresh(problem)
    assert problem.state == ProblemState.LONG_TERM and problem.rect_type == RectificationType.LONG_TERM
    assert [m.title for m in problem.milestones] == ["制定整改方案", "完成制度修订"]
    client.post("/logout")
    login(world.unit)
    client.post(f"/ledger/milestones/{problem.milestones[0].id}/done")
    db.session.refresh(problem)
    assert problem.milestones[0].done_on == date(2026, 6, 1)
    assert problem.is_open  # long-term problems stay open with their own dates


def test_dashboard_panel_and_overview_section(db, world, client, login, frozen_today):
    make_problem(world, listed_on=date(2026, 3, 1), deadline=date(2026, 5, 1))  # overdue
    make_problem(world, unit=world.other_department, state=ProblemState.CLOSED)
    login(world.unit)
    page = client.get("/").get_data(as_text=True)
    assert "问题整改" in page and "已超时限" in page
    client.post("/logout")
    login(world.agency)
    assert "问题整改" not in client.get("/").get_data(as_text=True)
    section = next(s for s in OVERVIEW_SECTIONS if s.render.__module__ == "portal.ledger.panels")
    with client.application.test_request_context():
        html = section.render(world.conference, 2026)
    assert world.department.name in html and "已清零单位" in html


def test_dashboard_figures_per_reader(db, world, client, frozen_today, monkeypatch):
    """The figures each reader's panel shows: overdue, due within ten days, open, and for each
    bureau the submitted problems still awaiting its own sign-off; a closed problem counts nowhere."""
    from portal.ledger import panels

    make_problem(world, listed_on=date(2026, 3, 1), deadline=date(2026, 5, 1))  # overdue
    make_problem(world, deadline=frozen_today + timedelta(days=5))  # due within ten days
    make_problem(world, state=ProblemState.IN_PROGRESS)  # open, due later
    submitted = make_problem(world, state=ProblemState.SUBMITTED)
    make_problem(world, unit=world.other_department, state=ProblemState.CLOSED)
    operations.sign_off(submitted, actor=world.audit)  # audit has signed: only finance is still to
    db.session.commit()
    shown = {}
    monkeypatch.setattr(panels, "render_template", lambda _name, figures, bureau: shown.update({bureau: figures}))
    with client.application.test_request_context():
        for user in (world.finance, world.audit, world.unit):
            panels.dashboard_panel(user)
    assert shown == {"finance": {"overdue": 1, "d10": 1, "open": 3, "to_verify": 1, "extensions": 0},
                     "audit": {"overdue": 1, "d10": 1, "open": 3, "to_verify": 0},
                     None: {"overdue": 1, "d10": 1, "open": 3}}


def test_bureaus_correct_a_problem_and_units_cannot(db, world, client, login, frozen_today):
    from decimal import Decimal

    from portal.core.audit import history

    problem = make_problem(world)
    login(world.unit)
    assert client.get(f"/ledger/{problem.id}/edit").status_code == 403
    client.post("/logout")
    login(world.finance)
    form = client.get(f"/ledger/{problem.id}/edit").get_data(as_text=True)
    assert "专项资金未按规定用途使用" in form
    data = {"lock_version": hidden(form, "lock_version"), "category": "资金管理", "description": "更正后的描述",
            "amount": "-1", "rect_type": "deadline", "deadline": "2026-09-30"}
    response = client.post(f"/ledger/{problem.id}/edit", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "不能为负数" in page and "更正后的描述" in page
    assert client.post(f"/ledger/{problem.id}/edit", data={**data, "amount": "88000"}).status_code == 302
    db.session.refresh(problem)
    assert problem.description == "更正后的描述" and problem.amount == Decimal("88000")
    assert history(problem)[-1].action == "problem.edit"
