"""予以支持 → the project's goal: when an ex-ante assessment concludes 予以支持, the application's
draft goal (总体目标) and indicator table become the project's goal table, so the unit does not type
them twice. Only into an empty draft: a goal the unit has started, submitted or had approved is
left as it is (the unit's own text wins). Written through the performance operations (their
permission check, row lock and audit entries), plus one entry on the assessment saying what was
copied; calling it again changes nothing (the goal is no longer empty)."""
from __future__ import annotations

import re
from decimal import Decimal

from portal.assessments.models import Assessment, AssessmentState
from portal.core.audit import record_change
from portal.performance import operations as performance_ops
from portal.performance.models import LEVEL2_OF, GoalState, Operator

# "≥10个", "≤ 5 %", "100%", "=1项": an operator (optional), a number, a unit of measure.
_TARGET = re.compile(r"^\s*(≥|>=|≤|<=|＝|=|＞|>|＜|<)?\s*([0-9]+(?:\.[0-9]+)?)\s*([^\d\s]{0,20})\s*$")
_OPERATORS = {"≥": Operator.GE, ">=": Operator.GE, "≤": Operator.LE, "<=": Operator.LE, "=": Operator.EQ,
              "＝": Operator.EQ, ">": Operator.GT, "＞": Operator.GT, "<": Operator.LT, "＜": Operator.LT}


def goal_row(level1, name: str, target: str, weight: Decimal) -> dict:
    """A draft row (一级指标, 三级指标, 指标值 as written, 分值) as a goal-table row: the level-1's first
    level-2 (数量指标, 经济效益指标 …, which the unit may change while the goal is a draft); a target
    that reads as a number is quantitative (≥ when no operator is written: a target is a floor),
    anything else qualitative (定性) with the text as written."""
    row = {"level1": level1.value, "level2": LEVEL2_OF[level1][0].value, "name": name, "weight": str(weight),
           "unit": "", "target_value": "", "target_text": ""}
    match = _TARGET.match(target or "")
    if match:
        operator = _OPERATORS.get(match.group(1) or "", Operator.EQ if match.group(1) else Operator.GE)
        row.update(operator=operator.value, target_value=match.group(2), unit=match.group(3))
    else:
        row.update(operator=Operator.QUALITATIVE.value, target_text=(target or "").strip())
    return row


def _is_empty(goal) -> bool:
    return goal.state == GoalState.DRAFT and not goal.indicators and not (goal.overall_goal or "").strip()


def copy_to_goal(assessment: Assessment, *, actor) -> bool:
    """Copy the supported application's draft goal onto the project's goal when that goal is
    empty (none yet, or an untouched draft). True when something was copied."""
    if assessment.state != AssessmentState.SUPPORTED:
        return False
    project = assessment.project
    current = project.current_goal
    if current is not None and not _is_empty(current):
        return False
    if not assessment.indicators and not (assessment.overall_goal or "").strip():
        return False
    goal = performance_ops.goal_for(project, actor=actor)
    if assessment.overall_goal.strip():
        performance_ops.set_overall_goal(goal, assessment.overall_goal, actor=actor, version=goal.lock_version)
    for draft in assessment.indicators:
        performance_ops.add_indicator(goal, goal_row(draft.level1, draft.name, draft.target, draft.weight),
                                      actor=actor, version=goal.lock_version)
    record_change(actor, "assessment.copy_goal", assessment,
                  after={"goal": goal.id, "goal_version": goal.version, "indicators": len(assessment.indicators)})
    return True
