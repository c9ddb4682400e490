"""Factories for performance tests: goals with a valid indicator table, approved or not."""
from decimal import Decimal

from portal.extensions import db
from portal.performance.models import GoalState, Grade, Indicator, Level1, Level2, Operator, PerformanceGoal

# A valid table: weights total 90 (产出 50, 效益 30, 满意度 10).
ROWS = [
    dict(level1="output", level2="quantity", name="培训人次", operator="ge", target_value="1200", unit="人次", weight="30"),
    dict(level1="output", level2="quality", name="培训合格率", operator="ge", target_value="95", unit="%", weight="10"),
    dict(level1="output", level2="output_cost", name="人均培训成本", operator="le", target_value="500", unit="元",
         weight="10"),
    dict(level1="benefit", level2="social", name="培训后就业率", operator="ge", target_value="80", unit="%", weight="20"),
    dict(level1="benefit", level2="sustainable", name="长效机制", operator="qualitative", target_text="逐步健全",
         weight="10"),
    dict(level1="satisfaction", level2="service_satisfaction", name="学员满意度", operator="ge", target_value="90",
         unit="%", weight="10"),
]


def make_goal(project, *, state=GoalState.DRAFT, rows=ROWS, overall="完成培训任务，促进就业。", version=1):
    goal = PerformanceGoal(project=project, version=version, state=state, overall_goal=overall)
    if state == GoalState.APPROVED:
        goal.review_grade = Grade.EXCELLENT
    for pos, row in enumerate(rows):
        goal.indicators.append(Indicator(
            position=pos, level1=Level1(row["level1"]), level2=Level2(row["level2"]), name=row["name"],
            operator=Operator(row["operator"]),
            target_value=Decimal(row["target_value"]) if row.get("target_value") else None,
            target_text=row.get("target_text", ""), unit=row.get("unit", ""), weight=Decimal(row["weight"])))
    db.session.add(goal)
    db.session.flush()
    return goal
