# Over 400 lines: applications, rounds, score sheets, conclusions and revisions of one assessment.
"""Every write of ex-ante assessment. Operations authorise themselves, take the row lock of what
they change (state machines do it), refuse a stale version, write one audit entry per record
changed (before and after) and notify; the caller (portal.core.writes.perform) commits.

Reused from co-review through its public functions: the year's agency pool (`pool_for`), the
reproducible draw (`draw_result`) and the rubric score check (`parse_score`)."""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.accounts.models import Role, User
from portal.assessments import goal_copy
from portal.assessments import rules as assessment_rules
from portal.assessments.models import (
    DIMENSION_LABELS,
    DIMENSIONS,
    Assessment,
    AssessmentRound,
    AssessmentState,
    Conclusion,
    DraftIndicator,
    Method,
    ScoreSheet,
    SheetState,
)
from portal.assessments.policies import is_finance_officer, own_sheet
from portal.core import clock
from portal.core.attachments import save_upload
from portal.core.audit import audit_value, record_change
from portal.core.errors import DomainError, NotPermitted
from portal.core.links import page_link
from portal.core.locale import N_
from portal.core.notifications import notify
from portal.core.parsing import parse_amount, parse_year
from portal.core.permissions import can
from portal.core.states import StateMachine, Transition
from portal.core.versions import expect_version, touch
from portal.core.writes import lock
from portal.extensions import db
from portal.performance.models import Level1, PerformanceSetting, Project
from portal.performance.operations import finance_officers, unit_users
from portal.reviews.operations import draw_result, parse_score, pool_for

APPLICATION_FIELDS = ("basis", "plan", "costing", "overall_goal", "requested_amount")
ATTACHMENT_TYPES = {"pdf", "docx", "xlsx", "doc", "xls", "txt", "png", "jpg"}
CENT = Decimal("0.01")


def _editable_by_unit(user, assessment) -> bool:
    return can(user, "edit", assessment)


def _finance(user, _assessment) -> bool:
    return is_finance_officer(user)


ASSESSMENT = StateMachine("assessment", [
    Transition("submit", {AssessmentState.DRAFT, AssessmentState.REVISING}, AssessmentState.SUBMITTED,
               who=_editable_by_unit, label=N_("提交评估申请")),
    Transition("withdraw", {AssessmentState.DRAFT, AssessmentState.SUBMITTED, AssessmentState.REVISING},
               AssessmentState.WITHDRAWN, who=_editable_by_unit, label=N_("撤回申请"), needs_comment=True),
    Transition("arrange", {AssessmentState.SUBMITTED}, AssessmentState.ASSESSING, who=_finance, label=N_("组织评估")),
    Transition("conclude_support", {AssessmentState.ASSESSING}, AssessmentState.SUPPORTED, who=_finance,
               label=N_("予以支持")),
    Transition("conclude_adjust", {AssessmentState.ASSESSING}, AssessmentState.REVISING, who=_finance,
               label=N_("调整后支持")),
    Transition("conclude_reject", {AssessmentState.ASSESSING}, AssessmentState.REJECTED, who=_finance,
               label=N_("不予支持")),
])


# ---- audit values -------------------------------------------------------------------------------

def _indicator_rows(assessment: Assessment) -> list[str]:
    return [f"{i.level1.value}|{i.name}|{i.target}|{audit_value(i.weight)}" for i in assessment.indicators]


def application_values(assessment: Assessment) -> dict:
    values = {f: audit_value(getattr(assessment, f)) for f in APPLICATION_FIELDS}
    values["indicators"] = _indicator_rows(assessment)
    return values


def _log(actor, action, record, before: dict, after: dict, comment=None):
    changed = [k for k in after if before.get(k) != after.get(k)]
    if changed:
        record_change(actor, action, record, before={k: before.get(k) for k in changed},
                      after={k: after[k] for k in changed}, comment=comment)


# ---- the application ------------------------------------------------------------------------------

@dataclass
class Application:
    basis: str = ""
    plan: str = ""
    costing: str = ""
    overall_goal: str = ""
    requested_amount: object = None
    indicators: list | None = None  # [{"level1", "name", "target", "weight"}]


