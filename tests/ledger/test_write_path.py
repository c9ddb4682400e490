"""The ledger on the core write path, tried as two officers at once and as a careless user:
stale edits refused, one transition out of ten parallel 申请销号, money that adds up under
twenty parallel reports, one problem (and one ZG number) per submitted form, an audit entry
with before and after for every change. Runs on SQLite and PostgreSQL (real connections)."""
from __future__ import annotations

import io
from decimal import Decimal

import sqlalchemy as sa

from portal.core import counters
from portal.core.attachments import Attachment
from portal.core.audit import AuditEntry
from portal.core.notifications import Notification
from portal.ledger import operations as ops
from portal.ledger.models import ExtensionState, Problem, ProblemState, ProgressUpdate
from tests.concurrency import in_parallel, signed_in
from tests.ledger.conftest import PDF, hidden, make_problem


def _entries(db, action=None, record=None):
    stmt = sa.select(AuditEntry).order_by(AuditEntry.id)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if record is not None:
        stmt = stmt.where(AuditEntry.record_type == record.__tablename__, AuditEntry.record_id == str(record.id))
    return list(db.session.scalars(stmt))


def _assert_every_entry_shows_a_change(db):
    for entry in _entries(db):
        before, after = entry.before_dict, entry.after_dict
        same = [k for k in before if k in after and before[k] == after[k]]
        assert same == [], (entry.action, same)


def _release(db):
    """End the test's own transaction before other connections write (SQLite: its write lock)."""
    db.session.rollback()


def _edit_data(page: str, **changes) -> dict:
    data = {"lock_version": hidden(page, "lock_version"), "source_ref": "", "category": "资金管理",
            "description": "专项资金未按规定用途使用", "amount": "100000.00", "policy_basis": "", "requirement": "",
            "completion_standard": "", "rect_type": "deadline", "deadline": "2026-07-31", "person_responsible": ""}
    return {**data, **changes}


# ---- optimistic concurrency: the edit form ----------------------------------------------

def test_stale_edit_is_refused_with_who_changed_what_and_keeps_the_input(app, db, world, client, login,
                                                                         frozen_today):
    problem = make_problem(world)
    original_description = problem.description
    a = login(world.finance)
    b = signed_in(app, world.audit)
    page_a = a.get(f"/ledger/{problem.id}/edit").get_data(as_text=True)
    page_b = b.get(f"/ledger/{problem.id}/edit").get_data(as_text=True)

    saved = a.post(f"/ledger/{problem.id}/edit", data=_edit_data(page_a, deadline="2026-09-30"))
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    refused = b.post(f"/ledger/{problem.id}/edit", data=_edit_data(page_b, description="审计局改写的问题描述"))
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "已被" in page and world.finance.display_name in page and "整改时限" in page
    assert "审计局改写的问题描述" in page  # B's input is still on the page

    db.session.expire_all()
    problem = db.session.get(Problem, problem.id)
    assert problem.deadline.isoformat() == "2026-09-30"  # A's value intact
    assert problem.description == original_description  # B's not written
    assert [e.after_dict for e in _entries(db, "problem.edit", problem)] == [{"deadline": "2026-09-30"}]


def test_an_edit_without_its_version_is_refused(db, world, client, login, frozen_today):
    problem = make_problem(world)
    login(world.finance)
    page = client.get(f"/ledger/{problem.id}/edit").get_data(as_text=True)
    data = _edit_data(page, description="新的描述")
    del data["lock_version"]
    response = client.post(f"/ledger/{problem.id}/edit", data=data)
    assert response.status_code == 422 and "版本" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Problem, problem.id).description != "新的描述"


# ---- transitions under the row lock -------------------------------------------------------

def _submission(state: str) -> dict:
    return {"s-state": state, "s-text": "已完成整改", "s-evidence_date": "2026-05-30",
            "s-files": (io.BytesIO(PDF), "缴款书.pdf")}


def test_ten_parallel_submissions_make_one_transition(app, db, world, frozen_today):
    problem = make_problem(world, state=ProblemState.IN_PROGRESS)
    problem_id = problem.id
    clients = [signed_in(app, world.unit) for _ in range(10)]
    bureaus = len(ops.bureau_users())
    _release(db)

    responses = in_parallel([
        lambda c=c: c.post(f"/ledger/{problem_id}/submit", data=_submission("in_progress"),
                           content_type="multipart/form-data") for c in clients])

    codes = sorted(r.status_code for r in responses)
    assert codes == [302] + [422] * 9, codes
    db.session.expire_all()
    problem = db.session.get(Problem, problem_id)
    assert problem.state == ProblemState.SUBMITTED
    assert len(_entries(db, "problem.submit", problem)) == 1
    assert db.session.scalar(sa.select(sa.func.count(ProgressUpdate.id))
                             .where(ProgressUpdate.is_submission.is_(True))) == 1
    assert db.session.scalar(sa.select(sa.func.count(Attachment.id))) == 1  # refused ones saved no file
    notified = db.session.scalar(sa.select(sa.func.count(Notification.id))
                                 .where(Notification.title.contains("申请销号")))
    assert notified == bureaus  # one set of notifications


