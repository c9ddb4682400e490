from datetime import date

import sqlalchemy as sa

from portal.core import clock
from portal.inquiries.models import Holiday, Letter


def test_demo_letters_cover_every_state_both_directions_and_overdue(demo_db):
    letters = demo_db.session.scalars(sa.select(Letter)).all()
    assert len(letters) == 12
    assert {str(letter.state) for letter in letters} == {
        "draft", "pending_signoff", "sent", "acknowledged", "answered", "closed", "withdrawn"}
    assert {letter.sender_org.kind.value for letter in letters} == {"finance_bureau", "audit_bureau"}
    assert any(letter.is_overdue for letter in letters)
    year = clock.today().year  # the demo city is seeded today
    assert any(letter.doc_number == f"临财绩函〔{year}〕1号" for letter in letters)


def test_load_holidays_command(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["inquiries", "load-holidays", "--year", "2026"])
    assert result.exit_code == 0 and "added 39 holiday rows" in result.output
    db.session.expire_all()
    assert db.session.scalar(sa.select(Holiday.is_workday).where(Holiday.day == date(2026, 10, 10))) is True
    again = runner.invoke(args=["inquiries", "load-holidays"])
    assert "added 0 holiday rows" not in again.output and "chinese-calendar knows" in again.output
