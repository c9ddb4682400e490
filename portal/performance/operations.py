# Over 400 lines: projects, goals, indicator tables, monitoring and evaluations; to be split by stage.
"""The only writers of performance data. They validate (DomainError with a Chinese message),
change state, write the audit log and notify; they never read `request`. The caller commits (through
`portal.core.writes.perform`, one commit per request).

Every edit takes the `version` (lock_version) its form was built on and refuses a stale save
(`expect_version`) after taking the row lock; transitions and hand-written state checks lock
first (`lock`); a change of children (indicator rows, evaluation lines) `touch()`es the parent.
Each record changed gets one audit entry with before and after of the changed fields only."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.accounts.models import Organisation, OrgKind, User
from portal.core import bulk, clock, reach
from portal.core.audit import record_change
from portal.core.errors import DomainError, ItemsRefused, StaleRecord
from portal.core.locale import N_
from portal.core.notifications import notify
from portal.core.permissions import can, org_subtree_ids
from portal.core.registry import require_gates
from portal.core.states import StateMachine, Transition
from portal.core.versions import expect_version, touch
from portal.core.writes import lock
from portal.extensions import db
from portal.performance import monitoring, scoring, settings
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
    LibraryIndicator,
    MonitoringReport,
    MonitoringValue,
    Operator,
    PerformanceGoal,
    Project,
    ProjectKind,
    ProjectStatus,
    QualitativeTier,
    StandardSource,
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
    """财政绩效管理人员: who writes every project in the reach table (portal/core/reach.py)."""
    return reach.reaches_all(user, "project", reach.WRITE)


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
    return {f: _text(getattr(project, f)) for f in PROJECT_FIELDS}


def changes(before: dict, after: dict) -> tuple[dict, dict]:
    """The fields that differ, as (before, after) — what an audit entry records."""
    changed = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in changed}, {k: after[k] for k in changed}


def create_project(data: dict, *, actor) -> Project:
    if not can(actor, "create", Project):
        raise DomainError(_("您无权新建项目。"))
    project = Project()
    _apply_project_data(project, data, actor)
    db.session.add(project)
    db.session.flush()
    record_change(actor, "project.create", project, after=_project_snapshot(project))
    return project


def update_project(project: Project, data: dict, *, actor, version) -> Project:
    """Save the edit form; refused when the project changed since the form was built."""
    if not can(actor, "edit", project):
        raise DomainError(_("您无权修改该项目。"))
    lock(project)
    expect_version(project, version)
    before = _project_snapshot(project)
    _apply_project_data(project, data, actor)
    old, new = changes(before, _project_snapshot(project))
    if new:
        record_change(actor, "project.update", project, before=old, after=new)
    return project


def stop_project(project: Project, reason: str, *, actor) -> None:
    """终止: a warned project is stopped and its money withdrawn (finance only)."""
    if not is_finance_officer(actor):
        raise DomainError(_("只有财政绩效管理人员可以终止项目。"))
    lock(project)
    if project.status == ProjectStatus.STOPPED:
        raise DomainError(_("该项目已终止。"))
    if not (reason or "").strip():
        raise DomainError(_("请填写终止理由。"), field="reason")
    project.status, project.stop_reason = ProjectStatus.STOPPED, reason.strip()
    record_change(actor, "project.stop", project, before={"status": "active"}, after={"status": "stopped"},
                  comment=project.stop_reason)
    notify(unit_users(project), _("项目“%(name)s”已终止", name=project.name), link=f"/projects/{project.id}",
           body=project.stop_reason)


def attach_file(record, upload, *, actor, purpose: str, allowed: set[str]):
    """A project document or an evaluation report (上传文件)."""
    from portal.core.attachments import save_upload

    if not upload or not getattr(upload, "filename", ""):
        raise DomainError(_("请选择要上传的文件。"), field="file")
    if isinstance(record, Project):
        if not can(actor, "edit", record):
            raise DomainError(_("您无权修改该项目。"))
    elif not can(actor, "score", record):
        raise DomainError(_("您无权填写该评价。"))
    attachment = save_upload(upload, actor=actor, record=record, purpose=purpose, allowed=allowed)
    record_change(actor, "attachment.add", record, after={"file": attachment.filename, "purpose": purpose})
    return attachment


def unit_users(project: Project) -> list[User]:
    ids = {project.unit_id, project.department_id}
    return list(db.session.scalars(sa.select(User).where(User.organisation_id.in_(ids), User.is_active_account)))


def finance_officers() -> list[User]:
    return [u for u in db.session.scalars(
        sa.select(User).join(Organisation).where(Organisation.kind == OrgKind.FINANCE_BUREAU, User.is_active_account))
        if is_finance_officer(u)]


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
    """The current goal, creating an empty draft (version 1) when there is none. Under the
    project's row lock, so two clicks on 填报绩效目标 make one goal."""
    if not can(actor, "edit", project):
        raise DomainError(_("您无权填报该项目的绩效目标。"))
    lock(project)
    goal = project.current_goal
    if goal is None:
        goal = PerformanceGoal(project=project, version=1, state=GoalState.DRAFT)
        db.session.add(goal)
        db.session.flush()
        record_change(actor, "goal.create", goal, after={"version": 1})
    return goal


