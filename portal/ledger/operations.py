# Over 400 lines: listing, progress, extensions, sign-off and bulk changes of problems; to be split by stage.
"""Every write to the ledger. Operations validate, change state, log and notify; they never
read `request` and never commit (the view hands one of them to `portal.core.writes.perform`,
which commits once). Transitions take the problem's row lock (`lock()`, or `MACHINE.apply`)
before they look at its state; money rectified is added in SQL under that lock."""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.accounts.models import Organisation, OrgKind, Role, User
from portal.core import bulk, clock, counters
from portal.core.attachments import attachments_of, save_upload
from portal.core.audit import record_change
from portal.core.errors import DomainError, IllegalTransition, NotPermitted, StaleRecord
from portal.core.links import page_link
from portal.core.locale import N_
from portal.core.notifications import notify
from portal.core.permissions import can
from portal.core.states import StateMachine, Transition
from portal.core.versions import expect_version
from portal.core.writes import lock
from portal.extensions import db
from portal.ledger import policies
from portal.ledger.models import (
    MONEY_FIELDS,
    OPEN_STATES,
    Bureau,
    ExtensionRequest,
    ExtensionState,
    Milestone,
    Problem,
    ProblemSource,
    ProblemState,
    ProgressUpdate,
    RectificationType,
    SavedFilter,
    SignOff,
)
from portal.ledger.queries import find_recurrence, similar

MAX_AMOUNT = Decimal("100000000000")  # 1,000 亿元: anything above is a typo, not a problem amount
EVIDENCE_KINDS = {"pdf", "docx", "xlsx", "ole", "png", "jpeg", "text"}
TRACKED = ["category", "description", "amount", "requirement", "completion_standard", "rect_type", "deadline",
           "person_responsible", "measures", "accountability", "rules_improved", "not_done_reason", "state"]


def both_signed(problem) -> bool:
    return (problem.finance_signed_at is not None and problem.audit_signed_at is not None
            and {s.bureau for s in problem.signoffs} == {Bureau.FINANCE, Bureau.AUDIT})


# The state machine, as data. "close" is taken only by sign_off(), and even then only when both
# bureaus have signed (the predicate below; the database CHECK refuses it too).
MACHINE = StateMachine("problem", [
    Transition("start", {ProblemState.LISTED}, ProblemState.IN_PROGRESS,
               who=lambda u, p: policies.is_unit_of(u, p), label=N_("开始整改")),
    Transition("long_term", {ProblemState.LISTED, ProblemState.IN_PROGRESS}, ProblemState.LONG_TERM,
               who=lambda u, p: policies.is_finance_officer(u), label=N_("转为长期整改"), needs_comment=True),
    Transition("submit", {ProblemState.LISTED, ProblemState.IN_PROGRESS, ProblemState.LONG_TERM},
               ProblemState.SUBMITTED, who=lambda u, p: policies.is_unit_of(u, p), label=N_("申请销号")),
    Transition("return", {ProblemState.SUBMITTED}, ProblemState.IN_PROGRESS,
               who=lambda u, p: policies.is_bureau_officer(u), label=N_("退回整改"), needs_comment=True),
    Transition("close", {ProblemState.SUBMITTED}, ProblemState.CLOSED,
               who=lambda u, p: policies.is_bureau_officer(u) and both_signed(p), label=N_("销号")),
])


# ---- helpers ---------------------------------------------------------------------------

def parse_amount(value, field: str, label: str | None = None) -> Decimal:
    """Yuan from a form or an Excel cell; refuses negative, absurd and non-numeric amounts."""
    label = label or _("金额")
    if value is None or (isinstance(value, str) and not value.strip()):
        return Decimal(0)
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        raise DomainError(_("%(label)s必须是数字（单位：元）。", label=label), field=field) from None
    if not amount.is_finite():
        raise DomainError(_("%(label)s必须是数字（单位：元）。", label=label), field=field)
    if amount < 0:
        raise DomainError(_("%(label)s不能为负数。", label=label), field=field)
    if amount > MAX_AMOUNT:
        raise DomainError(_("%(label)s超过1000亿元，请核对单位（应以元为单位）。", label=label), field=field)
    if amount != amount.quantize(Decimal("0.01")):
        raise DomainError(_("%(label)s最多保留两位小数。", label=label), field=field)
    return amount


