"""The ex-ante assessments, joint evaluation teams, scorecards and congress packages in the
portal search: a Chinese phrase finds the record the user may see, and never another
department's (nor a team one does not sit on, nor a package before it is submitted)."""
from __future__ import annotations

from portal.assessments import operations as assess_ops
from portal.core import outbox
from portal.core.writes import commit
from portal.extensions import db
from portal.oversight import operations as oversight_ops
from portal.oversight import packages
from tests.assessments.conftest import application
from tests.factories import make_evaluation, make_project
from tests.oversight.test_teams_packages import _reports
from tests.search.test_portal_search import _found

PHRASE = "智慧校园"


def test_assessments_by_phrase_own_department_only(live_index, world):
    mine = assess_ops.apply_for(make_project(world.department, year=2027, budget="8000000"),
                                application(basis=f"依据{PHRASE}建设三年行动计划。"), actor=world.unit)
    theirs = assess_ops.apply_for(make_project(world.other_department, year=2027, budget="9000000"),
                                  application(plan=f"分期实施{PHRASE}改造。"), actor=world.other_unit)
    db.session.commit()
    outbox.drain()
    assert {("assessment", mine.id), ("assessment", theirs.id)} <= _found(world.finance, PHRASE)
    unit_sees = _found(world.unit, f"{PHRASE} 行动计划")
    assert ("assessment", mine.id) in unit_sees and ("assessment", theirs.id) not in unit_sees
    assert ("assessment", mine.id) not in _found(world.other_unit, PHRASE)
    assert ("assessment", theirs.id) in _found(world.other_unit, PHRASE)


def test_team_opinion_found_by_its_members_only(live_index, world):
    evaluation = make_evaluation(make_project(world.department, year=2025, name="校舍维修改造项目"),
                                 agency=world.agency_org, score="80")
    for user, role in ((world.finance, "lead"), (world.observer, "member"), (world.unit, "member")):
        oversight_ops.add_member(evaluation, actor=world.finance, user_id=user.id, role=role)
    team = oversight_ops.team_of(evaluation)
    oversight_ops.add_opinion(team, actor=world.observer, text="建议核实维修资金的拨付进度与合同约定是否一致。")
    db.session.commit()
    outbox.drain()
    for user in (world.finance, world.observer, world.unit, world.conference):
        assert ("team", team.id) in _found(user, "拨付进度 合同约定"), user.username
    for user in (world.other_unit, world.other_agency, world.expert):
        assert ("team", team.id) not in _found(user, "拨付进度 合同约定"), user.username


def test_scorecard_found_once_circulated_and_only_ones_own(live_index, world):
    make_project(world.department, year=2026)
    make_project(world.other_department, year=2026)
    assessment = oversight_ops.compute(2026, actor=world.finance)
    for card in assessment.scorecards:
        manual = next(line for line in card.lines if not line.automatic)
        oversight_ops.score_line(card, actor=world.finance, indicator_id=manual.indicator_id, score="5",
                                 note=f"{card.organisation.name}建立了预算绩效管理闭环机制。")
    db.session.commit()
    outbox.drain()
    mine = next(c for c in assessment.scorecards if c.organisation_id == world.department.id)
    theirs = next(c for c in assessment.scorecards if c.organisation_id == world.other_department.id)
    assert {("scorecard", mine.id), ("scorecard", theirs.id)} <= _found(world.finance, "闭环机制")
    assert ("scorecard", mine.id) not in _found(world.unit, "闭环机制")  # not circulated yet
    oversight_ops.publish(assessment, actor=world.finance)
    db.session.commit()
    unit_sees = _found(world.unit, "闭环机制")
    assert ("scorecard", mine.id) in unit_sees and ("scorecard", theirs.id) not in unit_sees
    assert {("scorecard", mine.id), ("scorecard", theirs.id)} <= _found(world.observer, "绩效管理工作考核")


def test_package_found_by_the_congress_once_submitted(live_index, world):
    _reports(world, 2025)
    package = packages.start(2025, "final_accounts", actor=world.finance)
    commit()
    outbox.drain()
    assert ("package", package.id) in _found(world.finance, "报送人大材料")
    assert ("package", package.id) not in _found(world.observer, "报送人大材料")
    package = db.session.get(type(package), package.id)
    packages.submit(package, actor=world.finance, note="随决算草案一并报送预算工委")
    db.session.commit()
    outbox.drain()
    assert ("package", package.id) in _found(world.observer, "预算工委")
    assert ("package", package.id) not in _found(world.unit, "报送人大材料")
