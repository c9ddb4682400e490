"""The joint conference on the core write path (issue 14): A/B stale saves of every editable
record refused (who changed what, the input kept), meeting numbers taken only when the meeting
is kept, double submissions written once, progress notes and state changes audited."""
import json
import re
from datetime import date

import sqlalchemy as sa

from portal.conference import operations as ops
from portal.conference.models import Action, ActionState, Meeting, PlanBureau, PlanItem, SharedDocument
from portal.core import counters
from portal.core.audit import AuditEntry
from portal.extensions import db as _db
from tests.concurrency import in_parallel, signed_in
from tests.conference.conftest import make_action, make_document, make_meeting
from tests.factories import make_project, make_user


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', html)
    return match.group(1) if match else ""


def entries(record, action=None):
    stmt = sa.select(AuditEntry).where(AuditEntry.record_type == record.__tablename__,
                                       AuditEntry.record_id == str(record.id)).order_by(AuditEntry.id)
    return [e for e in _db.session.scalars(stmt) if action is None or e.action == action]


def a_b(app, user_a, user_b, edit_url: str):
    """Two clients that opened the same edit form; returns them and the version both forms carry."""
    a, b = signed_in(app, user_a), signed_in(app, user_b)
    version = hidden(a.get(edit_url).get_data(as_text=True), "lock_version")
    assert version and version == hidden(b.get(edit_url).get_data(as_text=True), "lock_version")
    return a, b, version


def b_refused_after_a(app, user_a, user_b, url: str, base: dict, a_change: dict, b_change: dict) -> str:
    """A and B open the same edit form; A saves `a_change`, then B's save of `b_change` on the
    same version is refused (422). Returns B's page (the message and the input kept)."""
    a, b, version = a_b(app, user_a, user_b, url)
    assert a.post(url, data={**base, **a_change, "lock_version": version}).status_code == 302
    r = b.post(url, data={**base, **b_change, "lock_version": version})
    assert r.status_code == 422
    return r.get_data(as_text=True)


def meeting_form(world, meeting, **over):
    values = {"held_on": meeting.held_on.isoformat(), "place": meeting.place,
              "convening_org_id": meeting.convening_org_id, "attendee_ids": [u.id for u in meeting.attendees],
              "agenda": meeting.agenda, "minutes": meeting.minutes, "distribution": meeting.distribution}
    values.update(over)
    return values


# ---- A/B stale saves ---------------------------------------------------------------------------

def test_a_b_meeting_minutes(app, db, world):
    meeting = make_meeting(world, minutes="初稿")
    colleague = make_user(world.audit_bureau, *world.conference.roles, username="t_conf2", display_name="赵敏")
    db.session.commit()
    text = b_refused_after_a(app, colleague, world.conference, f"/conference/meetings/{meeting.id}/edit",
                             meeting_form(world, meeting), {"minutes": "A定稿的纪要"}, {"place": "B改的会议地点"})
    assert "已被赵敏" in text and "会议纪要" in text and "B改的会议地点" in text
    db.session.expire_all()
    meeting = db.session.get(Meeting, meeting.id)
    assert meeting.minutes == "A定稿的纪要" and meeting.place == "财政局三楼会议室"


def test_a_b_action(app, db, world):
    from datetime import timedelta

    from portal.core import clock

    due, moved = clock.today() + timedelta(days=30), clock.today() + timedelta(days=60)  # a due date ahead
    action = make_action(world, due_date=due)
    db.session.commit()
    base = {"text": action.text, "owner_org_id": world.finance_bureau.id, "owner_user_id": 0,
            "due_date": due.isoformat()}
    text = b_refused_after_a(app, world.conference, world.finance, f"/conference/actions/{action.id}/edit", base,
                             {"due_date": moved.isoformat()}, {"text": "B改写的议定事项"})
    assert "已被" in text and "完成时限" in text and "B改写的议定事项" in text
    db.session.expire_all()
    action = db.session.get(Action, action.id)
    assert action.due_date == moved and action.text == "落实议定事项"


