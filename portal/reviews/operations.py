"""Every write of the co-review module. Operations validate, change state, log, notify;
they never read `request`. The caller commits."""
from __future__ import annotations

import json
import random
import re
import secrets
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask import current_app, has_request_context
from flask import url_for as _url_for
from flask_babel import gettext as _

from portal.accounts.models import Organisation, OrgKind, Role, User
from portal.core import clock
from portal.core.attachments import link, save_upload
from portal.core.audit import record_change
from portal.core.errors import DomainError, NotPermitted
from portal.core.notifications import notify
from portal.core.states import StateMachine, Transition
from portal.extensions import db
from portal.performance.models import Evaluation, EvaluationMode
from portal.reviews.models import (
    AgencyDraw,
    AgencyProfile,
    AssignmentState,
    ConflictKind,
    Decision,
    PoolEntry,
    Report,
    ReportState,
    ReportVersion,
    ReviewAssignment,
    ReviewComment,
    ReviewRevision,
    ReviewRound,
    ReviewScore,
    RoundState,
    RubricCriterion,
    RubricTemplate,
    Side,
)

DEFAULT_RUBRIC_NAME = "第三方评价报告评审评分表（默认）"
DEFAULT_CRITERIA = [
    ("评价依据与程序", 15, "评价依据是否充分，评价程序是否规范、完整。"),
    ("指标体系", 20, "指标体系是否科学合理，权重设置是否恰当。"),
    ("数据与证据", 20, "数据来源是否可靠，证据是否充分、可核实。"),
    ("结论与问题", 20, "评价结论是否客观，问题是否准确、具体。"),
    ("建议可行性", 15, "建议是否针对问题、切实可行。"),
    ("报告规范性", 10, "报告结构、文字、格式是否规范。"),
]


def url_for(endpoint: str, **values) -> str:
    """Links for notifications also from the CLI (demo data, reminders) where no request exists."""
    if has_request_context():
        return _url_for(endpoint, **values)
    with current_app.test_request_context():
        return _url_for(endpoint, **values)


# ---- who is who ------------------------------------------------------------------------------

def is_finance_officer(user) -> bool:
    return user.is_finance and user.has_role(Role.FINANCE_OFFICER)


def is_audit_member(user) -> bool:
    return user.is_audit and user.has_role(Role.AUDIT_LIAISON)


def side_of(user) -> Side | None:
    if is_finance_officer(user):
        return Side.FINANCE
    if is_audit_member(user):
        return Side.AUDIT
    if user.has_role(Role.EXPERT):
        return Side.EXPERT
    return None


def max_rounds() -> int:
    return int(current_app.config.get("REVIEW_MAX_ROUNDS", 3))


# ---- state machines (data) ------------------------------------------------------------------

def _is_agency_of(user, report) -> bool:
    return user.org_kind == OrgKind.AGENCY and user.has_role(Role.AGENCY_STAFF) and user.organisation_id == report.agency_id


def _finance(user, _record) -> bool:
    return is_finance_officer(user)


def _system(_user, _record) -> bool:
    return True


REPORT = StateMachine("review_report", [
    Transition("upload", {ReportState.AWAITING, ReportState.REVISING}, ReportState.SUBMITTED,
               who=_is_agency_of, label="提交报告"),
    Transition("open_round", {ReportState.SUBMITTED}, ReportState.IN_REVIEW, who=_system, label="开启评审"),
    Transition("accept", {ReportState.IN_REVIEW}, ReportState.ACCEPTED, who=_system, label="通过"),
    Transition("revise", {ReportState.IN_REVIEW}, ReportState.REVISING, who=_system, label="修改后重审"),
    Transition("reject", {ReportState.IN_REVIEW}, ReportState.REJECTED, who=_system, label="不予通过"),
])


def _is_lead(user, rnd) -> bool:
    return rnd.lead_id == user.id


def _bureau_member(user, _rnd) -> bool:
    return is_finance_officer(user) or is_audit_member(user)


ROUND = StateMachine("review_round", [
    Transition("propose", {RoundState.OPEN, RoundState.RETURNED}, RoundState.ENDORSING, who=_is_lead,
               label="提交合议意见"),
    Transition("endorse", {RoundState.ENDORSING}, RoundState.ENDORSING, who=_bureau_member, label="会签同意"),
    Transition("send_back", {RoundState.ENDORSING}, RoundState.RETURNED, who=_bureau_member,
               label="退回牵头人", needs_comment=True),
    Transition("take_effect", {RoundState.ENDORSING}, RoundState.DECIDED, who=_system, label="决定生效"),
])


