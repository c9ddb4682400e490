"""Meetings: numbering per year (gapless, also under concurrency), forms, the Word minutes."""
import io
import threading
from datetime import date

import pytest
import sqlalchemy as sa

from portal.conference import operations as ops
from portal.conference.models import Meeting
from portal.core import clock
from portal.core.errors import DomainError, NotPermitted
from tests.conference.conftest import make_meeting


def test_meetings_are_numbered_per_year(db, world):
    first_2025 = make_meeting(world, date(2025, 12, 30))
    first = make_meeting(world, date(2026, 1, 8))
    second = make_meeting(world, date(2026, 2, 1))
    second_2025 = make_meeting(world, date(2025, 12, 31))
    db.session.commit()
    assert [first_2025.number, second_2025.number] == [1, 2]
    assert [first.number, second.number] == [1, 2]
    assert second.title == "2026年第2次联席会议"
    assert second.doc_number == "〔2026〕第2次"


def test_number_is_unique_per_year_in_the_database(db, world):
    make_meeting(world, date(2026, 1, 8))
    db.session.commit()
    db.session.add(Meeting(year=2026, number=1, held_on=date(2026, 5, 1), place="x",
                           convening_org_id=world.finance_bureau.id))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


@pytest.mark.commits  # real threads, each with its own connection
def test_concurrent_meetings_get_distinct_gapless_numbers(app, db, world):
    ids = {"finance": world.finance.id, "audit": world.audit.id, "conf": world.conference.id,
           "org": world.finance_bureau.id}
    db.session.commit()  # end this session's transaction (SQLite: it holds the write lock)
    errors = []

    def record():
        from portal.accounts.models import Organisation, User
        from portal.extensions import db as database

        with app.app_context():
            try:
                users = [database.session.get(User, ids[k]) for k in ("finance", "audit", "conf")]
                ops.create_meeting(actor=users[2], held_on=date(2026, 6, 1), place="会议室",
                                   convening_org=database.session.get(Organisation, ids["org"]), attendees=users)
                database.session.commit()
            except Exception as error:  # pragma: no cover - reported below
                errors.append(error)
                database.session.rollback()
            finally:
                database.session.remove()

    threads = [threading.Thread(target=record) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    numbers = sorted(db.session.scalars(sa.select(Meeting.number).where(Meeting.year == 2026)))
    assert numbers == [1, 2, 3, 4]


def test_meeting_needs_both_bureaus_and_keeps_its_year(db, world):
    with pytest.raises(DomainError, match="双方"):
        make_meeting(world, attendees=[world.finance])
    with pytest.raises(DomainError, match="只能是"):
        make_meeting(world, attendees=[world.finance, world.audit, world.unit])
    meeting = make_meeting(world, date(2026, 3, 1))
    with pytest.raises(DomainError, match="其他年度"):
        ops.update_meeting(meeting, actor=world.conference, version=meeting.lock_version, held_on=date(2027, 1, 5),
                           place="x",
                           convening_org=world.finance_bureau, attendees=meeting.attendees, agenda="", minutes="",
                           distribution="")


def test_observer_and_units_cannot_record_meetings(db, world):
    for user in (world.observer, world.unit, world.agency, world.expert):
        with pytest.raises(NotPermitted):
            make_meeting(world, actor=user)


def test_record_meeting_over_http_and_bad_input_keeps_what_was_typed(db, world, client, login):
    login(world.conference)
    form = {"held_on": "2026-04-02", "place": "", "convening_org_id": world.audit_bureau.id,
            "attendee_ids": [world.finance.id, world.audit.id], "agenda": "通报审计发现问题",
            "minutes": "## 会议认为\n要**加强**协同。", "distribution": "两局各科室"}
    response = client.post("/conference/meetings/new", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "请填写会议地点" in page
    assert "通报审计发现问题" in page and "两局各科室" in page
    form["place"] = "审计局二楼会议室"
    form["attendee_ids"] = [world.finance.id]
    page = client.post("/conference/meetings/new", data=form).get_data(as_text=True)
    assert "双方" in page and "审计局二楼会议室" in page
    assert db.session.scalar(sa.select(sa.func.count(Meeting.id))) == 0
    form["attendee_ids"] = [world.finance.id, world.audit.id]
    response = client.post("/conference/meetings/new", data=form)
    assert response.status_code == 302
    meeting = db.session.scalars(sa.select(Meeting)).one()
    page = client.get(f"/conference/meetings/{meeting.id}").get_data(as_text=True)
    assert "2026年第1次联席会议" in page and "<strong>加强</strong>" in page
    assert client.get("/conference/meetings/new?held_on=x").status_code == 200
    bad_date = dict(form, held_on="2026-13-45")
    page = client.post("/conference/meetings/new", data=bad_date).get_data(as_text=True)
    assert "请填写会议日期" in page and "审计局二楼会议室" in page


def test_minutes_export_in_official_layout(db, world, client, login):
    import docx

    meeting = make_meeting(world, date(2026, 5, 6), minutes="## 一、会议认为\n加强财审联动。",
                           distribution="市政府办公室")
    with clock.frozen(date(2026, 5, 6)):  # agreed at the meeting
        ops.add_action(meeting, actor=world.conference, text="共享审计问题清单", owner_org=world.audit_bureau,
                       due_date=date(2026, 6, 30))
    db.session.commit()
    login(world.observer)
    response = client.get(f"/conference/meetings/{meeting.id}/minutes.docx")
    assert response.status_code == 200
    document = docx.Document(io.BytesIO(response.data))
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == "财政审计联席会议纪要"
    assert document.paragraphs[0].runs[0].font.color.rgb is not None
    assert "〔2026〕第1次" in texts
    assert "2026年第1次联席会议纪要" in texts
    assert any("加强财审联动" in t for t in texts)
    assert any(t.startswith("1. 共享审计问题清单") for t in texts)
    assert any(t.startswith("出席：") and world.finance.display_name in t for t in texts)
    assert any(t == "分送：市政府办公室。" for t in texts)


def test_markdown_preview_for_minutes(db, world, client, login):
    login(world.conference)
    page = client.get("/conference/meetings/new").get_data(as_text=True)
    assert 'hx-post="/markdown/preview"' in page and 'hx-params="minutes"' in page
    assert "<strong>x</strong>" in client.post("/markdown/preview", data={"minutes": "**x**"}).get_data(as_text=True)


def test_meeting_attachment_upload(db, world, client, login):
    meeting = make_meeting(world)
    db.session.commit()
    login(world.finance)
    response = client.post(f"/conference/meetings/{meeting.id}/attachments",
                           data={"file": (io.BytesIO("签到表".encode()), "签到表.txt")},
                           content_type="multipart/form-data", follow_redirects=True)
    assert "已上传附件" in response.get_data(as_text=True)
    response = client.post(f"/conference/meetings/{meeting.id}/attachments",
                           data={"file": (io.BytesIO(b"MZ\x90\x00" + b"\x00" * 40), "a.exe")},
                           content_type="multipart/form-data", follow_redirects=True)
    assert "不受支持" in response.get_data(as_text=True)