def test_a_progress_note_makes_an_open_edit_form_stale(app, db, world):
    action = make_action(world)
    ops.transition_action(action, "start", actor=world.conference)
    db.session.commit()
    url = f"/conference/actions/{action.id}/edit"
    a, b, version = a_b(app, world.conference, world.finance, url)
    assert a.post(f"/conference/actions/{action.id}/notes", data={"text": "已完成初步梳理"}).status_code == 302
    r = b.post(url, data={"text": "B改写", "owner_org_id": world.finance_bureau.id, "owner_user_id": 0,
                          "lock_version": version})
    assert r.status_code == 422 and "进展情况" in r.get_data(as_text=True)


def test_a_b_plan_item(app, db, world):
    project = make_project(world.department, year=2026, name="学前教育补助项目")
    item = ops.add_plan_item(actor=world.finance, year=2026, title="学前教育补助项目财政重点评价", project=project)
    colleague = make_user(world.finance_bureau, username="t_finance2", display_name="钱进")
    db.session.commit()
    base = {"year": 2026, "title": item.title, "project_id": project.id, "unit_id": 0, "note": ""}
    text = b_refused_after_a(app, colleague, world.finance, f"/conference/plans/{item.id}/edit", base,
                             {"title": "A改的计划事项"}, {"note": "B的备注"})
    assert "已被钱进" in text and "计划事项" in text and "B的备注" in text
    db.session.expire_all()
    item = db.session.get(PlanItem, item.id)
    assert item.title == "A改的计划事项" and item.note == ""


def test_a_b_library_document(app, db, world):
    document = make_document(world, title="2025年度预算执行审计报告")
    colleague = make_user(world.audit_bureau, *world.audit.roles, username="t_audit2", display_name="孙立")
    db.session.commit()
    base = {"title": document.title, "kind": "audit_report", "year": 2026, "note": ""}
    text = b_refused_after_a(app, colleague, world.audit, f"/conference/library/{document.id}/edit", base,
                             {"title": "A改的资料标题"}, {"note": "B补充的说明"})
    assert "已被孙立" in text and "资料标题" in text and "B补充的说明" in text
    db.session.expire_all()
    document = db.session.get(SharedDocument, document.id)
    assert document.title == "A改的资料标题" and document.note == ""


def test_only_the_sharing_bureau_edits_a_library_entry(app, db, world, client, login):
    document = make_document(world)
    db.session.commit()
    login(world.finance)
    assert client.get(f"/conference/library/{document.id}/edit").status_code == 403


# ---- meeting numbers ---------------------------------------------------------------------------

def test_meeting_number_taken_only_when_the_meeting_is_kept(db, world):
    import pytest

    from portal.core.errors import DomainError

    make_meeting(world, date(2026, 3, 1))
    db.session.commit()
    with pytest.raises(DomainError):
        make_meeting(world, date(2026, 4, 1), attendees=[world.finance])  # refused: one bureau only
    assert counters.last("meeting", 2026) == 1  # not taken, not merely rolled back
    db.session.rollback()
    assert make_meeting(world, date(2026, 5, 1)).number == 2


def test_meeting_form_posted_twice_with_the_same_key_makes_one_meeting(db, world, client, login):
    login(world.conference)
    form = {"held_on": "2026-04-02", "place": "审计局二楼会议室", "convening_org_id": world.audit_bureau.id,
            "attendee_ids": [world.finance.id, world.audit.id], "agenda": "通报审计发现问题", "minutes": "",
            "distribution": "", "form_key": "meeting-key-1"}
    first = client.post("/conference/meetings/new", data=form)
    again = client.post("/conference/meetings/new", data=form)
    assert first.status_code == again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count(Meeting.id))) == 1
    assert counters.last("meeting", 2026) == 1