def parse_indicators(rows) -> list[dict]:
    """The draft indicator rows; blank rows are dropped, a half-filled one is refused."""
    cleaned = []
    for n, row in enumerate(rows or [], start=1):
        name, target = (row.get("name") or "").strip(), (row.get("target") or "").strip()
        level1, weight = (row.get("level1") or "").strip(), row.get("weight")
        if not (name or target or str(weight or "").strip()):
            continue
        try:
            level = Level1.coerce(level1)
        except ValueError:
            raise DomainError(_("第 %(n)s 行：请选择一级指标。", n=n), field="indicators") from None
        if not name or not target:
            raise DomainError(_("第 %(n)s 行：请填写三级指标和指标值。", n=n), field="indicators")
        value = parse_amount(weight, label=_("第 %(n)s 行分值", n=n), lo=Decimal(0), hi=Decimal(100),
                             field="indicators", required=True)
        cleaned.append({"level1": level, "name": name[:200], "target": target[:100], "weight": value})
    return cleaned


def _fill(assessment: Assessment, data: Application) -> None:
    assessment.basis = (data.basis or "").strip()
    assessment.plan = (data.plan or "").strip()
    assessment.costing = (data.costing or "").strip()
    assessment.overall_goal = (data.overall_goal or "").strip()
    assessment.requested_amount = parse_amount(data.requested_amount, label=_("申请金额"), lo=Decimal(0),
                                               field="requested_amount") or Decimal(0)
    if data.indicators is not None:
        rows = parse_indicators(data.indicators)
        assessment.indicators = [DraftIndicator(position=n, **row) for n, row in enumerate(rows)]


def apply_for(project: Project, data: Application, *, actor) -> Assessment:
    """The unit's application (申报) for a new project or policy: a draft until submitted."""
    if not can(actor, "create", Assessment) or not can(actor, "edit", project):
        raise NotPermitted(_("您无权为该项目申报事前绩效评估。"))
    lock(project)  # one application per project: two first saves queue here
    existing = db.session.scalar(sa.select(Assessment).where(Assessment.project_id == project.id))
    if existing is not None:
        raise DomainError(_("该项目已有事前绩效评估申请。"))
    assessment = Assessment(project=project, year=project.year, unit_id=project.unit_id,
                            department_id=project.department_id, state=AssessmentState.DRAFT,
                            created_by_id=actor.id)
    _fill(assessment, data)
    db.session.add(assessment)
    db.session.flush()
    record_change(actor, "assessment.apply", assessment, after={**application_values(assessment), "state": "draft"})
    return assessment


def update_application(assessment: Assessment, data: Application, *, actor, version) -> Assessment:
    if not can(actor, "edit", assessment):
        raise NotPermitted(_("您无权修改该申请。"))
    lock(assessment)
    expect_version(assessment, version)
    if assessment.state not in (AssessmentState.DRAFT, AssessmentState.REVISING):
        raise DomainError(_("申请处于“%(s)s”状态，不能修改。", s=assessment.state.label))
    before = application_values(assessment)
    _fill(assessment, data)
    after = application_values(assessment)
    if after["indicators"] != before["indicators"]:
        touch(assessment)
    db.session.flush()
    _log(actor, "assessment.edit", assessment, before, after)
    return assessment


def attach(assessment: Assessment, upload, *, actor):
    """附件 of the application (可行性研究报告, 测算明细…)."""
    if not can(actor, "edit", assessment):
        raise NotPermitted(_("您无权为该申请上传附件。"))
    lock(assessment)
    if assessment.state not in (AssessmentState.DRAFT, AssessmentState.REVISING):
        raise DomainError(_("申请处于“%(s)s”状态，不能上传附件。", s=assessment.state.label))
    if not upload or not getattr(upload, "filename", ""):
        raise DomainError(_("请选择要上传的文件。"), field="file")
    attachment = save_upload(upload, actor=actor, record=assessment, purpose="application",
                             allowed=ATTACHMENT_TYPES)
    db.session.flush()
    record_change(actor, "assessment.attach", assessment, after={"attachment": attachment.filename,
                                                                "sha256": attachment.sha256})
    return attachment