def _require_editable(goal: PerformanceGoal, actor) -> None:
    if not can(actor, "edit", goal.project):
        raise DomainError(_("您无权修改该绩效目标。"))
    lock(goal)
    if goal.state not in (GoalState.DRAFT, GoalState.RETURNED):
        raise DomainError(_("绩效目标处于“%(state)s”状态，不能修改。", state=goal.state.label))


def set_overall_goal(goal: PerformanceGoal, text: str, *, actor, version) -> PerformanceGoal:
    _require_editable(goal, actor)
    expect_version(goal, version)
    before = goal.overall_goal
    goal.overall_goal = (text or "").strip()
    if before != goal.overall_goal:
        record_change(actor, "goal.update", goal, before={"overall_goal": before}, after={"overall_goal": goal.overall_goal})
    return goal


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


def _row_audit(ind: Indicator) -> dict:
    """An indicator row as audit values (decimals without trailing zeros: 1500.0000 → 1500)."""
    out = {}
    for k, v in indicator_row(ind).items():
        if isinstance(v, Decimal):
            v = format(v.normalize(), "f")
        out[k] = "" if v is None else str(getattr(v, "value", v))
    return out


def library_row(library_id, weight) -> dict:
    """The row a library indicator (指标库) puts into a goal table."""
    item = db.session.get(LibraryIndicator, int(library_id)) if str(library_id).isdigit() else None
    if item is None:
        raise DomainError(_("指标库中没有该指标。"), field="name")
    qualitative = item.operator == Operator.QUALITATIVE
    return {"level1": item.level1.value, "level2": item.level2.value, "name": item.name,
            "operator": item.operator.value, "unit": item.unit, "weight": weight or "0",
            "target_value": "" if qualitative else "".join(c for c in item.suggested_value if c.isdigit() or c == "."),
            "target_text": item.suggested_value if qualitative else ""}


def add_indicator(goal: PerformanceGoal, row: dict, *, actor, version, library_id=None) -> Indicator:
    """A new row at the end of the table (typed, or picked from the library)."""
    _require_editable(goal, actor)
    expect_version(goal, version)
    if library_id:
        row = library_row(library_id, row.get("weight"))
    ind = Indicator(goal=goal, position=(max((i.position for i in goal.indicators), default=-1) + 1))
    _fill_indicator(ind, row)
    db.session.add(ind)
    db.session.flush()
    touch(goal)
    record_change(actor, "goal.indicator_add", ind, after=_row_audit(ind))
    return ind


def update_indicator(ind: Indicator, row: dict, *, actor, version) -> Indicator:
    """Save one row edited in place; refused when the row changed since its form was built."""
    goal = ind.goal
    _require_editable(goal, actor)
    lock(ind)
    expect_version(ind, version)
    before = _row_audit(ind)
    _fill_indicator(ind, row)
    old, new = changes(before, _row_audit(ind))
    if new:
        touch(goal)
        record_change(actor, "goal.indicator_edit", ind, before=old, after=new)
    return ind


def _order(goal: PerformanceGoal) -> list[str]:
    return [i.name for i in goal.indicators]


def _renumber(goal: PerformanceGoal, rows: list[Indicator]) -> None:
    """Store the table's order. Positions are written with a plain UPDATE (not as an edit of each
    row, which would make every open row form stale); the goal's version counts the reorder."""
    for pos, other in enumerate(rows):
        if other.position != pos:
            db.session.execute(sa.update(Indicator).where(Indicator.id == other.id).values(position=pos),
                               execution_options={"synchronize_session": False})
    db.session.expire(goal, ["indicators"])
    for other in rows:
        if sa.inspect(other).persistent:
            db.session.expire(other, ["position"])
    touch(goal)


