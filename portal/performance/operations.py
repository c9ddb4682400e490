"""The only writers of performance data. They validate (DomainError with a Chinese message),
change state, write the audit log and notify; they never read `request`. The caller commits."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.accounts.models import Organisation, OrgKind, Role, User
from portal.core import clock
from portal.core.audit import record_change
from portal.core.errors import DomainError
from portal.core.notifications import notify
from portal.core.permissions import can, org_subtree_ids
from portal.core.states import StateMachine, Transition
from portal.extensions import db
from portal.performance import monitoring as mon
from portal.performance import scoring, settings
from portal.performance.models import (
    LEVEL2_OF,
    BudgetType,
    Evaluation,
    EvaluationFinding,
    EvaluationLine,
    EvaluationMode,
    EvaluationState,
    GoalState,
    Grade,
    Indicator,
    Level1,
    Level2,
    MonitoringReport,
    MonitoringValue,
    Operator,
    PerformanceGoal,
    Project,
    ProjectKind,
    ProjectStatus,
    QualitativeTier,
)

PROJECT_FIELDS = ["code", "name", "year", "kind", "budget_type", "unit_id", "initial_budget", "annual_budget",
                  "executed", "description"]
INDICATOR_WEIGHT_TOTAL = Decimal(90)  # 产出 50 + 效益 30 + 满意度 10; 预算执行率 10 is scored apart


# ---- helpers ---------------------------------------------------------------------------------

def parse_decimal(value, *, field_name: str, label: str, required: bool = False, minimum=None) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise DomainError(_("请填写%(label)s。", label=label), field=field_name)
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise DomainError(_("%(label)s必须是数字。", label=label), field=field_name) from None
    if not number.is_finite():
        raise DomainError(_("%(label)s必须是数字。", label=label), field=field_name)
    if minimum is not None and number < minimum:
        raise DomainError(_("%(label)s不能小于 %(min)s。", label=label, min=minimum), field=field_name)
    return number


def is_finance_officer(user) -> bool:
    return user.is_finance and user.has_role(Role.FINANCE_OFFICER)


def units_in_reach(user) -> list[Organisation]:
    """Units a user may create projects for."""
    stmt = sa.select(Organisation).where(Organisation.kind == OrgKind.BUDGET_UNIT, Organisation.is_active)
    if not is_finance_officer(user):
        stmt = stmt.where(Organisation.id.in_(org_subtree_ids(user.organisation_id)))
    return list(db.session.scalars(stmt.order_by(Organisation.code, Organisation.id)))


# ---- projects --------------------------------------------------------------------------------

def _apply_project_data(project: Project, data: dict, actor) -> None:
    code = (data.get("code") or "").strip()
    name = (data.get("name") or "").strip()
    if not code:
        raise DomainError(_("请填写项目编码。"), field="code")
    if not name:
        raise DomainError(_("请填写项目名称。"), field="name")
    try:
        year = int(data.get("year"))
    except (TypeError, ValueError):
        raise DomainError(_("年度必须是四位数字。"), field="year") from None
    if not 2000 <= year <= 2100:
        raise DomainError(_("年度必须是四位数字。"), field="year")
    try:
        kind = ProjectKind.coerce(data.get("kind"))
    except ValueError:
        raise DomainError(_("请选择项目类型。"), field="kind") from None
    try:
        budget_type = BudgetType.coerce(data.get("budget_type"))
    except ValueError:
        raise DomainError(_("请选择预算类型。"), field="budget_type") from None
    unit = db.session.get(Organisation, int(data.get("unit_id") or 0))
    if unit is None or unit.kind != OrgKind.BUDGET_UNIT:
        raise DomainError(_("请选择责任单位。"), field="unit_id")
    if not is_finance_officer(actor) and unit.id not in org_subtree_ids(actor.organisation_id):
        raise DomainError(_("只能为本单位及下属单位填报项目。"), field="unit_id")
    amounts = {}
    for key, label in (("initial_budget", "年初预算数"), ("annual_budget", "全年预算数"), ("executed", "全年执行数")):
        amounts[key] = parse_decimal(data.get(key), field_name=key, label=label, minimum=0) or Decimal(0)
        if amounts[key].as_tuple().exponent < -2:
            raise DomainError(_("%(label)s最多保留两位小数（元）。", label=label), field=key)
    duplicate = db.session.scalar(sa.select(Project.id).where(Project.code == code, Project.year == year,
                                                              Project.id != (project.id or 0)))
    if duplicate:
        raise DomainError(_("%(year)s 年度已有编码为 %(code)s 的项目。", year=year, code=code), field="code")
    project.code, project.name, project.year, project.kind, project.budget_type = code, name[:200], year, kind, budget_type
    project.unit, project.unit_id, project.department_id = unit, unit.id, unit.department.id
    project.initial_budget = amounts["initial_budget"]
    project.annual_budget = amounts["annual_budget"]
    project.executed = amounts["executed"]
    project.description = (data.get("description") or "").strip()


def _project_snapshot(project: Project) -> dict:
    return {f: str(getattr(project, f)) for f in PROJECT_FIELDS}


def create_project(data: dict, *, actor) -> Project:
    if not can(actor, "create", Project):
        raise DomainError(_("您无权新建项目。"))
    project = Project()
    _apply_project_data(project, data, actor)
    db.session.add(project)
    db.session.flush()
    record_change(actor, "project.create", project, after=_project_snapshot(project))
    return project


def update_project(project: Project, data: dict, *, actor) -> Project:
    if not can(actor, "edit", project):
        raise DomainError(_("您无权修改该项目。"))
    before = _project_snapshot(project)
    _apply_project_data(project, data, actor)
    after = _project_snapshot(project)
    if before != after:
        record_change(actor, "project.update", project, before=before, after=after)
    return project


def stop_project(project: Project, reason: str, *, actor) -> None:
    """终止: a warned project is stopped and its money withdrawn (finance only)."""
    if not is_finance_officer(actor):
        raise DomainError(_("只有财政绩效管理人员可以终止项目。"))
    if project.status == ProjectStatus.STOPPED:
        raise DomainError(_("该项目已终止。"))
    if not (reason or "").strip():
        raise DomainError(_("请填写终止理由。"), field="reason")
    project.status, project.stop_reason = ProjectStatus.STOPPED, reason.strip()
    record_change(actor, "project.stop", project, before={"status": "active"}, after={"status": "stopped"},
                  comment=project.stop_reason)
    notify(unit_users(project), _("项目“%(name)s”已终止", name=project.name), link=f"/projects/{project.id}",
           body=project.stop_reason)


def unit_users(project: Project) -> list[User]:
    ids = {project.unit_id, project.department_id}
    return list(db.session.scalars(sa.select(User).where(User.organisation_id.in_(ids), User.is_active_account)))


def finance_officers() -> list[User]:
    return [u for u in db.session.scalars(
        sa.select(User).join(Organisation).where(Organisation.kind == OrgKind.FINANCE_BUREAU, User.is_active_account))
        if u.has_role(Role.FINANCE_OFFICER)]


# ---- goals and indicator rows ----------------------------------------------------------------

@dataclass
class GoalErrors:
    general: list[str] = field(default_factory=list)
    rows: dict[int, dict[str, str]] = field(default_factory=dict)  # position → {field: message}

    def __bool__(self) -> bool:
        return bool(self.general or self.rows)

    def messages(self) -> list[str]:
        out = list(self.general)
        for pos, errs in sorted(self.rows.items()):
            out.extend(_("第 %(n)s 行：%(msg)s", n=pos + 1, msg=m) for m in errs.values())
        return out


def row_errors(row: dict) -> dict[str, str]:
    """Validate one indicator row given as plain values; returns {field: message}."""
    errors: dict[str, str] = {}
    try:
        level1 = Level1.coerce(row.get("level1"))
    except ValueError:
        errors["level1"] = _("请选择一级指标。")
        level1 = None
    try:
        level2 = Level2.coerce(row.get("level2"))
    except ValueError:
        errors["level2"] = _("请选择二级指标。")
        level2 = None
    if level1 and level2 and level2 not in LEVEL2_OF[level1]:
        errors["level2"] = _("二级指标“%(l2)s”不属于一级指标“%(l1)s”。", l2=level2.zh, l1=level1.zh)
    if not (row.get("name") or "").strip():
        errors["name"] = _("请填写三级指标名称。")
    try:
        operator = Operator.coerce(row.get("operator"))
    except ValueError:
        errors["operator"] = _("请选择运算符号。")
        operator = None
    if operator == Operator.QUALITATIVE:
        if not (row.get("target_text") or "").strip():
            errors["target_value"] = _("定性指标请填写指标值（如“达到预期”）。")
    elif operator is not None:
        try:
            parse_decimal(row.get("target_value"), field_name="target_value", label=_("指标值"), required=True)
        except DomainError as e:
            errors["target_value"] = _("定量指标的指标值必须是数字。") if "数字" in e.message else e.message
    try:
        weight = parse_decimal(row.get("weight"), field_name="weight", label=_("分值"), required=True, minimum=0)
        if weight is not None and weight > 100:
            errors["weight"] = _("分值不能超过 100。")
    except DomainError as e:
        errors["weight"] = e.message
    return errors


def indicator_row(ind: Indicator) -> dict:
    return {"level1": ind.level1, "level2": ind.level2, "name": ind.name, "operator": ind.operator,
            "target_value": ind.target_value, "target_text": ind.target_text, "unit": ind.unit,
            "weight": ind.weight}


def validate_goal_rows(rows: list[dict], overall_goal: str = "x") -> GoalErrors:
    """The whole table: every row valid, ≥1 output and ≥1 benefit indicator, weights total 90."""
    errors = GoalErrors()
    if not (overall_goal or "").strip():
        errors.general.append(_("请填写总体目标。"))
    for pos, row in enumerate(rows):
        found = row_errors(row)
        if found:
            errors.rows[pos] = found
    levels = {str(r.get("level1")) for r in rows}
    if Level1.OUTPUT.value not in levels:
        errors.general.append(_("至少需要一个产出指标。"))
    if Level1.BENEFIT.value not in levels:
        errors.general.append(_("至少需要一个效益指标。"))
    if not errors.rows:
        weights = sum((Decimal(str(r.get("weight") or 0)) for r in rows), Decimal(0))
        if weights != INDICATOR_WEIGHT_TOTAL:
            errors.general.append(_("指标分值合计应为 %(want)s（另有预算执行率 10 分），当前为 %(have)s。",
                                    want=INDICATOR_WEIGHT_TOTAL, have=format(weights.normalize(), "f")))
    return errors


def goal_for(project: Project, *, actor) -> PerformanceGoal:
    """The current goal, creating an empty draft (version 1) when there is none."""
    goal = project.current_goal
    if goal is None:
        if not can(actor, "edit", project):
            raise DomainError(_("您无权填报该项目的绩效目标。"))
        goal = PerformanceGoal(project=project, version=1, state=GoalState.DRAFT)
        db.session.add(goal)
        db.session.flush()
        record_change(actor, "goal.create", goal, after={"version": 1})
    return goal


def _require_editable(goal: PerformanceGoal, actor) -> None:
    if not can(actor, "edit", goal.project):
        raise DomainError(_("您无权修改该绩效目标。"))
    if goal.state not in (GoalState.DRAFT, GoalState.RETURNED):
        raise DomainError(_("绩效目标处于“%(state)s”状态，不能修改。", state=goal.state.label))


def set_overall_goal(goal: PerformanceGoal, text: str, *, actor) -> None:
    _require_editable(goal, actor)
    before = goal.overall_goal
    goal.overall_goal = (text or "").strip()
    if before != goal.overall_goal:
        record_change(actor, "goal.update", goal, before={"overall_goal": before}, after={"overall_goal": goal.overall_goal})


def _fill_indicator(ind: Indicator, row: dict) -> None:
    errors = row_errors(row)
    if errors:
        key, message = next(iter(errors.items()))
        raise DomainError(message, field=key)
    ind.level1 = Level1.coerce(row["level1"])
    ind.level2 = Level2.coerce(row["level2"])
    ind.name = row["name"].strip()[:200]
    ind.operator = Operator.coerce(row["operator"])
    if ind.operator == Operator.QUALITATIVE:
        ind.target_value, ind.target_text = None, (row.get("target_text") or "").strip()[:200]
    else:
        ind.target_value = parse_decimal(row.get("target_value"), field_name="target_value", label=_("指标值"))
        ind.target_text = ""
    ind.unit = (row.get("unit") or "").strip()[:20]
    ind.weight = parse_decimal(row.get("weight"), field_name="weight", label=_("分值"), minimum=0)


def add_indicator(goal: PerformanceGoal, row: dict, *, actor) -> Indicator:
    _require_editable(goal, actor)
    ind = Indicator(goal=goal, position=(max((i.position for i in goal.indicators), default=-1) + 1))
    _fill_indicator(ind, row)
    db.session.add(ind)
    db.session.flush()
    record_change(actor, "goal.indicator_add", goal, after={"indicator": ind.id, "name": ind.name})
    return ind


def update_indicator(ind: Indicator, row: dict, *, actor) -> Indicator:
    _require_editable(ind.goal, actor)
    before = {k: str(v) for k, v in indicator_row(ind).items()}
    _fill_indicator(ind, row)
    after = {k: str(v) for k, v in indicator_row(ind).items()}
    if before != after:
        record_change(actor, "goal.indicator_edit", ind.goal, before=before, after=after)
    return ind


def delete_indicator(ind: Indicator, *, actor) -> None:
    goal = ind.goal
    _require_editable(goal, actor)
    record_change(actor, "goal.indicator_delete", goal, before={"indicator": ind.id, "name": ind.name})
    goal.indicators.remove(ind)
    db.session.delete(ind)
    for pos, other in enumerate(goal.indicators):
        other.position = pos


def move_indicator(ind: Indicator, direction: int, *, actor) -> None:
    goal = ind.goal
    _require_editable(goal, actor)
    rows = list(goal.indicators)
    i = rows.index(ind)
    j = i + (1 if direction > 0 else -1)
    if 0 <= j < len(rows):
        rows[i], rows[j] = rows[j], rows[i]
        for pos, other in enumerate(rows):
            other.position = pos
        goal.indicators.sort(key=lambda x: x.position)


def _can_edit_goal(user, goal) -> bool:
    return can(user, "edit", goal.project)


GOAL_REVIEW = StateMachine("goal", [
    Transition("submit", {GoalState.DRAFT, GoalState.RETURNED}, GoalState.SUBMITTED, who=_can_edit_goal,
               label="提交审核"),
    Transition("approve", {GoalState.SUBMITTED}, GoalState.APPROVED, who=lambda u, g: is_finance_officer(u),
               label="审核通过"),
    Transition("return", {GoalState.SUBMITTED}, GoalState.RETURNED, who=lambda u, g: is_finance_officer(u),
               label="退回修改", needs_comment=True),
])


def submit_goal(goal: PerformanceGoal, *, actor, expected_state=None) -> None:
    errors = validate_goal_rows([indicator_row(i) for i in goal.indicators], goal.overall_goal)
    if errors:
        raise DomainError("；".join(errors.messages()))
    GOAL_REVIEW.apply(goal, "submit", actor=actor, expected_state=expected_state)
    goal.submitted_at = clock.now()
    notify(finance_officers(), _("绩效目标待审核：%(name)s", name=goal.project.name),
           link=f"/projects/{goal.project_id}/goal")


def review_goal(goal: PerformanceGoal, decision: str, grade, comment: str, *, actor, expected_state=None) -> None:
    """Finance grades the goal 优/良/中/差 and approves (优/良) or returns it (any grade, with comments)."""
    try:
        grade = Grade.coerce(grade)
    except ValueError:
        raise DomainError(_("请选择审核等级。"), field="grade") from None
    if decision == "approve" and grade not in (Grade.EXCELLENT, Grade.GOOD):
        raise DomainError(_("审核等级为“%(g)s”的目标不能批复，请退回修改。", g=grade.label), field="grade")
    if decision not in ("approve", "return"):
        raise DomainError(_("请选择审核结论。"), field="decision")
    GOAL_REVIEW.apply(goal, decision, actor=actor, comment=comment, expected_state=expected_state)
    goal.review_grade, goal.review_comment = grade, (comment or "").strip()
    if decision == "approve":
        goal.approved_at = clock.now()
        title = _("绩效目标已批复：%(name)s", name=goal.project.name)
    else:
        title = _("绩效目标被退回修改：%(name)s", name=goal.project.name)
    notify(unit_users(goal.project), title, link=f"/projects/{goal.project_id}/goal", body=goal.review_comment)


def revise_goal(goal: PerformanceGoal, reason: str, *, actor) -> PerformanceGoal:
    """A change after approval: a new draft version with the reason; the old version is kept."""
    if goal.state != GoalState.APPROVED:
        raise DomainError(_("只有已批复的目标需要通过新版本调整。"))
    if not can(actor, "edit", goal.project):
        raise DomainError(_("您无权调整该绩效目标。"))
    if not (reason or "").strip():
        raise DomainError(_("请填写调整理由。"), field="reason")
    new = PerformanceGoal(project=goal.project, version=goal.version + 1, state=GoalState.DRAFT,
                          overall_goal=goal.overall_goal, change_reason=reason.strip())
    db.session.add(new)
    for ind in goal.indicators:
        new.indicators.append(Indicator(**{k: getattr(ind, k) for k in (
            "position", "level1", "level2", "name", "operator", "target_value", "target_text", "unit", "weight")}))
    goal.state = GoalState.SUPERSEDED
    db.session.add(new)
    db.session.flush()
    record_change(actor, "goal.revise", goal, before={"state": "approved"}, after={"state": "superseded",
                  "new_version": new.version}, comment=reason.strip())
    record_change(actor, "goal.create", new, after={"version": new.version}, comment=reason.strip())
    return new


# ---- monitoring ------------------------------------------------------------------------------

def approved_goal(project: Project) -> PerformanceGoal | None:
    return next((g for g in reversed(project.goals) if g.state == GoalState.APPROVED), None)


def recompute_report(report: MonitoringReport, t: mon.Thresholds | None = None) -> None:
    t = t or settings.thresholds()
    project = report.project
    report.lag_warning = mon.execution_warning(report.executed, project.annual_budget, report.month, t)
    red = 0
    for value in report.values:
        ind = value.indicator
        light = mon.indicator_light(operator=ind.operator, level2=ind.level2, target=ind.target_value,
                                    value_so_far=value.value_so_far, expected=value.expected,
                                    tier=value.tier.value if value.tier else None, month=report.month, t=t)
        value.light = light.value
        red += light == mon.Light.RED
    report.red_count = red
    report.warning = report.lag_warning or red > 0


def save_monitoring(project: Project, month, executed, values: dict[int, dict], *, actor,
                    note: str = "") -> MonitoringReport:
    """Create or update the checkpoint report for `month` (values: indicator id → fields)."""
    if not can(actor, "edit", project):
        raise DomainError(_("您无权填报该项目的运行监控。"))
    if project.status == ProjectStatus.STOPPED:
        raise DomainError(_("项目已终止，不再填报运行监控。"))
    goal = approved_goal(project)
    if goal is None:
        raise DomainError(_("绩效目标批复后才能填报运行监控。"))
    try:
        month = int(month)
    except (TypeError, ValueError):
        raise DomainError(_("请选择监控截止月份。"), field="month") from None
    if not 1 <= month <= 12:
        raise DomainError(_("请选择监控截止月份。"), field="month")
    executed = parse_decimal(executed, field_name="executed", label=_("执行数"), required=True, minimum=0)
    report = db.session.scalar(sa.select(MonitoringReport).where(MonitoringReport.project_id == project.id,
                                                                 MonitoringReport.month == month))
    if report is None:
        report = MonitoringReport(project=project, month=month)
        db.session.add(report)
    report.goal_id, report.executed, report.note = goal.id, executed, (note or "").strip()
    report.reported_by_id = actor.id
    existing = {v.indicator_id: v for v in report.values}
    for ind in goal.indicators:
        data = values.get(ind.id, {})
        row = existing.get(ind.id) or MonitoringValue(indicator=ind)
        if row not in report.values:
            report.values.append(row)
        label = ind.name
        row.value_so_far = parse_decimal(data.get("value_so_far"), field_name=f"v{ind.id}",
                                         label=_("“%(n)s”已完成值", n=label))
        row.expected = parse_decimal(data.get("expected"), field_name=f"e{ind.id}",
                                     label=_("“%(n)s”全年预计值", n=label))
        tier = data.get("tier") or None
        try:
            row.tier = QualitativeTier.coerce(tier) if tier else None
        except ValueError:
            raise DomainError(_("请选择“%(n)s”的完成情况。", n=label), field=f"t{ind.id}") from None
        row.reason = (data.get("reason") or "").strip()
    db.session.flush()
    recompute_report(report)
    record_change(actor, "monitoring.report", report, after={"month": month, "executed": str(executed),
                  "warning": report.warning, "red": report.red_count})
    if report.warning:
        notify(finance_officers(), _("运行监控预警：%(name)s", name=project.name), link=f"/projects/{project.id}")
    return report


def update_thresholds(t: mon.Thresholds, *, actor) -> int:
    """Store new thresholds and recompute every report's lights; returns the number recomputed."""
    if not actor.has_role(Role.ADMIN):
        raise DomainError(_("只有系统管理员可以修改预警阈值。"))
    try:
        t.validate()
    except ValueError:
        raise DomainError(_("阈值须满足：红灯线 < 绿灯线 < 蓝灯线，且滞后阈值在 0–100 之间。")) from None
    settings.store_thresholds(t)
    n = 0
    for report in db.session.scalars(sa.select(MonitoringReport)):
        recompute_report(report, t)
        n += 1
    record_change(actor, "settings.thresholds", _settings_record(), after={k: str(getattr(t, k)) for k in
                  ("red_below", "green_from", "blue_from", "lag_points")})
    return n