def _is_reviewer(user, assignment) -> bool:
    return assignment.reviewer_id == user.id


ASSIGNMENT = StateMachine("review_assignment", [
    Transition("declare_none", {AssignmentState.PENDING}, AssignmentState.ACTIVE, who=_is_reviewer,
               label="声明无利益冲突"),
    Transition("declare_conflict", {AssignmentState.PENDING, AssignmentState.ACTIVE}, AssignmentState.CONFLICTED,
               who=_is_reviewer, label="声明利益冲突并回避"),
    Transition("submit", {AssignmentState.ACTIVE}, AssignmentState.SUBMITTED, who=_is_reviewer, label="提交评审意见"),
])


# ---- agencies, pool, draws ----------------------------------------------------------------

def _require_finance(actor) -> None:
    if not is_finance_officer(actor):
        raise NotPermitted(_("只有财政绩效管理人员可以执行此操作。"))


def save_profile(agency: Organisation, *, actor, **fields) -> AgencyProfile:
    if not (actor.has_role(Role.ADMIN) or is_finance_officer(actor)):
        raise NotPermitted(_("只有财政绩效管理人员可以维护机构资料。"))
    if agency.kind != OrgKind.AGENCY:
        raise DomainError(_("只能为第三方机构维护资质信息。"))
    profile = db.session.scalar(sa.select(AgencyProfile).where(AgencyProfile.organisation_id == agency.id))
    if profile is None:
        profile = AgencyProfile(organisation_id=agency.id)
        db.session.add(profile)
    names = ("qualifications", "credit_code", "contact_person", "contact_phone", "contact_email", "address")
    before = {n: getattr(profile, n) for n in names}
    for name in names:
        if name in fields:
            setattr(profile, name, (fields[name] or "").strip())
    record_change(actor, "agency.profile", profile, before=before, after={n: getattr(profile, n) for n in names})
    return profile


def set_pool(year: int, agency_ids: list[int], *, actor) -> list[PoolEntry]:
    """Replace the pool of qualified agencies (入库机构) for `year`."""
    _require_finance(actor)
    wanted = set(agency_ids)
    agencies = db.session.scalars(sa.select(Organisation).where(Organisation.id.in_(wanted))).all()
    if any(a.kind != OrgKind.AGENCY or not a.is_active for a in agencies) or len(agencies) != len(wanted):
        raise DomainError(_("入库名单只能包含启用的第三方机构。"), field="agency_ids")
    existing = db.session.scalars(sa.select(PoolEntry).where(PoolEntry.year == year)).all()
    before = sorted(e.agency_id for e in existing)
    for entry in existing:
        if entry.agency_id not in wanted:
            db.session.delete(entry)
    have = {e.agency_id for e in existing}
    for agency_id in sorted(wanted - have):
        db.session.add(PoolEntry(year=year, agency_id=agency_id))
    db.session.flush()
    from portal.core.audit import append

    append(actor, "agency.pool", "agency_pool_entries", str(year), before={"agencies": before},
           after={"agencies": sorted(wanted)})
    return pool_for(year)


def pool_for(year: int) -> list[PoolEntry]:
    return list(db.session.scalars(sa.select(PoolEntry).where(PoolEntry.year == year).order_by(PoolEntry.agency_id)))


def draw_result(seed: str, pool: list[int]) -> int:
    """The agency a draw picks: anyone can recompute it from the recorded seed and pool."""
    if not pool:
        raise DomainError(_("抽签范围不能为空。"))
    return random.Random(seed).choice(sorted(pool))


def verify_draw(draw: AgencyDraw) -> bool:
    return draw_result(draw.seed, draw.pool) == draw.chosen_agency_id