def missing_parts(assessment: Assessment) -> list[str]:
    missing = [str(label) for field, label in (("basis", _("立项依据")), ("plan", _("实施方案")),
                                               ("costing", _("资金测算")), ("overall_goal", _("总体目标（草案）")))
               if not getattr(assessment, field).strip()]
    if not assessment.requested_amount or assessment.requested_amount <= 0:
        missing.append(_("申请金额"))
    if not assessment.indicators:
        missing.append(_("绩效指标（草案）"))
    return missing


def submit(assessment: Assessment, *, actor, expected_state=None) -> Assessment:
    ASSESSMENT.apply(assessment, "submit", actor=actor, expected_state=expected_state)
    missing = missing_parts(assessment)
    if missing:
        raise DomainError(_("申请不完整，请填写：%(parts)s。", parts="、".join(missing)))
    if assessment.first_requested is None:
        assessment.first_requested = assessment.requested_amount
    notify(finance_officers(), _("事前绩效评估申请待评估：%(name)s", name=assessment.project.name),
           link=page_link("assessments.detail", assessment_id=assessment.id))
    return assessment


def withdraw(assessment: Assessment, *, actor, comment: str, expected_state=None) -> Assessment:
    ASSESSMENT.apply(assessment, "withdraw", actor=actor, comment=(comment or "").strip(),
                     expected_state=expected_state)
    return assessment


# ---- arranging the assessment ------------------------------------------------------------------

def _experts(ids) -> list[User]:
    users = list(db.session.scalars(sa.select(User).where(User.id.in_(ids)))) if ids else []
    if len(users) != len(set(ids)) or any(not u.is_active or not u.has_role(Role.EXPERT) for u in users):
        raise DomainError(_("只能选择在册的评审专家。"), field="assessor_ids")
    return users


def arrange(assessment: Assessment, *, actor, method, assessor_ids=(), pool_ids=(), witnesses: str = "",
            seed: str | None = None, expected_state=None) -> AssessmentRound:
    """组织评估: finance assesses itself, assigns experts, or draws lots for an agency among the
    year's pool (the draw is reproducible from its seed and pool: reviews.operations.draw_result)."""
    try:
        method = Method.coerce(method)
    except ValueError:
        raise DomainError(_("请选择评估方式。"), field="method") from None
    ASSESSMENT.apply(assessment, "arrange", actor=actor, expected_state=expected_state, audit=False)
    current = assessment_rules.current()
    rnd = AssessmentRound(assessment=assessment, number=len(assessment.rounds) + 1, method=method,
                          rules=json.dumps(current.as_dict(), ensure_ascii=False, sort_keys=True),
                          requested_amount=assessment.requested_amount, opened_at=clock.now())
    db.session.add(rnd)
    notify_users: list[User] = []
    if method == Method.FINANCE:
        rnd.sheets.append(ScoreSheet(assessor_id=actor.id))
    elif method == Method.EXPERTS:
        ids = sorted({int(i) for i in assessor_ids or []})
        if not ids:
            raise DomainError(_("请至少选择一名评审专家。"), field="assessor_ids")
        notify_users = _experts(ids)
        rnd.sheets.extend(ScoreSheet(assessor_id=u.id) for u in notify_users)
    else:
        witnesses = (witnesses or "").strip()
        if not witnesses:
            raise DomainError(_("请填写监督人（见证人）。"), field="witnesses")
        qualified = {e.agency_id for e in pool_for(assessment.year)}
        pool = sorted({int(i) for i in pool_ids or []})
        if len(pool) < 2:
            raise DomainError(_("抽签范围至少需要两家入库机构。"), field="pool_ids")
        if not set(pool) <= qualified:
            raise DomainError(_("抽签范围只能包含本年度入库的机构。"), field="pool_ids")
        rnd.draw_seed = seed or secrets.token_hex(16)
        rnd.draw_pool = json.dumps(pool)
        rnd.draw_witnesses = witnesses
        rnd.agency_id = draw_result(rnd.draw_seed, pool)
        rnd.sheets.append(ScoreSheet(agency_id=rnd.agency_id))
        notify_users = list(db.session.scalars(sa.select(User).where(User.organisation_id == rnd.agency_id)))
    db.session.add(rnd)
    db.session.flush()
    record_change(actor, "assessment.arrange", assessment, before={"state": "submitted"},
                  after={"state": "assessing", "round": rnd.number, "method": method.value,
                         "assessors": [s.assessor_id for s in rnd.sheets if s.assessor_id],
                         "agency": rnd.agency_id, "seed": rnd.draw_seed or None, "pool": rnd.pool or None,
                         "witnesses": rnd.draw_witnesses or None})
    notify(notify_users, _("请对事前绩效评估项目评分：%(name)s", name=assessment.project.name),
           link=page_link("assessments.detail", assessment_id=assessment.id))
    return rnd