def unit_users(problem) -> list[User]:
    org_ids = {problem.unit_id, problem.department_id}
    users = db.session.execute(sa.select(User).where(User.organisation_id.in_(org_ids))).scalars()
    return [u for u in users if u.has_role(Role.UNIT_LIAISON) or u.has_role(Role.AGENCY_STAFF)]


def bureau_users() -> list[User]:
    users = db.session.execute(sa.select(User).join(Organisation)
                               .where(Organisation.kind.in_([OrgKind.FINANCE_BUREAU, OrgKind.AUDIT_BUREAU])))
    return [u for u in users.scalars() if policies.is_bureau_officer(u)]


def link_to(problem) -> str:
    return page_link("ledger.detail", problem_id=problem.id)


def _refuse_if_moved_on(problem, expected_state) -> None:
    """After `lock()`: refuse a form made for a state the problem has left since (a stale page)."""
    if expected_state is not None and str(expected_state) != str(problem.state):
        raise StaleRecord(_("该问题已被他人处理，当前状态为“%(state)s”，请刷新后重试。", state=problem.state.label))


# ---- ledger numbers --------------------------------------------------------------------

def next_number(year: int) -> tuple[int, str]:
    """Take the next gapless ledger number of `year` (ZG-2026-0001) from the core counter."""
    seq = counters.take("ledger", year)
    return seq, f"ZG-{year}-{seq:04d}"


# ---- listing ---------------------------------------------------------------------------

def responsible_kinds(source) -> tuple:
    """Who can be the 责任单位: a budget unit; for a co-review finding (a defect of the agency's
    report) the agency that wrote the report."""
    return (OrgKind.BUDGET_UNIT, OrgKind.AGENCY) if source == ProblemSource.CO_REVIEW else (OrgKind.BUDGET_UNIT,)


def validate_fields(*, unit, category, description, amount, rect_type, deadline, listed_on, source=None) -> None:
    if unit is None or unit.kind not in responsible_kinds(source):
        raise DomainError(_("请选择责任单位（预算部门或单位）。"), field="unit_id")
    if not (category or "").strip():
        raise DomainError(_("请填写问题类别。"), field="category")
    if len(category) > 60:
        raise DomainError(_("问题类别不超过60字。"), field="category")
    if not (description or "").strip():
        raise DomainError(_("请填写问题描述。"), field="description")
    if not isinstance(rect_type, RectificationType):
        raise DomainError(_("请选择整改类型。"), field="rect_type")
    if deadline is None:
        raise DomainError(_("请填写整改时限。"), field="deadline")
    if deadline < listed_on:
        raise DomainError(_("整改时限（%(d)s）不能早于挂账日期（%(l)s）。", d=deadline.isoformat(),
                            l=listed_on.isoformat()), field="deadline")


def check_listing(*, actor, unit, category, description, amount, rect_type, deadline, listed_on,
                  finding=None, source=None) -> Decimal:
    """Every rule a new problem must meet (the amount parsed); raises the first one broken."""
    if not can(actor, "create", Problem):
        raise NotPermitted(_("只有财政、审计工作人员可以挂账。"))
    amount = parse_amount(amount, "amount", _("问题金额"))
    validate_fields(unit=unit, category=category, description=description, amount=amount, rect_type=rect_type,
                    deadline=deadline, listed_on=listed_on, source=source)
    if finding is not None and db.session.scalar(
            sa.select(Problem.number).where(Problem.evaluation_finding_id == finding.id)):
        raise DomainError(_("该评价发现的问题已挂账，不能重复挂账。"), field="findings")
    return amount


