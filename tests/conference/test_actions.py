"""Actions (议定事项): the state machine, overdue with a frozen clock, reminders, links, who may."""
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from portal.conference import operations as ops
from portal.conference.models import Action, ActionState
from portal.conference.queries import filter_actions
from portal.core import clock
from portal.core.errors import DomainError, IllegalTransition, NotPermitted, StaleRecord
from portal.core.notifications import Notification, ReminderSent, run_reminders
from tests.conference.conftest import make_action, make_meeting
from tests.factories import make_project


def test_state_machine_open_progress_done_reopen_drop(db, world):
    action = make_action(world)
    assert action.state == ActionState.OPEN
    ops.transition_action(action, "start", actor=world.finance)
    assert action.state == ActionState.IN_PROGRESS
    ops.transition_action(action, "complete", actor=world.conference, comment="已完成")
    assert action.state == ActionState.DONE and action.done_at is not None
    with pytest.raises(IllegalTransition):
        ops.transition_action(action, "complete", actor=world.conference)
    with pytest.raises(IllegalTransition, match="理由"):
        ops.transition_action(action, "reopen", actor=world.conference, comment=" ")
    ops.transition_action(action, "reopen", actor=world.conference, comment="整改出现反复")
    assert action.state == ActionState.IN_PROGRESS and action.done_at is None
    with pytest.raises(IllegalTransition, match="理由"):
        ops.transition_action(action, "drop", actor=world.audit)
    ops.transition_action(action, "drop", actor=world.audit, comment="已并入专项整治")
    assert action.state == ActionState.DROPPED and action.drop_reason == "已并入专项整治"
    db.session.commit()
    with pytest.raises(StaleRecord):
        ops.transition_action(action, "reopen", actor=world.audit, comment="x", expected_state="in_progress")


# who → (may start / report progress, may complete): an action owned by world.department
MOVE_MATRIX = {
    "finance": (True, True), "audit": (True, True), "conference": (True, True),
    "observer": (False, False), "expert": (False, False), "other_unit": (False, False), "agency": (False, False),
    "unit": (True, False), "subunit_user": (False, False),
}


def test_who_may_move_an_action_owned_by_the_department(db, world):
    action = make_action(world, owner_org=world.department)
    for who, (start, complete) in MOVE_MATRIX.items():
        user = getattr(world, who)
        assert ops.ACTION_MACHINE.allowed(action, "start", user) is start, who
        assert ops.ACTION_MACHINE.allowed(action, "complete", user) is complete, who


def test_overdue_is_derived_from_due_date_and_state(db, world):
    action = make_action(world, due_date=date(2026, 6, 30))
    done = make_action(world, due_date=date(2026, 6, 1))
    ops.transition_action(done, "complete", actor=world.conference)
    db.session.commit()
    with clock.frozen(date(2026, 6, 30)):
        assert not action.overdue
        assert db.session.scalars(filter_actions(world.finance, state="overdue")).all() == []
    with clock.frozen(date(2026, 7, 1)):
        assert action.overdue and not done.overdue
        assert db.session.scalars(filter_actions(world.finance, state="overdue")).all() == [action]
        ops.transition_action(action, "complete", actor=world.conference)
        assert not action.overdue


def test_reminders_before_due_and_when_overdue_once_each(db, world):
    action = make_action(world, due_date=date(2026, 6, 30), owner_org=world.department, owner_user=world.unit)
    db.session.commit()
    assert run_reminders(datetime(2026, 6, 1, 9))["conference_actions"] == 0
    assert run_reminders(datetime(2026, 6, 25, 9))["conference_actions"] == 1
    assert run_reminders(datetime(2026, 6, 26, 9))["conference_actions"] == 0
    assert run_reminders(datetime(2026, 7, 1, 9))["conference_actions"] == 1
    assert run_reminders(datetime(2026, 7, 9, 9))["conference_actions"] == 0
    keys = set(db.session.scalars(sa.select(ReminderSent.key)))
    assert keys == {f"conference_action:{action.id}:due", f"conference_action:{action.id}:overdue"}
    titles = db.session.scalars(sa.select(Notification.title).where(Notification.user_id == world.unit.id)).all()
    assert any("即将到期" in t for t in titles) and any("已逾期" in t for t in titles)


