"""Document numbers stay unique and gapless with 20 concurrent sign-offs (each thread its own
application context, session and transaction), on SQLite and on PostgreSQL."""
import threading

import pytest
import sqlalchemy as sa

from portal.core import clock
from portal.inquiries import operations as ops
from portal.inquiries.models import Letter
from tests.inquiries.conftest import SENT_ON, make_letter

pytestmark = pytest.mark.commits  # real threads, each with its own connection


def test_twenty_concurrent_signoffs_get_numbers_1_to_20(app, inq, db):
    ids = [make_letter(inq, "pending_signoff").id for _ in range(20)]
    signer_id = inq.finance_signer.id
    db.session.rollback()  # end this test's own (SQLite: write-locking) transaction before the race
    barrier = threading.Barrier(20)
    errors = []

    def sign(letter_id):
        from portal.accounts.models import User
        from portal.extensions import db as database

        with app.app_context():
            try:
                barrier.wait(timeout=30)
                letter = database.session.get(Letter, letter_id)
                ops.approve(letter, actor=database.session.get(User, signer_id), expected_state="pending_signoff")
                database.session.commit()
            except Exception as error:  # reported below
                errors.append(repr(error))
                database.session.rollback()
            finally:
                database.session.remove()

    threads = [threading.Thread(target=sign, args=(i,)) for i in ids]
    with clock.frozen(SENT_ON):  # one frozen clock for all threads
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    assert not errors
    db.session.expire_all()
    rows = db.session.execute(sa.select(Letter.number_code, Letter.number_year, Letter.number_seq)
                              .where(Letter.id.in_(ids))).all()
    assert sorted(r.number_seq for r in rows) == list(range(1, 21))
    assert {(r.number_code, r.number_year) for r in rows} == {("临财绩函", 2026)}


def test_number_format_and_separate_sequences_per_code_and_year(inq, db):
    first = make_letter(inq, "sent")
    assert first.doc_number == "临财绩函〔2026〕1号"
    assert make_letter(inq, "sent", reverse=True).doc_number == "临审函〔2026〕1号"
    assert make_letter(inq, "sent").doc_number == "临财绩函〔2026〕2号"
    from datetime import date

    assert make_letter(inq, "sent", on=date(2027, 1, 5)).doc_number == "临财绩函〔2027〕1号"


def test_a_failed_signoff_gives_its_number_back(inq, db):
    import pytest

    from portal.core.errors import DomainError
    from portal.inquiries.models import IssuingCode

    letter = make_letter(inq, "pending_signoff")
    db.session.execute(sa.delete(IssuingCode).where(IssuingCode.organisation_id == inq.finance_bureau.id))
    with pytest.raises(DomainError, match="代字"):
        ops.approve(letter, actor=inq.finance_signer)
    db.session.rollback()
    assert db.session.get(Letter, letter.id).number_seq is None
    assert make_letter(inq, "sent").doc_number == "临财绩函〔2026〕1号"