def delete_indicator(ind: Indicator, *, actor, version) -> None:
    goal = ind.goal
    _require_editable(goal, actor)
    lock(ind)
    expect_version(ind, version)
    before = _order(goal)
    rows = [i for i in goal.indicators if i is not ind]
    db.session.delete(ind)
    db.session.flush()
    _renumber(goal, rows)
    record_change(actor, "goal.indicator_delete", goal, before={"order": before}, after={"order": _order(goal)},
                  comment=ind.name)


def move_indicator(ind: Indicator, direction: int, *, actor, version) -> None:
    """Move a row one place up or down (the table's order is the goal's: its version is checked)."""
    goal = ind.goal
    _require_editable(goal, actor)
    expect_version(goal, version)
    rows = list(goal.indicators)
    i = rows.index(ind)
    j = i + (1 if direction > 0 else -1)
    if not 0 <= j < len(rows):
        return
    before = _order(goal)
    rows[i], rows[j] = rows[j], rows[i]
    _renumber(goal, rows)
    record_change(actor, "goal.indicator_move", goal, before={"order": before}, after={"order": _order(goal)})


COPIED_FIELDS = ("level1", "level2", "name", "operator", "target_value", "target_text", "unit", "weight")


def _copied(ind: Indicator) -> dict:
    return {k: getattr(ind, k) for k in COPIED_FIELDS}


def copy_last_year(goal: PerformanceGoal, *, actor, version) -> list[Indicator]:
    """复制上年指标: last year's indicator table (queries.last_year_goal) appended to the draft, each
    row as it was; rows already in the table (same levels and name) are not copied twice."""
    from portal.performance.queries import last_year_goal

    _require_editable(goal, actor)
    expect_version(goal, version)
    source = last_year_goal(goal.project)
    if source is None or not can(actor, "view", source.project):
        raise DomainError(_("该项目上年没有可复制的绩效指标。"))
    present = {(i.level1, i.level2, i.name) for i in goal.indicators}
    rows = [i for i in source.indicators if (i.level1, i.level2, i.name) not in present]
    if not rows:
        raise DomainError(_("上年的指标已全部在指标表中，未重复复制。"))
    before = goal_table_audit(goal)
    position = max((i.position for i in goal.indicators), default=-1) + 1
    added = [Indicator(goal=goal, position=position + n, **_copied(ind)) for n, ind in enumerate(rows)]
    db.session.add_all(added)
    db.session.flush()
    db.session.expire(goal, ["indicators"])
    touch(goal)
    old, new = changes(before, goal_table_audit(goal))
    record_change(actor, "goal.copy_last_year", goal, before=old, after=new,
                  comment=_("复制自 %(year)s 年“%(name)s”第 %(v)s 版", year=source.project.year,
                            name=source.project.name, v=source.version))
    return added


def _can_edit_goal(user, goal) -> bool:
    return can(user, "edit", goal.project)


GOAL_REVIEW = StateMachine("goal", [
    Transition("submit", {GoalState.DRAFT, GoalState.RETURNED}, GoalState.SUBMITTED, who=_can_edit_goal,
               label=N_("提交审核")),
    Transition("approve", {GoalState.SUBMITTED}, GoalState.APPROVED, who=lambda u, g: is_finance_officer(u),
               label=N_("审核通过")),
    Transition("return", {GoalState.SUBMITTED}, GoalState.RETURNED, who=lambda u, g: is_finance_officer(u),
               label=N_("退回修改"), needs_comment=True),
])


def submit_goal(goal: PerformanceGoal, *, actor, expected_state=None) -> PerformanceGoal:
    """提交审核: the transition takes the goal's row lock first, so parallel submissions make one
    move; the table is checked as it is under the lock."""
    require_gates("goal.proceed", goal.project)  # 先评估后入库 (nothing changed when refused)
    GOAL_REVIEW.apply(goal, "submit", actor=actor, expected_state=expected_state)
    errors = validate_goal_rows([indicator_row(i) for i in goal.indicators], goal.overall_goal)
    if errors:
        raise DomainError("；".join(errors.messages()))
    goal.submitted_at = clock.now()
    notify(finance_officers(), _("绩效目标待审核：%(name)s", name=goal.project.name),
           link=f"/projects/{goal.project_id}/goal")
    return goal