def list_problem(*, actor, source: ProblemSource, unit: Organisation, category: str, description: str,
                 amount=Decimal(0), rect_type: RectificationType = RectificationType.DEADLINE,
                 deadline: date | None = None, year: int | None = None, project=None, source_ref: str = "",
                 finding=None, policy_basis: str = "", requirement: str = "", completion_standard: str = "",
                 person_responsible: str = "", listed_on: date | None = None, notify_unit: bool = True) -> Problem:
    """挂账: a new problem with the next ledger number of its year — taken after every check that
    could refuse the listing, so a refused form consumes no number."""
    listed_on = listed_on or clock.today()
    amount = check_listing(actor=actor, unit=unit, category=category, description=description, amount=amount,
                           rect_type=rect_type, deadline=deadline, listed_on=listed_on, finding=finding, source=source)
    year = year or listed_on.year
    seq, number = next_number(year)
    problem = Problem(
        number=number, year=year, seq=seq, source=source, source_ref=(source_ref or "")[:200], finding=finding,
        project=project, unit=unit, department=unit.department, category=category.strip(),
        description=description.strip(), amount=amount, policy_basis=policy_basis or "",
        requirement=requirement or "", completion_standard=completion_standard or "", rect_type=rect_type,
        listed_on=listed_on, deadline=deadline, person_responsible=(person_responsible or "")[:60],
        state=ProblemState.LISTED, created_by_id=actor.id,
        recurrence_of=find_recurrence(unit.id, year, category.strip(), description),
    )
    db.session.add(problem)
    db.session.flush()
    record_change(actor, "problem.list", problem, after={"number": number, "unit": unit.name,
                                                         "source": str(source), "amount": str(amount)})
    if notify_unit:
        notify(unit_users(problem), _("新挂账问题 %(n)s：%(c)s", n=number, c=problem.category),
               link=link_to(problem), body=problem.description[:200])
    return problem


def list_imported(*, actor, rows: list[dict], listed_on: date, progress=None, batch: int = 500) -> list[Problem]:
    """挂账 of an import's rows, every one already through `check_listing` (amounts parsed): what
    `list_problem` does for each, in batches — the ledger numbers of a year taken in one counter
    update, earlier problems for the recurrence check read once, the problems inserted and their
    audit entries (one per problem, the same as `list_problem`'s) appended `batch` at a time."""
    from portal.core.audit import append_many

    by_year: dict[int, list[dict]] = {}
    for row in rows:
        by_year.setdefault(row.get("year") or listed_on.year, []).append(row)
    numbers: dict[int, int] = {}
    for year, listed in sorted(by_year.items()):
        first = counters.take(  # one update: last + n, the n numbers before it are this import's
            "ledger", year, count=len(listed)) - len(listed) + 1
        for offset, row in enumerate(listed):
            numbers[id(row)] = first + offset
    earlier = _recurrence_candidates(rows, listed_on)
    problems: list[Problem] = []
    for start in range(0, len(rows), batch):
        chunk = []
        for row in rows[start:start + batch]:
            year, unit, category = row.get("year") or listed_on.year, row["unit"], row["category"].strip()
            seq = numbers[id(row)]
            candidates = earlier.get((unit.id, category), [])
            recurrence = next((c[2] for c in [c for c in candidates if c[0] < year][:200]
                               if similar(c[3], row["description"])), None)
            problem = Problem(
                number=f"ZG-{year}-{seq:04d}", year=year, seq=seq, source=row["source"],
                source_ref=(row.get("source_ref") or "")[:200], project=row.get("project"), unit=unit,
                department=unit.department, category=category, description=row["description"].strip(),
                amount=row["amount"], policy_basis=row.get("policy_basis") or "",
                requirement=row.get("requirement") or "", completion_standard=row.get("completion_standard") or "",
                rect_type=row["rect_type"], listed_on=listed_on, deadline=row["deadline"],
                person_responsible=(row.get("person_responsible") or "")[:60], state=ProblemState.LISTED,
                created_by_id=actor.id, recurrence_of_id=recurrence)
            chunk.append(problem)
        db.session.add_all(chunk)
        db.session.flush()
        for problem in chunk:  # later rows of this file may recur an earlier-year row of it
            earlier.setdefault((problem.unit_id, problem.category), []).append(
                (problem.year, problem.id, problem.id, problem.description))
            earlier[(problem.unit_id, problem.category)].sort(key=lambda c: (-c[0], -c[1]))
        append_many(actor, "problem.list", [
            (p, {"number": p.number, "unit": p.unit.name, "source": str(p.source), "amount": str(p.amount)})
            for p in chunk])
        problems += chunk
        if progress is not None:
            progress(len(problems))
    return problems