def _settings_record():
    from portal.performance.models import PerformanceSetting

    class _Rec:  # the audit log wants a table name and an id
        __tablename__ = PerformanceSetting.__tablename__
        id = settings.THRESHOLDS
    return _Rec()


# ---- evaluations -----------------------------------------------------------------------------

PART_OF_LEVEL1 = {Level1.OUTPUT: "output", Level1.COST: "output", Level1.BENEFIT: "benefit",
                  Level1.SATISFACTION: "satisfaction"}


def start_self_evaluation(project: Project, *, actor) -> Evaluation:
    """单位自评 built from the approved goal: one line per indicator plus 预算执行率 (10)."""
    if not can(actor, "edit", project):
        raise DomainError(_("您无权对该项目开展自评。"))
    goal = approved_goal(project)
    if goal is None:
        raise DomainError(_("绩效目标批复后才能开展自评。"))
    existing = db.session.scalar(sa.select(Evaluation).where(Evaluation.project_id == project.id,
                                                             Evaluation.mode == EvaluationMode.SELF))
    if existing is not None:
        return existing
    evaluation = Evaluation(project=project, mode=EvaluationMode.SELF, year=project.year)
    db.session.add(evaluation)
    evaluation.lines.append(EvaluationLine(position=0, part="execution", label="预算执行率", operator=Operator.GE,
                                           target=project.annual_budget, actual=project.executed,
                                           weight=scoring.DEFAULT_WEIGHTS["execution"]))
    for pos, ind in enumerate(goal.indicators, start=1):
        evaluation.lines.append(EvaluationLine(
            position=pos, indicator=ind, part=PART_OF_LEVEL1[ind.level1], label=ind.name, operator=ind.operator,
            target=ind.target_value, target_text=ind.target_display, weight=ind.weight))
    db.session.flush()
    _score_self(evaluation)
    record_change(actor, "evaluation.create", evaluation, after={"mode": "self", "goal_version": goal.version})
    return evaluation