def review_goal(goal: PerformanceGoal, decision: str, grade, comment: str, *, actor,
                expected_state=None) -> PerformanceGoal:
    """Finance grades the goal 优/良/中/差 and approves (优/良) or returns it (any grade, with comments)."""
    try:
        grade = Grade.coerce(grade)
    except ValueError:
        raise DomainError(_("请选择审核等级。"), field="grade") from None
    if decision == "approve" and grade not in (Grade.EXCELLENT, Grade.GOOD):
        raise DomainError(_("审核等级为“%(g)s”的目标不能批复，请退回修改。", g=grade.label), field="grade")
    if decision not in ("approve", "return"):
        raise DomainError(_("请选择审核结论。"), field="decision")
    if decision == "approve":
        require_gates("goal.proceed", goal.project)  # 先评估后入库: no budget without a supporting conclusion
    GOAL_REVIEW.apply(goal, decision, actor=actor, comment=comment, expected_state=expected_state, audit=False)
    # read under the lock the transition took; both moves start from 待审核
    before = {"state": GoalState.SUBMITTED.value, "review_grade": goal.review_grade.value if goal.review_grade else "",
              "review_comment": goal.review_comment}
    goal.review_grade, goal.review_comment = grade, (comment or "").strip()
    after = {"state": goal.state.value, "review_grade": grade.value, "review_comment": goal.review_comment}
    old, new = changes(before, after)
    record_change(actor, f"goal.{decision}", goal, before=old, after=new, comment=goal.review_comment)
    if decision == "approve":
        goal.approved_at = clock.now()
        title = _("绩效目标已批复：%(name)s", name=goal.project.name)
    else:
        title = _("绩效目标被退回修改：%(name)s", name=goal.project.name)
    notify(unit_users(goal.project), title, link=f"/projects/{goal.project_id}/goal", body=goal.review_comment)
    return goal


def bulk_review(*, actor, action: str, ids, grade=None, comment: str = "") -> bulk.BulkOutcome:
    """The project list's bulk bar: 批复 (approve) or 退回修改 (return) the goal awaiting review of
    each ticked project through `review_goal`, with one grade and one opinion; a project without a
    goal, or whose goal is not awaiting review, is named with the reason and left as it was."""
    if action not in ("approve", "return"):
        raise DomainError(_("请选择批量操作。"), field="action")

    def step(project: Project) -> None:
        goal = project.current_goal
        if goal is None:
            raise DomainError(_("尚未填报绩效目标。"))
        review_goal(goal, action, grade, comment, actor=actor)

    return bulk.run(actor, Project, ids, step, name=lambda p: f"{p.code} {p.name}",
                    locks=lambda p: p.current_goal)  # the goal is the row `review_goal` moves


def revise_goal(goal: PerformanceGoal, reason: str, *, actor) -> PerformanceGoal:
    """A change after approval: a new draft version with the reason; the old version is kept."""
    if not can(actor, "edit", goal.project):
        raise DomainError(_("您无权调整该绩效目标。"))
    lock(goal)
    if goal.state != GoalState.APPROVED:
        raise DomainError(_("只有已批复的目标需要通过新版本调整。"))
    if not (reason or "").strip():
        raise DomainError(_("请填写调整理由。"), field="reason")
    new = PerformanceGoal(project=goal.project, version=goal.version + 1, state=GoalState.DRAFT,
                          overall_goal=goal.overall_goal, change_reason=reason.strip())
    db.session.add(new)
    for ind in goal.indicators:
        new.indicators.append(Indicator(position=ind.position, **_copied(ind)))
    goal.state = GoalState.SUPERSEDED
    db.session.add(new)
    db.session.flush()
    record_change(actor, "goal.revise", goal, before={"state": "approved"}, after={"state": "superseded",
                  "new_version": new.version}, comment=reason.strip())
    record_change(actor, "goal.create", new, after={"version": new.version, "overall_goal": new.overall_goal,
                                                    "order": _order(new)}, comment=reason.strip())
    return new


# ---- monitoring ------------------------------------------------------------------------------

def approved_goal(project: Project) -> PerformanceGoal | None:
    return next((g for g in reversed(project.goals) if g.state == GoalState.APPROVED), None)