def _recurrence_candidates(rows: list[dict], listed_on: date) -> dict[tuple, list]:
    """Earlier problems of the import's units and categories, latest first (`find_recurrence`'s
    order): (unit id, category) → [(year, id, id, description), …], read in one query per 500 units."""
    units = sorted({row["unit"].id for row in rows})
    categories = sorted({row["category"].strip() for row in rows})
    latest = max((row.get("year") or listed_on.year) for row in rows) if rows else listed_on.year
    out: dict[tuple, list] = {}
    for start in range(0, len(units), 500):
        stmt = (sa.select(Problem.unit_id, Problem.category, Problem.year, Problem.id, Problem.description)
                .where(Problem.unit_id.in_(units[start:start + 500]), Problem.category.in_(categories),
                       Problem.year < latest)
                .order_by(Problem.year.desc(), Problem.id.desc()))
        for unit_id, category, year, problem_id, description in db.session.execute(stmt):
            out.setdefault((unit_id, category), []).append((year, problem_id, problem_id, description))
    return out


def list_from_form(*, actor, unit_id: int | None, project=None, project_code: str = "", year: int | None = None,
                   **fields) -> Problem:
    """挂账 from the listing form: find the unit and the project (by its code) first, so that a
    refused form takes no ledger number."""
    from portal.performance.models import Project

    unit = db.session.get(Organisation, unit_id) if unit_id else None
    code = (project_code or "").strip()
    if project is None and code:
        stmt = sa.select(Project).where(Project.code == code)
        if year:
            stmt = stmt.where(Project.year == year)
        project = db.session.execute(stmt.limit(1)).scalar_one_or_none()
        if project is None:
            raise DomainError(_("找不到该项目编码。"), field="project_code")
    return list_problem(actor=actor, unit=unit, project=project, year=year, **fields)


def list_from_findings(evaluation, findings, *, actor, deadline: date, rect_type: RectificationType,
                       requirement: str = "", person_responsible: str = "") -> list[Problem]:
    """List several findings of one evaluation in one step (all or none)."""
    if not findings:
        raise DomainError(_("请至少选择一条问题。"), field="findings")
    lock(evaluation)  # two officers listing from one evaluation: the second sees the first's problems
    project = evaluation.project
    listings = []
    for finding in findings:  # every finding checked before the first number is taken
        if finding.evaluation_id != evaluation.id:
            raise DomainError(_("所选问题不属于该评价。"), field="findings")
        listing = dict(actor=actor, unit=project.unit, finding=finding, category=finding.category or _("其他"),
                       description=finding.description, amount=finding.amount or 0, rect_type=rect_type,
                       deadline=deadline)
        check_listing(**listing, listed_on=clock.today())
        listings.append(listing)
    problems = [list_problem(
        **listing, source=ProblemSource.EVALUATION, project=project, year=evaluation.year,
        source_ref=_("%(mode)s：%(name)s", mode=evaluation.mode.label, name=project.name),
        requirement=requirement or listing["finding"].suggestion or "", person_responsible=person_responsible,
        notify_unit=False) for listing in listings]
    notify(unit_users(problems[0]), _("%(n)s 个评价发现问题已挂账", n=len(problems)),
           link=page_link("ledger.index", unit=project.unit_id))
    return problems


EDITABLE = ("source_ref", "category", "description", "amount", "policy_basis", "requirement",
            "completion_standard", "rect_type", "deadline", "person_responsible")


def update_problem(problem, *, actor, version, **values) -> None:
    """Correct a problem's columns (bureaus only, until it is closed); logged before/after. A
    form built on an earlier version of the problem is refused (who changed what), nothing saved."""
    lock(problem)
    expect_version(problem, version)
    if not can(actor, "manage", problem):
        raise NotPermitted(_("只有财政、审计工作人员可以修改问题。"))
    if problem.state == ProblemState.CLOSED:
        raise IllegalTransition(_("已销号的问题不能修改。"))
    values = {k: v for k, v in values.items() if k in EDITABLE}
    values["amount"] = parse_amount(values.get("amount"), "amount", _("问题金额"))
    rect_type = values.get("rect_type", problem.rect_type)
    validate_fields(unit=problem.unit, category=values.get("category") or "", description=values.get("description") or "",
                    amount=values["amount"], rect_type=rect_type, deadline=values.get("deadline"),
                    listed_on=problem.listed_on, source=problem.source)
    before, after = {}, {}
    for name, value in values.items():
        if value is None and name in ("source_ref", "policy_basis", "requirement", "completion_standard",
                                      "person_responsible"):
            value = ""
        value = value.strip() if isinstance(value, str) else value
        if getattr(problem, name) != value:
            before[name], after[name] = getattr(problem, name), value
            setattr(problem, name, value)
    if after:
        record_change(actor, "problem.edit", problem, before=before, after=after)


# ---- the unit's side -------------------------------------------------------------------