def draw_agency(evaluation: Evaluation, *, actor, pool_ids: list[int], witnesses: str, reason: str = "",
                seed: str | None = None) -> AgencyDraw:
    """抽签: pick an agency for a finance evaluation from the chosen part of the year's pool."""
    _require_finance(actor)
    if evaluation.mode != EvaluationMode.FINANCE:
        raise DomainError(_("只有财政评价可以抽签确定第三方机构。"))
    witnesses = (witnesses or "").strip()
    if not witnesses:
        raise DomainError(_("请填写监督人（见证人）。"), field="witnesses")
    qualified = {e.agency_id for e in pool_for(evaluation.year)}
    pool = sorted(set(pool_ids))
    if len(pool) < 2:
        raise DomainError(_("抽签范围至少需要两家入库机构。"), field="pool_ids")
    if not set(pool) <= qualified:
        raise DomainError(_("抽签范围只能包含本年度入库的机构。"), field="pool_ids")
    report = report_for(evaluation)
    previous = db.session.scalars(sa.select(AgencyDraw).where(AgencyDraw.evaluation_id == evaluation.id)).first()
    if previous is not None or evaluation.agency_id is not None:
        if not (reason or "").strip():
            raise DomainError(_("该评价已确定机构，重新抽签必须填写理由（将记录在案）。"), field="reason")
        if report is not None and report.versions:
            raise DomainError(_("机构已提交报告，不能重新抽签。"))
    seed = seed or secrets.token_hex(16)
    chosen = draw_result(seed, pool)
    draw = AgencyDraw(evaluation_id=evaluation.id, seed=seed, pool_json=json.dumps(pool), witnesses=witnesses,
                      chosen_agency_id=chosen, reason=(reason or "").strip(), drawn_by_id=actor.id,
                      drawn_at=clock.now())
    db.session.add(draw)
    before_agency = evaluation.agency_id
    evaluation.agency_id = chosen
    record_change(actor, "agency.draw", draw, after={"seed": seed, "pool": pool, "witnesses": witnesses,
                                                    "chosen": chosen}, comment=draw.reason or None)
    record_change(actor, "evaluation.agency", evaluation, before={"agency_id": before_agency},
                  after={"agency_id": chosen}, comment=draw.reason or None)
    if report is not None:
        report.agency_id = chosen
    else:
        report = commission_report(evaluation, actor=actor)
    _notify_agency(report, _("您机构被抽中承担评价任务：%(title)s", title=report.title))
    return draw


def report_for(evaluation: Evaluation) -> Report | None:
    return db.session.scalar(sa.select(Report).where(Report.evaluation_id == evaluation.id))


def commission_report(evaluation: Evaluation, *, actor, title: str = "", due_date: date | None = None) -> Report:
    """The report slot the agency will upload into (待提交)."""
    _require_finance(actor)
    if evaluation.agency_id is None:
        raise DomainError(_("该评价尚未确定第三方机构，请先抽签。"))
    if report_for(evaluation) is not None:
        raise DomainError(_("该评价已有评价报告。"))
    report = Report(evaluation_id=evaluation.id, agency_id=evaluation.agency_id,
                    title=title.strip() or f"{evaluation.project.name}绩效评价报告",
                    due_date=due_date or clock.today() + timedelta(days=int(current_app.config.get(
                        "REVIEW_REPORT_DAYS", 30))))
    db.session.add(report)
    record_change(actor, "review_report.create", report, after={"title": report.title, "agency_id": report.agency_id})
    return report


def _notify_agency(report: Report, title: str) -> None:
    staff = db.session.scalars(sa.select(User).where(User.organisation_id == report.agency_id)).all()
    notify([u for u in staff if u.has_role(Role.AGENCY_STAFF)], title,
           link=url_for("reviews.report", report_id=report.id))


# ---- rubrics --------------------------------------------------------------------------------

def default_rubric() -> RubricTemplate:
    rubric = db.session.scalar(sa.select(RubricTemplate).where(RubricTemplate.is_default.is_(True)))
    if rubric is None:
        rubric = db.session.scalar(sa.select(RubricTemplate).where(RubricTemplate.name == DEFAULT_RUBRIC_NAME))
    if rubric is None:
        rubric = RubricTemplate(name=DEFAULT_RUBRIC_NAME, is_default=True, criteria=[
            RubricCriterion(position=i, name=n, weight=w, guidance=g) for i, (n, w, g) in enumerate(DEFAULT_CRITERIA)])
        db.session.add(rubric)
        db.session.flush()
    return rubric


def parse_criteria(text: str) -> list[tuple[str, int]]:
    """One criterion per line: "名称 权重" (e.g. "指标体系 20")."""
    rows = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        match = re.fullmatch(r"(.+?)[\s,，:：|]+(\d+)", line)
        if not match:
            raise DomainError(_("第 %(n)s 行格式应为“名称 权重”。", n=number), field="criteria")
        rows.append((match.group(1).strip()[:100], int(match.group(2))))
    return rows