def test_both_bureaus_signing_at_once_close_the_problem_once(app, db, world, frozen_today):
    problem = make_problem(world, state=ProblemState.SUBMITTED)
    problem_id = problem.id
    signers = [signed_in(app, world.finance), signed_in(app, world.audit), signed_in(app, world.finance_signer)]
    _release(db)

    responses = in_parallel([lambda c=c: c.post(f"/ledger/{problem_id}/verify",
                                                data={"state": "submitted", "decision": "signoff"})
                             for c in signers])

    assert sorted(r.status_code for r in responses) == [302, 302, 422]  # finance signs once
    db.session.expire_all()
    problem = db.session.get(Problem, problem_id)
    assert problem.state == ProblemState.CLOSED and len(problem.signoffs) == 2
    assert len(_entries(db, "problem.close", problem)) == 1
    assert len(_entries(db, "problem.signoff", problem)) == 2


# ---- money added in the database -------------------------------------------------------

def test_twenty_parallel_progress_reports_add_up(app, db, world, frozen_today):
    problem = make_problem(world, state=ProblemState.IN_PROGRESS, amount="1000000")
    problem_id = problem.id
    clients = [signed_in(app, world.unit) for _ in range(20)]
    _release(db)

    responses = in_parallel([
        lambda c=c: c.post(f"/ledger/{problem_id}/progress",
                           data={"state": "in_progress", "text": "追缴一笔", "rect_recovered": "100"})
        for c in clients])

    assert [r.status_code for r in responses] == [302] * 20
    db.session.expire_all()
    problem = db.session.get(Problem, problem_id)
    reported = db.session.scalar(sa.select(sa.func.sum(ProgressUpdate.rect_recovered))
                                 .where(ProgressUpdate.problem_id == problem_id))
    assert problem.rect_recovered == reported == Decimal("2000")
    assert problem.rectified_total == Decimal("2000")
    assert len(_entries(db, "problem.progress", problem)) == 21  # make_problem reported once
    assert problem.lock_version > 20  # every report counted as a change of the problem


def test_rectified_amount_is_capped_at_the_problem_amount_on_pages_and_in_exports(db, world, client, login,
                                                                                  frozen_today):
    from openpyxl import load_workbook

    from portal.ledger.excel_io import export_headers

    problem = make_problem(world, state=ProblemState.IN_PROGRESS, amount="120000")
    ops.record_progress(problem, actor=world.unit, text="追缴", money={"rect_recovered": "100000"})
    ops.record_progress(problem, actor=world.unit, text="归还", money={"rect_returned": "80000"})
    db.session.commit()
    assert problem.rectified_total == Decimal("180000") and problem.rectified_counted == Decimal("120000")

    login(world.finance)
    detail = client.get(f"/ledger/{problem.id}").get_data(as_text=True)
    assert '<strong id="rectified-total">12.00万元</strong>' in detail and "报送合计 18.00万元" in detail
    ledger = client.get("/ledger/").get_data(as_text=True)
    assert "12.00万元" in ledger and "18.00万元" not in ledger

    sheet = load_workbook(io.BytesIO(client.get("/ledger/export.xlsx").data)).active
    headers = [c.value for c in sheet[1]]
    row = [c.value for c in sheet[2]]
    total = row[headers.index(export_headers()[18])]
    assert total == 12.0  # 万元, not 18
    assert row[headers.index("追缴资金（万元）")] == 10.0  # the categories stay as reported

    from portal.ledger.api import serialise

    assert serialise(problem)["rectified_counted"] == "120000.00"


# ---- one problem per submitted form ------------------------------------------------------

NEW = {"source": "audit", "category": "资金管理", "description": "专项资金被挤占挪用", "rect_type": "deadline",
       "deadline": "2026-08-01", "amount": "120000"}


def test_listing_form_posted_twice_makes_one_problem_and_one_number(db, world, client, login, frozen_today):
    login(world.audit)
    page = client.get("/ledger/new").get_data(as_text=True)
    data = {**NEW, "unit_id": world.department.id, "form_key": hidden(page, "form_key")}
    first = client.post("/ledger/new", data=data)
    again = client.post("/ledger/new", data=data)  # back button, submit again
    assert first.status_code == again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    problems = db.session.scalars(sa.select(Problem)).all()
    assert [p.number for p in problems] == ["ZG-2026-0001"]
    assert counters.last("ledger", 2026) == 1
    assert len(_entries(db, "problem.list")) == 1


def test_listing_form_posted_twice_at_once_makes_one_problem(app, db, world, client, login, frozen_today):
    login(world.audit)
    page = client.get("/ledger/new").get_data(as_text=True)
    data = {**NEW, "unit_id": world.department.id, "form_key": hidden(page, "form_key")}
    clients = [signed_in(app, world.audit) for _ in range(2)]
    _release(db)
    responses = in_parallel([lambda c=c: c.post("/ledger/new", data=dict(data)) for c in clients])
    assert [r.status_code for r in responses] == [302, 302]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Problem.id))) == 1
    assert counters.last("ledger", 2026) == 1


