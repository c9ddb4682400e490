"""Letters on the core write path (issue 14): stale drafts refused, one number per sign-off with
no gaps under real concurrency, double submissions written once, every change audited."""
import json

import pytest
import sqlalchemy as sa

from portal.core import clock, counters
from portal.core.audit import AuditEntry
from portal.core.errors import DomainError, IllegalTransition, NotPermitted, StaleRecord
from portal.core.notifications import Notification
from portal.inquiries import operations as ops
from portal.inquiries.models import IssuingCode, Letter, LetterState
from tests.concurrency import in_parallel, signed_in
from tests.factories import make_user
from tests.inquiries.conftest import SENT_ON, make_letter
from tests.inquiries.test_views import form

SCOPE = "inquiry:临财绩函"


def _page_form(html: str, name: str) -> str:
    """The value of the hidden input `name` in a rendered form."""
    import re

    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', html)
    return match.group(1) if match else ""


def _audit(letter, action):
    return _entries("inquiry_letters", letter.id, action)


def _entries(record_type, record_id, action=None):
    from portal.extensions import db

    stmt = sa.select(AuditEntry).where(AuditEntry.record_type == record_type,
                                       AuditEntry.record_id == str(record_id)).order_by(AuditEntry.id)
    return [e for e in db.session.scalars(stmt) if action is None or e.action == action]


# ---- stale saves -------------------------------------------------------------------------------

def test_a_b_stale_draft_b_refused_a_kept_b_input_on_the_page(app, inq, db):
    letter = make_letter(inq)
    colleague = make_user(inq.finance_bureau, username="t_finance2", display_name="李明")
    db.session.commit()
    a, b = signed_in(app, colleague), signed_in(app, inq.finance)
    page_a = a.get(f"/inquiries/{letter.id}/edit").get_data(as_text=True)
    page_b = b.get(f"/inquiries/{letter.id}/edit").get_data(as_text=True)
    version = _page_form(page_a, "lock_version")
    assert version and version == _page_form(page_b, "lock_version")

    r = a.post(f"/inquiries/{letter.id}/edit", data=form(inq, title="A改过的标题", lock_version=version,
                                                       expected_state="draft"))
    assert r.status_code == 302
    r = b.post(f"/inquiries/{letter.id}/edit", data=form(inq, items=["审计报告", "B新增的事项"],
                                                       lock_version=version, expected_state="draft"))
    text = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "已被李明" in text and "标题" in text  # who changed what
    assert "B新增的事项" in text  # B's input is still on the page
    db.session.expire_all()
    letter = db.session.get(Letter, letter.id)
    assert letter.title == "A改过的标题"
    assert [i.description for i in letter.items] == ["2025年度审计报告", "审计决定书"]


def test_items_only_change_moves_the_version_on(inq, db):
    letter = make_letter(inq)
    version = letter.lock_version
    ops.update_letter(letter, _same_data(inq, letter, items=["审计报告", "整改报告"]), actor=inq.finance, version=version)
    db.session.commit()
    assert letter.lock_version == version + 1
    with pytest.raises(StaleRecord, match="函询事项"):
        ops.update_letter(letter, _same_data(inq, letter, title="另一标题"), actor=inq.finance, version=version)


def test_stale_issuing_code_b_refused(app, inq, db):
    a, b = signed_in(app, inq.admin), signed_in(app, inq.admin)
    url = f"/inquiries/admin/codes?org={inq.finance_bureau.id}"
    version = _page_form(a.get(url).get_data(as_text=True), "lock_version")
    assert version == _page_form(b.get(url).get_data(as_text=True), "lock_version")
    base = {"organisation_id": inq.finance_bureau.id, "lock_version": version}
    assert a.post("/inquiries/admin/codes", data={**base, "code": "临财函", "header": "测试市财政局"}).status_code == 302
    r = b.post("/inquiries/admin/codes", data={**base, "code": "临财绩函", "header": "B的版头"})
    text = r.get_data(as_text=True)
    assert r.status_code == 422 and "已被" in text and "B的版头" in text
    db.session.expire_all()
    row = db.session.scalar(sa.select(IssuingCode).where(IssuingCode.organisation_id == inq.finance_bureau.id))
    assert (row.code, row.header) == ("临财函", "测试市财政局")


# ---- sign-off and numbering --------------------------------------------------------------------

def test_four_parallel_signoffs_one_number_one_notification(app, inq, db):
    letter = make_letter(inq, "pending_signoff")
    clients = [signed_in(app, inq.finance_signer) for _ in range(4)]
    db.session.rollback()
    url = f"/inquiries/{letter.id}/do/approve"
    with clock.frozen(SENT_ON):
        responses = in_parallel([lambda c=c: c.post(url, data={"expected_state": "pending_signoff"})
                                 for c in clients])
    assert sorted(r.status_code for r in responses) == [302, 422, 422, 422]
    db.session.expire_all()
    letter = db.session.get(Letter, letter.id)
    assert letter.state == LetterState.SENT and letter.number_seq == 1
    assert counters.last(SCOPE, 2026) == 1
    incoming = db.session.scalars(sa.select(Notification.title).where(Notification.title.like("新来函%"))).all()
    assert len(set(incoming)) == 1 and len(incoming) == len(ops._staff_of(inq.audit_bureau.id))
    assert len(_audit(letter, "inquiry.approve")) == 1