def _money(values: dict | None) -> dict[str, Decimal]:
    from portal.ledger.models import MONEY_CATEGORIES

    labels = {f"rect_{k}": zh for k, zh, _en in MONEY_CATEGORIES}
    values = values or {}
    return {f: parse_amount(values.get(f), f, _(labels[f])) for f in MONEY_FIELDS}


# The problem's text columns a progress report may bring (已采取措施 and the others).
REPORTED = ("measures", "not_done_reason", "accountability", "rules_improved")


def record_progress(problem, *, actor, text: str, money: dict | None = None, files=(), evidence_date=None,
                    measures: str | None = None, not_done_reason: str | None = None, expected_state=None,
                    is_submission: bool = False, accountability: str | None = None,
                    rules_improved: str | None = None) -> ProgressUpdate:
    """整改进展: text, evidence files with their own date, money rectified by category.

    Under the problem's row lock; the money is added in SQL (`SET rect_x = rect_x + :delta`), so
    concurrent reports all count. The audit entry has before/after of every problem column the
    report changed (money, 已采取措施 …) and the id of the new update."""
    lock(problem)
    if problem.state not in OPEN_STATES:
        _refuse_if_moved_on(problem, expected_state)
        raise IllegalTransition(_("当前状态（%(s)s）不能报送整改进展。", s=problem.state.label))
    if not can(actor, "rectify", problem):
        raise NotPermitted(_("只有责任单位可以报送整改进展。"))
    if not (text or "").strip():
        raise DomainError(_("请填写整改进展情况。"), field="text")
    amounts = _money(money)
    if evidence_date is not None and evidence_date > clock.today():
        raise DomainError(_("佐证材料日期不能晚于今天。"), field="evidence_date")
    files = [f for f in files if f is not None and getattr(f, "filename", "")]
    if files and evidence_date is None:
        raise DomainError(_("请填写佐证材料的形成日期。"), field="evidence_date")
    if problem.rectified_total + sum(amounts.values(), Decimal(0)) > MAX_AMOUNT:
        raise DomainError(_("累计整改金额超过1000亿元，请核对单位（应以元为单位）。"), field="rect_recovered")
    texts = {name: value.strip() for name, value in (("measures", measures), ("not_done_reason", not_done_reason),
                                                     ("accountability", accountability),
                                                     ("rules_improved", rules_improved))
             if value is not None and value.strip() and value.strip() != getattr(problem, name)}
    if problem.state == ProblemState.LISTED:
        MACHINE.apply(problem, "start", actor=actor, comment=_("报送首次整改进展"))
    update = ProgressUpdate(problem=problem, author_id=actor.id, text=text.strip(), evidence_date=evidence_date,
                            is_submission=is_submission, **amounts)
    db.session.add(update)
    db.session.flush()
    for f in files:  # checked by content; a disguised file raises DomainError and nothing is kept
        save_upload(f, actor=actor, record=update, purpose="evidence", allowed=EVIDENCE_KINDS,
                    document_date=evidence_date)
    added = {name: value for name, value in amounts.items() if value}
    before = {name: getattr(problem, name) for name in [*added, *texts]}
    if added:  # in SQL, under the lock; a change of the problem (its version moves on)
        db.session.flush()
        db.session.execute(sa.update(Problem).where(Problem.id == problem.id)
                           .values(lock_version=Problem.lock_version + 1,
                                   **{name: getattr(Problem, name) + value for name, value in added.items()})
                           .execution_options(synchronize_session=False))
        db.session.refresh(problem)
    for name, value in texts.items():
        setattr(problem, name, value)
    after = {name: getattr(problem, name) for name in before}
    record_change(actor, "problem.progress", problem, before=before,
                  after={**after, "progress_update": update.id, **({"evidence_files": len(files)} if files else {})},
                  comment=text.strip()[:500])
    return update


def has_evidence(problem) -> bool:
    return any(attachments_of(u, "evidence") for u in problem.updates)


def _may(problem, action: str, actor) -> None:
    """Raise the precise reason why `actor` cannot take `action` now (without taking it)."""
    transition = MACHINE.find(problem, action)
    if not transition.who(actor, problem):
        raise NotPermitted(_("您无权执行“%(action)s”。", action=_(transition.label)))