def test_parallel_meetings_get_consecutive_numbers(app, db, world):
    clients = [signed_in(app, world.conference) for _ in range(4)]
    ids = [world.finance.id, world.audit.id]
    db.session.rollback()
    form = {"held_on": "2026-04-02", "place": "会议室", "convening_org_id": world.audit_bureau.id,
            "attendee_ids": ids, "agenda": "", "minutes": "", "distribution": ""}
    responses = in_parallel([lambda c=c: c.post("/conference/meetings/new", data=form) for c in clients])
    assert [r.status_code for r in responses] == [302] * 4
    db.session.expire_all()
    assert sorted(db.session.scalars(sa.select(Meeting.number))) == [1, 2, 3, 4]
    assert counters.last("meeting", 2026) == 4


# ---- actions: transitions, progress, audit -----------------------------------------------------

def test_parallel_completion_of_one_action_happens_once(app, db, world):
    action = make_action(world)
    db.session.commit()
    clients = [signed_in(app, world.conference) for _ in range(4)]
    db.session.rollback()
    url = f"/conference/actions/{action.id}/transition"
    responses = in_parallel([lambda c=c: c.post(url, data={"action": "complete", "state": "open"}) for c in clients])
    assert sorted(r.status_code for r in responses) == [302, 422, 422, 422]
    db.session.expire_all()
    action = db.session.get(Action, action.id)
    assert action.state == ActionState.DONE
    assert len(entries(action, "conference.action.complete")) == 1


def test_progress_note_is_audited_and_confirmed(db, world, client, login):
    action = make_action(world)
    db.session.commit()
    login(world.conference)
    r = client.post(f"/conference/actions/{action.id}/notes", data={"text": "已召开专题会议"}, follow_redirects=True)
    assert "已记录进展" in r.get_data(as_text=True)
    (entry,) = entries(action, "conference.action.progress")  # one entry, the start included
    assert json.loads(entry.before) == {"note": None, "state": "open"}
    assert json.loads(entry.after) == {"note": "已召开专题会议", "state": "in_progress"}
    r = client.post(f"/conference/actions/{action.id}/notes", data={"text": "第二次进展"},
                    headers={"HX-Request": "true"})
    assert r.status_code == 200 and "已记录进展" in r.get_data(as_text=True)
    assert len(entries(action, "conference.action.progress")) == 2


def test_state_change_is_audited_and_confirmed(db, world, client, login):
    action = make_action(world)
    db.session.commit()
    login(world.conference)
    r = client.post(f"/conference/actions/{action.id}/transition",
                    data={"action": "drop", "state": "open", "comment": "已并入其他事项"}, follow_redirects=True)
    assert "议定事项状态已更新" in r.get_data(as_text=True)
    (entry,) = entries(action, "conference.action.drop")
    assert json.loads(entry.before) == {"state": "open", "note": None}
    assert json.loads(entry.after) == {"state": "dropped", "note": "已并入其他事项"}


def test_edits_audit_only_what_changed(db, world):
    meeting = make_meeting(world, minutes="初稿")
    ops.update_meeting(meeting, actor=world.conference, version=meeting.lock_version, held_on=meeting.held_on,
                       place=meeting.place, convening_org=meeting.convening_org, attendees=meeting.attendees,
                       agenda=meeting.agenda, minutes="定稿", distribution=meeting.distribution)
    (entry,) = entries(meeting, "conference.meeting.edit")
    assert json.loads(entry.before) == {"minutes": "初稿"} and json.loads(entry.after) == {"minutes": "定稿"}
    item = ops.add_plan_item(actor=world.audit, year=2026, title="预算执行审计", unit=world.department)
    ops.update_plan_item(item, actor=world.audit, version=item.lock_version, title="预算执行审计（二季度）",
                         unit=world.department)
    (entry,) = entries(item, "plan.edit")
    assert json.loads(entry.after) == {"title": "预算执行审计（二季度）"}
    assert item.bureau == PlanBureau.AUDIT


def test_opening_a_document_writes_nothing_in_the_request(db, world, client, login):
    document = make_document(world)
    db.session.commit()
    login(world.finance)
    url = f"/conference/library/{document.id}"
    db.session.rollback()
    response = client.get(url)  # the GET-never-writes guard would raise if the page wrote
    assert response.status_code == 200
    response.close()
