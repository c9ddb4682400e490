"""Full workflows over HTTP and bad input: a clear message, nothing lost."""
import io
from datetime import date

import sqlalchemy as sa

from portal.core import clock
from portal.inquiries.models import Letter
from tests.factories import make_project
from tests.inquiries.conftest import SENT_ON, make_letter

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def form(world, **over):
    values = {"addressee_org_id": str(world.audit_bureau.id), "title": "关于提供审计报告的函", "urgency": "urgent",
              "marking": "internal", "copies": "市人大常委会预算工作委员会", "body": "现商请贵局提供以下资料。",
              "deadline_workdays": "5", "contact_person": "王建华", "contact_phone": "0571-87000000",
              "items": ["2025年度审计报告", "审计决定书"]}
    values.update(over)
    return values


def only_letter(db):
    return db.session.scalars(sa.select(Letter)).one_or_none()


def sign_off_reply(client, login, world, letter):
    """The audit bureau's signer signs off the reply waiting for it (签发复函)."""
    from portal.inquiries import operations as ops

    db_letter = db_session_letter(letter)
    part = ops.unsent_reply(db_letter)
    client.post("/logout")
    login(world.audit_signer)
    r = client.post(f"/inquiries/{letter.id}/replies/{part.id}/do/approve", data={"expected_state": "pending_signoff"})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]


def db_session_letter(letter):
    from portal.extensions import db

    db.session.refresh(letter)
    db.session.expire(letter, ["replies"])
    return letter


def test_finance_to_audit_over_http(inq, client, login, db):
    project = make_project(inq.department, name="义务教育薄弱环节改善项目")
    db.session.commit()
    with clock.frozen(SENT_ON):
        login(inq.finance)
        r = client.post("/inquiries/new", data=form(inq, project_ids=[str(project.id)], then="submit"))
        assert r.status_code == 302, r.get_data(as_text=True)
        letter = only_letter(db)
        assert letter.state.value == "pending_signoff" and [p.id for p in letter.projects] == [project.id]
        client.post("/logout")
        login(inq.finance_signer)
        r = client.post(f"/inquiries/{letter.id}/do/approve", data={"expected_state": "pending_signoff"})
        assert r.status_code == 302
        page = client.get(f"/inquiries/{letter.id}").get_data(as_text=True)
        assert "临财绩函〔2026〕1号" in page and "2026年10月10日" in page  # 5 working days across 国庆
        client.post("/logout")
        login(inq.audit)
        assert "关于提供审计报告的函" in client.get("/inquiries/?direction=incoming").get_data(as_text=True)
        client.post(f"/inquiries/{letter.id}/do/acknowledge", data={"expected_state": "sent"})
        first, second = letter.items
        r = client.post(f"/inquiries/{letter.id}/reply", data={
            "expected_state": "acknowledged", f"outcome_{first.id}": "provided", "note": "先行提供审计报告",
            "then": "submit", "files": (io.BytesIO(b"%PDF-1.4 report"), "审计报告.pdf")},
            content_type="multipart/form-data")
        assert r.status_code == 302
        sign_off_reply(client, login, inq, letter)
        db.session.refresh(letter)
        assert letter.state.value == "acknowledged"
        client.post("/logout")
        login(inq.audit)
        client.post(f"/inquiries/{letter.id}/reply", data={
            "expected_state": "acknowledged", f"outcome_{second.id}": "declined", f"reason_{second.id}": "尚未作出决定",
            "then": "submit"})
        sign_off_reply(client, login, inq, letter)
        db.session.refresh(letter)
        assert letter.state.value == "answered"
        client.post("/logout")
        login(inq.finance)
        r = client.post(f"/inquiries/{letter.id}/do/close", data={"expected_state": "answered", "comment": "已收悉"})
        db.session.refresh(letter)
        assert letter.state.value == "closed"
        page = client.get(f"/inquiries/{letter.id}").get_data(as_text=True)
        for word in ("签发", "签收", "答复", "办结", inq.audit.display_name, "审计报告.pdf"):
            assert word in page


