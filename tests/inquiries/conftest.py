"""Letter factories: a letter in any state, built through the operations (so history is real)."""
from __future__ import annotations

from datetime import date

import pytest

from portal.core import clock
from portal.extensions import db as _db
from portal.inquiries import operations as ops
from portal.inquiries.workdays import load_holidays

SENT_ON = date(2026, 9, 28)  # a Monday before the National Day break


def setup_codes(world):
    ops.set_issuing_code(world.admin, world.finance_bureau, "临财绩函", "测试市财政局")
    ops.set_issuing_code(world.admin, world.audit_bureau, "临审函", "测试市审计局")


def data(world, *, addressee=None, items=("审计报告", "审计决定书"), **fields) -> ops.LetterData:
    values = dict(addressee_org_id=(addressee or world.audit_bureau).id,
                  title="关于提供2025年度20个重点评价项目审计报告及审计决定书的函",
                  body="为做好预算项目财政评价工作，现商请贵局提供以下资料。", deadline_workdays=5,
                  contact_person="王建华", contact_phone="0571-87000000", copies="市人大常委会预算工作委员会",
                  items=list(items))
    values.update(fields)
    return ops.LetterData(**values)


STATES = ("draft", "pending_signoff", "sent", "acknowledged", "answered", "closed", "withdrawn")


def make_letter(world, state: str = "draft", *, reverse: bool = False, on: date = SENT_ON, **fields):
    """A letter from finance to audit (or audit to finance with reverse=True) in `state`."""
    drafter, signer, liaison = ((world.audit, world.audit_signer, world.finance) if reverse
                                else (world.finance, world.finance_signer, world.audit))
    addressee = world.finance_bureau if reverse else world.audit_bureau
    with clock.frozen(on):
        letter = ops.create_letter(drafter, data(world, addressee=addressee, **fields))
        if state != "draft":
            ops.submit(letter, drafter)
        if state not in ("draft", "pending_signoff"):
            ops.approve(letter, signer)
        if state == "withdrawn":
            ops.withdraw(letter, signer, "内容调整")
        if state in ("acknowledged", "answered", "closed"):
            ops.acknowledge(letter, liaison)
        if state in ("answered", "closed"):
            ops.reply(letter, liaison, {i.id: ("provided", "") for i in letter.items})
        if state == "closed":
            ops.close(letter, drafter)
    _db.session.commit()
    return letter


@pytest.fixture()
def inq(db, world):
    load_holidays([2025, 2026])
    setup_codes(world)
    db.session.commit()
    return world
