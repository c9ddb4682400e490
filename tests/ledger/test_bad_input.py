"""Bad input gets a clear message and loses nothing that was typed."""
import io
from datetime import date

import sqlalchemy as sa

from portal.core import clock
from portal.core.notifications import run_reminders
from portal.core.registry import PUBLIC_PROVIDERS
from portal.ledger import operations as ops
from portal.ledger.models import ExtensionState, Problem, ProblemState, ProgressUpdate
from tests.factories import make_project
from tests.ledger.conftest import make_problem

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64
FORM = {"source": "audit", "category": "资金管理", "description": "我认真写的问题描述", "rect_type": "deadline",
        "deadline": "2026-08-01", "amount": "100"}


def test_bad_amounts_and_deadlines_on_the_listing_form(db, world, client, login, frozen_today):
    login(world.audit)
    for amount, message in [("-5", "不能为负数"), ("1e20", "1000亿元"), ("abc", "必须是数字"), ("1.234", "两位小数"),
                            ("NaN", "必须是数字")]:
        response = client.post("/ledger/new", data={**FORM, "unit_id": world.department.id, "amount": amount})
        page = response.get_data(as_text=True)
        assert response.status_code == 422 and message in page, amount
        assert "我认真写的问题描述" in page
    page = client.post("/ledger/new", data={**FORM, "unit_id": world.department.id, "deadline": "2026-05-01"}
                       ).get_data(as_text=True)
    assert "不能早于挂账日期" in page and "我认真写的问题描述" in page
    page = client.post("/ledger/new", data={**FORM, "unit_id": world.agency_org.id}).get_data(as_text=True)
    assert "has-error" in page and "我认真写的问题描述" in page
    assert db.session.scalar(sa.select(sa.func.count(Problem.id))) == 0


def test_disguised_evidence_and_bad_money_keep_the_report(db, world, client, login, frozen_today):
    problem = make_problem(world)
    login(world.unit)
    response = client.post(f"/ledger/{problem.id}/progress", data={
        "state": "listed", "text": "我写的整改进展", "evidence_date": "2026-05-30",
        "files": (io.BytesIO(EXE), "佐证.pdf")}, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "不受支持" in page and "我写的整改进展" in page
    page = client.post(f"/ledger/{problem.id}/progress", data={
        "state": "listed", "text": "我写的整改进展", "rect_recovered": "-100"}).get_data(as_text=True)
    assert "追缴资金不能为负数" in page and "我写的整改进展" in page
    page = client.post(f"/ledger/{problem.id}/progress", data={
        "state": "listed", "text": "我写的整改进展", "evidence_date": "2026-12-01"}).get_data(as_text=True)
    assert "不能晚于今天" in page
    page = client.post(f"/ledger/{problem.id}/submit", data={"s-state": "listed", "s-text": "申请销号"}
                       ).get_data(as_text=True)
    assert "须上传整改佐证材料" in page
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(ProgressUpdate.id))) == 0
    assert db.session.get(Problem, problem.id).state == ProblemState.LISTED


def test_stale_forms_are_refused_clearly(db, world, client, login, frozen_today):
    problem = make_problem(world, state=ProblemState.SUBMITTED)
    login(world.audit)
    client.post(f"/ledger/{problem.id}/verify", data={"state": "submitted", "decision": "return", "comment": "补材料"})
    client.post("/logout")
    login(world.finance)  # finance's page still showed 申请销号
    page = client.post(f"/ledger/{problem.id}/verify", data={"state": "submitted", "decision": "signoff",
                                                             "comment": "我的意见"}).get_data(as_text=True)
    assert "已被他人处理" in page and "我的意见" in page
    db.session.expire_all()
    assert db.session.get(Problem, problem.id).state == ProblemState.IN_PROGRESS


def test_extension_request_and_decision(db, world, client, login, frozen_today):
    problem = make_problem(world)
    login(world.unit)
    page = client.post(f"/ledger/{problem.id}/extension", data={"new_deadline": "2026-06-15", "reason": "资金未到位"}
                       ).get_data(as_text=True)
    assert "须晚于现有时限" in page and "资金未到位" in page
    assert client.post(f"/ledger/{problem.id}/extension", data={"new_deadline": "2026-12-31", "reason": "资金未到位"}
                       ).status_code == 302
    ext = problem.extensions[0]
    assert client.post(f"/ledger/extensions/{ext.id}/approve").status_code == 403  # the unit cannot decide
    client.post("/logout")
    login(world.audit)
    assert client.post(f"/ledger/extensions/{ext.id}/approve").status_code == 403  # nor audit
    client.post("/logout")
    login(world.finance)
    page = client.post(f"/ledger/extensions/{ext.id}/refuse", data={"comment": ""}).get_data(as_text=True)
    assert "须说明理由" in page
    assert client.post(f"/ledger/extensions/{ext.id}/approve", data={"comment": "同意"}).status_code == 302
    db.session.expire_all()
    problem = db.session.get(Problem, problem.id)
    assert problem.deadline == date(2026, 12, 31) and problem.extensions[0].state == ExtensionState.APPROVED