def submit(problem, *, actor, text: str, money=None, files=(), evidence_date=None, measures=None,
           expected_state=None, accountability=None, rules_improved=None) -> ProgressUpdate:
    """申请销号 with evidence: the submission is itself a progress update. Locked and checked
    first, so of two submissions of one problem the second is refused before it writes."""
    lock(problem)
    _refuse_if_moved_on(problem, expected_state)
    _may(problem, "submit", actor)
    update = record_progress(problem, actor=actor, text=text, money=money, files=files, evidence_date=evidence_date,
                             measures=measures, is_submission=True, accountability=accountability,
                             rules_improved=rules_improved)
    if not has_evidence(problem):
        raise DomainError(_("申请销号须上传整改佐证材料。"), field="files")
    MACHINE.apply(problem, "submit", actor=actor, comment=text.strip()[:500])
    problem.submitted_at = clock.now()
    notify(bureau_users(), _("%(n)s 申请销号", n=problem.number), link=link_to(problem), body=problem.description[:200])
    return update


def request_extension(problem, *, actor, new_deadline: date | None, reason: str) -> ExtensionRequest:
    lock(problem)  # one pending request at a time, even from two tabs
    if not can(actor, "rectify", problem):
        raise NotPermitted(_("只有责任单位可以申请延期。"))
    if problem.state not in OPEN_STATES:
        raise IllegalTransition(_("当前状态（%(s)s）不能申请延期。", s=problem.state.label))
    if problem.pending_extension is not None:
        raise DomainError(_("已有待审批的延期申请。"), field="new_deadline")
    if new_deadline is None or new_deadline <= problem.deadline:
        raise DomainError(_("延期后的时限须晚于现有时限（%(d)s）。", d=problem.deadline.isoformat()),
                          field="new_deadline")
    if not (reason or "").strip():
        raise DomainError(_("请填写延期理由。"), field="reason")
    ext = ExtensionRequest(problem=problem, requested_by_id=actor.id, old_deadline=problem.deadline,
                           new_deadline=new_deadline, reason=reason.strip())
    db.session.add(ext)
    record_change(actor, "problem.extension_request", ext,
                  after={"old_deadline": ext.old_deadline, "new_deadline": new_deadline, "reason": ext.reason},
                  comment=reason.strip())
    notify([u for u in bureau_users() if policies.is_finance_officer(u)],
           _("%(n)s 申请延期至 %(d)s", n=problem.number, d=new_deadline.isoformat()), link=link_to(problem))
    return ext


def decide_extension(ext: ExtensionRequest, *, actor, approve: bool, comment: str = "") -> None:
    """Finance approves (the problem's deadline moves) or refuses: one entry on the request, and
    one on the problem when its deadline changes."""
    problem = ext.problem
    lock(problem)  # every change of a problem's requests happens under the problem's lock
    lock(ext)
    if not can(actor, "decide_extension", problem):
        raise NotPermitted(_("只有财政局可以审批延期申请。"))
    if ext.state != ExtensionState.PENDING:
        raise IllegalTransition(_("该延期申请已处理。"))
    if not approve and not (comment or "").strip():
        raise DomainError(_("不同意延期须说明理由。"), field="comment")
    action = "problem.extension_" + ("approve" if approve else "refuse")
    ext.state = ExtensionState.APPROVED if approve else ExtensionState.REFUSED
    ext.decided_by_id, ext.decided_at, ext.decision_comment = actor.id, clock.now(), (comment or "").strip()
    record_change(actor, action, ext, before={"state": str(ExtensionState.PENDING)},
                  after={"state": str(ext.state), **({"decision_comment": ext.decision_comment}
                                                     if ext.decision_comment else {})}, comment=comment)
    if approve and problem.deadline != ext.new_deadline:
        before = {"deadline": problem.deadline}
        problem.deadline = ext.new_deadline
        record_change(actor, "problem.deadline", problem, before=before, after={"deadline": problem.deadline},
                      comment=_("同意延期"))
    notify(unit_users(problem), _("%(n)s 延期申请%(r)s", n=problem.number, r=ext.state.label), link=link_to(problem))


# ---- the bureaus' side -----------------------------------------------------------------

def bureau_of(user) -> Bureau | None:
    if policies.is_finance_officer(user):
        return Bureau.FINANCE
    if policies.is_audit_liaison(user):
        return Bureau.AUDIT
    return None