def save_rubric(name: str, criteria: list[tuple[str, int]], *, actor) -> RubricTemplate:
    _require_finance(actor)
    name = (name or "").strip()
    if not name:
        raise DomainError(_("请填写评分表名称。"), field="name")
    if db.session.scalar(sa.select(RubricTemplate.id).where(RubricTemplate.name == name)):
        raise DomainError(_("已有同名评分表。"), field="name")
    if not criteria:
        raise DomainError(_("请至少填写一项评分标准。"), field="criteria")
    if any(w <= 0 or w > 100 for _n, w in criteria):
        raise DomainError(_("每项权重须在 1 到 100 之间。"), field="criteria")
    total = sum(w for _n, w in criteria)
    if total != 100:
        raise DomainError(_("各项权重合计须为 100，当前为 %(t)s。", t=total), field="criteria")
    if len({n for n, _w in criteria}) != len(criteria):
        raise DomainError(_("评分标准名称不能重复。"), field="criteria")
    rubric = RubricTemplate(name=name, criteria=[RubricCriterion(position=i, name=n, weight=w)
                                                  for i, (n, w) in enumerate(criteria)])
    db.session.add(rubric)
    record_change(actor, "review_rubric.create", rubric, after={"name": name, "criteria": criteria})
    return rubric


# ---- versions -------------------------------------------------------------------------------

def upload_version(report: Report, file_storage, *, actor, note: str = "", expected_state=None) -> ReportVersion:
    """The agency uploads V1, V2…; a revision opens the next round straight away."""
    if not _is_agency_of(actor, report):
        raise NotPermitted(_("只有承担该评价的机构可以上传报告。"))
    if report.state == ReportState.REVISING and len(report.rounds) >= max_rounds():
        raise DomainError(_("评审轮次已达上限（%(n)s 轮），不能再提交修改稿。", n=max_rounds()))
    attachment = save_upload(file_storage, actor=actor, allowed={"pdf", "docx"})  # checks type by content
    REPORT.apply(report, "upload", actor=actor, expected_state=expected_state,
                 comment=(note or "").strip() or None)
    number = len(report.versions) + 1
    version = ReportVersion(report=report, number=number, note=(note or "").strip(), uploaded_by_id=actor.id,
                            uploaded_at=clock.now(), due_date=report.due_date, attachment=attachment)
    db.session.add(version)
    db.session.flush()
    link(attachment, version, "report")
    record_change(actor, "review_report.version", version, after={"number": number, "file": attachment.filename})
    previous = report.current_round
    if previous is not None and previous.decision == Decision.REVISE:
        _open_next_round(report, version, previous, actor=actor)
    else:
        notify(_finance_officers(), _("评价报告待开启评审：%(title)s %(v)s", title=report.title, v=version.label),
               link=url_for("reviews.report", report_id=report.id))
    return version


def store_version_bytes(report: Report, filename: str, data: bytes, *, actor, note: str = "") -> ReportVersion:
    """Same as upload_version for bytes in hand (demo data, tests)."""
    import io

    from werkzeug.datastructures import FileStorage

    return upload_version(report, FileStorage(io.BytesIO(data), filename=filename), actor=actor, note=note)


def _finance_officers() -> list[User]:
    users = db.session.scalars(sa.select(User).join(Organisation).where(
        Organisation.kind == OrgKind.FINANCE_BUREAU)).all()
    return [u for u in users if is_finance_officer(u)]


# ---- rounds ---------------------------------------------------------------------------------

def _check_sides(users: list[User]) -> None:
    sides = {side_of(u) for u in users}
    if Side.FINANCE not in sides or Side.AUDIT not in sides:
        raise DomainError(_("评审人员须至少包括一名财政人员和一名审计人员。"), field="reviewer_ids")