def test_reminders_once_per_stage(db, world):
    problem = make_problem(world, listed_on=date(2026, 5, 1), deadline=date(2026, 6, 5))
    with clock.frozen(date(2026, 6, 1)):
        assert run_reminders()["ledger"] == 1
        assert run_reminders()["ledger"] == 0
    with clock.frozen(date(2026, 6, 6)):
        assert run_reminders()["ledger"] == 1
        assert run_reminders()["ledger"] == 0
    from portal.core.notifications import Notification

    recipients = set(db.session.scalars(sa.select(Notification.user_id).where(Notification.title.contains("逾期"))))
    assert {world.unit.id, world.finance.id, world.audit.id} <= recipients
    assert world.other_unit.id not in recipients
    ext = ops.request_extension(problem, actor=world.unit, new_deadline=date(2026, 6, 30), reason="等待批复")
    ops.decide_extension(ext, actor=world.finance, approve=True)
    db.session.commit()
    with clock.frozen(date(2026, 6, 25)):
        assert run_reminders()["ledger"] == 1  # a new deadline is a new stage


def test_public_provider_gives_only_public_fields(db, world, frozen_today):
    project = make_project(world.department)
    problem = make_problem(world, project=project, state=ProblemState.CLOSED, rectified="100000")
    problem.person_responsible = "张三"
    problem.not_done_reason = "内部说明"
    db.session.commit()
    rows = PUBLIC_PROVIDERS["problems"](project)
    assert len(rows) == 1
    assert set(rows[0]) == {"number", "category", "description", "amount", "rect_type", "state", "measures",
                            "amount_rectified", "deadline", "closed_on"}
    assert rows[0]["state"] == "已销号" and "张三" not in str(rows[0]) and "内部说明" not in str(rows[0])


def test_demo_seed_tells_a_story(demo_app, demo_db):
    problems = demo_db.session.query(Problem).filter(Problem.id.in_(demo_app.demo["problems"])).all()
    assert 140 <= len(problems) <= 160
    states = {p.state for p in problems}
    assert states == set(ProblemState)
    assert any(p.bucket == "overdue" for p in problems)
    assert any(p.milestones for p in problems)
    assert sum(p.amount for p in problems) > 0


def test_verify_refuses_an_unknown_or_over_long_decision(db, world, client, login, frozen_today):
    problem = make_problem(world, state=ProblemState.SUBMITTED)
    login(world.audit)
    for decision in ("fly", "signoff" * 50):
        response = client.post(f"/ledger/{problem.id}/verify", data={"state": "submitted", "decision": decision,
                                                                     "comment": "我的意见"})
        assert response.status_code == 422 and "我的意见" in response.get_data(as_text=True), decision
        db.session.expire_all()
        assert db.session.get(Problem, problem.id).state == ProblemState.SUBMITTED


def test_bulk_refuses_tampered_ids_actions_dates_and_texts(db, world, client, login, frozen_today):
    problem = make_problem(world)
    login(world.finance)
    good = {"action": "assign", "ids": [problem.id], "person": "李科长"}
    for bad in ({"ids": [problem.id, str(10**26)]}, {"ids": ["-3"]}, {"ids": ["1.5"]}, {"ids": ["abc"]},
                {"action": "delete"}, {"action": "assign" * 40}, {"person": "李" * 61},
                {"action": "deadline", "deadline": "2026-02-30"}, {"action": "deadline", "deadline": "9999-01-01"}):
        response = client.post("/ledger/bulk", data={**good, **bad})
        assert response.status_code == 400, bad
        db.session.expire_all()
        assert db.session.get(Problem, problem.id).person_responsible != "李科长", bad
    # control characters never reach the record; a valid batch still goes through
    assert client.post("/ledger/bulk", data={**good, "person": "李\x00科\x1b长"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Problem, problem.id).person_responsible == "李科长"


def test_bulk_returns_only_to_a_path_on_this_site(db, world, client, login, frozen_today):
    problem = make_problem(world)
    login(world.finance)
    for back in ("//evil.example/", "/\\evil.example/", "https://evil.example/ledger/", "/%2F%2Fevil.example/"):
        response = client.post("/ledger/bulk", data={"action": "remind", "ids": [problem.id], "back": back})
        assert response.status_code == 302 and response.headers["Location"] == "/ledger/", back


def test_export_all_refuses_tampered_filters(db, world, client, login, frozen_today):
    from portal.core.background import BackgroundJob

    make_problem(world)
    login(world.finance)
    for bad in ({"year": "abc"}, {"year": "-1"}, {"unit": str(10**26)}, {"department": "-4"},
                {"state": "flying"}, {"sort": "drop table"}, {"q": "问" * 101}):
        response = client.post("/ledger/export-all", data=bad)
        assert response.status_code == 400, bad
        assert db.session.scalar(sa.select(sa.func.count(BackgroundJob.id))) == 0, bad
    assert client.post("/ledger/export-all", data={"year": "2026", "state": "listed", "sort": "-deadline"}
                       ).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(BackgroundJob.id))) == 1
