"""予以支持 copies the application's draft goal and indicator table onto the project's goal, once,
only into an empty goal, with an audit entry; 调整后支持 and 不予支持 copy nothing."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from portal.assessments import goal_copy
from portal.assessments import operations as ops
from portal.core.audit import AuditEntry
from portal.extensions import db
from portal.performance import operations as performance_ops
from portal.performance.models import GoalState, Level1, Level2, Operator
from tests.assessments.conftest import applied, assessed
from tests.performance.factories import make_goal


def _entries(action: str, record_id) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action,
                                                               AuditEntry.record_id == str(record_id))))


def test_support_copies_the_draft_goal_and_indicators(db, world):
    assessment = applied(world)
    assert assessment.project.current_goal is None
    assessed(world, assessment, 85)
    goal = assessment.project.current_goal
    assert goal is not None and goal.state == GoalState.DRAFT
    assert goal.overall_goal == "改善办学条件。"
    rows = [(i.level1, i.level2, i.name, i.operator, i.target_value, i.unit, i.weight) for i in goal.indicators]
    assert rows == [(Level1.OUTPUT, Level2.QUANTITY, "改造学校数量", Operator.GE, Decimal(12), "所", Decimal(50)),
                    (Level1.BENEFIT, Level2.ECONOMIC, "受益学生人数", Operator.GE, Decimal(8000), "人", Decimal(40))]
    copied = _entries("assessment.copy_goal", assessment.id)
    assert len(copied) == 1 and copied[0].actor_id == world.finance.id
    assert len(_entries("goal.indicator_add", goal.indicators[0].id)) == 1  # performance's own audit too
    # again: the goal is no longer empty, nothing changes
    assert goal_copy.copy_to_goal(assessment, actor=world.finance) is False
    assert len(goal.indicators) == 2 and len(_entries("assessment.copy_goal", assessment.id)) == 1


def test_after_adjustment_the_revised_table_is_copied_on_support(db, world):
    assessment = applied(world)
    assessed(world, assessment, 70)  # 调整后支持: nothing copied yet
    assert assessment.project.current_goal is None
    ops.update_application(assessment, ops.Application(
        basis="依据市政府工作报告。", plan="分三个阶段实施。", costing="按支出标准测算。", overall_goal="改善十所学校办学条件。",
        requested_amount=str(assessment.recommended_amount),
        indicators=[{"level1": "output", "name": "改造学校数量", "target": "=10所", "weight": "60"},
                    {"level1": "satisfaction", "name": "师生满意度", "target": "明显提高", "weight": "30"}]),
        actor=world.unit, version=assessment.lock_version)
    assessed(world, assessment, 88)
    goal = assessment.project.current_goal
    assert goal.overall_goal == "改善十所学校办学条件。"
    assert [(i.name, i.operator, i.target_value, i.target_text) for i in goal.indicators] == [
        ("改造学校数量", Operator.EQ, Decimal(10), ""), ("师生满意度", Operator.QUALITATIVE, None, "明显提高")]


def test_a_goal_the_unit_has_started_is_left_alone(db, world):
    assessment = applied(world)
    own = make_goal(assessment.project)  # the unit typed its own table already
    before = [(i.name, i.weight) for i in own.indicators]
    assessed(world, assessment, 90)
    assert assessment.project.current_goal is own
    assert [(i.name, i.weight) for i in own.indicators] == before
    assert _entries("assessment.copy_goal", assessment.id) == []


def test_an_empty_draft_is_filled_and_rejection_copies_nothing(db, world):
    assessment = applied(world)
    empty = performance_ops.goal_for(assessment.project, actor=world.unit)
    assessed(world, assessment, 81)
    assert assessment.project.current_goal is empty and len(empty.indicators) == 2
    rejected = applied(world)
    assessed(world, rejected, 40)
    assert rejected.project.current_goal is None


def test_targets_read_as_written():
    assert goal_copy.goal_row(Level1.OUTPUT, "x", "≤ 5 %", Decimal(10))["operator"] == "le"
    row = goal_copy.goal_row(Level1.COST, "x", "100%", Decimal(10))
    assert (row["level2"], row["operator"], row["target_value"], row["unit"]) == ("economic_cost", "ge", "100", "%")
    row = goal_copy.goal_row(Level1.OUTPUT, "x", "按期完工", Decimal(10))
    assert (row["operator"], row["target_text"]) == ("qualitative", "按期完工")