def open_round(report: Report, *, actor, reviewer_ids: list[int], lead_id: int, deadline: date,
               rubric: RubricTemplate | None = None, expected_state=None) -> ReviewRound:
    _require_finance(actor)
    version = report.latest_version
    if version is None:
        raise DomainError(_("机构尚未提交报告。"))
    if deadline is None or deadline < clock.today():
        raise DomainError(_("评审截止日期不能早于今天。"), field="deadline")
    if len(report.rounds) >= max_rounds():
        raise DomainError(_("评审轮次已达上限（%(n)s 轮）。", n=max_rounds()))
    reviewers = db.session.scalars(sa.select(User).where(User.id.in_(set(reviewer_ids))).order_by(User.id)).all()
    if any(side_of(u) is None or not u.is_active for u in reviewers):
        raise DomainError(_("评审人员只能是财政、审计人员或评审专家。"), field="reviewer_ids")
    _check_sides(reviewers)
    lead = db.session.get(User, lead_id) if lead_id else None
    if lead is None or not (is_finance_officer(lead) or is_audit_member(lead)):
        raise DomainError(_("牵头人须为财政或审计人员。"), field="lead_id")
    REPORT.apply(report, "open_round", actor=actor, expected_state=expected_state)
    rnd = ReviewRound(report=report, version=version, number=len(report.rounds) + 1, deadline=deadline,
                      rubric=rubric or default_rubric(), lead_id=lead.id, opened_by_id=actor.id)
    db.session.add(rnd)
    for user in reviewers:
        rnd.assignments.append(ReviewAssignment(reviewer_id=user.id, side=side_of(user)))
    db.session.flush()
    record_change(actor, "review_round.open", rnd, after={
        "version": version.label, "deadline": deadline.isoformat(), "lead": lead.display_name,
        "reviewers": [u.display_name for u in reviewers]})
    _notify_reviewers(rnd, rnd.assignments)
    return rnd


def _open_next_round(report: Report, version: ReportVersion, previous: ReviewRound, *, actor) -> ReviewRound:
    """A revised version goes back to the previous round's (non-conflicted) reviewers."""
    REPORT.apply(report, "open_round", actor=actor)
    days = int(current_app.config.get("REVIEW_ROUND_DAYS", 10))
    rnd = ReviewRound(report=report, version=version, number=previous.number + 1,
                      deadline=clock.today() + timedelta(days=days), rubric_id=previous.rubric_id,
                      lead_id=previous.lead_id, opened_by_id=previous.opened_by_id)
    db.session.add(rnd)
    for a in previous.active_assignments:
        rnd.assignments.append(ReviewAssignment(reviewer_id=a.reviewer_id, side=a.side))
    db.session.flush()
    record_change(None, "review_round.open", rnd, after={"version": version.label,
                                                         "deadline": rnd.deadline.isoformat()},
                  comment=_("机构提交修改稿，自动开启第%(n)s轮评审。", n=rnd.number))
    _notify_reviewers(rnd, rnd.assignments)
    return rnd


def _notify_reviewers(rnd: ReviewRound, assignments) -> None:
    for a in assignments:
        notify([a.reviewer], _("请评审：%(title)s（第%(n)s轮）", title=rnd.report.title, n=rnd.number),
               link=url_for("reviews.review", assignment_id=a.id))


def add_reviewer(rnd: ReviewRound, user: User, *, actor) -> ReviewAssignment:
    """Replace a conflicted reviewer (or add one) while the round is open."""
    _require_finance(actor)
    if rnd.state not in (RoundState.OPEN, RoundState.RETURNED):
        raise DomainError(_("本轮评审已进入会签或已决定，不能再增加评审人员。"))
    side = side_of(user)
    if side is None or not user.is_active:
        raise DomainError(_("评审人员只能是财政、审计人员或评审专家。"), field="user_id")
    if any(a.reviewer_id == user.id for a in rnd.assignments):
        raise DomainError(_("该人员已在本轮评审名单中（回避的人员不能再次指派）。"), field="user_id")
    assignment = ReviewAssignment(reviewer_id=user.id, side=side)
    rnd.assignments.append(assignment)
    db.session.flush()
    record_change(actor, "review_round.add_reviewer", rnd, after={"reviewer": user.display_name})
    _notify_reviewers(rnd, [assignment])
    return assignment


def round_ready(rnd: ReviewRound) -> str | None:
    """Why the round cannot go to consolidation yet, or None."""
    active = rnd.active_assignments
    sides = {a.side for a in active}
    if Side.FINANCE not in sides or Side.AUDIT not in sides:
        return _("有评审人员回避后，本轮已缺少财政或审计评审人员，请财政先补充指派。")
    waiting = [a for a in active if a.state != AssignmentState.SUBMITTED]
    if waiting:
        return _("还有 %(n)s 位评审人员未提交评审意见。", n=len(waiting))
    return None


