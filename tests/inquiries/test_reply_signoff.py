"""The audit bureau's reply is drafted by its liaison and signed off (签发) by its signer before
the asking bureau sees it, as the letter itself was; each item's answer carries its own
evidence files (issue 18)."""
import io

import sqlalchemy as sa

from portal.core import clock
from portal.core.api import create_token
from portal.core.attachments import Attachment
from portal.inquiries import operations as ops
from portal.inquiries.models import ReplyAnswer
from tests.inquiries.conftest import SENT_ON, make_letter

PDF = b"%PDF-1.4\n%evidence for item one\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def switch(client, login, user):
    client.post("/logout")
    login(user)


def draft_reply(client, letter, then="submit", **files):
    first, second = letter.items
    data = {"expected_state": "acknowledged", f"outcome_{first.id}": "provided",
            f"reason_{first.id}": "审计报告随函附送（第一项说明）", "note": "复函说明：先行提供第一项", "then": then}
    data.update(files)
    return client.post(f"/inquiries/{letter.id}/reply", data=data, content_type="multipart/form-data")


def only_reply(letter):
    from portal.extensions import db

    db.session.expire_all()
    return ops.unsent_reply(letter) or letter.replies[-1]


def test_asking_bureau_sees_the_reply_only_after_sign_off(inq, client, login, db):
    letter = make_letter(inq, "acknowledged")
    first, _second = letter.items
    tokens = {u.id: create_token(u, "t")[1] for u in (inq.finance, inq.finance_signer, inq.observer)}
    db.session.commit()

    def api(reader):
        return client.get(f"/api/v1/inquiries/{letter.id}", headers={"Authorization": f"Bearer {tokens[reader.id]}"}
                          ).get_json()

    with clock.frozen(SENT_ON):
        login(inq.audit)
        assert draft_reply(client, letter).status_code == 302
        part = only_reply(letter)
        assert part.state.value == "pending_signoff"
        own = client.get(f"/inquiries/{letter.id}").get_data(as_text=True)
        assert "审计报告随函附送（第一项说明）" in own and "签发前，对方看不到这份复函。" in own

        for reader in (inq.finance, inq.finance_signer, inq.observer):
            switch(client, login, reader)
            page = client.get(f"/inquiries/{letter.id}").get_data(as_text=True)
            assert "审计报告随函附送（第一项说明）" not in page and "复函说明：先行提供第一项" not in page
            assert "待答复" in page
            answer = api(reader)
            assert answer["items"][0]["outcome"] is None
            assert not any(e["action"].startswith(("inquiry_reply", "inquiry.reply")) for e in answer["history"])
        # the asking bureau cannot sign it off for the audit bureau, nor can the liaison who drafted it
        switch(client, login, inq.finance_signer)
        assert client.post(f"/inquiries/{letter.id}/replies/{part.id}/do/approve").status_code == 403
        switch(client, login, inq.audit)
        assert client.post(f"/inquiries/{letter.id}/replies/{part.id}/do/approve").status_code == 403

        switch(client, login, inq.audit_signer)
        r = client.post(f"/inquiries/{letter.id}/replies/{part.id}/do/approve",
                        data={"expected_state": "pending_signoff"})
        assert r.status_code == 302
        db.session.refresh(first)
        assert first.outcome.value == "provided" and first.answered_by == inq.audit

        for reader in (inq.finance, inq.observer):
            switch(client, login, reader)
            page = client.get(f"/inquiries/{letter.id}").get_data(as_text=True)
            assert "审计报告随函附送（第一项说明）" in page and "复函说明：先行提供第一项" in page
            assert f"签发人：{inq.audit_signer.display_name}" in page
            assert api(reader)["items"][0]["outcome"] == "provided"


