"""A resolution due in the past is refused (it would be 逾期 the moment it is saved); a progress
note and a change of state say so and show in the action's 操作记录 at once."""
from datetime import date, timedelta

import pytest

from portal.conference import operations as ops
from portal.core import clock
from portal.core.errors import DomainError
from tests.conference.conftest import make_action, make_meeting


def test_an_action_due_in_the_past_is_refused(db, world):
    meeting = make_meeting(world)
    with pytest.raises(DomainError, match="已过"):
        ops.add_action(meeting, actor=world.conference, text="补报整改材料", owner_org=world.finance_bureau,
                       due_date=clock.today() - timedelta(days=1))
    action = ops.add_action(meeting, actor=world.conference, text="补报整改材料", owner_org=world.finance_bureau,
                            due_date=clock.today())
    assert not action.is_overdue(clock.today())


def test_an_overdue_action_can_still_be_corrected_without_moving_its_date(db, world):
    with clock.frozen(date(2026, 3, 1)):
        action = make_action(world, due_date=date(2026, 3, 20))
    db.session.flush()
    ops.update_action(action, actor=world.conference, version=action.lock_version, text="补报整改材料（更正）",
                      owner_org=world.finance_bureau, due_date=action.due_date)
    assert action.text == "补报整改材料（更正）"


def test_the_form_shows_the_refusal(db, world, client, login):
    meeting = make_meeting(world)
    db.session.commit()
    login(world.conference)
    yesterday = (clock.today() - timedelta(days=1)).isoformat()
    response = client.post(f"/conference/meetings/{meeting.id}/actions",
                           data={"text": "补报整改材料", "owner_org_id": world.finance_bureau.id, "owner_user_id": 0,
                                 "due_date": yesterday},
                           follow_redirects=True)
    assert "已过，请填写今天或以后的日期" in response.get_data(as_text=True)
    assert not meeting.actions


def test_a_progress_note_confirms_and_shows_in_the_history_at_once(db, world, client, login):
    action = make_action(world, owner_org=world.department)
    db.session.commit()
    login(world.unit)
    response = client.post(f"/conference/actions/{action.id}/notes", data={"text": "已完成指标修订"},
                           headers={"HX-Request": "true"})
    page = response.get_data(as_text=True)
    assert "已记录进展" in page
    history = page[page.index('id="action-history"'):]
    assert 'hx-swap-oob="true"' in history[:80] and "报送事项进展" in history


def test_a_change_of_state_confirms_and_is_in_the_history(db, world, client, login):
    action = make_action(world, owner_org=world.department)
    db.session.commit()
    login(world.unit)
    response = client.post(f"/conference/actions/{action.id}/transition", data={"action": "start", "state": "open"},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "议定事项状态已更新" in page
    assert '<span class="event">开始推进</span>' in page[page.index('id="action-history"'):]