# ---- a reviewer's work ----------------------------------------------------------------------

def declare(assignment: ReviewAssignment, *, actor, conflict: str | None, note: str = "",
            expected_state=None) -> ReviewAssignment:
    """利益冲突声明: none → may review; a conflict → withdrawn from the round."""
    if assignment.round.state != RoundState.OPEN:
        raise DomainError(_("本轮评审已结束。"))
    if conflict:
        try:
            kind = ConflictKind(conflict)
        except ValueError:
            raise DomainError(_("请选择利益冲突类型。"), field="conflict") from None
        if not ASSIGNMENT.allowed(assignment, "declare_conflict", actor):
            ASSIGNMENT.apply(assignment, "declare_conflict", actor=actor, expected_state=expected_state)  # raises
        assignment.conflict_kind = kind  # set first: CHECK conflicted ⇒ kind
        assignment.conflict_note = (note or "").strip()
        ASSIGNMENT.apply(assignment, "declare_conflict", actor=actor, expected_state=expected_state,
                         comment=f"{kind.zh}：{note}".strip("："))
        notify(_finance_officers(), _("评审人员回避，需补充指派：%(title)s", title=assignment.round.report.title),
               link=url_for("reviews.round_view", round_id=assignment.round_id))
    else:
        ASSIGNMENT.apply(assignment, "declare_none", actor=actor, expected_state=expected_state)
    assignment.declared_at = clock.now()
    return assignment


def _snapshot(assignment: ReviewAssignment) -> dict:
    return {
        "summary": assignment.summary,
        "scores": {str(s.criterion_id): [None if s.score is None else f"{s.score:.2f}", s.justification]
                   for s in assignment.scores},
        "comments": [[c.location, c.text] for c in assignment.comments],
    }


def parse_score(raw, criterion: RubricCriterion) -> Decimal | None:
    raw = (str(raw) if raw is not None else "").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise DomainError(_("“%(c)s”的得分须为数字。", c=criterion.name), field=f"score_{criterion.id}") from None
    if not value.is_finite() or value < 0 or value > criterion.weight:
        raise DomainError(_("“%(c)s”的得分须在 0 到 %(w)s 之间。", c=criterion.name, w=criterion.weight),
                          field=f"score_{criterion.id}")
    if value != value.quantize(Decimal("0.01")):
        raise DomainError(_("“%(c)s”的得分最多保留两位小数。", c=criterion.name), field=f"score_{criterion.id}")
    return value


def save_review(assignment: ReviewAssignment, *, actor, scores: dict, summary: str = "",
                comments: list[tuple[str, str]] | None = None, submit: bool = False,
                expected_state=None) -> ReviewAssignment:
    """Save a draft (or submit). `scores` maps criterion id → (score text, justification).
    The previous content is kept as a revision first."""
    if assignment.reviewer_id != actor.id:
        raise NotPermitted(_("只能填写自己的评审意见。"))
    if expected_state is not None and str(expected_state) != str(assignment.state):
        from portal.core.errors import StaleRecord

        raise StaleRecord(_("该评审意见的状态已变为“%(s)s”，请刷新后重试。", s=assignment.state.label))
    if assignment.state != AssignmentState.ACTIVE:
        if assignment.state == AssignmentState.PENDING:
            raise DomainError(_("请先声明是否存在利益冲突。"))
        raise DomainError(_("评审意见已提交或已回避，不能再修改。"))
    if assignment.round.state != RoundState.OPEN:
        raise DomainError(_("本轮评审已结束。"))
    criteria = assignment.round.rubric.criteria
    parsed = {}
    for c in criteria:
        raw, justification = scores.get(c.id, ("", ""))
        parsed[c.id] = (parse_score(raw, c), (justification or "").strip())
    cleaned_comments = []
    for location, text in comments or []:
        location, text = (location or "").strip(), (text or "").strip()
        if not location and not text:
            continue
        if not location or not text:
            raise DomainError(_("每条批注须注明章节或页码并填写内容。"), field="comments")
        cleaned_comments.append((location[:100], text))
    if submit:
        for c in criteria:
            score, justification = parsed[c.id]
            if score is None:
                raise DomainError(_("请为“%(c)s”打分。", c=c.name), field=f"score_{c.id}")
            if not justification:
                raise DomainError(_("请填写“%(c)s”的评分理由。", c=c.name), field=f"justification_{c.id}")
    if assignment.scores or assignment.summary or assignment.comments:
        db.session.add(ReviewRevision(assignment=assignment, number=assignment.revision + 1,
                                      content=json.dumps(_snapshot(assignment), ensure_ascii=False),
                                      saved_at=clock.now()))
    assignment.revision += 1
    for c in criteria:
        score, justification = parsed[c.id]
        row = assignment.score_for(c.id)
        if row is None:
            row = ReviewScore(criterion_id=c.id)
            assignment.scores.append(row)
        row.score, row.justification = score, justification
    assignment.summary = (summary or "").strip()
    assignment.comments = [ReviewComment(location=loc, text=text) for loc, text in cleaned_comments]
    db.session.flush()
    if submit:
        ASSIGNMENT.apply(assignment, "submit", actor=actor)
        assignment.submitted_at = clock.now()
        rnd = assignment.round
        if round_ready(rnd) is None:
            notify([rnd.lead], _("评审意见已全部提交，请起草合议意见：%(title)s", title=rnd.report.title),
                   link=url_for("reviews.consolidate", round_id=rnd.id))
    else:
        record_change(actor, "review_assignment.save", assignment, after={"revision": assignment.revision})
    return assignment


