"""The letter's history as a timeline (issue 18): every step in time order, with who, their
bureau, when, and what it carried; the reply's own steps only once it is signed off."""
import re
from datetime import date, datetime, timedelta

from portal.core import clock
from portal.inquiries import operations as ops
from tests.inquiries.conftest import SENT_ON, make_letter


def steps(page: str) -> list[tuple[str, str]]:
    """(action code, the step's text) of every timeline entry, in page order."""
    body = page.split('id="timeline"')[1].split("</ol>")[0]
    found = re.findall(r'<li data-action="([^"]+)">(.*?)</li>', body, flags=re.S)
    return [(action, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).strip()) for action, text in found]


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour)


def test_timeline_order_and_content(inq, client, login, db):
    letter = make_letter(inq, "acknowledged", deadline_workdays=5)  # drafted, signed, acknowledged on 28 Sep
    first, second = letter.items
    day = SENT_ON + timedelta(days=1)
    with clock.frozen(at(day, 9)):
        ops.remind(letter, "请抓紧答复", actor=inq.finance)
    with clock.frozen(at(day, 10)):
        part = ops.reply(letter, {first.id: ("provided", "随函附送")}, actor=inq.audit, and_submit=True)
    with clock.frozen(at(day, 11)):
        ops.approve_reply(part, actor=inq.audit_signer)
    with clock.frozen(at(day, 12)):
        ops.extend(letter, date(2026, 10, 20), "对方申请延期", actor=inq.finance)
    db.session.commit()
    with clock.frozen(at(day, 13)):
        part = ops.reply(letter, {second.id: ("partial", "先行提供部分")}, actor=inq.audit, and_submit=True)
    db.session.commit()

    login(inq.finance)
    with clock.frozen(at(day, 14)):
        page = client.get(f"/inquiries/{letter.id}").get_data(as_text=True)
    seen = steps(page)
    # the second reply awaits its sign-off: none of its steps shows to the asking bureau yet
    assert [a for a, _ in seen] == [
        "inquiry.create", "inquiry.submit", "inquiry.approve", "inquiry.acknowledge", "inquiry.remind",
        "inquiry.reply_draft", "inquiry_reply.submit", "inquiry_reply.approve", "inquiry.reply", "inquiry.extend"]
    text = dict(seen)
    assert inq.finance.display_name in text["inquiry.create"] and "函询事项 2 项" in text["inquiry.create"]
    assert inq.finance_signer.display_name in text["inquiry.approve"] and "临财绩函〔2026〕1号" in text["inquiry.approve"]
    assert "答复期限 2026年10月10日" in text["inquiry.approve"]
    assert inq.audit.display_name in text["inquiry.acknowledge"] and (inq.audit_bureau.short_name or inq.audit_bureau.name) in text["inquiry.acknowledge"]
    assert "请抓紧答复" in text["inquiry.remind"] and inq.audit.display_name in text["inquiry.remind"]
    assert inq.audit_signer.display_name in text["inquiry_reply.approve"] and "签发复函" in text["inquiry_reply.approve"]
    assert "第 1 项：已提供" in text["inquiry.reply"] and "第 2 项" not in text["inquiry.reply"]
    assert "答复期限 2026年10月10日 → 2026年10月20日" in text["inquiry.extend"] and "对方申请延期" in text["inquiry.extend"]
    assert "2026年9月29日 09:00" in text["inquiry.remind"] and "2026年9月29日 11:00" in text["inquiry_reply.approve"]

    client.post("/logout")
    login(inq.audit)  # the audit bureau sees its own draft's steps
    with clock.frozen(at(day, 14)):
        own = [a for a, _ in steps(client.get(f"/inquiries/{letter.id}").get_data(as_text=True))]
    assert own[-2:] == ["inquiry.reply_draft", "inquiry_reply.submit"]

    with clock.frozen(at(day, 15)):
        ops.approve_reply(part, actor=inq.audit_signer)
    with clock.frozen(at(day, 16)):
        ops.close(letter, "资料已收悉", actor=inq.finance)
    db.session.commit()
    client.post("/logout")
    login(inq.finance)
    with clock.frozen(at(day, 17)):
        seen = steps(client.get(f"/inquiries/{letter.id}").get_data(as_text=True))
    assert [a for a, _ in seen][-6:] == ["inquiry.reply_draft", "inquiry_reply.submit", "inquiry_reply.approve",
                                         "inquiry.reply", "inquiry.answer", "inquiry.close"]
    assert "第 2 项：部分提供" in seen[-3][1] and "资料已收悉" in seen[-1][1]