def test_bad_input_gets_a_message_and_keeps_what_was_typed(inq, client, login, db):
    login(inq.finance)
    cases = [
        (form(inq, items=["", " "]), "至少列出一项"),
        (form(inq, deadline_workdays="", deadline="2020-01-01"), "晚于今天"),
        (form(inq, body="很长的正文" * 5000), "最多 20000 个字"),  # the form's limit, before the operation's
        (form(inq, marking="classified"), "涉密"),
        (form(inq, title="关于提供涉密审计资料的函"), "涉密"),
        (form(inq, addressee_org_id=str(inq.department.id)), "主送机关"),
    ]
    for data, message in cases:
        r = client.post("/inquiries/new", data=data)
        text = r.get_data(as_text=True)
        assert r.status_code == 422 and message in text, message
        assert "现商请贵局提供以下资料" in text or "很长的正文" in text
    r = client.post("/inquiries/new", data={**form(inq), "files": (io.BytesIO(EXE), "审计报告.pdf")},
                    content_type="multipart/form-data")
    text = r.get_data(as_text=True)
    assert r.status_code == 422 and "不受支持" in text and "2025年度审计报告" in text
    assert only_letter(db) is None


def test_stale_form_after_a_state_change(inq, client, login, db):
    letter = make_letter(inq, "pending_signoff")
    login(inq.finance_signer)
    with clock.frozen(SENT_ON):
        r = client.post(f"/inquiries/{letter.id}/do/return", data={"expected_state": "pending_signoff",
                                                                   "comment": "请补充"})
        assert r.status_code == 302
        r = client.post(f"/inquiries/{letter.id}/do/approve", data={"expected_state": "pending_signoff"})
    assert r.status_code == 422 and "刷新" in r.get_data(as_text=True)
    db.session.refresh(letter)
    assert letter.state.value == "draft" and letter.number_seq is None
    client.post("/logout")
    login(inq.finance)
    client.post(f"/inquiries/{letter.id}/do/submit", data={"expected_state": "draft"})
    r = client.post(f"/inquiries/{letter.id}/edit", data=form(inq, title="改过的标题", expected_state="draft",
                                                             lock_version=str(letter.lock_version)))
    text = r.get_data(as_text=True)
    assert r.status_code == 422 and "改过的标题" in text and "已不能修改" in text
    db.session.refresh(letter)
    assert letter.title != "改过的标题"


def test_extension_reminder_button_and_overdue_list(inq, client, login, db):
    letter = make_letter(inq, "acknowledged")  # deadline 2026-10-10
    make_letter(inq, "sent", title="另一封不逾期的函", on=date(2026, 10, 12))
    login(inq.finance)
    with clock.frozen(date(2026, 10, 13)):
        page = client.get("/inquiries/?overdue=1").get_data(as_text=True)
        assert letter.title in page and "另一封不逾期的函" not in page
        listing = client.get("/inquiries/").get_data(as_text=True)
        assert listing.index(letter.title) < listing.index("另一封不逾期的函")  # overdue first
        r = client.post(f"/inquiries/{letter.id}/extend", data={"new_deadline": "2026-10-09", "reason": "x",
                                                               "expected_state": "acknowledged"})
        assert r.status_code == 422 and "晚于" in r.get_data(as_text=True)
        r = client.post(f"/inquiries/{letter.id}/extend", data={"new_deadline": "2026-10-20",
                                                               "reason": "对方正在整理资料",
                                                               "expected_state": "acknowledged"})
        assert r.status_code == 302
        db.session.refresh(letter)
        assert letter.deadline == date(2026, 10, 20) and not letter.is_overdue
        assert client.post(f"/inquiries/{letter.id}/remind", data={"comment": "请尽快"}).status_code == 302
        page = client.get(f"/inquiries/{letter.id}").get_data(as_text=True)
        assert "延期" in page and "催办" in page and "对方正在整理资料" in page


def test_admin_pages(inq, client, login, db):
    login(inq.admin)
    assert "临财绩函" in client.get("/inquiries/admin/codes").get_data(as_text=True)
    r = client.post("/inquiries/admin/codes", data={"organisation_id": inq.finance_bureau.id, "code": "临财 函"})
    assert r.status_code == 422
    r = client.post("/inquiries/admin/holidays", data={"day": "2027-01-01", "name": "元旦"})
    assert r.status_code == 302
    assert "2027年1月1日" in client.get("/inquiries/admin/holidays?year=2027").get_data(as_text=True)
    client.post("/logout")
    login(inq.finance)
    assert client.get("/inquiries/admin/holidays").status_code == 403


def test_english_pages(inq, client, login, db):
    letter = make_letter(inq, "sent")
    login(inq.audit)
    client.get("/lang/en")
    page = client.get(f"/inquiries/{letter.id}").get_data(as_text=True)
    assert "Requested items" in page and "Acknowledge" in page
    assert "Letter inquiries" in client.get("/inquiries/").get_data(as_text=True)


