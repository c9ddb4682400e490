"""Operations on the answer (复函), item by item, and its sign-off (签发), mirroring the letter's:
the addressee's officer drafts a reply (an outcome, a reason and evidence files per item) and
submits it; the addressee's signer signs it off, and only then do the answers reach the items,
the asking bureau and the letter's state, or returns it with a comment. A letter has at most
one reply that is not yet sent. The transitions are `policies.REPLY_MACHINE`; the caller
(`portal.core.writes.perform`) commits. Re-exported by `operations` (the module's writers)."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.core import clock
from portal.core.attachments import AttachmentLink, save_upload
from portal.core.audit import record_change
from portal.core.errors import DomainError, IllegalTransition, NotPermitted, StaleRecord
from portal.core.notifications import notify
from portal.core.permissions import can
from portal.core.versions import touch
from portal.core.writes import lock
from portal.extensions import db
from portal.inquiries.models import UNSENT_REPLY, LetterReply, LetterState, Outcome, ReplyAnswer, ReplyState
from portal.inquiries.policies import MACHINE, REPLY_MACHINE

EVIDENCE = "evidence"  # the purpose of an item's evidence files (AttachmentLink.purpose)
MAX_NOTE = 20_000


def unsent_reply(letter) -> LetterReply | None:
    """The letter's reply being drafted or awaiting sign-off, if any."""
    return next((r for r in letter.replies if r.state in UNSENT_REPLY), None)


def answers_from(letter, values) -> dict[int, tuple[str, str]]:
    """The reply form's answers (outcome_<item id>, reason_<item id>) for the letter's items."""
    answers = {}
    for item in letter.items:
        outcome = values.get(f"outcome_{item.id}", "")
        if outcome:
            answers[item.id] = (outcome, values.get(f"reason_{item.id}", ""))
    return answers


def _chosen(letter, answers: dict[int, tuple[str, str]]) -> dict:
    open_items = {i.id: i for i in letter.open_items}
    chosen = {}
    for item_id, (outcome, reason) in answers.items():
        if not outcome:
            continue
        item = open_items.get(item_id)
        if item is None:
            raise StaleRecord(_("该事项已有答复，请刷新后重试。"))
        try:
            outcome = Outcome.coerce(outcome)
        except ValueError:
            raise DomainError(_("答复结果无效。"), field=f"outcome_{item_id}") from None
        reason = (reason or "").strip()
        if outcome in (Outcome.DECLINED, Outcome.PARTIAL, Outcome.NOT_HELD) and not reason:
            raise DomainError(_("第 %(n)s 项：“%(o)s”须说明理由。", n=item.position, o=outcome.label),
                              field=f"reason_{item_id}")
        if len(reason) > 5000:
            raise DomainError(_("说明不能超过 5000 字。"), field=f"reason_{item_id}")
        chosen[item] = (outcome, reason)
    return chosen


def _files(files) -> list:
    return [f for f in files or () if f and getattr(f, "filename", "")]


def _summary(part: LetterReply) -> dict:
    return {f"#{a.item.position}": a.outcome.value for a in part.answers}


def _drop(answer: ReplyAnswer) -> None:
    """An answer the draft no longer gives: its evidence goes with it (the file's links)."""
    db.session.execute(sa.delete(AttachmentLink).where(
        AttachmentLink.record_type == ReplyAnswer.__tablename__, AttachmentLink.record_id == answer.id))
    answer.reply.answers.remove(answer)


def reply(letter, answers: dict[int, tuple[str, str]] | None = None, *, actor, note: str = "",
          files=(), expected_state=None, form_values=None, item_files=None,
          and_submit: bool = False) -> LetterReply:
    """Draft the reply (or save the draft there is): outcomes for some open items (`answers`:
    item id → (outcome, reason), or the reply form's `form_values`), replacing what the draft
    said; `files` belong to the reply, `item_files` (item id → files) are each item's evidence.
    With `and_submit` it goes on to the signer. The asking bureau sees nothing of it until the
    signer signs it off (`approve_reply`)."""
    from portal.inquiries.operations import _attach, _check_stale, _lock_letter

    _lock_letter(letter)
    _check_stale(letter, expected_state)
    if not can(actor, "reply", letter):
        if letter.state not in (LetterState.ACKNOWLEDGED,):
            raise DomainError(_("当前状态（%(s)s）不能答复；请先签收。", s=letter.state.label))
        raise NotPermitted(_("只有主送机关的联络人员可以答复。"))
    db.session.expire(letter, ["replies"])
    part = unsent_reply(letter)
    if part is not None:
        lock(part)
        if part.state != ReplyState.DRAFT:
            raise IllegalTransition(_("已有一份复函待签发；签发或退回修改后才能再答复。"))
    if answers is None:
        answers = answers_from(letter, form_values or {})
    chosen = _chosen(letter, answers)
    evidence = {int(k): _files(v) for k, v in (item_files or {}).items()}
    for item in letter.items:
        if evidence.get(item.id) and item not in chosen:
            raise DomainError(_("第 %(n)s 项：请先选择答复结果，再上传该项的证明材料。", n=item.position),
                              field=f"files_{item.id}")
    if not chosen:
        raise DomainError(_("请至少为一项事项选择答复结果。"), field="items")
    if len(note or "") > MAX_NOTE:
        raise DomainError(_("答复说明过长。"), field="note")
    created = part is None
    if created:
        part = LetterReply(letter=letter, author_id=actor.id, state=ReplyState.DRAFT)
        db.session.add(part)
    before = None if created else {**_summary(part), "note": part.note}
    part.note = (note or "").strip()
    given = {a.item_id: a for a in part.answers}
    for item, (outcome, reason) in chosen.items():
        answer = given.pop(item.id, None)
        if answer is None:
            answer = ReplyAnswer(reply=part, item=item)
            db.session.add(answer)
        answer.outcome, answer.reason = outcome, reason
    db.session.flush()
    for answer in given.values():
        _drop(answer)
    after = {**_summary(part), "note": part.note}
    names = _attach(part, actor, files)
    if names:
        after["attachments"] = names
    for answer in part.answers:
        saved = [save_upload(f, actor=actor, record=answer, purpose=EVIDENCE,
                             allowed=_allowed()).filename for f in evidence.get(answer.item_id, [])]
        if saved:
            after[f"#{answer.item.position} evidence"] = saved
    if before is not None:
        changed = {k for k in after if before.get(k) != after[k]} | {k for k in before if k not in after}
        before, after = {k: before.get(k) for k in changed}, {k: after.get(k) for k in changed}
    if after:
        record_change(actor, "inquiry.reply_draft", part, before=before, after=after)
    if and_submit:
        submit_reply(part, actor=actor)
    return part