def _line(evaluation: Evaluation, line_id) -> EvaluationLine:
    for line in evaluation.lines:
        if str(line.id) == str(line_id):
            return line
    raise DomainError(_("评分行不存在。"))


def _score_self(evaluation: Evaluation) -> scoring.Result:
    lines = [scoring.Line(weight=ln.weight, operator=ln.operator or Operator.GE, target=ln.target,
                          actual=ln.actual, tier=ln.tier.value if ln.tier else None, applicable=ln.applicable)
             for ln in evaluation.lines]
    result = scoring.total(lines)
    for ln, s in zip(evaluation.lines, result.line_scores, strict=True):
        ln.score = s
    evaluation.score, evaluation.grade = result.total, result.grade
    return result


def _require_scoring(evaluation: Evaluation, actor) -> None:
    if not can(actor, "score", evaluation):
        raise DomainError(_("您无权填写该评价。"))
    if evaluation.state == EvaluationState.COMPLETED:
        raise DomainError(_("评价已完成，不能再修改。"))


def save_self_evaluation(evaluation: Evaluation, entries: dict, *, actor, executed=None) -> scoring.Result:
    """entries: line id → {actual, tier, applicable, reason}. Scores and grade are computed."""
    _require_scoring(evaluation, actor)
    for line_id, data in entries.items():
        line = _line(evaluation, line_id)
        if line.part == "execution":
            continue
        line.applicable = bool(data.get("applicable", True))
        if line.operator == Operator.QUALITATIVE:
            tier = data.get("tier") or None
            try:
                line.tier = QualitativeTier.coerce(tier) if tier else None
            except ValueError:
                raise DomainError(_("请选择“%(n)s”的完成情况。", n=line.label), field=f"t{line.id}") from None
        else:
            line.actual = parse_decimal(data.get("actual"), field_name=f"a{line.id}",
                                        label=_("“%(n)s”实际完成值", n=line.label), minimum=0)
        line.reason = (data.get("reason") or "").strip()
    if executed is not None:
        project = evaluation.project
        project.executed = parse_decimal(executed, field_name="executed", label=_("全年执行数"), required=True,
                                         minimum=0)
        execution_line = next(ln for ln in evaluation.lines if ln.part == "execution")
        execution_line.actual, execution_line.target = project.executed, project.annual_budget
    result = _score_self(evaluation)
    record_change(actor, "evaluation.score", evaluation, after={"score": str(evaluation.score),
                                                                "grade": str(evaluation.grade)})
    return result


