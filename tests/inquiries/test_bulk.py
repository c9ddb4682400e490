"""The letter list's bulk bar (issue 18): 催办 or 办结 the ticked letters, each through its own
operation; a letter the step refuses is named with the reason, the others are done."""
import sqlalchemy as sa

from portal.core.audit import AuditEntry, record_key
from portal.core.notifications import Notification
from portal.inquiries.models import Letter, LetterState
from tests.factories import make_letter


def _entries(letter, action):
    record_type, record_id = record_key(letter)
    return db_count(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.action == action, AuditEntry.record_type == record_type, AuditEntry.record_id == record_id))


def db_count(stmt):
    from portal.extensions import db

    return db.session.execute(stmt).scalar_one()


def test_remind_the_ticked_letters_and_name_the_refused_one(inq, db, client, login):
    waiting = make_letter(inq, "acknowledged", title="关于提供审计报告的函")
    closed = make_letter(inq, "closed", title="关于提供决算报表的函")
    incoming = make_letter(inq, "sent", reverse=True, title="关于核实项目资金的函")  # audit's letter to finance
    before = db_count(sa.select(sa.func.count()).select_from(Notification).where(Notification.kind == "reminder"))
    login(inq.finance)
    response = client.post("/inquiries/bulk", data={"action": "remind", "ids": [waiting.id, closed.id, incoming.id],
                                                    "comment": "请于本周内答复", "back": "/inquiries/?state="},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.request.path == "/inquiries/"
    assert "已办理 1 项。" in page
    assert f"{closed.doc_number} 未办理" in page and f"{incoming.doc_number} 未办理" in page
    assert _entries(waiting, "inquiry.remind") == 1
    assert _entries(closed, "inquiry.remind") == 0 and _entries(incoming, "inquiry.remind") == 0
    after = db_count(sa.select(sa.func.count()).select_from(Notification).where(Notification.kind == "reminder"))
    assert after > before


def test_close_the_answered_letters_and_keep_the_others(inq, db, client, login):
    answered = make_letter(inq, "answered")
    waiting = make_letter(inq, "acknowledged")
    login(inq.finance)
    response = client.post("/inquiries/bulk", data={"action": "close", "ids": [answered.id, waiting.id]},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "已办理 1 项。" in page and f"{waiting.doc_number} 未办理" in page
    db.session.expire_all()
    assert db.session.get(Letter, answered.id).state == LetterState.CLOSED
    assert db.session.get(Letter, waiting.id).state == LetterState.ACKNOWLEDGED


def test_the_bar_is_on_the_list_for_bureau_staff_only(inq, db, client, login):
    make_letter(inq, "acknowledged")
    login(inq.finance)
    page = client.get("/inquiries/").get_data(as_text=True)
    assert 'action="/inquiries/bulk"' in page and 'name="ids"' in page
    client.post("/logout")
    login(inq.observer)
    page = client.get("/inquiries/").get_data(as_text=True)
    assert 'action="/inquiries/bulk"' not in page
    assert client.post("/inquiries/bulk", data={"action": "remind", "ids": [1]}).status_code == 403


def test_a_tampered_bar_changes_nothing(inq, db, client, login):
    letter = make_letter(inq, "acknowledged")
    login(inq.finance)
    assert client.post("/inquiries/bulk", data={"action": "delete", "ids": [letter.id]}).status_code == 400
    assert client.post("/inquiries/bulk", data={"action": "remind", "ids": ["1; drop"]}).status_code == 400
    response = client.post("/inquiries/bulk", data={"action": "remind"}, follow_redirects=True)
    assert "请先勾选记录。" in response.get_data(as_text=True)
    assert _entries(letter, "inquiry.remind") == 0
