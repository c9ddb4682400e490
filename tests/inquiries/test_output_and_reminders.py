import io
from datetime import date, datetime

import docx

from portal.core import clock
from portal.core.audit import history
from portal.core.notifications import Notification, run_reminders
from tests.inquiries.conftest import make_letter


def test_docx_opens_and_holds_number_addressee_and_body(inq, client, login, db):
    letter = make_letter(inq, "sent")
    login(inq.audit)
    r = client.get(f"/inquiries/{letter.id}/docx")
    assert r.status_code == 200
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(r.data)).paragraphs)
    assert "临财绩函〔2026〕1号" in text
    assert "测试市审计局：" in text
    assert "为做好预算项目财政评价工作" in text
    assert "此函。" in text and "抄送：市人大常委会预算工作委员会。" in text
    assert "2026年9月28日" in text


def test_print_page_in_letter_layout(inq, client, login, db):
    letter = make_letter(inq, "sent")
    login(inq.finance)
    page = client.get(f"/inquiries/{letter.id}/print").get_data(as_text=True)
    for part in ("letter-header", "测试市财政局", "临财绩函〔2026〕1号", "测试市审计局：", "此函。",
                 "2026年9月28日", "联系人：王建华", "抄送：市人大常委会预算工作委员会。"):
        assert part in page, part


def test_reminders_before_and_after_deadline_each_once(inq, db):
    letter = make_letter(inq, "sent")  # deadline: 2026-10-10 (the 调休 Saturday)
    assert letter.deadline == date(2026, 10, 10)
    with clock.frozen(datetime(2026, 9, 30, 9)):  # 3 working days left: nothing yet
        assert run_reminders()["inquiries"] == 0
    with clock.frozen(datetime(2026, 10, 8, 9)):  # 2 working days left (8th→9th, 10th)
        assert run_reminders()["inquiries"] == 1
        assert run_reminders()["inquiries"] == 0
    with clock.frozen(datetime(2026, 10, 12, 9)):
        assert run_reminders()["inquiries"] == 1
        assert run_reminders()["inquiries"] == 0
    actions = [e.action for e in history(letter)]
    assert actions.count("reminder.sent") == 2
    audit_notes = db.session.query(Notification).filter_by(user_id=inq.audit.id, kind="reminder").count()
    sender_notes = db.session.query(Notification).filter_by(user_id=inq.finance.id, kind="reminder").count()
    assert audit_notes == 2 and sender_notes == 1  # the sender hears only of the overdue stage


def test_dashboard_and_overview_panels(inq, client, login, db, app):
    from portal.inquiries.panels import overview_section

    make_letter(inq, "sent")
    login(inq.audit)
    with clock.frozen(date(2026, 10, 20)):
        page = client.get("/").get_data(as_text=True)
        assert "来函已逾期" in page
        with app.test_request_context("/"):
            html = overview_section(inq.observer, 2026)
            assert overview_section(inq.unit, 2026) is None
    assert "财政局 → 审计局" in html and "overdue=1" in html


def test_dashboard_figures_count_each_bureau_side(inq, db):
    """What waits on each bureau: answers owed (and late), answers awaited (and late), letters to
    sign and answered letters to close; a draft, a closed and a withdrawn letter count nowhere."""
    from portal.inquiries.queries import counts

    for state in ("draft", "pending_signoff", "sent", "acknowledged", "answered", "closed", "withdrawn"):
        make_letter(inq, state)
    make_letter(inq, "sent", reverse=True)
    make_letter(inq, "acknowledged", reverse=True, on=date(2026, 10, 19))  # answer due after the 20th
    with clock.frozen(date(2026, 10, 20)):
        finance, audit = counts(inq.finance), counts(inq.audit)
    assert finance == {"incoming_open": 2, "incoming_overdue": 1, "outgoing_open": 2, "outgoing_overdue": 2,
                       "to_sign": 1, "to_close": 1}
    assert audit == {"incoming_open": 2, "incoming_overdue": 2, "outgoing_open": 2, "outgoing_overdue": 1,
                     "to_sign": 0, "to_close": 0}