def sign_off(problem, *, actor, comment: str = "", expected_state=None) -> SignOff:
    """销号确认 by the actor's bureau; the second bureau's sign-off closes the problem — the only
    way a problem is ever closed, checked inside this one transaction, under the problem's lock."""
    lock(problem)
    _refuse_if_moved_on(problem, expected_state)
    bureau = bureau_of(actor)
    if bureau is None or not can(actor, "verify", problem):
        raise NotPermitted(_("只有财政、审计工作人员可以确认销号。"))
    if problem.state != ProblemState.SUBMITTED:
        raise IllegalTransition(_("只有“申请销号”的问题才能确认销号（当前：%(s)s）。", s=problem.state.label))
    if problem.signoff_of(bureau) is not None:
        raise DomainError(_("%(b)s已确认过销号。", b=bureau.label))
    row = SignOff(problem=problem, bureau=bureau, user_id=actor.id, comment=(comment or "").strip())
    db.session.add(row)
    signed = f"{bureau.value}_signed_at"
    setattr(problem, signed, clock.now())
    db.session.flush()
    record_change(actor, "problem.signoff", problem, before={signed: None},
                  after={signed: getattr(problem, signed), "bureau": str(bureau)}, comment=comment)
    if both_signed(problem):
        problem.closed_on = clock.today()
        MACHINE.apply(problem, "close", actor=actor, comment=_("财政、审计双方均已确认"))
        notify(unit_users(problem) + bureau_users(), _("%(n)s 已销号", n=problem.number), link=link_to(problem))
    return row


def return_problem(problem, *, actor, reason: str, expected_state=None) -> None:
    """退回: either bureau sends a submitted problem back; earlier sign-offs no longer count. One
    entry: the state and the sign-off dates it clears."""
    MACHINE.apply(problem, "return", actor=actor, comment=(reason or "").strip(), expected_state=expected_state,
                  audit=False)
    cleared = {name: getattr(problem, name) for name in ("finance_signed_at", "audit_signed_at", "submitted_at")
               if getattr(problem, name) is not None}
    for row in list(problem.signoffs):
        problem.signoffs.remove(row)
    problem.finance_signed_at = problem.audit_signed_at = None
    problem.submitted_at = None
    before = {"state": str(ProblemState.SUBMITTED), **cleared}
    record_change(actor, "problem.return", problem, before=before,
                  after={"state": str(problem.state), **{name: None for name in cleared}}, comment=(reason or "").strip())
    notify(unit_users(problem), _("%(n)s 被退回整改", n=problem.number), link=link_to(problem), body=reason)


def mark_long_term(problem, *, actor, reason: str, milestones=(), expected_state=None) -> None:
    """转为长期整改: one entry for the problem (its state and type), one per milestone added."""
    lock(problem)
    before = {"state": str(problem.state), "rect_type": str(problem.rect_type)}
    MACHINE.apply(problem, "long_term", actor=actor, comment=(reason or "").strip(), expected_state=expected_state,
                  audit=False)
    problem.rect_type = RectificationType.LONG_TERM
    after = {"state": str(problem.state), "rect_type": str(problem.rect_type)}
    changed = [k for k in after if before[k] != after[k]]
    record_change(actor, "problem.long_term", problem, before={k: before[k] for k in changed},
                  after={k: after[k] for k in changed}, comment=(reason or "").strip())
    for title, due in milestones:
        add_milestone(problem, actor=actor, title=title, due_date=due)


def add_milestone(problem, *, actor, title: str, due_date: date | None) -> Milestone:
    lock(problem)
    if not can(actor, "manage", problem):
        raise NotPermitted(_("只有财政、审计工作人员可以设置阶段目标。"))
    if problem.state == ProblemState.CLOSED:
        raise IllegalTransition(_("已销号的问题不能再设置阶段目标。"))
    if not (title or "").strip():
        raise DomainError(_("请填写阶段目标。"), field="title")
    if due_date is None or due_date < problem.listed_on:
        raise DomainError(_("阶段目标的日期不能早于挂账日期。"), field="due_date")
    milestone = Milestone(problem=problem, title=title.strip()[:200], due_date=due_date)
    db.session.add(milestone)
    record_change(actor, "problem.milestone", milestone, after={"title": milestone.title, "due_date": due_date})
    return milestone