def recompute_report(report: MonitoringReport, t: monitoring.Thresholds | None = None) -> None:
    t = t or settings.thresholds()
    project = report.project
    report.lag_warning = monitoring.execution_warning(report.executed, project.annual_budget, report.month, t)
    red = 0
    for value in report.values:
        ind = value.indicator
        light = monitoring.indicator_light(operator=ind.operator, level2=ind.level2, target=ind.target_value,
                                           value_so_far=value.value_so_far, expected=value.expected,
                                           tier=value.tier.value if value.tier else None, month=report.month, t=t)
        value.light = light.value
        red += light == monitoring.Light.RED
    report.red_count = red
    report.warning = report.lag_warning or red > 0 or report.over_budget


def save_monitoring(project: Project, month, executed, values: dict[int, dict], *, actor,
                    note: str = "") -> MonitoringReport:
    """Create or update the checkpoint report for `month` (values: indicator id → fields)."""
    if not can(actor, "edit", project):
        raise DomainError(_("您无权填报该项目的运行监控。"))
    lock(project)  # one report per month: two saves of the same month queue here
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
    before = None
    if report is None:
        report = MonitoringReport(project=project, month=month)
        db.session.add(report)
    else:
        before = _report_audit(report)
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
    after = _report_audit(report)
    if before is None:
        record_change(actor, "monitoring.report", report, after=after)
    else:
        old, new = changes(before, after)
        if new:
            record_change(actor, "monitoring.report", report, before=old, after=new)
    if report.warning:
        notify(finance_officers(), _("运行监控预警：%(name)s", name=project.name), link=f"/projects/{project.id}")
    return report


def _report_audit(report: MonitoringReport) -> dict:
    values = {v.indicator.name: "/".join(_text(x) for x in (v.value_so_far, v.expected, v.tier, v.reason))
              for v in report.values}
    return {"month": report.month, "executed": _text(report.executed), "note": report.note,
            "warning": report.warning, "red": report.red_count, "values": values}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(getattr(value, "value", value))


SETTING_FORM_KEYS = {settings.THRESHOLDS: "v_thresholds", settings.FRAMEWORK: "v_framework",
                     settings.RESULT_RULES: "v_rules"}


def setting_versions() -> dict[str, int]:
    """The version of each settings row the settings form is built on (0: not stored yet)."""
    return {key: getattr(settings.setting_row(key), "lock_version", 0) for key in SETTING_FORM_KEYS}


def update_settings(values: dict, *, actor, versions: dict) -> int:
    """The administrator's rules page in one save: monitoring thresholds (every report's lights
    are recomputed when they change), the evaluation framework's weights and the result rules.
    `versions`: settings key → the version the form was built on; any stale one refuses the
    whole save. One audit entry per setting changed, with the changed values only. Returns the
    number of monitoring reports recomputed."""
    from portal.core.versions import changed_by_message
    from portal.performance.models import PerformanceSetting

    if not can(actor, "edit", PerformanceSetting):
        raise DomainError(_("只有系统管理员可以修改绩效规则设置。"))
    rows = {key: settings.setting_row(key) for key in SETTING_FORM_KEYS}
    for key, row in rows.items():
        if row is not None:
            lock(row)
        try:
            submitted = int(versions.get(key))
        except (TypeError, ValueError):
            raise StaleRecord(_("表单缺少版本信息，请刷新页面后重新填写。")) from None
        if submitted != getattr(row, "lock_version", 0):
            raise StaleRecord(changed_by_message(row) if row is not None else
                              _("该记录已被他人修改，您的修改未保存（页面保留了您填写的内容）。请刷新查看最新内容后再提交。"))

    def number(name: str, default: str | None = None) -> Decimal:
        raw = (values.get(name) or default or "").strip()
        try:
            value = Decimal(raw)
        except (InvalidOperation, ValueError):
            raise DomainError(_("请填写数字。"), field=name) from None
        if not value.is_finite():
            raise DomainError(_("请填写数字。"), field=name)
        return value

    t = monitoring.Thresholds(**{k: number(k) for k in THRESHOLD_KEYS})
    try:
        t.validate()
    except ValueError:
        raise DomainError(_("阈值须满足：红灯线 < 绿灯线 < 蓝灯线，且滞后阈值在 0–100 之间。")) from None
    weights = {part: number(f"w_{part}") for part, _label in settings.FRAMEWORK_PARTS}
    if sum(weights.values()) != 100 or any(w < 0 for w in weights.values()):
        raise DomainError(_("评价框架各部分分值合计须为 100。"))
    rules = {}
    for g in Grade:
        rules[g.value] = {"percent": str(number(f"r_{g.value}_percent", "0")),
                          "no_budget": bool(values.get(f"r_{g.value}_none")),
                          "priority": bool(values.get(f"r_{g.value}_priority")),
                          "text": (values.get(f"r_{g.value}_text") or "").strip()[:60]}

    old_t = settings.thresholds()
    _save_setting(actor, settings.THRESHOLDS, {k: str(getattr(t, k)) for k in THRESHOLD_KEYS},
                  {k: _text(getattr(old_t, k)) for k in THRESHOLD_KEYS}, {k: _text(getattr(t, k)) for k in THRESHOLD_KEYS})
    _save_setting(actor, settings.FRAMEWORK, {k: str(v) for k, v in weights.items()},
                  {k: _text(v) for k, v in settings.framework_weights().items()},
                  {k: _text(v) for k, v in weights.items()})
    _save_setting(actor, settings.RESULT_RULES, rules, _flat_rules(settings.result_rules()), _flat_rules(rules))
    if all(getattr(old_t, k) == getattr(t, k) for k in THRESHOLD_KEYS):
        return 0
    n = 0
    for report in db.session.scalars(sa.select(MonitoringReport)):
        recompute_report(report, t)
        n += 1
    return n