def start_framework_evaluation(project: Project, mode, *, actor, agency_id=None) -> Evaluation:
    """部门评价 / 财政评价 on the common framework (决策/过程/产出/效益)."""
    mode = EvaluationMode.coerce(mode)
    if mode == EvaluationMode.SELF:
        return start_self_evaluation(project, actor=actor)
    if mode == EvaluationMode.FINANCE and not is_finance_officer(actor):
        raise DomainError(_("只有财政绩效管理人员可以开展财政评价。"))
    if mode == EvaluationMode.DEPARTMENT and not (is_finance_officer(actor) or (
            actor.org_kind == OrgKind.BUDGET_UNIT and actor.organisation_id == project.department_id)):
        raise DomainError(_("部门评价由主管部门开展。"))
    agency = None
    if agency_id:
        agency = db.session.get(Organisation, int(agency_id))
        if agency is None or agency.kind != OrgKind.AGENCY:
            raise DomainError(_("请选择第三方机构。"), field="agency_id")
    evaluation = Evaluation(project=project, mode=mode, year=project.year, agency=agency)
    db.session.add(evaluation)
    for pos, (part, label) in enumerate(settings.FRAMEWORK_PARTS):
        evaluation.lines.append(EvaluationLine(position=pos, part=part, label=label,
                                               weight=settings.framework_weights()[part]))
    db.session.flush()
    record_change(actor, "evaluation.create", evaluation, after={"mode": mode.value,
                                                                 "agency": agency.name if agency else ""})
    return evaluation