def test_twenty_letters_signed_partly_at_once_have_no_gaps(app, inq, db):
    ids = [make_letter(inq, "pending_signoff").id for _ in range(20)]
    clients = [signed_in(app, inq.finance_signer) for _ in range(4)]
    db.session.rollback()

    def sign(client, mine):
        return [client.post(f"/inquiries/{i}/do/approve", data={"expected_state": "pending_signoff"}).status_code
                for i in mine]

    # every letter is signed by two clients at about the same time
    shares = [ids[0:10], ids[5:15], ids[10:20], ids[15:] + ids[:5]]
    with clock.frozen(SENT_ON):
        results = in_parallel([lambda c=c, m=m: sign(c, m) for c, m in zip(clients, shares, strict=True)])
    codes = [code for codes in results for code in codes]
    assert codes.count(302) == 20 and codes.count(422) == len(codes) - 20
    db.session.expire_all()
    numbers = sorted(db.session.scalars(sa.select(Letter.number_seq).where(Letter.id.in_(ids))))
    assert numbers == list(range(1, 21))
    assert counters.last(SCOPE, 2026) == 20


def test_a_refused_signoff_takes_no_number(inq, db):
    letter = make_letter(inq, "pending_signoff")
    with clock.frozen(SENT_ON):
        for refused in (lambda: ops.approve(letter, actor=inq.finance),  # the drafter
                        lambda: ops.approve(letter, actor=inq.audit_signer),  # the other bureau
                        lambda: ops.approve(letter, actor=inq.finance_signer, expected_state="draft")):
            with pytest.raises((NotPermitted, StaleRecord)):
                refused()
            assert counters.last(SCOPE, 2026) == 0  # not taken (not merely rolled back)
            db.session.rollback()
        ops.approve(letter, actor=inq.finance_signer)
        db.session.commit()
        with pytest.raises(IllegalTransition):  # a duplicate sign-off
            ops.approve(letter, actor=inq.finance_signer)
        assert counters.last(SCOPE, 2026) == 1
        db.session.rollback()
        other = make_letter(inq, "pending_signoff")
        db.session.execute(sa.delete(IssuingCode).where(IssuingCode.organisation_id == inq.finance_bureau.id))
        with pytest.raises(DomainError, match="代字"):
            ops.approve(other, actor=inq.finance_signer)
        assert counters.last(SCOPE, 2026) == 1


# ---- double submissions ------------------------------------------------------------------------

def test_draft_form_posted_twice_with_the_same_key_makes_one_letter(inq, client, login, db):
    login(inq.finance)
    data = form(inq, form_key="draft-key-1")
    first = client.post("/inquiries/new", data=data)
    again = client.post("/inquiries/new", data=data)
    assert first.status_code == 302 and again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Letter)) == 1


def test_signoff_posted_twice_with_the_same_key_signs_once(inq, client, login, db):
    letter = make_letter(inq, "pending_signoff")
    login(inq.finance_signer)
    data = {"expected_state": "pending_signoff", "form_key": "sign-key-1"}
    with clock.frozen(SENT_ON):
        assert client.post(f"/inquiries/{letter.id}/do/approve", data=data).status_code == 302
        assert client.post(f"/inquiries/{letter.id}/do/approve", data=data).status_code == 302
    assert counters.last(SCOPE, 2026) == 1


# ---- audit -------------------------------------------------------------------------------------

def _same_data(inq, letter, **over) -> ops.LetterData:
    values = dict(addressee_org_id=letter.addressee_org_id, title=letter.title, urgency=str(letter.urgency),
                  marking=str(letter.marking), body=letter.body, copies=letter.copies, deadline=letter.deadline,
                  deadline_workdays=letter.deadline_workdays, contact_person=letter.contact_person,
                  contact_phone=letter.contact_phone, items=[i.description for i in letter.items])
    values.update(over)
    return ops.LetterData(**values)


def test_editing_the_body_audits_before_and_after(inq, db):
    letter = make_letter(inq)
    old_body = letter.body
    ops.update_letter(letter, _same_data(inq, letter, body="新的正文。"), actor=inq.finance, version=letter.lock_version)
    db.session.commit()
    (entry,) = _audit(letter, "inquiry.edit")
    before, after = json.loads(entry.before), json.loads(entry.after)
    assert before == {"body": old_body} and after == {"body": "新的正文。"}


def test_editing_items_audits_the_items(inq, db):
    letter = make_letter(inq)
    ops.update_letter(letter, _same_data(inq, letter, items=["审计报告", "整改报告"]),
                      actor=inq.finance, version=letter.lock_version)
    (entry,) = _audit(letter, "inquiry.edit")
    assert json.loads(entry.before) == {"items": ["审计报告", "审计决定书"]}
    assert json.loads(entry.after) == {"items": ["审计报告", "整改报告"]}


def test_issuing_code_change_is_audited_on_the_code(inq, db):
    row = ops.issuing_code_of(inq.finance_bureau.id)
    ops.set_issuing_code(inq.finance_bureau, "临财函", "测试市财政局", actor=inq.admin, version=row.lock_version)
    entries = _entries("inquiry_issuing_codes", row.id)
    assert json.loads(entries[-1].before) == {"code": "临财绩函"} and json.loads(entries[-1].after) == {"code": "临财函"}