THRESHOLD_KEYS = ("red_below", "green_from", "blue_from", "lag_points")


def _flat_rules(rules: dict) -> dict:
    return {f"{grade}.{k}": (_text(Decimal(str(v))) if k == "percent" else v)
            for grade, rule in rules.items() for k, v in rule.items()}


def _save_setting(actor, key: str, stored, before: dict, after: dict) -> None:
    old, new = changes(before, after)
    if not new:
        return
    row = settings.store(key, stored)
    record_change(actor, f"settings.{key}", row, before=old, after=new)


# ---- evaluations -----------------------------------------------------------------------------

PART_OF_LEVEL1 = {Level1.OUTPUT: "output", Level1.COST: "output", Level1.BENEFIT: "benefit",
                  Level1.SATISFACTION: "satisfaction"}


def start_self_evaluation(project: Project, *, actor) -> Evaluation:
    """单位自评 built from the approved goal: one line per indicator plus 预算执行率 (10)."""
    if not can(actor, "edit", project):
        raise DomainError(_("您无权对该项目开展自评。"))
    lock(project)  # one self-evaluation per project, however many clicks
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
    lock(evaluation)
    if evaluation.state == EvaluationState.COMPLETED:
        raise DomainError(_("评价已完成，不能再修改。"))


def _evaluation_audit(evaluation: Evaluation) -> dict:
    """The evaluation and its lines as audit values (a line: actual/tier/applicable/score/reason)."""
    out = {"state": evaluation.state.value, "score": _text(evaluation.score), "grade": _text(evaluation.grade),
           "conclusion": evaluation.conclusion, "suggestions": evaluation.suggestions}
    for ln in evaluation.lines:
        out[f"{ln.position + 1}. {ln.label}"] = "/".join(
            (_text(ln.actual), _text(ln.tier), "" if ln.applicable else "n/a", _text(ln.score), ln.reason or ""))
    return out


def _audited(evaluation: Evaluation, actor, action: str, change) -> None:
    """Run `change()` on the evaluation (or its lines) and write one entry with what changed."""
    project = evaluation.project
    before, executed = _evaluation_audit(evaluation), project.executed
    change()
    old, new = changes(before, _evaluation_audit(evaluation))
    if new:
        touch(evaluation)
        record_change(actor, action, evaluation, before=old, after=new)
    if project.executed != executed:
        record_change(actor, "project.update", project, before={"executed": _text(executed)},
                      after={"executed": _text(project.executed)})


def _fill_self(evaluation: Evaluation, entries: dict, executed=None) -> scoring.Result:
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
        amount = parse_decimal(executed, field_name="executed", label=_("全年执行数"), required=True, minimum=0)
        if amount != project.executed:
            project.executed = amount
        execution_line = next(ln for ln in evaluation.lines if ln.part == "execution")
        execution_line.actual, execution_line.target = project.executed, project.annual_budget
    return _score_self(evaluation)


def save_self_evaluation(evaluation: Evaluation, entries: dict, *, actor, executed=None) -> None:
    """entries: line id → {actual, tier, applicable, reason}. Scores and grade are computed."""
    _require_scoring(evaluation, actor)
    _audited(evaluation, actor, "evaluation.score", lambda: _fill_self(evaluation, entries, executed))