def test_returned_reply_comes_back_as_a_draft_with_what_it_said(inq, client, login, db):
    letter = make_letter(inq, "acknowledged")
    first, second = letter.items
    login(inq.audit)
    draft_reply(client, letter)
    part = only_reply(letter)
    switch(client, login, inq.audit_signer)
    r = client.post(f"/inquiries/{letter.id}/replies/{part.id}/do/return", data={"expected_state": "pending_signoff"})
    assert "需要填写理由" in r.get_data(as_text=True)  # a return says why
    client.post(f"/inquiries/{letter.id}/replies/{part.id}/do/return",
                data={"expected_state": "pending_signoff", "comment": "请补充第二项"})
    db.session.refresh(part)
    assert part.state.value == "draft"
    switch(client, login, inq.audit)
    page = client.get(f"/inquiries/{letter.id}").get_data(as_text=True)
    assert "审计报告随函附送（第一项说明）" in page and "请补充第二项" in page  # the form keeps the draft
    r = client.post(f"/inquiries/{letter.id}/reply", data={
        "expected_state": "acknowledged", f"outcome_{first.id}": "provided", f"outcome_{second.id}": "not_held",
        f"reason_{second.id}": "未作出审计决定", "then": "submit"})
    assert r.status_code == 302
    db.session.refresh(part)
    assert part.state.value == "pending_signoff" and len(letter.replies) == 1
    assert sorted(a.outcome.value for a in part.answers) == ["not_held", "provided"]
    ops.approve_reply(part, actor=inq.audit_signer)
    db.session.commit()
    assert letter.state.value == "answered"


def test_evidence_per_item_upload_download_and_third_parties(inq, client, login, db):
    letter = make_letter(inq, "acknowledged")
    first, second = letter.items
    login(inq.audit)
    r = draft_reply(client, letter, **{f"files_{first.id}": (io.BytesIO(PDF), "第一项审计报告.pdf")})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    answer = db.session.scalars(sa.select(ReplyAnswer)).one()
    assert answer.item_id == first.id
    attachment = db.session.scalars(sa.select(Attachment).where(Attachment.filename == "第一项审计报告.pdf")).one()
    url = f"/files/{attachment.id}"
    assert client.get(url).data == PDF  # the drafting bureau reads its draft's evidence
    for user in (inq.finance, inq.observer, inq.unit, inq.agency):
        switch(client, login, user)
        assert client.get(url).status_code == 403, user.username  # nobody else before sign-off
        assert "第一项审计报告.pdf" not in client.get(f"/inquiries/{letter.id}").get_data(as_text=True)

    ops.approve_reply(ops.unsent_reply(letter), actor=inq.audit_signer)
    db.session.commit()
    for user in (inq.finance, inq.observer):
        switch(client, login, user)
        assert client.get(url).data == PDF
        page = client.get(f"/inquiries/{letter.id}").get_data(as_text=True)
        rows = page.split("<tbody>")[1].split("</tr>")
        assert "第一项审计报告.pdf" in rows[0] and "第一项审计报告.pdf" not in rows[1]  # under its own item
        assert "第一项审计报告.pdf" in client.get(f"/inquiries/{letter.id}/print").get_data(as_text=True)
        import docx

        text = "\n".join(p.text for p in docx.Document(io.BytesIO(
            client.get(f"/inquiries/{letter.id}/docx").data)).paragraphs)
        assert "第一项审计报告.pdf" in text
    for user in (inq.unit, inq.agency):  # a unit or an agency never reads letters, nor their files
        switch(client, login, user)
        assert client.get(url).status_code == 403


def test_evidence_is_checked_by_content_and_needs_an_outcome(inq, client, login, db):
    letter = make_letter(inq, "acknowledged")
    first, second = letter.items
    login(inq.audit)
    r = draft_reply(client, letter, **{f"files_{first.id}": (io.BytesIO(EXE), "报告.pdf")})
    assert r.status_code == 422 and "类型不受支持" in r.get_data(as_text=True)
    r = draft_reply(client, letter, **{f"files_{second.id}": (io.BytesIO(PDF), "第二项.pdf")})
    assert "第 2 项：请先选择答复结果" in r.get_data(as_text=True)
    assert db.session.scalars(sa.select(ReplyAnswer)).all() == []
