"""先评估后入库: a new project at or above the threshold cannot have its goal submitted nor
approved into the budget without 予以支持; everything else goes on as before."""
from decimal import Decimal

import pytest

from portal.assessments import operations as ops
from portal.assessments import rules
from portal.assessments.models import AssessmentState
from portal.core.errors import DomainError
from portal.performance import operations as performance_ops
from portal.performance.models import GoalState, ProjectKind
from tests.assessments.conftest import applied, assessed, new_project
from tests.factories import make_project
from tests.performance.factories import make_goal


def _submit(world, project):
    goal = project.current_goal or make_goal(project)  # 予以支持 copied the application's table
    return performance_ops.submit_goal(goal, actor=world.unit)


def test_a_new_big_project_without_an_assessment_cannot_submit_its_goal(db, world):
    project = new_project(world)
    with pytest.raises(DomainError, match="先评估后入库"):
        _submit(world, project)


@pytest.mark.parametrize("stage", ["draft", "submitted", "assessing", "revising", "rejected", "withdrawn"])
def test_every_state_but_supported_refuses_the_goal(db, world, stage):
    assessment = applied(world)
    if stage != "draft":
        ops.submit(assessment, actor=world.unit)
    if stage == "withdrawn":
        ops.withdraw(assessment, actor=world.unit, comment="不再申请")
    elif stage == "assessing":
        ops.arrange(assessment, actor=world.finance, method="finance")
    elif stage in ("revising", "rejected"):
        ops.arrange(assessment, actor=world.finance, method="finance")
        sheet = assessment.current_round.sheets[0]
        from tests.assessments.conftest import scores_for
        ops.save_sheet(sheet, actor=world.finance, version=sheet.lock_version,
                       scores=scores_for(70 if stage == "revising" else 50), comment="意见", submit=True)
        ops.conclude(assessment, actor=world.finance, opinion="意见", recommended_amount="6000000")
    assert assessment.state.value == stage
    goal = make_goal(assessment.project)
    with pytest.raises(DomainError, match="先评估后入库"):
        performance_ops.submit_goal(goal, actor=world.unit)
    assert goal.state == GoalState.DRAFT


def test_a_supported_project_submits_and_its_goal_is_approved(db, world):
    assessment = applied(world)
    assessed(world, assessment, 85)
    assert assessment.state == AssessmentState.SUPPORTED
    goal = _submit(world, assessment.project)
    assert goal.state == GoalState.SUBMITTED
    performance_ops.review_goal(goal, "approve", "excellent", "", actor=world.finance)
    assert goal.state == GoalState.APPROVED


def test_approval_into_the_budget_is_refused_without_support(db, world):
    """A goal already waiting (submitted before the rule applied) cannot be approved into the budget."""
    project = new_project(world)
    goal = make_goal(project, state=GoalState.SUBMITTED)
    with pytest.raises(DomainError, match="先评估后入库"):
        performance_ops.review_goal(goal, "approve", "excellent", "", actor=world.finance)
    performance_ops.review_goal(goal, "return", "fair", "请先完成事前评估", actor=world.finance)  # returning is fine
    assert goal.state == GoalState.RETURNED


def test_projects_that_need_no_assessment_are_not_held_up(db, world):
    below = new_project(world, budget="4999999.99")
    continuing = make_project(world.department, year=2027, budget="9000000", code="CONT-1")
    make_project(world.department, year=2026, code="CONT-1")  # the same code last year: 延续项目
    overall = new_project(world, kind=ProjectKind.UNIT_OVERALL)
    for project in (below, continuing, overall):
        assert not rules.needs_assessment(project)
        assert _submit(world, project).state == GoalState.SUBMITTED
    at_threshold = new_project(world, budget="5000000.00")
    assert rules.needs_assessment(at_threshold)


def test_the_threshold_and_the_first_year_are_local_settings(db, world):
    project = new_project(world, budget="3000000")
    assert not rules.needs_assessment(project)
    values = {"threshold": "2000000", "from_year": "2028", "support_from": "80", "adjust_from": "60",
              **{f"w_{d}": str(w) for d, w in rules.DEFAULT_WEIGHTS.items()}}
    ops.update_rules(values, actor=world.admin, version=0)
    assert not rules.needs_assessment(project)  # 2027 is before the rule's first year
    ops.update_rules({**values, "from_year": ""}, actor=world.admin, version=1)
    assert rules.current().threshold == Decimal("2000000")
    with pytest.raises(DomainError, match="先评估后入库"):
        _submit(world, project)
