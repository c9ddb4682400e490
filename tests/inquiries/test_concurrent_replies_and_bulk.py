"""Letters under real concurrency (issue 18's new write paths): two signers signing off the same
reply at once sign it off once (one audit entry, one set of notifications, the answers written
once); two officers running the same bulk step on overlapping ticked letters move each letter
once and neither request dies on a deadlock."""
import pytest
import sqlalchemy as sa

from portal.accounts.models import Role
from portal.core import clock
from portal.core.audit import AuditEntry
from portal.core.notifications import Notification
from portal.inquiries import operations as ops
from portal.inquiries.models import Letter, LetterReply, LetterState, ReplyState
from tests.concurrency import in_parallel, signed_in
from tests.factories import make_user
from tests.inquiries.conftest import SENT_ON, make_letter


def _count(model, *where) -> int:
    from portal.extensions import db

    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _per_letter(ids, action) -> dict[int, int]:
    from portal.extensions import db

    rows = db.session.execute(sa.select(AuditEntry.record_id, sa.func.count()).where(
        AuditEntry.action == action, AuditEntry.record_type == Letter.__tablename__,
        AuditEntry.record_id.in_([str(i) for i in ids])).group_by(AuditEntry.record_id)).all()
    return {int(i): n for i, n in rows}


# ---- the reply's sign-off (签发复函) -------------------------------------------------------------

@pytest.mark.commits
@pytest.mark.parametrize("partial", [False, True], ids=["whole-reply", "partial-reply"])
def test_two_signers_signing_off_one_reply_at_once_sign_it_once(app, inq, db, partial):
    second_signer = make_user(inq.audit_bureau, Role.SIGNER, Role.AUDIT_LIAISON, username="t_asigner2",
                              display_name="孙伟")
    letter = make_letter(inq, "acknowledged")
    with clock.frozen(SENT_ON):
        answered = letter.items[:1] if partial else letter.items  # a partial reply leaves the letter open
        part = ops.reply(letter, {i.id: ("provided", "随函附送") for i in answered}, actor=inq.audit,
                         and_submit=True)
    answered_ids = [i.id for i in answered]
    db.session.commit()
    letter_id, part_id = letter.id, part.id
    notes_before = _count(Notification)
    clients = [signed_in(app, inq.audit_signer), signed_in(app, second_signer)]
    db.session.rollback()
    url = f"/inquiries/{letter_id}/replies/{part_id}/do/approve"
    with clock.frozen(SENT_ON):
        responses = in_parallel([lambda c=c: c.post(url, data={"expected_state": "pending_signoff"})
                                 for c in clients])
    assert sorted(r.status_code for r in responses) == [302, 422]
    refused = next(r for r in responses if r.status_code == 422).get_data(as_text=True)
    assert "已被他人处理" in refused  # the stale-state message, not a server error
    db.session.expire_all()
    part = db.session.get(LetterReply, part_id)
    letter = db.session.get(Letter, letter_id)
    assert part.state == ReplyState.SENT and part.signer_id in (inq.audit_signer.id, second_signer.id)
    assert letter.state == (LetterState.ACKNOWLEDGED if partial else LetterState.ANSWERED)
    assert {i.id: i.reply_id for i in letter.items} == {i.id: part_id if i.id in answered_ids else None
                                                        for i in letter.items}
    assert _per_letter([letter_id], "inquiry.reply") == {letter_id: 1}
    assert _count(AuditEntry, AuditEntry.action == "inquiry.answer",
                  AuditEntry.record_id == str(letter_id)) == (0 if partial else 1)
    # one set of notifications: the asking bureau's staff and the drafter once, the reply's author once
    title = "收到部分答复%" if partial else "来函已答复%"
    told = db.session.scalars(sa.select(Notification.user_id).where(Notification.title.like(title))).all()
    assert told and len(told) == len(set(told))
    assert _count(Notification, Notification.title.like("复函已签发%")) == 1
    assert _count(Notification) - notes_before == len(told) + 1


# ---- bulk steps on the letter list (批量催办 / 办结) ---------------------------------------------

def _two_officers(app, inq):
    colleague = make_user(inq.finance_bureau, Role.FINANCE_OFFICER, username="t_finance2", display_name="李明")
    from portal.extensions import db

    db.session.commit()
    clients = [signed_in(app, inq.finance), signed_in(app, colleague)]
    db.session.rollback()
    return clients


@pytest.mark.commits
def test_two_officers_closing_overlapping_letters_close_each_once(app, inq, db):
    ids = [make_letter(inq, "answered").id for _ in range(8)]
    clients = _two_officers(app, inq)
    ticked = [ids[:6], list(reversed(ids[2:]))]  # four letters ticked by both, in opposite orders
    responses = in_parallel([lambda c=c, t=t: c.post("/inquiries/bulk", data={"action": "close", "ids": t})
                             for c, t in zip(clients, ticked, strict=True)])
    assert [r.status_code for r in responses] == [302, 302], [r.get_data(as_text=True)[:300] for r in responses]
    db.session.expire_all()
    assert set(db.session.scalars(sa.select(Letter.state).where(Letter.id.in_(ids)))) == {LetterState.CLOSED}
    assert _per_letter(ids, "inquiry.close") == dict.fromkeys(ids, 1)
    closed = db.session.scalars(sa.select(Notification.link).where(Notification.title.like("函件已办结%"))).all()
    staff = len(ops._staff_of(inq.audit_bureau.id))
    assert len(closed) == len(ids) * staff  # the audit bureau told once per letter


@pytest.mark.commits
def test_two_officers_reminding_overlapping_letters_both_get_through(app, inq, db):
    ids = [make_letter(inq, "acknowledged").id for _ in range(8)]
    clients = _two_officers(app, inq)
    ticked = [ids[:6], list(reversed(ids[2:]))]
    responses = in_parallel([lambda c=c, t=t: c.post("/inquiries/bulk", data={
        "action": "remind", "ids": t, "comment": "请尽快答复"}) for c, t in zip(clients, ticked, strict=True)])
    assert [r.status_code for r in responses] == [302, 302], [r.get_data(as_text=True)[:300] for r in responses]
    db.session.expire_all()
    # each officer's 催办 recorded once per letter ticked: two on the overlap, one elsewhere
    assert _per_letter(ids, "inquiry.remind") == {i: (2 if i in ids[2:6] else 1) for i in ids}
    staff = len(ops._staff_of(inq.audit_bureau.id))
    assert _count(Notification, Notification.kind == "reminder") == 12 * staff