def verify_draw(rnd: AssessmentRound) -> bool:
    return rnd.method == Method.AGENCY and draw_result(rnd.draw_seed, rnd.pool) == rnd.agency_id


# ---- scoring ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Dimension:
    """A dimension as the co-review score check expects a rubric criterion (id, name, weight)."""
    id: str
    name: str
    weight: Decimal


def dimensions(rule_set: dict | None = None) -> list[Dimension]:
    weights = assessment_rules.from_dict(rule_set).weights if rule_set is not None else \
        assessment_rules.current().weights
    return [Dimension(d, str(DIMENSION_LABELS[d]), weights[d]) for d in DIMENSIONS]


def _sheet_values(sheet: ScoreSheet) -> dict:
    return {**{d: audit_value(getattr(sheet, d)) for d in DIMENSIONS}, "comment": sheet.comment,
            "state": sheet.state.value}


def save_sheet(sheet: ScoreSheet, *, actor, version, scores: dict, comment: str = "",
               submit: bool = False) -> ScoreSheet:
    """Save (or submit) one assessor's scores; each dimension from 0 to its weight."""
    if not own_sheet(actor, sheet):
        raise NotPermitted(_("只能填写自己的评分表。"))
    lock(sheet)
    expect_version(sheet, version)
    if sheet.state != SheetState.PENDING:
        raise DomainError(_("评分表已提交，不能再修改。"))
    if sheet.round.conclusion is not None or sheet.round.assessment.state != AssessmentState.ASSESSING:
        raise DomainError(_("本轮评估已结束。"))
    before = _sheet_values(sheet)
    for dim in dimensions(sheet.round.rule_set):
        value = parse_score(scores.get(dim.id), dim)
        if submit and value is None:
            raise DomainError(_("请为“%(c)s”打分。", c=dim.name), field=f"score_{dim.id}")
        setattr(sheet, dim.id, value)
    sheet.comment = (comment or "").strip()
    if submit:
        if not sheet.comment:
            raise DomainError(_("请填写评估意见。"), field="comment")
        sheet.state, sheet.submitted_at, sheet.submitted_by_id = SheetState.SUBMITTED, clock.now(), actor.id
    db.session.flush()
    _log(actor, "assessment_sheet.submit" if submit else "assessment_sheet.save", sheet, before,
         _sheet_values(sheet))
    if submit and all(s.state == SheetState.SUBMITTED for s in sheet.round.sheets):
        notify(finance_officers(), _("评分已全部提交，请作出评估结论：%(name)s",
                                     name=sheet.round.assessment.project.name),
               link=page_link("assessments.detail", assessment_id=sheet.round.assessment_id))
    return sheet


def round_score(rnd: AssessmentRound) -> Decimal | None:
    """The round's score: per dimension the mean of the submitted sheets, summed (two places)."""
    sheets = [s for s in rnd.sheets if s.state == SheetState.SUBMITTED]
    if not sheets:
        return None
    total = sum((sum((getattr(s, d) for s in sheets), Decimal(0)) / len(sheets) for d in DIMENSIONS), Decimal(0))
    return total.quantize(CENT, rounding=ROUND_HALF_UP)


