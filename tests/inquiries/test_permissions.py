"""Who can see a letter: by page, list, print, Word file, attachment link and API, per role."""
import sqlalchemy as sa

from portal.core.api import create_token
from portal.core.attachments import store_bytes
from portal.core.permissions import visible
from portal.inquiries.models import Letter
from tests.inquiries.conftest import make_letter

READERS_OF_ISSUED = {"finance", "finance_signer", "admin", "audit", "audit_signer", "conference", "observer"}
READERS_OF_DRAFT = {"finance", "finance_signer", "admin"}  # the sender bureau only
# experts (on the finance bureau's books), budget units and agencies never see letters


def test_permission_matrix_every_role(inq, client, login, db):
    draft = make_letter(inq, "draft")
    sent = make_letter(inq, "answered")
    attachment = store_bytes("审计报告.txt", "审计报告正文".encode(), actor=inq.audit, record=sent.replies[0])
    db.session.commit()
    tokens = {name: create_token(user, "t")[1] for name, user in inq.users().items()}
    db.session.commit()
    for name, user in inq.users().items():
        seen = set(db.session.scalars(visible(user, Letter).with_only_columns(Letter.id)))
        for letter, readers in ((draft, READERS_OF_DRAFT), (sent, READERS_OF_ISSUED)):
            allowed = name in readers
            assert (letter.id in seen) == allowed, (name, letter.state)
            login(user)
            for url in (f"/inquiries/{letter.id}", f"/inquiries/{letter.id}/print", f"/inquiries/{letter.id}/docx"):
                status = client.get(url).status_code
                assert status == (200 if allowed else 403), (name, url, status)
            if letter is sent:
                assert client.get(f"/files/{attachment.id}").status_code == (200 if allowed else 403), name
            client.post("/logout")
            headers = {"Authorization": f"Bearer {tokens[name]}"}
            r = client.get(f"/api/v1/inquiries/{letter.id}", headers=headers)
            assert r.status_code == (200 if allowed else 404), (name, "api")
        login(user)
        assert client.get("/inquiries/").status_code == (200 if name in READERS_OF_ISSUED else 403), name
        client.post("/logout")
        listed = client.get("/api/v1/inquiries", headers={"Authorization": f"Bearer {tokens[name]}"}).get_json()
        assert {i["id"] for i in listed["items"]} == seen


def test_observers_read_but_never_act(inq, client, login, db):
    letter = make_letter(inq, "sent")
    for user in (inq.conference, inq.observer, inq.unit, inq.agency):
        login(user)
        for action in ("acknowledge", "withdraw", "approve"):
            r = client.post(f"/inquiries/{letter.id}/do/{action}", data={"expected_state": "sent"})
            assert r.status_code == 403, (user.username, action)
        assert client.post(f"/inquiries/{letter.id}/remind").status_code == 403
        assert client.post(f"/inquiries/{letter.id}/reply", data={}).status_code == 403
        assert client.get("/inquiries/new").status_code == 403
        client.post("/logout")
    db.session.refresh(letter)
    assert letter.state.value == "sent"


def test_api_detail_has_items_and_history_and_filters(inq, client, db):
    letter = make_letter(inq, "answered")
    make_letter(inq, "draft")
    raw = create_token(inq.audit, "t")[1]
    db.session.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    body = client.get(f"/api/v1/inquiries/{letter.id}", headers=headers).get_json()
    assert body["number"] == "临财绩函〔2026〕1号" and len(body["items"]) == 2
    assert [h["action"] for h in body["history"]][:3] == ["inquiry.create", "inquiry.submit", "inquiry.approve"]
    assert client.get("/api/v1/inquiries?direction=incoming&state=answered", headers=headers).get_json()["total"] == 1
    assert client.get("/api/v1/inquiries?state=closed", headers=headers).get_json()["total"] == 0
    assert client.get("/api/v1/inquiries").status_code == 401
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/inquiries" in spec["paths"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Letter)) == 2
