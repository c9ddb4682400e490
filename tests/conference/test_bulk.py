"""The action list's bulk bar (issue 18): one step of the state machine for the ticked actions;
an action the step refuses (its state, its owner, a missing reason) is named and left as it was."""
from portal.conference.models import Action, ActionState
from portal.conference.operations import transition_action
from tests.factories import make_action, make_meeting


def _state(db, action):
    db.session.expire_all()
    return db.session.get(Action, action.id).state


def test_complete_the_ticked_actions_and_name_the_refused(db, world, client, login):
    meeting = make_meeting(world)
    first = make_action(world, meeting, text="细化义务教育项目绩效目标")
    second = make_action(world, meeting, text="督促住建局整改结余资金")
    finished = make_action(world, meeting, text="报送年度监督计划")
    transition_action(finished, "complete", actor=world.conference)
    db.session.flush()
    login(world.conference)
    response = client.post("/conference/actions/bulk", data={
        "action": "complete", "ids": [first.id, second.id, finished.id], "back": "/conference/actions?state="},
        follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.request.path == "/conference/actions"
    assert "已办理 2 项。" in page
    assert f"{meeting.title}议定事项{finished.position} 未办理" in page and "不能执行" in page
    assert _state(db, first) == _state(db, second) == ActionState.DONE


def test_a_step_that_needs_a_reason_refuses_each_row_without_one(db, world, client, login):
    action = make_action(world)
    login(world.conference)
    page = client.post("/conference/actions/bulk", data={"action": "drop", "ids": [action.id]},
                       follow_redirects=True).get_data(as_text=True)
    assert "未办理" in page and "需要填写理由" in page and "已办理" not in page
    assert _state(db, action) == ActionState.OPEN
    page = client.post("/conference/actions/bulk", data={"action": "drop", "ids": [action.id], "comment": "已并入预算审查"},
                       follow_redirects=True).get_data(as_text=True)
    assert "已办理 1 项。" in page and _state(db, action) == ActionState.DROPPED


def test_an_owning_unit_may_start_its_own_but_not_complete(db, world, client, login):
    own = make_action(world, owner_org=world.department, text="完善项目支出绩效自评")
    other = make_action(world, owner_org=world.other_department, text="清理结转资金")
    login(world.unit)
    page = client.get("/conference/actions").get_data(as_text=True)
    assert 'action="/conference/actions/bulk"' in page
    page = client.post("/conference/actions/bulk", data={"action": "complete", "ids": [own.id]},
                       follow_redirects=True).get_data(as_text=True)
    assert "未办理" in page and _state(db, own) == ActionState.OPEN
    page = client.post("/conference/actions/bulk", data={"action": "start", "ids": [own.id, other.id]},
                       follow_redirects=True).get_data(as_text=True)
    assert "已办理 1 项。" in page and "1 项所选记录不存在或无权办理。" in page  # the other unit's is not named
    assert "清理结转资金" not in page
    assert _state(db, own) == ActionState.IN_PROGRESS and _state(db, other) == ActionState.OPEN


def test_a_tampered_step_is_refused_whole(db, world, client, login):
    action = make_action(world)
    login(world.conference)
    assert client.post("/conference/actions/bulk", data={"action": "delete", "ids": [action.id]}).status_code == 400
    assert _state(db, action) == ActionState.OPEN
    login_observer = world.observer
    client.post("/logout")
    login(login_observer)
    assert client.post("/conference/actions/bulk", data={"action": "start", "ids": [action.id]}).status_code == 403