def complete_milestone(milestone: Milestone, *, actor) -> None:
    problem = milestone.problem
    lock(problem)
    lock(milestone)
    if not (can(actor, "rectify", problem) or can(actor, "manage", problem)):
        raise NotPermitted(_("您无权更新该阶段目标。"))
    if milestone.done_on is None:
        milestone.done_on = clock.today()
        record_change(actor, "problem.milestone_done", milestone, before={"done_on": None},
                      after={"done_on": milestone.done_on}, comment=milestone.title)


# ---- bulk actions (the shape of every list's bulk bar: portal/core/bulk.py) ---------------

BULK_ACTIONS = ("assign", "deadline", "remind")


def bulk_problems(*, actor, action: str, ids, comment: str = "", person: str = "",
                  deadline: str = "") -> bulk.BulkOutcome:
    """The ledger's bulk bar: each ticked problem the actor may see through its own step below,
    in a savepoint of its own; a problem the step refuses (closed, a deadline before its listing
    date, not the actor's to manage) is named with the reason, the others are done. A missing
    person or deadline refuses the whole request."""
    if action == "assign":
        person = (person or "").strip()
        if not person or len(person) > 60:
            raise DomainError(_("请填写整改责任人（不超过60字）。"), field="person")

        def step(problem):
            assign(problem, person, actor=actor)
    elif action == "deadline":
        try:
            when = date.fromisoformat((deadline or "").strip())
        except ValueError:
            raise DomainError(_("请填写整改时限。"), field="deadline") from None

        def step(problem):
            set_deadline(problem, when, actor=actor)
    elif action == "remind":
        def step(problem):
            remind(problem, actor=actor)
    else:
        raise DomainError(_("请选择批量操作。"), field="action")
    return bulk.run(actor, Problem, ids, step, name=lambda problem: problem.number)


def _require_manage(problem: Problem, actor) -> None:
    if not can(actor, "manage", problem):
        raise NotPermitted(_("您无权处理该问题。"))


def assign(problem: Problem, person: str, *, actor) -> None:
    """整改责任人: an audit entry when the person changes."""
    _require_manage(problem, actor)
    _set(problem, "person_responsible", person, actor=actor, action="problem.assign")


def set_deadline(problem: Problem, deadline: date, *, actor) -> None:
    """整改时限 of an open problem, not before its listing date."""
    _require_manage(problem, actor)
    if problem.state == ProblemState.CLOSED:
        raise DomainError(_("已销号，不能修改时限。"), field="deadline")
    if deadline < problem.listed_on:
        raise DomainError(_("整改时限不能早于挂账日期（%(d)s）。", d=problem.listed_on.isoformat()), field="deadline")
    _set(problem, "deadline", deadline, actor=actor, action="problem.deadline")


def _set(problem: Problem, name: str, value, *, actor, action: str) -> None:
    if getattr(problem, name) == value:
        return
    before = {name: getattr(problem, name)}
    setattr(problem, name, value)
    record_change(actor, action, problem, before=before, after={name: value})


def remind(problem: Problem, *, actor) -> None:
    """催办: the unit's liaisons are told to get on with an open problem."""
    _require_manage(problem, actor)
    if problem.state == ProblemState.CLOSED:
        raise DomainError(_("已销号，无需催办。"))
    notify(unit_users(problem), _("催办：%(n)s 请抓紧整改（时限 %(d)s）", n=problem.number, d=problem.deadline.isoformat()),
           link=link_to(problem), kind="reminder")
    record_change(actor, "problem.remind", problem, comment=_("手动催办"))


# ---- saved filters ---------------------------------------------------------------------

def save_filter(user, *, name: str, query: str) -> SavedFilter:
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise DomainError(_("请填写筛选名称（不超过60字）。"), field="name")
    from urllib.parse import parse_qsl, urlencode

    allowed = {"year", "unit", "department", "source", "category", "state", "bucket", "q", "sort"}
    query = urlencode([(k, v) for k, v in parse_qsl((query or "").lstrip("?")) if k in allowed])[:1000]
    row = db.session.execute(sa.select(SavedFilter).where(SavedFilter.user_id == user.id,
                                                          SavedFilter.name == name)).scalar_one_or_none()
    if row is None:
        row = SavedFilter(user_id=user.id, name=name, query=query)
        db.session.add(row)
    else:
        row.query = query
    return row


def delete_filter(user, saved: SavedFilter) -> None:
    if saved.user_id != user.id:
        raise NotPermitted(_("只能删除自己保存的筛选。"))
    db.session.delete(saved)
