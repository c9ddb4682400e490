# Over 400 lines: reports, rounds, reviews, consolidation, endorsement, revision and agencies; to be split by stage.
"""Every write of the co-review module. Operations validate, take the row lock of what they
change (and re-check its state after it), refuse a stale version, change the record, write one
audit entry per record changed (before and after of the changed fields) and notify; they never
read `request`. The caller (portal.core.writes.perform) commits."""
from __future__ import annotations

import hashlib
import json
import random
import re
import secrets
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from portal.accounts.models import Organisation, OrgKind, Role, User
from portal.core import bulk, clock
from portal.core.attachments import link, save_upload
from portal.core.audit import audit_value, record_change
from portal.core.errors import DomainError, NotPermitted, StaleRecord
from portal.core.links import page_link
from portal.core.locale import N_
from portal.core.notifications import notify
from portal.core.permissions import can
from portal.core.states import StateMachine, Transition
from portal.core.versions import expect_version, touch
from portal.core.writes import lock
from portal.extensions import db
from portal.performance.models import Evaluation, EvaluationMode
from portal.reviews.models import (
    AgencyDraw,
    AgencyProfile,
    AssignmentState,
    CommentKind,
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
from portal.reviews.policies import is_agency_of, is_audit_member, is_expert, is_finance_officer

DEFAULT_RUBRIC_NAME = "第三方评价报告评审评分表（默认）"
DEFAULT_CRITERIA = [
    ("评价依据与程序", 15, "评价依据是否充分，评价程序是否规范、完整。"),
    ("指标体系", 20, "指标体系是否科学合理，权重设置是否恰当。"),
    ("数据与证据", 20, "数据来源是否可靠，证据是否充分、可核实。"),
    ("结论与问题", 20, "评价结论是否客观，问题是否准确、具体。"),
    ("建议可行性", 15, "建议是否针对问题、切实可行。"),
    ("报告规范性", 10, "报告结构、文字、格式是否规范。"),
]


# ---- who is who ------------------------------------------------------------------------------

# The roles as the reach table counts them (portal/reviews/policies.py), never copied here.


def side_of(user) -> Side | None:
    if is_finance_officer(user):
        return Side.FINANCE
    if is_audit_member(user):
        return Side.AUDIT
    if is_expert(user):
        return Side.EXPERT
    return None


def max_rounds() -> int:
    return int(current_app.config.get("REVIEW_MAX_ROUNDS", 3))


# ---- state machines (data) ------------------------------------------------------------------



def _finance(user, _record) -> bool:
    return is_finance_officer(user)


def _system(_user, _record) -> bool:
    return True


REPORT = StateMachine("review_report", [
    Transition("upload", {ReportState.AWAITING, ReportState.REVISING}, ReportState.SUBMITTED,
               who=is_agency_of, label=N_("提交报告")),
    Transition("open_round", {ReportState.SUBMITTED}, ReportState.IN_REVIEW, who=_system, label=N_("开启评审")),
    Transition("accept", {ReportState.IN_REVIEW}, ReportState.ACCEPTED, who=_system, label=N_("通过")),
    Transition("revise", {ReportState.IN_REVIEW}, ReportState.REVISING, who=_system, label=N_("修改后重审")),
    Transition("reject", {ReportState.IN_REVIEW}, ReportState.REJECTED, who=_system, label=N_("不予通过")),
])


def _is_lead(user, rnd) -> bool:
    return rnd.lead_id == user.id


def _bureau_member(user, _rnd) -> bool:
    return is_finance_officer(user) or is_audit_member(user)


ROUND = StateMachine("review_round", [
    Transition("propose", {RoundState.OPEN, RoundState.RETURNED}, RoundState.ENDORSING, who=_is_lead,
               label=N_("提交合议意见")),
    Transition("endorse", {RoundState.ENDORSING}, RoundState.ENDORSING, who=_bureau_member, label=N_("会签同意")),
    Transition("send_back", {RoundState.ENDORSING}, RoundState.RETURNED, who=_bureau_member,
               label=N_("退回牵头人"), needs_comment=True),
    Transition("take_effect", {RoundState.ENDORSING}, RoundState.DECIDED, who=_system, label=N_("决定生效")),
])


def _is_reviewer(user, assignment) -> bool:
    return assignment.reviewer_id == user.id


ASSIGNMENT = StateMachine("review_assignment", [
    Transition("declare_none", {AssignmentState.PENDING}, AssignmentState.ACTIVE, who=_is_reviewer,
               label=N_("声明无利益冲突")),
    Transition("declare_conflict", {AssignmentState.PENDING, AssignmentState.ACTIVE}, AssignmentState.CONFLICTED,
               who=_is_reviewer, label=N_("声明利益冲突并回避")),
    Transition("submit", {AssignmentState.ACTIVE}, AssignmentState.SUBMITTED, who=_is_reviewer, label=N_("提交评审意见")),
])


# ---- audit: one entry per record changed, only the fields that changed ------------------------

def _values(record, fields) -> dict:
    return {f: audit_value(getattr(record, f)) for f in fields}


def _log(actor, action: str, record, before: dict, after: dict | None = None, *, comment: str | None = None):
    """Write the record's entry: before and after of the fields in `before` that changed (none → no entry)."""
    after = after if after is not None else _values(record, before)
    changed = [k for k in before if before[k] != after.get(k)]
    if not changed:
        return None
    return record_change(actor, action, record, before={k: before[k] for k in changed},
                         after={k: after[k] for k in changed}, comment=comment)


def _created(actor, action: str, record, fields, *, comment: str | None = None):
    db.session.flush()
    return record_change(actor, action, record, after=_values(record, fields), comment=comment)


def _serialise_on(key: str) -> None:
    """Serialise writers of something that has no row to lock yet (a year's pool, the default
    rubric): a PostgreSQL transaction-scoped advisory lock; SQLite writes are IMMEDIATE already."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"),
                           {"k": int.from_bytes(hashlib.sha256(key.encode()).digest()[:7], "big")})


# ---- agencies, pool, draws ----------------------------------------------------------------

def _require_finance(actor) -> None:
    if not is_finance_officer(actor):
        raise NotPermitted(_("只有财政绩效管理人员可以执行此操作。"))


PROFILE_FIELDS = ("qualifications", "credit_code", "contact_person", "contact_phone", "contact_email", "address")


def save_profile(agency: Organisation, *, actor, **fields) -> AgencyProfile:
    if not can(actor, "manage", AgencyProfile):
        raise NotPermitted(_("只有财政绩效管理人员可以维护机构资料。"))
    if agency.kind != OrgKind.AGENCY:
        raise DomainError(_("只能为第三方机构维护资质信息。"))
    lock(agency)  # two first saves of a profile would both insert it
    profile = db.session.scalar(sa.select(AgencyProfile).where(AgencyProfile.organisation_id == agency.id))
    created = profile is None
    if created:
        profile = AgencyProfile(organisation_id=agency.id, **{n: "" for n in PROFILE_FIELDS})
        db.session.add(profile)
    before = _values(profile, PROFILE_FIELDS)
    for name in PROFILE_FIELDS:
        if name in fields:
            setattr(profile, name, (fields[name] or "").strip())
    if created:
        _created(actor, "agency.profile", profile, ("organisation_id", *PROFILE_FIELDS))
    else:
        _log(actor, "agency.profile", profile, before)
    return profile


def set_pool(year: int, agency_ids: list[int], *, actor) -> list[PoolEntry]:
    """Replace the pool of qualified agencies (入库机构) for `year`: one entry per agency added or removed."""
    _require_finance(actor)
    wanted = set(agency_ids)
    agencies = db.session.scalars(sa.select(Organisation).where(Organisation.id.in_(wanted))).all()
    if any(a.kind != OrgKind.AGENCY or not a.is_active for a in agencies) or len(agencies) != len(wanted):
        raise DomainError(_("入库名单只能包含启用的第三方机构。"), field="agency_ids")
    _serialise_on(f"agency_pool:{year}")
    existing = db.session.scalars(sa.select(PoolEntry).where(PoolEntry.year == year)).all()
    for entry in existing:
        if entry.agency_id not in wanted:
            record_change(actor, "agency.pool_remove", entry, before={"year": year, "agency_id": entry.agency_id})
            db.session.delete(entry)
    have = {e.agency_id for e in existing}
    for agency_id in sorted(wanted - have):
        entry = PoolEntry(year=year, agency_id=agency_id)
        db.session.add(entry)
        _created(actor, "agency.pool_add", entry, ("year", "agency_id"))
    db.session.flush()
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
    """抽签: pick an agency for a finance evaluation from the chosen part of the year's pool.
    The evaluation's row lock makes two draws at once queue: the second sees the first."""
    _require_finance(actor)
    if evaluation.mode != EvaluationMode.FINANCE:
        raise DomainError(_("只有财政评价可以抽签确定第三方机构。"))
    witnesses = (witnesses or "").strip()
    if not witnesses:
        raise DomainError(_("请填写监督人（见证人）。"), field="witnesses")
    lock(evaluation)
    qualified = {e.agency_id for e in pool_for(evaluation.year)}
    pool = sorted(set(pool_ids))
    if len(pool) < 2:
        raise DomainError(_("抽签范围至少需要两家入库机构。"), field="pool_ids")
    if not set(pool) <= qualified:
        raise DomainError(_("抽签范围只能包含本年度入库的机构。"), field="pool_ids")
    report = report_for(evaluation)
    previous = db.session.scalars(sa.select(AgencyDraw.id).where(AgencyDraw.evaluation_id == evaluation.id)).first()
    if previous is not None or evaluation.agency_id is not None:
        if not (reason or "").strip():
            raise DomainError(_("该评价已确定机构，重新抽签必须填写理由（将记录在案）。"), field="reason")
        if report is not None:
            lock(report)
            if _version_count(report):
                raise DomainError(_("机构已提交报告，不能重新抽签。"))
    seed = seed or secrets.token_hex(16)
    chosen = draw_result(seed, pool)
    draw = AgencyDraw(evaluation_id=evaluation.id, seed=seed, pool_json=json.dumps(pool), witnesses=witnesses,
                      chosen_agency_id=chosen, reason=(reason or "").strip(), drawn_by_id=actor.id,
                      drawn_at=clock.now())
    db.session.add(draw)
    db.session.flush()
    record_change(actor, "agency.draw", draw, after={"seed": seed, "pool": pool, "witnesses": witnesses,
                                                    "chosen": chosen}, comment=draw.reason or None)
    before = _values(evaluation, ["agency_id"])
    evaluation.agency_id = chosen
    _log(actor, "evaluation.agency", evaluation, before, comment=draw.reason or None)
    if report is not None:
        before = _values(report, ["agency_id"])
        report.agency_id = chosen
        _log(actor, "review_report.agency", report, before, comment=draw.reason or None)
    else:
        report = _new_report(evaluation, actor=actor)
    _notify_agency(report, _("您机构被抽中承担评价任务：%(title)s", title=report.title))
    return draw


def report_for(evaluation: Evaluation) -> Report | None:
    return db.session.scalar(sa.select(Report).where(Report.evaluation_id == evaluation.id))


REPORT_CREATED = ("evaluation_id", "agency_id", "title", "state", "due_date")


def commission_report(evaluation: Evaluation, *, actor, title: str = "", due_date: date | None = None) -> Report:
    """The report slot the agency will upload into (待提交)."""
    _require_finance(actor)
    lock(evaluation)  # two commissions at once: the second sees the first's report
    return _new_report(evaluation, actor=actor, title=title, due_date=due_date)


def _new_report(evaluation: Evaluation, *, actor, title: str = "", due_date: date | None = None) -> Report:
    if evaluation.agency_id is None:
        raise DomainError(_("该评价尚未确定第三方机构，请先抽签。"))
    if report_for(evaluation) is not None:
        raise DomainError(_("该评价已有评价报告。"))
    report = Report(evaluation_id=evaluation.id, agency_id=evaluation.agency_id, state=ReportState.AWAITING,
                    title=(title or "").strip() or f"{evaluation.project.name}绩效评价报告",
                    due_date=due_date or clock.today() + timedelta(days=int(current_app.config.get(
                        "REVIEW_REPORT_DAYS", 30))))
    db.session.add(report)
    _created(actor, "review_report.create", report, REPORT_CREATED)
    return report


REPORT_EDITABLE = ("title", "due_date")


def update_report(report: Report, *, actor, version, title: str, due_date: date | None) -> Report:
    """Edit a report's title and due date (提交期限) — refused when the form was built on an
    earlier version of the report (optimistic lock_version)."""
    _require_finance(actor)
    lock(report)
    expect_version(report, version)
    title = (title or "").strip()
    if not title:
        raise DomainError(_("请填写报告标题。"), field="title")
    if report.state in (ReportState.ACCEPTED, ReportState.REJECTED):
        raise DomainError(_("评审结论已生效，报告信息不能再修改。"))
    if due_date is None and report.state in (ReportState.AWAITING, ReportState.REVISING):
        raise DomainError(_("请填写提交期限。"), field="due_date")
    before = _values(report, REPORT_EDITABLE)
    report.title, report.due_date = title[:200], due_date
    _log(actor, "review_report.edit", report, before)
    return report


def _notify_agency(report: Report, title: str) -> None:
    staff = db.session.scalars(sa.select(User).where(User.organisation_id == report.agency_id)).all()
    notify([u for u in staff if u.has_role(Role.AGENCY_STAFF)], title,
           link=page_link("reviews.report", report_id=report.id))


# ---- rubrics --------------------------------------------------------------------------------

def existing_default_rubric() -> RubricTemplate | None:
    """The default rubric if it has been stored (reads only: pages call this)."""
    rubric = db.session.scalar(sa.select(RubricTemplate).where(RubricTemplate.is_default.is_(True))
                               .order_by(RubricTemplate.id).limit(1))
    return rubric or db.session.scalar(sa.select(RubricTemplate).where(RubricTemplate.name == DEFAULT_RUBRIC_NAME))


def unsaved_default_rubric() -> RubricTemplate:
    """The default rubric as it will be stored on first use (for pages; never added to the session)."""
    return RubricTemplate(name=DEFAULT_RUBRIC_NAME, is_default=True, criteria=[
        RubricCriterion(position=i, name=n, weight=w, guidance=g) for i, (n, w, g) in enumerate(DEFAULT_CRITERIA)])


def default_rubric(*, actor=None) -> RubricTemplate:
    """The default rubric, stored on first use (by a write: opening a round, seeding)."""
    rubric = existing_default_rubric()
    if rubric is None:
        _serialise_on("review_rubric:default")
        rubric = existing_default_rubric()
    if rubric is None:
        rubric = unsaved_default_rubric()
        db.session.add(rubric)
        _created(actor, "review_rubric.create", rubric, ("name", "is_default"))
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


def criteria_text(rubric: RubricTemplate) -> str:
    """The rubric's criteria as the form shows them ("名称 权重" per line)."""
    return "\n".join(f"{c.name} {c.weight}" for c in rubric.criteria)


def _check_rubric(name: str, criteria, *, rubric_id: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise DomainError(_("请填写评分表名称。"), field="name")
    taken = sa.select(RubricTemplate.id).where(RubricTemplate.name == name)
    if rubric_id is not None:
        taken = taken.where(RubricTemplate.id != rubric_id)
    if db.session.scalar(taken):
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
    return name


def _unique_name(rubric: RubricTemplate) -> None:
    """A name taken at the same moment by another request is a clear refusal, not a 500 (the
    whole operation is rolled back by the caller)."""
    try:
        db.session.flush()
    except sa.exc.IntegrityError:
        raise DomainError(_("已有同名评分表。"), field="name") from None


def save_rubric(name: str, criteria: list[tuple[str, int]] | str, *, actor) -> RubricTemplate:
    _require_finance(actor)
    if isinstance(criteria, str):
        criteria = parse_criteria(criteria)
    name = _check_rubric(name, criteria)
    rubric = RubricTemplate(name=name, criteria=[RubricCriterion(position=i, name=n, weight=w)
                                                  for i, (n, w) in enumerate(criteria)])
    db.session.add(rubric)
    _unique_name(rubric)
    record_change(actor, "review_rubric.create", rubric,
                  after={"name": name, "criteria": [[n, w] for n, w in criteria]})
    return rubric


def _rubric_values(rubric: RubricTemplate) -> dict:
    return {"name": rubric.name, "criteria": [[c.name, c.weight] for c in rubric.criteria]}


def rubric_in_use(rubric: RubricTemplate) -> bool:
    return db.session.scalar(sa.select(ReviewRound.id).where(ReviewRound.rubric_id == rubric.id).limit(1)) is not None


def update_rubric(rubric: RubricTemplate, *, actor, version, name: str,
                  criteria: list[tuple[str, int]] | str) -> RubricTemplate:
    """Rename a rubric or change its criteria (not once a round scores with it: its scores would
    lose their meaning — make a new rubric instead)."""
    _require_finance(actor)
    lock(rubric)
    expect_version(rubric, version)
    if isinstance(criteria, str):
        criteria = parse_criteria(criteria)
    name = _check_rubric(name, criteria, rubric_id=rubric.id)
    before = _rubric_values(rubric)
    new_criteria = [[n, w] for n, w in criteria]
    if new_criteria != before["criteria"]:
        if rubric_in_use(rubric):
            raise DomainError(_("该评分表已用于评审，不能修改评分标准；如需调整请新建评分表。"), field="criteria")
        rubric.criteria = [RubricCriterion(position=i, name=n, weight=w) for i, (n, w) in enumerate(criteria)]
        touch(rubric)  # a change of the criteria is a change of the rubric (its lock_version)
    rubric.name = name
    _unique_name(rubric)
    _log(actor, "review_rubric.edit", rubric, before, _rubric_values(rubric))
    return rubric


# ---- versions -------------------------------------------------------------------------------

def _version_count(report: Report) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(ReportVersion)
                             .where(ReportVersion.report_id == report.id)) or 0


def _last_round(report: Report) -> ReviewRound | None:
    return db.session.scalar(sa.select(ReviewRound).where(ReviewRound.report_id == report.id)
                             .order_by(ReviewRound.number.desc()).limit(1))


def _next_round_number(report: Report) -> int:
    """Read under the report's row lock: two rounds of one report never share a number."""
    return (db.session.scalar(sa.select(sa.func.max(ReviewRound.number))
                              .where(ReviewRound.report_id == report.id)) or 0) + 1


def upload_version(report: Report, file_storage, *, actor, note: str = "", expected_state=None) -> ReportVersion:
    """The agency uploads V1, V2…; a revision opens the next round straight away."""
    if not is_agency_of(actor, report):
        raise NotPermitted(_("只有承担该评价的机构可以上传报告。"))
    if file_storage is None or not getattr(file_storage, "filename", ""):
        raise DomainError(_("请选择报告文件。"), field="file")
    attachment = save_upload(file_storage, actor=actor, allowed={"pdf", "docx"})  # checks type by content
    lock(report)  # the state, the round count and the next version number are read under the lock
    before = _values(report, ["state"])
    REPORT.apply(report, "upload", actor=actor, expected_state=expected_state, audit=False)
    rounds = db.session.scalar(sa.select(sa.func.count()).select_from(ReviewRound)
                               .where(ReviewRound.report_id == report.id)) or 0
    if before["state"] == ReportState.REVISING.value and rounds >= max_rounds():
        raise DomainError(_("评审轮次已达上限（%(n)s 轮），不能再提交修改稿。", n=max_rounds()))
    number = (db.session.scalar(sa.select(sa.func.max(ReportVersion.number))
                                .where(ReportVersion.report_id == report.id)) or 0) + 1
    version = ReportVersion(report=report, number=number, note=(note or "").strip(), uploaded_by_id=actor.id,
                            uploaded_at=clock.now(), due_date=report.due_date, attachment=attachment)
    db.session.add(version)
    db.session.flush()
    link(attachment, version, "report")
    record_change(actor, "review_report.version", version, after={"number": number, "file": attachment.filename,
                                                                  "note": version.note})
    previous = _last_round(report)
    if previous is not None and previous.decision == Decision.REVISE:
        _open_next_round(report, version, previous, actor=actor, before=before, comment=(note or "").strip() or None)
    else:
        _log(actor, "review_report.upload", report, before, comment=(note or "").strip() or None)
        notify(_finance_officers(), _("评价报告待开启评审：%(title)s %(v)s", title=report.title, v=version.label),
               link=page_link("reviews.report", report_id=report.id))
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


ROUND_CREATED = ("number", "version_id", "state", "deadline", "rubric_id", "lead_id")


def open_round(report: Report, *, actor, reviewer_ids: list[int], lead_id: int, deadline: date,
               rubric: RubricTemplate | None = None, rubric_id: int | None = None, expected_state=None) -> ReviewRound:
    """开启评审: the report's row lock first, then its state, its round count and the next number."""
    _require_finance(actor)
    if deadline is None or deadline < clock.today():
        raise DomainError(_("评审截止日期不能早于今天。"), field="deadline")
    reviewers = db.session.scalars(sa.select(User).where(User.id.in_(set(reviewer_ids or []))).order_by(User.id)).all()
    if any(side_of(u) is None or not u.is_active for u in reviewers):
        raise DomainError(_("评审人员只能是财政、审计人员或评审专家。"), field="reviewer_ids")
    _check_sides(reviewers)
    lead = db.session.get(User, lead_id) if lead_id else None
    if lead is None or not (is_finance_officer(lead) or is_audit_member(lead)):
        raise DomainError(_("牵头人须为财政或审计人员。"), field="lead_id")
    if rubric is None and rubric_id:
        rubric = db.session.get(RubricTemplate, rubric_id)
        if rubric is None:
            raise DomainError(_("请选择评分表。"), field="rubric_id")
    lock(report)  # the state, the latest version and the next round number are read under the lock
    before = _values(report, ["state"])
    REPORT.apply(report, "open_round", actor=actor, expected_state=expected_state, audit=False)
    version = db.session.scalar(sa.select(ReportVersion).where(ReportVersion.report_id == report.id)
                                .order_by(ReportVersion.number.desc()).limit(1))
    if version is None:
        raise DomainError(_("机构尚未提交报告。"))
    number = _next_round_number(report)
    if number > max_rounds():
        raise DomainError(_("评审轮次已达上限（%(n)s 轮）。", n=max_rounds()))
    rnd = ReviewRound(report=report, version=version, number=number, deadline=deadline, state=RoundState.OPEN,
                      rubric=rubric or default_rubric(actor=actor), lead_id=lead.id, opened_by_id=actor.id)
    db.session.add(rnd)
    for user in reviewers:
        rnd.assignments.append(ReviewAssignment(reviewer_id=user.id, side=side_of(user)))
    db.session.flush()
    _log(actor, "review_report.open_round", report, before, comment=_("第%(n)s轮", n=number))
    record_change(actor, "review_round.open", rnd, after={
        **_values(rnd, ROUND_CREATED), "version": version.label, "lead": lead.display_name,
        "reviewers": [u.display_name for u in reviewers]})
    for a in rnd.assignments:
        _created(actor, "review_assignment.create", a, ("round_id", "reviewer_id", "side", "state"))
    _notify_reviewers(rnd, rnd.assignments)
    return rnd


def _open_next_round(report: Report, version: ReportVersion, previous: ReviewRound, *, actor, before: dict,
                     comment: str | None) -> ReviewRound:
    """A revised version goes back to the previous round's (non-conflicted) reviewers. The
    report is locked already (by the upload)."""
    REPORT.apply(report, "open_round", actor=actor, audit=False)
    _log(actor, "review_report.upload", report, before, comment=comment)
    days = int(current_app.config.get("REVIEW_ROUND_DAYS", 10))
    number = _next_round_number(report)
    rnd = ReviewRound(report=report, version=version, number=number, state=RoundState.OPEN,
                      deadline=clock.today() + timedelta(days=days), rubric_id=previous.rubric_id,
                      lead_id=previous.lead_id, opened_by_id=previous.opened_by_id)
    db.session.add(rnd)
    for a in previous.active_assignments:
        rnd.assignments.append(ReviewAssignment(reviewer_id=a.reviewer_id, side=a.side))
    db.session.flush()
    record_change(None, "review_round.open", rnd, after={**_values(rnd, ROUND_CREATED), "version": version.label},
                  comment=_("机构提交修改稿，自动开启第%(n)s轮评审。", n=rnd.number))
    for a in rnd.assignments:
        _created(None, "review_assignment.create", a, ("round_id", "reviewer_id", "side", "state"))
    _notify_reviewers(rnd, rnd.assignments)
    return rnd


def _notify_reviewers(rnd: ReviewRound, assignments) -> None:
    for a in assignments:
        notify([a.reviewer], _("请评审：%(title)s（第%(n)s轮）", title=rnd.report.title, n=rnd.number),
               link=page_link("reviews.review", assignment_id=a.id))


def add_reviewer(rnd: ReviewRound, user: User | int | None, *, actor) -> ReviewAssignment:
    """Replace a conflicted reviewer (or add one) while the round is open."""
    _require_finance(actor)
    if not isinstance(user, User):
        user = db.session.get(User, user) if user else None
    if user is None:
        raise DomainError(_("请选择评审人员。"), field="user_id")
    lock(rnd)
    if rnd.state not in (RoundState.OPEN, RoundState.RETURNED):
        raise DomainError(_("本轮评审已进入会签或已决定，不能再增加评审人员。"))
    side = side_of(user)
    if side is None or not user.is_active:
        raise DomainError(_("评审人员只能是财政、审计人员或评审专家。"), field="user_id")
    if db.session.scalar(sa.select(ReviewAssignment.id).where(ReviewAssignment.round_id == rnd.id,
                                                              ReviewAssignment.reviewer_id == user.id)):
        raise DomainError(_("该人员已在本轮评审名单中（回避的人员不能再次指派）。"), field="user_id")
    assignment = ReviewAssignment(reviewer_id=user.id, side=side, state=AssignmentState.PENDING)
    rnd.assignments.append(assignment)
    db.session.flush()
    _created(actor, "review_assignment.create", assignment, ("round_id", "reviewer_id", "side", "state"),
             comment=_("补充指派 %(name)s", name=user.display_name))
    _notify_reviewers(rnd, [assignment])
    return assignment


def round_ready(rnd: ReviewRound) -> str | None:
    """Why the round cannot go to consolidation yet, or None."""
    active = rnd.active_assignments
    sides = {a.side for a in active}
    if Side.FINANCE not in sides or Side.AUDIT not in sides:
        return _("有评审人员回避后，本轮已缺少财政或审计评审人员，请财政先补充指派。")
    waiting = pending_reviewers(rnd)
    if waiting:
        return _("等待 %(names)s 提交评分。", names="、".join(a.reviewer.display_name for a in waiting))
    return None


def pending_reviewers(rnd: ReviewRound) -> list[ReviewAssignment]:
    """The reviewers (not withdrawn) whose review is not submitted yet, in assignment order."""
    return [a for a in rnd.active_assignments if a.state != AssignmentState.SUBMITTED]


# ---- a reviewer's work ----------------------------------------------------------------------

DECLARED = ("state", "conflict_kind", "conflict_note", "declared_at")


def declare(assignment: ReviewAssignment, *, actor, conflict: str | None, note: str = "",
            expected_state=None) -> ReviewAssignment:
    """利益冲突声明: none → may review; a conflict → withdrawn from the round."""
    kind = None
    if conflict:
        try:
            kind = ConflictKind(conflict)
        except ValueError:
            raise DomainError(_("请选择利益冲突类型。"), field="conflict") from None
    lock(assignment)
    if assignment.round.state != RoundState.OPEN:
        raise DomainError(_("本轮评审已结束。"))
    before = _values(assignment, DECLARED)
    action = "declare_conflict" if kind else "declare_none"
    comment = f"{kind.zh}：{note}".strip("：") if kind else None
    if kind:
        ASSIGNMENT.find(assignment, action)  # an illegal move is refused before anything changes
        assignment.conflict_kind = kind  # set first: CHECK conflicted ⇒ kind
        assignment.conflict_note = (note or "").strip()
    ASSIGNMENT.apply(assignment, action, actor=actor, expected_state=expected_state, audit=False)
    assignment.declared_at = clock.now()
    _log(actor, f"review_assignment.{action}", assignment, before, comment=comment)
    if kind:
        notify(_finance_officers(), _("评审人员回避，需补充指派：%(title)s", title=assignment.round.report.title),
               link=page_link("reviews.round_view", round_id=assignment.round_id))
    return assignment


def _snapshot(assignment: ReviewAssignment) -> dict:
    return {
        "summary": assignment.summary,
        "scores": {str(s.criterion_id): [None if s.score is None else f"{s.score:.2f}", s.justification]
                   for s in assignment.scores},
        "comments": [[c.location, c.text, c.kind.value, c.criterion_id] for c in assignment.comments],
    }


def _review_values(assignment: ReviewAssignment) -> dict:
    return {**_snapshot(assignment), **_values(assignment, ("state", "revision", "submitted_at", "saved_at"))}


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


def _comment_rows(comments, criteria) -> list[tuple[str, str, CommentKind, int | None]]:
    """The comment rows as stored: (location, text[, kind[, criterion id]]) each; a row with
    neither a location, a criterion nor a text is left out. A row needs its text and either a
    location (章节或页码) or the criterion it concerns — one of the round's rubric."""
    known = {c.id for c in criteria}
    rows = []
    for number, row in enumerate(comments or [], start=1):
        location, text, kind, criterion_id = (tuple(row) + ("", None))[:4]
        location, text = (location or "").strip(), (text or "").strip()
        criterion_id = int(criterion_id) if criterion_id not in (None, "") else None
        if not location and not text and criterion_id is None:
            continue
        if not text or not (location or criterion_id):
            raise DomainError(_("第 %(n)s 条批注须注明章节或页码（或所涉评分标准）并填写内容。", n=number),
                              field="comments")
        if criterion_id is not None and criterion_id not in known:
            raise DomainError(_("第 %(n)s 条批注所涉评分标准不在本轮评分表中。", n=number), field="comments")
        try:
            kind = CommentKind(kind or CommentKind.OPINION.value)
        except ValueError:
            raise DomainError(_("第 %(n)s 条批注的类型无效。", n=number), field="comments") from None
        rows.append((location[:100], text, kind, criterion_id))
    return rows


def save_review(assignment: ReviewAssignment, *, actor, version, scores: dict, summary: str = "",
                comments: list[tuple] | None = None, submit: bool = False,
                expected_state=None) -> ReviewAssignment:
    """Save a draft (or submit). `scores` maps criterion id → (score text, justification);
    `comments` are rows (location, text[, kind[, criterion id]]), as many as the reviewer needs.
    The previous content is kept as a revision first. `version` is the lock_version the form
    was built on: a second tab (or a second device) saving over newer content is refused."""
    if assignment.reviewer_id != actor.id:
        raise NotPermitted(_("只能填写自己的评审意见。"))
    lock(assignment)
    if expected_state is not None and str(expected_state) != str(assignment.state):
        raise StaleRecord(_("该评审意见的状态已变为“%(s)s”，请刷新后重试。", s=assignment.state.label))
    expect_version(assignment, version)
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
    cleaned_comments = _comment_rows(comments, criteria)
    if submit:
        for c in criteria:
            score, justification = parsed[c.id]
            if score is None:
                raise DomainError(_("请为“%(c)s”打分。", c=c.name), field=f"score_{c.id}")
            if not justification:
                raise DomainError(_("请填写“%(c)s”的评分理由。", c=c.name), field=f"justification_{c.id}")
    before = _review_values(assignment)
    if assignment.scores or assignment.summary or assignment.comments:
        db.session.add(ReviewRevision(assignment=assignment, number=assignment.revision + 1,
                                      content=json.dumps(_snapshot(assignment), ensure_ascii=False),
                                      saved_at=clock.now()))
    assignment.revision += 1  # under the row lock and the version check: no other save in between
    for c in criteria:
        score, justification = parsed[c.id]
        row = assignment.score_for(c.id)
        if row is None:
            row = ReviewScore(criterion_id=c.id)
            assignment.scores.append(row)
        row.score, row.justification = score, justification
    assignment.summary = (summary or "").strip()
    assignment.comments = [ReviewComment(location=loc, text=text, kind=kind, criterion_id=criterion_id)
                           for loc, text, kind, criterion_id in cleaned_comments]
    assignment.saved_at = clock.now()
    db.session.flush()
    if submit:
        ASSIGNMENT.apply(assignment, "submit", actor=actor, audit=False)
        assignment.submitted_at = assignment.saved_at
    _log(actor, "review_assignment.submit" if submit else "review_assignment.save", assignment, before,
         _review_values(assignment))
    if submit:
        rnd = assignment.round
        if round_ready(rnd) is None:
            notify([rnd.lead], _("评审意见已全部提交，请起草合议意见：%(title)s", title=rnd.report.title),
                   link=page_link("reviews.consolidate", round_id=rnd.id))
    return assignment


# ---- consolidation and decision -----------------------------------------------------------

ROUND_DECISION = ("state", "opinion", "proposed_decision", "finance_endorser_id", "audit_endorser_id", "score",
                  "decision", "decided_at")


def _bureau_members() -> list[User]:
    return [u for u in db.session.scalars(sa.select(User).join(Organisation).where(
        Organisation.kind.in_([OrgKind.FINANCE_BUREAU, OrgKind.AUDIT_BUREAU]))) if _bureau_member(u, None)]


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
    lock(rnd)
    before = _values(rnd, ROUND_DECISION)
    ROUND.find(rnd, "propose")  # the state after the lock: a second submit at once is told it moved on
    problem = round_ready(rnd)
    if problem:
        raise DomainError(problem)
    if proposed == Decision.REVISE and rnd.number >= max_rounds():
        raise DomainError(_("已是第 %(n)s 轮（上限 %(max)s 轮），不能再要求修改，请选择通过或不予通过。",
                            n=rnd.number, max=max_rounds()), field="decision")
    ROUND.apply(rnd, "propose", actor=actor, expected_state=expected_state, audit=False)
    rnd.opinion, rnd.proposed_decision = opinion, proposed
    rnd.finance_endorser_id = rnd.audit_endorser_id = None
    rnd.score = round_score(rnd)
    _log(actor, "review_round.propose", rnd, before, comment=proposed.zh)
    notify(_bureau_members(), _("合议意见待会签：%(title)s", title=rnd.report.title),
           link=page_link("reviews.consolidate", round_id=rnd.id))
    return rnd


def _conflicted(rnd: ReviewRound, user) -> bool:
    return any(a.reviewer_id == user.id and a.state == AssignmentState.CONFLICTED for a in rnd.assignments)


def endorse(rnd: ReviewRound, *, actor, expected_state=None) -> ReviewRound:
    """会签: one finance and one audit member; the decision takes effect with the second. Under
    the round's row lock, so two endorsements at once are one after the other: the second of
    the same bureau is refused, the second of the other bureau makes the decision take effect."""
    if _conflicted(rnd, actor):
        raise NotPermitted(_("已回避的人员不能会签。"))
    lock(rnd)
    before = _values(rnd, ROUND_DECISION)
    if rnd.state == RoundState.ENDORSING and is_finance_officer(actor) and rnd.finance_endorser_id:
        raise DomainError(_("财政局已会签，等待审计局会签。"))
    if rnd.state == RoundState.ENDORSING and is_audit_member(actor) and rnd.audit_endorser_id:
        raise DomainError(_("审计局已会签，等待财政局会签。"))
    ROUND.apply(rnd, "endorse", actor=actor, expected_state=expected_state, audit=False)
    if is_finance_officer(actor):
        rnd.finance_endorser_id = actor.id
    else:
        rnd.audit_endorser_id = actor.id
    decided = bool(rnd.finance_endorser_id and rnd.audit_endorser_id)
    if decided:
        rnd.decision, rnd.decided_at = rnd.proposed_decision, clock.now()  # set first: CHECK decided ⇒ decision
        ROUND.apply(rnd, "take_effect", actor=actor, audit=False)
    _log(actor, "review_round.take_effect" if decided else "review_round.endorse", rnd, before,
         comment=rnd.proposed_decision.zh)
    if decided:
        _take_effect(rnd, actor=actor)
    return rnd


def _take_effect(rnd: ReviewRound, *, actor) -> None:
    report = rnd.report
    lock(report)
    before = _values(report, ("state", "due_date", "final_score", "decided_at"))
    if rnd.decision == Decision.REVISE:
        REPORT.apply(report, "revise", actor=actor, audit=False)
        report.due_date = clock.today() + timedelta(days=int(current_app.config.get("REVIEW_REVISION_DAYS", 15)))
        message = _("评价报告需修改后重新提交：%(title)s", title=report.title)
    else:
        REPORT.apply(report, "accept" if rnd.decision == Decision.ACCEPTED else "reject", actor=actor, audit=False)
        report.final_score, report.decided_at = rnd.score, rnd.decided_at
        message = _("评价报告评审结论：%(title)s %(d)s", title=report.title, d=rnd.decision.label)
    _log(actor, "review_report.decide", report, before, comment=_("第%(n)s轮：%(d)s", n=rnd.number, d=rnd.decision.zh))
    _notify_agency(report, message)
    notify([rnd.lead], _("评审结论已生效：%(title)s", title=report.title),
           link=page_link("reviews.report", report_id=report.id))


def send_back(rnd: ReviewRound, *, actor, comment: str, expected_state=None) -> ReviewRound:
    if _conflicted(rnd, actor):
        raise NotPermitted(_("已回避的人员不能会签。"))
    lock(rnd)
    before = _values(rnd, ROUND_DECISION)
    ROUND.apply(rnd, "send_back", actor=actor, comment=(comment or "").strip(), expected_state=expected_state,
                audit=False)
    rnd.finance_endorser_id = rnd.audit_endorser_id = None
    _log(actor, "review_round.send_back", rnd, before, comment=(comment or "").strip())
    notify([rnd.lead], _("合议意见被退回：%(title)s", title=rnd.report.title), body=comment,
           link=page_link("reviews.consolidate", round_id=rnd.id))
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
    agency whose report had the defects (source: report co-review; the evaluated unit did nothing
    wrong and its 整改率 is not charged with them). Once per round."""
    from portal.ledger.models import Problem, ProblemSource, RectificationType
    from portal.ledger.operations import list_problem

    if deadline is None:
        raise DomainError(_("请填写有效的整改时限。"), field="deadline")
    lock(rnd)  # two clicks at once: the second finds the first's problems and is refused
    if rnd.state != RoundState.DECIDED:
        raise DomainError(_("评审结论生效后才能将问题列入台账。"))
    texts = opinion_problems(rnd)
    if not texts:
        raise DomainError(_("合议意见中没有“问题”一节的条目，无可挂账的问题。"))
    reference = _("报告同审 %(title)s 第%(n)s轮", title=rnd.report.title, n=rnd.number)[:200]
    project = rnd.report.evaluation.project
    year = rnd.report.evaluation.year
    # The report's title may have been edited since: the round is known by project, year and number.
    suffix = _("第%(n)s轮", n=rnd.number)
    if db.session.scalar(sa.select(Problem.id).where(
            Problem.source == ProblemSource.CO_REVIEW, Problem.project_id == project.id, Problem.year == year,
            sa.or_(Problem.source_ref == reference, Problem.source_ref.endswith(suffix))).limit(1)):
        raise DomainError(_("本轮合议意见中的问题已列入台账。"))
    return [list_problem(actor=actor, source=ProblemSource.CO_REVIEW, unit=rnd.report.agency, project=project,
                         category=_("报告同审发现"), description=text, rect_type=RectificationType.DEADLINE,
                         deadline=deadline, year=year, source_ref=reference)
            for text in texts]


def bulk_commission(*, actor, ids, action: str | None = None, comment: str = "") -> bulk.BulkOutcome:
    """建立报告 for each ticked finance evaluation (the evaluation list's bulk bar) through
    `commission_report`: one without an agency, or with a report already, is named with the
    reason and left as it was; the others get their report."""
    _require_finance(actor)
    return bulk.run(actor, Evaluation, ids, lambda evaluation: commission_report(evaluation, actor=actor),
                    name=lambda evaluation: evaluation.project.name)