def save_framework_scores(evaluation: Evaluation, scores: dict, *, actor, conclusion: str = "",
                          suggestions: str = "") -> Decimal:
    _require_scoring(evaluation, actor)
    for line in evaluation.lines:
        value = parse_decimal(scores.get(str(line.id), scores.get(line.id)), field_name=f"s{line.id}",
                              label=_("“%(n)s”得分", n=line.label), minimum=0)
        if value is not None and value > line.weight:
            raise DomainError(_("“%(n)s”得分不能超过分值 %(w)s。", n=line.label, w=line.weight.normalize()),
                              field=f"s{line.id}")
        line.score = value
    possible = sum((ln.weight for ln in evaluation.lines), Decimal(0))
    raw = sum((ln.score or Decimal(0) for ln in evaluation.lines), Decimal(0))
    evaluation.score = scoring.q2(raw * 100 / possible) if possible else Decimal("0.00")
    evaluation.grade = Grade.for_score(evaluation.score)
    evaluation.conclusion, evaluation.suggestions = (conclusion or "").strip(), (suggestions or "").strip()
    record_change(actor, "evaluation.score", evaluation, after={"score": str(evaluation.score)})
    return evaluation.score


def complete_evaluation(evaluation: Evaluation, *, actor) -> None:
    _require_scoring(evaluation, actor)
    if evaluation.mode == EvaluationMode.SELF:
        missing = [ln.label for ln in evaluation.lines if ln.applicable and ln.part != "execution" and (
            (ln.operator == Operator.QUALITATIVE and ln.tier is None)
            or (ln.operator != Operator.QUALITATIVE and ln.actual is None))]
        if missing:
            raise DomainError(_("以下指标尚未填写实际完成值（不适用的请勾选“不适用”）：%(names)s",
                                names="、".join(missing)))
        _score_self(evaluation)
    elif any(ln.score is None for ln in evaluation.lines):
        raise DomainError(_("请先为每一部分打分。"))
    evaluation.state, evaluation.completed_at = EvaluationState.COMPLETED, clock.now()
    record_change(actor, "evaluation.complete", evaluation, before={"state": "draft"},
                  after={"state": "completed", "score": str(evaluation.score), "grade": str(evaluation.grade)})


