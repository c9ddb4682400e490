"""A deadline date chosen by hand is kept even though the form prefills "10 working days"; the
printed letter says the salutation once."""
from datetime import date

from portal.core import clock
from portal.inquiries import operations as ops
from tests.inquiries.conftest import SENT_ON, data, make_letter


def test_the_chosen_date_wins_over_the_prefilled_working_days(inq, db):
    chosen = date(2026, 11, 20)
    with clock.frozen(SENT_ON):
        letter = ops.create_letter(data(inq, deadline=chosen, deadline_workdays=10), actor=inq.finance)
        assert (letter.deadline, letter.deadline_workdays) == (chosen, None)  # before: the date was dropped
        ops.submit(letter, actor=inq.finance)
        ops.approve(letter, actor=inq.finance_signer)
    assert letter.deadline == chosen  # signed: still the date the drafter chose, not 10 working days on


def test_working_days_alone_still_count_from_signing(inq, db):
    with clock.frozen(SENT_ON):
        letter = ops.create_letter(data(inq, deadline=None, deadline_workdays=5), actor=inq.finance)
        assert letter.deadline is None and letter.deadline_workdays == 5


def test_the_form_tells_the_date_wins(inq, client, login):
    login(inq.finance)
    page = client.get("/inquiries/new").get_data(as_text=True)
    assert "填写了日期的，以日期为准" in page


def test_the_print_view_says_the_salutation_once(inq, client, login, db):
    name = inq.audit_bureau.name
    letter = make_letter(inq, "sent", body=f"{name}：\n\n为做好预算项目财政评价工作，现商请贵局提供以下资料。")
    login(inq.finance)
    page = client.get(f"/inquiries/{letter.id}/print").get_data(as_text=True)
    assert page.count(f"{name}：") == 1, page
    assert "为做好预算项目财政评价工作" in page