def save_evaluation(evaluation: Evaluation, values, *, actor, version, complete: bool = False) -> Evaluation:
    """The evaluation page's one save: the lines from the form `values` (a{id} actual, t{id} tier,
    na{id} not applicable, r{id} reason; s{id} framework scores), then 完成评价 when `complete`.
    Refused when the evaluation changed since the page was built."""
    _require_scoring(evaluation, actor)
    expect_version(evaluation, version)

    def change():
        if evaluation.mode == EvaluationMode.SELF:
            entries = {ln.id: {"actual": values.get(f"a{ln.id}"), "tier": values.get(f"t{ln.id}"),
                               "applicable": not values.get(f"na{ln.id}"), "reason": values.get(f"r{ln.id}", "")}
                       for ln in evaluation.lines}
            _fill_self(evaluation, entries, values.get("executed") or None)
        else:
            _fill_framework(evaluation, {str(ln.id): values.get(f"s{ln.id}") for ln in evaluation.lines},
                            values.get("conclusion", ""), values.get("suggestions", ""))
        if complete:
            _complete(evaluation)

    _audited(evaluation, actor, "evaluation.complete" if complete else "evaluation.score", change)
    return evaluation


def start_framework_evaluation(project: Project, mode, *, actor, agency_id=None) -> Evaluation:
    """部门评价 / 财政评价 on the common framework (决策/过程/产出/效益)."""
    try:
        mode = EvaluationMode.coerce(mode)
    except ValueError:
        raise DomainError(_("请选择评价方式。"), field="mode") from None
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


def _fill_framework(evaluation: Evaluation, scores: dict, conclusion: str = "", suggestions: str = "") -> Decimal:
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
    return evaluation.score


def save_framework_scores(evaluation: Evaluation, scores: dict, *, actor, conclusion: str = "",
                          suggestions: str = "") -> Decimal:
    _require_scoring(evaluation, actor)
    _audited(evaluation, actor, "evaluation.score",
             lambda: _fill_framework(evaluation, scores, conclusion, suggestions))
    return evaluation.score


def _complete(evaluation: Evaluation) -> None:
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


def complete_evaluation(evaluation: Evaluation, *, actor) -> None:
    _require_scoring(evaluation, actor)
    _audited(evaluation, actor, "evaluation.complete", lambda: _complete(evaluation))


def add_finding(evaluation: Evaluation, *, actor, description: str, category: str = "", amount=None,
                suggestion: str = "") -> EvaluationFinding:
    lock(evaluation)
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


# ---- indicator library -----------------------------------------------------------------------

LIBRARY_EDIT_FIELDS = ("direction", "name", "suggested_value", "unit", "source")


def update_library_indicator(item: LibraryIndicator, data: dict, *, actor, version) -> LibraryIndicator:
    """Edit one library indicator; refused when it changed (an edit, an import) since the form."""
    if not can(actor, "edit", item):
        raise DomainError(_("只有财政绩效管理人员可以维护指标库。"))
    lock(item)
    expect_version(item, version)
    name, direction = (data.get("name") or "").strip()[:200], (data.get("direction") or "").strip()[:100]
    if not name:
        raise DomainError(_("请填写三级指标名称。"), field="name")
    try:
        source = StandardSource.coerce(data.get("source"))
    except ValueError:
        raise DomainError(_("指标值确定依据应为计划标准、历史标准、行业标准、预算支出标准或其他。"), field="source") from None
    taken = db.session.scalar(sa.select(LibraryIndicator.id).where(
        LibraryIndicator.sector == item.sector, LibraryIndicator.direction == direction,
        LibraryIndicator.name == name, LibraryIndicator.id != item.id))
    if taken:
        raise DomainError(_("该行业和支出方向下已有同名指标。"), field="name")
    before = {k: _text(getattr(item, k)) for k in LIBRARY_EDIT_FIELDS}
    values = {"direction": direction, "name": name, "suggested_value": (data.get("suggested_value") or "").strip()[:100],
              "unit": (data.get("unit") or "").strip()[:20], "source": source}
    for k, v in values.items():
        if getattr(item, k) != v:
            setattr(item, k, v)
    old, new = changes(before, {k: _text(getattr(item, k)) for k in LIBRARY_EDIT_FIELDS})
    if new:
        record_change(actor, "library.update", item, before=old, after=new)
    return item