def add_finding(evaluation: Evaluation, *, actor, description: str, category: str = "", amount=None,
                suggestion: str = "") -> EvaluationFinding:
    if not can(actor, "score", evaluation) and not (evaluation.state == EvaluationState.COMPLETED
                                                    and is_finance_officer(actor)):
        raise DomainError(_("您无权为该评价登记问题。"))
    if not (description or "").strip():
        raise DomainError(_("请填写问题描述。"), field="description")
    amount = parse_decimal(amount, field_name="amount", label=_("问题金额"), minimum=0)
    finding = EvaluationFinding(evaluation=evaluation, category=(category or "").strip()[:60],
                                description=description.strip(), amount=amount,
                                suggestion=(suggestion or "").strip())
    db.session.add(finding)
    db.session.flush()
    record_change(actor, "evaluation.finding_add", evaluation, after={"finding": finding.id,
                                                                      "description": finding.description[:200]})
    return finding


# ---- result application ----------------------------------------------------------------------

def suggestion_for(grade: Grade | None, budget: Decimal, rules: dict | None = None) -> tuple[str, Decimal | None]:
    """(suggestion text, suggested next-year budget) for a grade; the portal never changes a budget."""
    if grade is None:
        return "", None
    rule = (rules or settings.result_rules())[Grade.coerce(grade).value]
    if rule.get("no_budget"):
        return rule.get("text", ""), Decimal("0.00")
    pct = Decimal(str(rule.get("percent", 0)))
    return rule.get("text", ""), scoring.q2(budget * (100 + pct) / 100)