def test_owner_unit_sees_and_reports_progress_but_nothing_else(db, world, client, login):
    meeting = make_meeting(world)
    mine = make_action(world, meeting, owner_org=world.department, text="教育局细化绩效目标")
    other = make_action(world, meeting, owner_org=world.other_department, text="卫健委复核自评结果")
    db.session.commit()
    login(world.unit)
    assert client.get("/conference/").status_code == 403
    assert client.get(f"/conference/meetings/{meeting.id}").status_code == 403
    assert client.get("/conference/library").status_code == 403
    assert client.get("/conference/overview").status_code == 403
    listing = client.get("/conference/actions").get_data(as_text=True)
    assert "教育局细化绩效目标" in listing and "卫健委复核自评结果" not in listing
    assert client.get(f"/conference/actions/{other.id}").status_code == 403
    response = client.post(f"/conference/actions/{mine.id}/notes", data={"text": "已修订指标表"})
    assert response.status_code == 302
    db.session.refresh(mine)
    assert mine.state == ActionState.IN_PROGRESS and mine.notes[-1].text == "已修订指标表"
    response = client.post(f"/conference/actions/{mine.id}/transition", data={"action": "complete",
                                                                              "state": "in_progress"})
    assert response.status_code == 422 and "无权" in response.get_data(as_text=True)
    db.session.refresh(mine)
    assert mine.state == ActionState.IN_PROGRESS


def test_observer_reads_but_never_edits(db, world, client, login):
    action = make_action(world)
    db.session.commit()
    login(world.observer)
    assert client.get(f"/conference/actions/{action.id}").status_code == 200
    assert client.get(f"/conference/meetings/{action.meeting_id}").status_code == 200
    assert client.post(f"/conference/actions/{action.id}/notes", data={"text": "x"}).status_code == 403
    assert client.post(f"/conference/actions/{action.id}/links", data={"record_type": "projects",
                                                                        "record_id": "1"}).status_code == 403
    assert client.get("/conference/meetings/new").status_code == 403
    client.post(f"/conference/actions/{action.id}/transition", data={"action": "complete"})
    db.session.refresh(action)
    assert action.state == ActionState.OPEN


def test_links_resolve_generically_with_permission_and_clear_errors(db, world, client, login):
    project = make_project(world.department, name="义务教育薄弱环节改善项目")
    action = make_action(world)
    db.session.commit()
    login(world.conference)
    response = client.post(f"/conference/actions/{action.id}/links", data={"record_type": "projects",
                                                                            "record_id": "999999"})
    assert response.status_code == 422 and "找不到编号为 999999 的记录" in response.get_data(as_text=True)
    response = client.post(f"/conference/actions/{action.id}/links", data={"record_type": "projects",
                                                                            "record_id": "abc"})
    assert "数字" in response.get_data(as_text=True)
    response = client.post(f"/conference/actions/{action.id}/links", data={"record_type": "projects",
                                                                            "record_id": str(project.id)})
    assert response.status_code == 302
    page = client.get(f"/conference/actions/{action.id}").get_data(as_text=True)
    assert "义务教育薄弱环节改善项目" in page
    response = client.post(f"/conference/actions/{action.id}/links", data={"record_type": "projects",
                                                                            "record_id": str(project.id)})
    assert "已关联" in response.get_data(as_text=True)
    db.session.refresh(action)
    assert len(action.links) == 1 and action.links[0].resolve() == project


def test_add_resolution_bad_input_keeps_text(db, world, client, login):
    meeting = make_meeting(world)
    db.session.commit()
    login(world.conference)
    response = client.post(f"/conference/meetings/{meeting.id}/actions",
                           data={"text": "建立季度互通机制", "owner_org_id": world.department.id,
                                 "owner_user_id": world.finance.id, "due_date": "2026-09-30"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "责任人须属于牵头单位" in page and "建立季度互通机制" in page
    response = client.post(f"/conference/meetings/{meeting.id}/actions",
                           data={"text": "建立季度互通机制", "owner_org_id": 0, "owner_user_id": 0})
    assert "请选择牵头单位" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Action.id))) == 0
    with pytest.raises(NotPermitted):
        ops.add_action(meeting, actor=world.observer, text="x", owner_org=world.finance_bureau)
    with pytest.raises(DomainError, match="内容"):
        ops.add_action(meeting, actor=world.conference, text=" ", owner_org=world.finance_bureau)