# ---- bulk writes (the integration API) -------------------------------------------------------

def projects_refused(details: list[dict], stale: bool) -> ItemsRefused:
    """Some projects of a bulk request were refused; nothing was saved."""
    message = (_("数据已被他人修改，未保存任何项目。请重新读取后再提交。") if stale
               else _("数据未通过校验，未保存任何项目。"))
    return ItemsRefused(message, details, collection="projects", stale=stale)


def goal_table_audit(goal: PerformanceGoal) -> dict:
    return {"overall_goal": goal.overall_goal,
            "indicators": [" | ".join(v for v in _row_audit(i).values() if v) for i in goal.indicators]}


def replace_goal_table(goal: PerformanceGoal, overall_goal: str, rows: list[dict], *, actor, action: str,
                       version=None, new: bool = False) -> PerformanceGoal:
    """Replace the overall goal and every indicator row (import, API): one audit entry for the
    goal with its table before and after. An existing goal is locked, re-checked and, when
    `version` is given, version-checked."""
    before = None
    if not new:
        _require_editable(goal, actor)
        if version is not None:
            expect_version(goal, version)
        before = goal_table_audit(goal)
    goal.overall_goal = (overall_goal or "").strip()
    goal.indicators.clear()
    for pos, row in enumerate(rows):
        ind = Indicator(position=pos)
        _fill_indicator(ind, row)
        goal.indicators.append(ind)
    db.session.flush()
    after = goal_table_audit(goal)
    if before is None:
        record_change(actor, action, goal, after=after)
    else:
        old, new_values = changes(before, after)
        if new_values:
            touch(goal)
            record_change(actor, action, goal, before=old, after=new_values)
    return goal


def save_projects(items: list, *, actor) -> list[Project]:
    """Create or update projects (by code and year) with their goals, all or nothing. Updating an
    existing project needs the `lock_version` it was read with (and its goal's, for a goal)."""
    from portal.core.errors import NotPermitted

    if not can(actor, "create", Project):
        raise NotPermitted(_("无权新建或修改项目。"))
    errors, saved, stale = [], [], False
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            errors.append({"index": index, "field": None, "message": _("每一项应为对象。")})
            continue
        try:
            with db.session.begin_nested():
                saved.append(_save_project_item(item, actor))
        except DomainError as error:
            stale = stale or isinstance(error, StaleRecord)
            errors.append({"index": index, "field": error.field, "message": error.message})
    if errors:
        raise projects_refused(errors, stale)
    return saved


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _save_project_item(item: dict, actor) -> Project:
    unit = db.session.scalar(sa.select(Organisation).where(Organisation.code == str(item.get("unit_code"))))
    data = {**item, "unit_id": unit.id if unit else 0}
    existing = db.session.scalar(sa.select(Project).where(Project.code == str(item.get("code", "")),
                                                          Project.year == _int_or_none(item.get("year"))))
    if existing is not None:
        if item.get("lock_version") is None:
            raise DomainError(_("更新已有项目须提供读取时的 lock_version。"), field="lock_version")
        project = update_project(existing, data, actor=actor, version=item["lock_version"])
    else:
        project = create_project(data, actor=actor)
    goal_data = item.get("goal")
    if goal_data:
        if not isinstance(goal_data, dict) or not isinstance(goal_data.get("indicators") or [], list):
            raise DomainError(_("goal.indicators 应为数组。"), field="goal")
        rows = [{k: ("" if v is None else v) for k, v in row.items()} if isinstance(row, dict) else {}
                for row in goal_data.get("indicators") or []]
        found = validate_goal_rows(rows, goal_data.get("overall_goal", ""))
        if found:
            raise DomainError("；".join(found.messages()), field="goal")
        goal = project.current_goal
        if goal is None:
            goal = PerformanceGoal(project=project, version=1, state=GoalState.DRAFT)
            db.session.add(goal)
            replace_goal_table(goal, goal_data.get("overall_goal", ""), rows, actor=actor, action="goal.api", new=True)
        else:
            if goal_data.get("lock_version") is None:
                raise DomainError(_("更新已有绩效目标须提供读取时的 goal.lock_version。"), field="goal.lock_version")
            replace_goal_table(goal, goal_data.get("overall_goal", ""), rows, actor=actor, action="goal.api",
                               version=goal_data["lock_version"])
    return project


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