# ---- consolidation and decision -----------------------------------------------------------

def propose(rnd: ReviewRound, *, actor, opinion: str, decision: str, expected_state=None) -> ReviewRound:
    """The lead's consolidated opinion (合议意见) and proposed decision → both bureaus endorse."""
    opinion = (opinion or "").strip()
    try:
        proposed = Decision(decision)
    except ValueError:
        raise DomainError(_("请选择拟定结论。"), field="decision") from None
    if not opinion:
        raise DomainError(_("请填写合议意见。"), field="opinion")
    if rnd.lead_id != actor.id:
        raise NotPermitted(_("只有本轮牵头人可以提交合议意见。"))
    problem = round_ready(rnd)
    if problem:
        raise DomainError(problem)
    if proposed == Decision.REVISE and rnd.number >= max_rounds():
        raise DomainError(_("已是第 %(n)s 轮（上限 %(max)s 轮），不能再要求修改，请选择通过或不予通过。",
                            n=rnd.number, max=max_rounds()), field="decision")
    ROUND.apply(rnd, "propose", actor=actor, expected_state=expected_state, comment=proposed.zh)
    rnd.opinion, rnd.proposed_decision = opinion, proposed
    rnd.finance_endorser_id = rnd.audit_endorser_id = None
    rnd.score = round_score(rnd)
    members = [u for u in db.session.scalars(sa.select(User).join(Organisation).where(
        Organisation.kind.in_([OrgKind.FINANCE_BUREAU, OrgKind.AUDIT_BUREAU]))) if _bureau_member(u, rnd)]
    notify(members, _("合议意见待会签：%(title)s", title=rnd.report.title),
           link=url_for("reviews.consolidate", round_id=rnd.id))
    return rnd


def _conflicted(rnd: ReviewRound, user) -> bool:
    return any(a.reviewer_id == user.id and a.state == AssignmentState.CONFLICTED for a in rnd.assignments)


def endorse(rnd: ReviewRound, *, actor, expected_state=None) -> ReviewRound:
    """会签: one finance and one audit member; the decision takes effect with the second."""
    if _conflicted(rnd, actor):
        raise NotPermitted(_("已回避的人员不能会签。"))
    if rnd.state == RoundState.ENDORSING and is_finance_officer(actor) and rnd.finance_endorser_id:
        raise DomainError(_("财政局已会签，等待审计局会签。"))
    if rnd.state == RoundState.ENDORSING and is_audit_member(actor) and rnd.audit_endorser_id:
        raise DomainError(_("审计局已会签，等待财政局会签。"))
    ROUND.apply(rnd, "endorse", actor=actor, expected_state=expected_state, comment=rnd.proposed_decision.zh)
    if is_finance_officer(actor):
        rnd.finance_endorser_id = actor.id
    else:
        rnd.audit_endorser_id = actor.id
    db.session.flush()
    if rnd.finance_endorser_id and rnd.audit_endorser_id:
        _take_effect(rnd, actor=actor)
    return rnd