def conclude(assessment: Assessment, *, actor, opinion: str, recommended_amount=None,
             expected_state=None) -> AssessmentRound:
    """评估结论: the band of the round's score (the weights and bands the round opened with);
    the recommended amount (建议安排金额) for a supported project, 0 for one not supported."""
    if not is_finance_officer(actor):
        raise NotPermitted(_("只有财政绩效管理人员可以作出评估结论。"))
    lock(assessment)
    rnd = assessment.current_round
    if assessment.state != AssessmentState.ASSESSING or rnd is None:
        raise DomainError(_("申请处于“%(s)s”状态，不能作出结论。", s=assessment.state.label))
    waiting = [s.assessor_name for s in rnd.sheets if s.state != SheetState.SUBMITTED]
    if waiting:
        raise DomainError(_("尚有评分表未提交：%(who)s。", who="、".join(waiting)))
    opinion = (opinion or "").strip()
    if not opinion:
        raise DomainError(_("请填写评估意见。"), field="opinion")
    score = round_score(rnd)
    conclusion = assessment_rules.from_dict(rnd.rule_set).conclusion_for(score)
    if conclusion == Conclusion.REJECT:
        amount = Decimal("0.00")
    else:
        amount = parse_amount(recommended_amount, label=_("建议安排金额"), lo=Decimal(0),
                              field="recommended_amount", required=True)
        if amount <= 0 or amount > assessment.requested_amount:
            raise DomainError(_("建议安排金额须大于 0 且不超过申请金额。"), field="recommended_amount")
    before = {"state": assessment.state.value, "score": audit_value(assessment.score),
              "conclusion": audit_value(assessment.conclusion), "recommended_amount": audit_value(assessment.recommended_amount)}
    ASSESSMENT.apply(assessment, f"conclude_{conclusion.value}", actor=actor, audit=False)
    rnd.score, rnd.conclusion, rnd.recommended_amount, rnd.opinion = score, conclusion, amount, opinion
    rnd.concluded_at, rnd.concluded_by_id = clock.now(), actor.id
    assessment.score, assessment.conclusion, assessment.recommended_amount = score, conclusion, amount
    assessment.was_adjusted = assessment.was_adjusted or conclusion == Conclusion.ADJUST
    db.session.flush()
    after = {"state": assessment.state.value, "score": audit_value(score), "conclusion": conclusion.value,
             "recommended_amount": audit_value(amount)}
    record_change(actor, f"assessment.conclude_{conclusion.value}", assessment, before=before, after=after,
                  comment=opinion)
    if conclusion == Conclusion.SUPPORT:
        goal_copy.copy_to_goal(assessment, actor=actor)  # the draft goal table becomes the project's
    notify(unit_users(assessment.project), _("事前绩效评估结论：%(c)s（%(name)s）", c=conclusion.label,
                                             name=assessment.project.name),
           link=page_link("assessments.detail", assessment_id=assessment.id), body=opinion)
    return rnd


# ---- the rules (local settings) -------------------------------------------------------------------

def update_rules(values: dict, *, actor, version) -> assessment_rules.Rules:
    if not can(actor, "edit", PerformanceSetting):
        raise NotPermitted(_("只有系统管理员可以修改事前评估规则。"))
    row = db.session.get(PerformanceSetting, assessment_rules.KEY)
    if row is not None:
        lock(row)
        expect_version(row, version)
    before = assessment_rules.current().as_dict()
    weights = {d: parse_amount(values.get(f"w_{d}"), label=str(DIMENSION_LABELS[d]), lo=Decimal(0),
                               hi=Decimal(100), field=f"w_{d}", required=True) for d in DIMENSIONS}
    new = assessment_rules.Rules(
        threshold=parse_amount(values.get("threshold"), label=_("评估金额起点"), lo=Decimal(0),
                               field="threshold", required=True),
        from_year=parse_year(values.get("from_year"), field="from_year", required=False), weights=weights,
        support_from=parse_amount(values.get("support_from"), label=_("予以支持起点"), lo=Decimal(0),
                                  hi=Decimal(100), field="support_from", required=True),
        adjust_from=parse_amount(values.get("adjust_from"), label=_("调整后支持起点"), lo=Decimal(0),
                                 hi=Decimal(100), field="adjust_from", required=True))
    stored = assessment_rules.store(new)
    after = new.as_dict()
    flat = lambda d: {**{k: v for k, v in d.items() if k != "weights"}, **{f"w_{k}": v for k, v in d["weights"].items()}}  # noqa: E731
    _log(actor, "assessment.rules", stored, flat(before), flat(after))
    return new


