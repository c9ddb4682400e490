"""Long-term problems with milestones over HTTP; dashboard panel and joint-overview section."""
from datetime import date

from portal.core.registry import OVERVIEW_SECTIONS
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