def _take_effect(rnd: ReviewRound, *, actor) -> None:
    rnd.decision, rnd.decided_at = rnd.proposed_decision, clock.now()  # set first: CHECK decided ⇒ decision
    ROUND.apply(rnd, "take_effect", actor=actor, comment=rnd.proposed_decision.zh)
    report = rnd.report
    if rnd.decision == Decision.REVISE:
        REPORT.apply(report, "revise", actor=actor)
        report.due_date = clock.today() + timedelta(days=int(current_app.config.get("REVIEW_REVISION_DAYS", 15)))
        _notify_agency(report, _("评价报告需修改后重新提交：%(title)s", title=report.title))
    else:
        REPORT.apply(report, "accept" if rnd.decision == Decision.ACCEPTED else "reject", actor=actor)
        report.final_score, report.decided_at = rnd.score, rnd.decided_at
        _notify_agency(report, _("评价报告评审结论：%(title)s %(d)s", title=report.title, d=rnd.decision.label))
    notify([rnd.lead], _("评审结论已生效：%(title)s", title=report.title),
           link=url_for("reviews.report", report_id=report.id))


def send_back(rnd: ReviewRound, *, actor, comment: str, expected_state=None) -> ReviewRound:
    if _conflicted(rnd, actor):
        raise NotPermitted(_("已回避的人员不能会签。"))
    ROUND.apply(rnd, "send_back", actor=actor, comment=(comment or "").strip(), expected_state=expected_state)
    rnd.finance_endorser_id = rnd.audit_endorser_id = None
    notify([rnd.lead], _("合议意见被退回：%(title)s", title=rnd.report.title), body=comment,
           link=url_for("reviews.consolidate", round_id=rnd.id))
    return rnd


# ---- arithmetic ---------------------------------------------------------------------------

def criterion_stats(rnd: ReviewRound) -> list[dict]:
    """Per criterion: the submitted scores, their mean and spread (max − min)."""
    rows = []
    submitted = rnd.submitted_assignments
    for c in rnd.rubric.criteria:
        values = [s.score for a in submitted if (s := a.score_for(c.id)) is not None and s.score is not None]
        rows.append({"criterion": c, "values": values,
                     "mean": (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.01")) if values else None,
                     "spread": (max(values) - min(values)) if values else None})
    return rows


def round_score(rnd: ReviewRound) -> Decimal | None:
    totals = [a.total for a in rnd.submitted_assignments if a.total is not None]
    if not totals:
        return None
    return (sum(totals, Decimal(0)) / len(totals)).quantize(Decimal("0.01"))


def opinion_problems(rnd: ReviewRound) -> list[str]:
    """Problems named in the consolidated opinion, one text each — for the problem ledger to
    list once that module exists (lines of the opinion's "问题" section, or its list items)."""
    problems, in_section = [], False
    for line in (rnd.opinion or "").splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            in_section = "问题" in stripped
            continue
        match = re.match(r"^(?:[-*+]|\d+[.、)]|[（(]\d+[）)])\s*(.+)$", stripped)
        if match and in_section:
            problems.append(match.group(1).strip())
    return problems


def list_opinion_problems(rnd: ReviewRound, *, actor, deadline: date) -> list:
    """列入问题台账: list the problems named in a decided round's opinion on the ledger, for the
    evaluated project's unit (source: report co-review). Once per round."""
    from portal.ledger.models import Problem, ProblemSource, RectificationType
    from portal.ledger.operations import list_problem

    if rnd.state != RoundState.DECIDED:
        raise DomainError(_("评审结论生效后才能将问题列入台账。"))
    texts = opinion_problems(rnd)
    if not texts:
        raise DomainError(_("合议意见中没有“问题”一节的条目，无可挂账的问题。"))
    reference = _("报告同审 %(title)s 第%(n)s轮", title=rnd.report.title, n=rnd.number)[:200]
    if db.session.scalar(sa.select(Problem.id).where(Problem.source == ProblemSource.CO_REVIEW,
                                                     Problem.source_ref == reference).limit(1)):
        raise DomainError(_("本轮合议意见中的问题已列入台账。"))
    project = rnd.report.evaluation.project
    return [list_problem(actor=actor, source=ProblemSource.CO_REVIEW, unit=project.unit, project=project,
                         category=_("报告同审发现"), description=text, rect_type=RectificationType.DEADLINE,
                         deadline=deadline, year=rnd.report.evaluation.year, source_ref=reference)
            for text in texts]