def test_transition_errors_over_http_are_clear_and_change_nothing(db, world, client, login):
    action = make_action(world)
    db.session.commit()
    login(world.conference)
    response = client.post(f"/conference/actions/{action.id}/transition",
                           data={"action": "drop", "state": "open", "comment": ""})
    assert response.status_code == 422 and "需要填写理由" in response.get_data(as_text=True)
    response = client.post(f"/conference/actions/{action.id}/transition",
                           data={"action": "complete", "state": "in_progress", "comment": "已完成"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "已被他人处理" in page and "已完成" in page
    response = client.post(f"/conference/actions/{action.id}/transition", data={"action": "fly", "state": "open"})
    assert response.status_code == 422
    db.session.refresh(action)
    assert action.state == ActionState.OPEN
    response = client.post(f"/conference/actions/{action.id}/transition",
                           data={"action": "drop", "state": "open", "comment": "并入专项整治"})
    assert response.status_code == 302
    db.session.refresh(action)
    assert action.state == ActionState.DROPPED and action.notes[-1].text == "并入专项整治"
    page = client.get(f"/conference/actions/{action.id}").get_data(as_text=True)
    assert "并入专项整治" in page and "重新打开" in page


def test_progress_note_in_place_with_htmx(db, world, client, login):
    action = make_action(world, owner_org=world.department)
    db.session.commit()
    login(world.unit)
    headers = {"HX-Request": "true"}
    response = client.post(f"/conference/actions/{action.id}/notes", data={"text": " "}, headers=headers)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "请填写进展情况" in page and "<html" not in page
    response = client.post(f"/conference/actions/{action.id}/notes", data={"text": "已完成指标修订"}, headers=headers)
    page = response.get_data(as_text=True)
    assert page.lstrip().startswith("{#") is False and 'id="notes"' in page and "已完成指标修订" in page
    assert 'hx-swap-oob="true"' in page and "推进中" in page
    db.session.refresh(action)
    assert action.state == ActionState.IN_PROGRESS


def test_other_modules_record_types_are_offered_for_links(db, world, client, login):
    """In the merged system the ledger registers its problems; a stand-in type shows the path."""
    from portal.core.registry import RECORD_TYPES
    from portal.performance.models import Project

    RECORD_TYPES["ledger_problems"] = Project  # stand-in: any registered model with a policy
    try:
        project = make_project(world.department, name="棚改资金闲置问题")
        action = make_action(world)
        db.session.commit()
        login(world.conference)
        page = client.get(f"/conference/actions/{action.id}").get_data(as_text=True)
        assert '<option value="ledger_problems">问题台账</option>' in page
        response = client.post(f"/conference/actions/{action.id}/links",
                               data={"record_type": "ledger_problems", "record_id": str(project.id)})
        assert response.status_code == 302
        page = client.get(f"/conference/actions/{action.id}").get_data(as_text=True)
        assert "问题台账" in page and "棚改资金闲置问题" in page
    finally:
        del RECORD_TYPES["ledger_problems"]


def test_transition_refuses_malformed_input_at_the_edge(db, world, client, login):
    action = make_action(world)
    db.session.commit()
    login(world.conference)
    for data in ({"action": "complete", "state": "flying"},           # not a state
                 {"action": "x" * 300, "state": "open"},              # not a step, over-long
                 {"action": "drop", "state": "open", "comment": "理" * 5001}):  # over the comment's limit
        response = client.post(f"/conference/actions/{action.id}/transition", data=data)
        assert response.status_code == 422, data
        db.session.refresh(action)
        assert action.state == ActionState.OPEN and action.notes == []
    page = client.post(f"/conference/actions/{action.id}/transition",
                       data={"action": "complete", "state": "flying"}).get_data(as_text=True)
    assert "状态的取值无效" in page