def test_a_refused_listing_takes_no_number(db, world, client, login, frozen_today):
    login(world.audit)
    bad_code = client.post("/ledger/new", data={**NEW, "unit_id": world.department.id, "project_code": "NOPE"})
    assert bad_code.status_code == 422 and "找不到该项目编码" in bad_code.get_data(as_text=True)
    bad_amount = client.post("/ledger/new", data={**NEW, "unit_id": world.department.id, "amount": "-1"})
    assert bad_amount.status_code == 422
    assert counters.last("ledger", 2026) == 0
    assert client.post("/ledger/new", data={**NEW, "unit_id": world.department.id}).status_code == 302
    assert db.session.scalars(sa.select(Problem.number)).all() == ["ZG-2026-0001"]


# ---- the audit: before and after of every change -----------------------------------------

def test_progress_records_measures_and_money_before_and_after(db, world, frozen_today):
    problem = make_problem(world, state=ProblemState.IN_PROGRESS)
    update = ops.record_progress(problem, actor=world.unit, text="第二次进展", money={"rect_returned": "500"},
                                 measures="已收回违规资金并修订审批流程", accountability="约谈财务负责人")
    db.session.commit()
    entry = _entries(db, "problem.progress", problem)[-1]
    assert entry.before_dict == {"measures": "", "accountability": "", "rect_returned": "0.00"}
    assert entry.after_dict == {"measures": "已收回违规资金并修订审批流程", "accountability": "约谈财务负责人",
                                "rect_returned": "500.00", "progress_update": update.id}
    _assert_every_entry_shows_a_change(db)


def test_every_ledger_operation_logs_a_real_change(db, world, frozen_today):
    from datetime import date

    problem = make_problem(world, state=ProblemState.IN_PROGRESS)
    ops.assign(problem, "李科长", actor=world.finance)
    ops.assign(problem, "李科长", actor=world.finance)  # no change, no entry
    assert len(_entries(db, "problem.assign")) == 1
    ext = ops.request_extension(problem, actor=world.unit, new_deadline=date(2026, 12, 31), reason="资金未到位")
    ops.decide_extension(ext, actor=world.finance, approve=False, comment="理由不充分")
    assert ext.state == ExtensionState.REFUSED
    refusal = _entries(db, "problem.extension_refuse")
    assert [(e.record_type, e.before_dict, e.after_dict["state"]) for e in refusal] == [
        ("problem_extensions", {"state": "pending"}, "refused")]
    ext = ops.request_extension(problem, actor=world.unit, new_deadline=date(2026, 12, 31), reason="再次申请")
    ops.decide_extension(ext, actor=world.finance, approve=True)
    assert [e.after_dict for e in _entries(db, "problem.deadline", problem)] == [{"deadline": "2026-12-31"}]
    ops.mark_long_term(problem, actor=world.finance, reason="体制机制问题",
                       milestones=[("制定方案", date(2026, 7, 1))])
    assert _entries(db, "problem.long_term", problem)[0].after_dict == {"state": "long_term",
                                                                       "rect_type": "long_term"}
    ops.complete_milestone(problem.milestones[0], actor=world.unit)
    from tests.ledger.conftest import pdf_file

    ops.submit(problem, actor=world.unit, text="完成", files=[pdf_file()], evidence_date=date(2026, 5, 30))
    ops.sign_off(problem, actor=world.audit)
    ops.return_problem(problem, actor=world.finance, reason="佐证不全")
    returned = _entries(db, "problem.return", problem)[0]
    assert returned.before_dict["state"] == "submitted" and returned.after_dict["audit_signed_at"] is None
    db.session.commit()
    _assert_every_entry_shows_a_change(db)


def test_problem_page_history_includes_extensions_and_milestones(db, world, client, login, frozen_today):
    from datetime import date

    problem = make_problem(world, state=ProblemState.LONG_TERM)
    ops.request_extension(problem, actor=world.unit, new_deadline=date(2026, 12, 31), reason="资金未到位")
    db.session.commit()
    login(world.finance)
    page = client.get(f"/ledger/{problem.id}").get_data(as_text=True)
    for label in ("转为长期整改", "添加阶段目标", "申请延期"):  # problem.long_term, .milestone, .extension_request
        assert f'<span class="event">{label}</span>' in page, label


# ---- bulk actions ---------------------------------------------------------------------------

def test_bulk_action_returns_to_the_ledger_under_the_portal_prefix(db, world, client, login, frozen_today):
    problem = make_problem(world)
    login(world.finance)
    page = client.get("/ledger/?year=2026", base_url="http://localhost/portal/").get_data(as_text=True)
    back = hidden(page, "back")
    assert back.startswith("/portal/ledger/")
    response = client.post("/ledger/bulk", base_url="http://localhost/portal/",
                           data={"action": "assign", "ids": [problem.id], "person": "王科长", "back": back})
    assert response.status_code == 302 and response.headers["Location"] == back
    refused = client.post("/ledger/bulk", data={"action": "assign", "ids": [], "person": "王科长",
                                                "back": "/ledger/"})
    assert refused.status_code == 302 and refused.headers["Location"] == "/ledger/"