def _allowed() -> set[str]:
    from portal.inquiries.operations import ATTACHMENT_KINDS

    return ATTACHMENT_KINDS


def submit_reply(part: LetterReply, *, actor, expected_state=None) -> None:
    """提交签发: the drafted reply goes to the addressee's signers."""
    from portal.inquiries.operations import _link, _lock_letter, _signers_of

    letter = part.letter
    _lock_letter(letter)
    if part.state == ReplyState.DRAFT and not part.answers:
        raise DomainError(_("请至少为一项事项选择答复结果。"), field="items")
    REPLY_MACHINE.apply(part, "submit", actor=actor, expected_state=expected_state)
    notify(_signers_of(letter.addressee_org_id), _("复函待签发：%(n)s %(t)s", n=letter.doc_number, t=letter.title),
           link=_link(letter))


def approve_reply(part: LetterReply, *, actor, expected_state=None) -> None:
    """签发复函: the signer signs the reply off; its answers become the items' outcomes, the asking
    bureau is told, and when no item is left open the letter is answered."""
    from portal.inquiries.operations import _link, _lock_letter, _staff_of

    letter = part.letter
    _lock_letter(letter)
    lock(part)
    if expected_state is not None and str(expected_state) != str(part.state):
        raise StaleRecord(_("该记录已被他人处理，当前状态为“%(state)s”，请刷新后重试。", state=part.state.label))
    transition = REPLY_MACHINE.find(part, "approve")  # IllegalTransition when no longer pending
    if not transition.who(actor, part):
        raise NotPermitted(_("您无权执行“%(action)s”。", action=_(transition.label)))
    if letter.state != LetterState.ACKNOWLEDGED:
        raise IllegalTransition(_("函件当前状态为“%(s)s”，不能签发复函。", s=letter.state.label))
    open_ids = {i.id for i in letter.open_items}
    if not part.answers or any(a.item_id not in open_ids for a in part.answers):
        raise StaleRecord(_("该事项已有答复，请刷新后重试。"))
    REPLY_MACHINE.apply(part, "approve", actor=actor)
    now = clock.now()
    part.signer_id, part.signed_at = actor.id, now
    for answer in part.answers:
        item = answer.item
        item.outcome, item.reason, item.answered_by_id, item.answered_at, item.reply_id = (
            answer.outcome, answer.reason, part.author_id, now, part.id)
    touch(letter)  # the items' outcomes are the letter's content
    record_change(actor, "inquiry.reply", letter, comment=part.note or None,
                  before={f"#{a.item.position}": None for a in part.answers},
                  after={**_summary(part), "reply": part.id})
    if not letter.open_items:
        MACHINE.apply(letter, "answer", actor=actor)
        letter.answered_at = now
        title = _("来函已答复：%(n)s", n=letter.doc_number)
    else:
        title = _("收到部分答复：%(n)s", n=letter.doc_number)
    notify(_staff_of(letter.sender_org_id) + [letter.drafter], title, link=_link(letter))
    notify([part.author], _("复函已签发：%(n)s", n=letter.doc_number), link=_link(letter))


def return_reply(part: LetterReply, comment: str, *, actor, expected_state=None) -> None:
    """退回修改: back to the drafter, with the signer's comment."""
    from portal.inquiries.operations import _link, _lock_letter

    _lock_letter(part.letter)
    REPLY_MACHINE.apply(part, "return", actor=actor, comment=comment, expected_state=expected_state)
    notify([part.author], _("复函被退回修改：%(n)s", n=part.letter.doc_number), link=_link(part.letter), body=comment)