def test_unknown_year_warning_and_project_filter(inq, client, login, db):
    project = make_project(inq.department, name="公路养护项目")
    db.session.commit()
    late = make_letter(inq, "sent", deadline_workdays=None, deadline=date(2028, 3, 1), project_ids=[project.id])
    other = make_letter(inq, "sent", title="不相关的函")
    login(inq.audit)
    assert "尚未录入" in client.get(f"/inquiries/{late.id}").get_data(as_text=True)
    assert "尚未录入" not in client.get(f"/inquiries/{other.id}").get_data(as_text=True)
    listing = client.get(f"/inquiries/?project={project.id}").get_data(as_text=True)
    assert late.title in listing and "不相关的函" not in listing


def test_the_signer_sees_the_deadline_and_its_warning_before_signing(inq, client, login, db):
    """Late December, 10 working days: the deadline falls in 2027, whose schedule is not loaded.
    The drafter's form and the signer's page show the date and the warning before signing."""
    day = date(2026, 12, 21)
    letter = make_letter(inq, "pending_signoff", on=day, deadline_workdays=10)
    with clock.frozen(day):
        login(inq.finance)
        form_page = client.get("/inquiries/new").get_data(as_text=True)
        assert 'id="deadline-preview"' in form_page and 'id="deadline-warning"' in form_page and "2027" in form_page
        client.post("/logout")
        login(inq.finance_signer)
        page = client.get(f"/inquiries/{letter.id}").get_data(as_text=True)
        # 22, 23, 24, 25, 28, 29, 30, 31 Dec, (1 Jan 元旦), 4, 5 Jan
        assert "如今天签发，为 2027年1月5日" in page and 'id="deadline-warning"' in page
    with clock.frozen(date(2026, 11, 2)):
        page = client.get(f"/inquiries/{letter.id}").get_data(as_text=True)
        assert "如今天签发" in page and 'id="deadline-warning"' not in page  # 16 Nov 2026: known


def test_the_letter_form_refuses_tampered_rows_markings_and_buttons(inq, client, login, db):
    login(inq.finance)
    for data, message in [(form(inq, marking="public-ish"), "公开属性的取值无效"),
                          (form(inq, urgency="x" * 300), "紧急程度的取值无效"),
                          (form(inq, items=["事项" * 501]), "最多 1000 个字"),
                          (form(inq, items=["一项"] * 101), "最多 100 行"),
                          (form(inq, then="sign-and-send"), "操作的取值无效"),
                          (form(inq, expected_state="flying"), "状态的取值无效")]:
        r = client.post("/inquiries/new", data=data)
        text = r.get_data(as_text=True)
        assert r.status_code == 422 and message in text and "现商请贵局提供以下资料" in text, message
        assert only_letter(db) is None, message
    # control characters in an item are dropped at the edge; a valid letter is saved as a draft
    r = client.post("/inquiries/new", data=form(inq, items=["2025年度\x00审计\x1b报告"], then="save"))
    assert r.status_code == 302
    letter = only_letter(db)
    assert [i.description for i in letter.items] == ["2025年度审计报告"] and letter.state.value == "draft"


def test_steps_and_reminders_refuse_tampered_states_and_over_long_comments(inq, client, login, db):
    letter = make_letter(inq, "pending_signoff")
    login(inq.finance_signer)
    with clock.frozen(SENT_ON):
        for data in ({"expected_state": "x" * 100, "comment": "请补充"},
                     {"expected_state": "pending_signoff", "comment": "补" * 2001}):
            r = client.post(f"/inquiries/{letter.id}/do/return", data=data)
            assert r.status_code == 422, data
            db.session.refresh(letter)
            assert letter.state.value == "pending_signoff"
        assert client.post(f"/inquiries/{letter.id}/do/return", data={"expected_state": "pending_signoff",
                                                                      "comment": "请补充"}).status_code == 302
    sent = make_letter(inq, "acknowledged", title="催办用的函")
    client.post("/logout")
    login(inq.finance)
    with clock.frozen(date(2026, 10, 13)):
        r = client.post(f"/inquiries/{sent.id}/remind", data={"comment": "催" * 1001})
        assert r.status_code == 422 and "不能超过 1000 个字符" in r.get_data(as_text=True)
        r = client.post(f"/inquiries/{sent.id}/extend", data={"new_deadline": "2026-10-20", "reason": "整理资料",
                                                             "expected_state": "答复了"})
        assert r.status_code == 422
        db.session.refresh(sent)
        assert sent.deadline == date(2026, 10, 10)
