"""Problem ledger (问题台账): problems listed from evaluation findings (most of them), from audit
reports and from monitoring warnings, each left where the ledger's operations would have left it
at ctx.now: progress updates (整改进展) with money rectified by category, submissions (申请销号)
with evidence files, sign-offs (销号确认: closed ⇒ one per bureau), returns (退回), extension
requests (延期申请), long-term problems with milestones, recurrences (屡查屡犯) found as
`find_recurrence` finds them, and gapless per-year ledger numbers (ZG-2025-0001) whose last value
per year is in `counters` (scope 'ledger'), so the next problem listed in the portal continues the sequence.

Evidence files are scans (PDF, JPEG) without extracted text, as text extraction leaves them; the
search benchmark's document set (attachments with text) therefore stays the report texts.
The audit log and notifications the operations would also write are not generated.

Publishes: ctx.ids["problems"], ctx.data["public_problems"]: project id -> the list
`portal.ledger.panels.public_problems(project)` returns for it (same keys, types and order);
projects without problems are absent (their list is empty)."""
from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from bench.generators.organisations import person_name

ORDER = 200
CENT = Decimal("0.01")
LISTED, IN_PROGRESS, LONG_TERM, SUBMITTED, CLOSED = "listed", "in_progress", "long_term", "submitted", "closed"
STATES = (LISTED, IN_PROGRESS, LONG_TERM, SUBMITTED, CLOSED)
OPEN = (LISTED, IN_PROGRESS, LONG_TERM)
MONEY_KEYS = ("recovered", "returned", "reallocated", "disbursed", "adjusted", "other")  # 整改金额 by category
EVALUATION_SHARE = 0.88  # findings listed; the rest wait for finance to list them
AUDIT_SHARE = 0.78  # of the problems not listed from findings; the others come from monitoring

# which 整改金额 columns a problem category's money goes to
MONEY_OF = {
    "资金使用不规范": ("recovered", "returned"), "资金管理": ("recovered", "returned"),
    "预算执行进度缓慢": ("disbursed", "reallocated"), "预算执行": ("reallocated", "disbursed"),
    "预算编制不科学": ("reallocated", "adjusted"), "政府采购不规范": ("other", "adjusted"), "政府采购": ("other",),
    "资产管理不规范": ("adjusted",), "资产管理": ("adjusted",), "财务核算": ("adjusted",),
    "配套资金未落实": ("disbursed",),
}
MEASURES = {
    "recovered": "已追回违规使用资金并上缴国库，",
    "returned": "已将被挤占挪用的资金归还原资金渠道，",
    "reallocated": "已将结转沉淀资金收回统筹用于急需领域，",
    "disbursed": "已加快资金拨付进度，资金已全部拨付到项目实施单位，",
    "adjusted": "已完成账务调整，相关资产已登记入账，",
    "other": "已按规定补办相关手续，",
}
GENERIC_MEASURES = ["已召开专题会议研究整改措施，明确整改责任人和完成时限。", "已修订完善内部管理制度并印发执行。",
                    "已对照问题清单逐项整改，形成整改报告。", "已约谈相关责任人，责令限期整改到位。",
                    "已组织业务培训，规范项目和资金管理流程。"]
PROGRESS = ["正在梳理问题成因，制定整改方案。", "整改方案已经单位党组会审议通过，正在组织实施。",
            "已完成部分整改任务，剩余事项正在推进。", "已与主管部门对接，协调解决资金拨付问题。",
            "相关账务调整已完成，正在收集整理佐证材料。"]
NOT_DONE = ["涉及跨部门协调，整改尚未完成；下一步将加强沟通，力争尽快完成。",
            "项目尚未完工，资金暂不能清算；下一步将督促施工单位加快进度。",
            "追缴资金涉及多个主体，正在逐一落实；下一步将依法依规推进追缴。"]
ACCOUNTABILITY = ["对相关责任人进行了约谈提醒。", "对负有直接责任的人员给予了通报批评。",
                  "已将问题线索移送纪检监察部门处理。", "对单位主要负责人进行了诫勉谈话。"]
RULES = ["修订完善了《专项资金管理办法》。", "制定了《政府采购内部控制管理规程》。", "建立了资产定期盘点和对账制度。",
         "出台了《预算执行进度通报制度》。", "完善了项目绩效目标审核和自评复核机制。"]
EVIDENCE = [("整改报告（盖章扫描件）.pdf", "pdf"), ("资金缴款凭证扫描件.pdf", "pdf"), ("账务调整凭证扫描件.pdf", "pdf"),
            ("制度文件扫描件.pdf", "pdf"), ("整改现场照片.jpg", "jpeg"), ("资产登记卡片扫描件.pdf", "pdf")]
EXTENSION_REASONS = ["项目涉及跨年度实施，需待工程竣工结算后才能完成整改。", "追缴资金涉及多家单位，需要更多时间协调。",
                     "整改事项需报同级政府审定，审批程序尚未完成。"]
REFUSALS = ["延期理由不充分，请按原定时限完成整改。", "该问题属立行立改事项，不同意延期。"]
RETURNS = ["佐证材料不完整，请补充资金退回凭证。", "整改措施未针对问题根源，请进一步完善后重新申请。",
           "整改金额与佐证材料不一致，请核实。"]
MILESTONES = ["制定整改方案", "完成主体整改任务", "建立长效管理机制", "完成整改验收"]

# audit report findings: (category, description, requirement, policy basis); {n} 万元, {p} %, {d} months
AUDIT_TEMPLATES = [
    ("资金管理", "{project}专项资金{n}万元未按规定用途使用，挤占挪用于单位日常公用支出。", "收回被挤占资金，归还原渠道。",
     "《中华人民共和国预算法》第五十七条"),
    ("预算执行", "{project}预算执行率仅为{p}%，{n}万元资金结转两年以上未使用。", "加快项目实施进度，盘活沉淀资金。",
     "《国务院关于进一步深化预算管理制度改革的意见》"),
    ("政府采购", "应公开招标的采购项目{n}万元化整为零规避招标。", "严格执行政府采购规定，追究相关人员责任。",
     "《中华人民共和国政府采购法》第二十八条"),
    ("资产管理", "固定资产{n}万元未及时入账，账实不符。", "全面清查资产，调整账表。", "《行政事业性国有资产管理条例》第二十条"),
    ("财务核算", "以拨代支{n}万元，会计核算不规范。", "规范会计核算，调整账务。", "《政府会计准则——基本准则》"),
    ("资金管理", "补助资金{n}万元未及时拨付到位，滞留在主管部门。", "加快资金拨付，落实惠民惠企政策。",
     "《中华人民共和国预算法》第六十一条"),
    ("合同管理", "{project}合同条款不严密，未约定绩效考核和违约责任。", "修订合同范本，完善合同审核制度。",
     "《中华人民共和国民法典》第三编"),
    ("绩效管理", "未按规定开展绩效自评，自评结果与实际偏差较大。", "建立绩效自评复核机制。",
     "《项目支出绩效评价管理办法》（财预〔2020〕10号）"),
    ("项目管理", "{project}未按合同约定工期完工，延期{d}个月且未履行变更手续。", "督促施工单位按期完工，补办变更手续。",
     "《政府投资条例》第二十一条"),
]
# monitoring warnings (运行监控预警): (category, description, requirement)
MONITORING_TEMPLATES = [
    ("预算执行进度缓慢", "截至{y}年{m}月底，项目预算执行率为{p}%，低于序时进度{g}个百分点，{n}万元资金尚未支出。",
     "分析执行缓慢原因，制定支出计划，加快预算执行。"),
    ("绩效目标偏离", "运行监控发现主要产出指标完成进度明显滞后，预计年度绩效目标难以实现。",
     "查找偏离原因，采取纠偏措施，必要时按程序调整绩效目标。"),
    ("项目管理不到位", "项目实施进度滞后于实施方案，{x}个子项目尚未开工。", "加快项目实施，按月报送实施进展。"),
]


@dataclass
class Plan:
    """One problem and everything the operations left around it."""

    source: str
    listed_at: datetime
    year: int
    unit_id: int
    department_id: int
    category: str
    description: str
    amount: Decimal
    rect_type: str
    deadline: date
    created_by: int
    project_id: int | None = None
    finding_id: int | None = None
    source_ref: str = ""
    policy_basis: str = ""
    requirement: str = ""
    completion_standard: str = ""
    person: str = ""
    id: int = 0
    seq: int = 0
    recurrence_of: int | None = None
    state: str = LISTED
    money: dict = field(default_factory=lambda: dict.fromkeys(MONEY_KEYS, Decimal("0.00")))
    measures: str = ""
    accountability: str = ""
    rules_improved: str = ""
    not_done_reason: str = ""
    submitted_at: datetime | None = None
    closed_on: date | None = None
    signed: dict = field(default_factory=dict)  # bureau -> (user id, datetime, comment)
    updated_at: datetime | None = None
    updates: list = field(default_factory=list)  # (at, text, evidence date, money, submission?, files, author)
    extensions: list = field(default_factory=list)  # problem_extensions rows after (problem, requested by)
    milestones: list = field(default_factory=list)
    unit_user: int | None = None  # the responsible unit's liaison (reports progress, asks for extensions)

    @property
    def listed_on(self) -> date:
        return self.listed_at.date()

    @property
    def number(self) -> str:
        return f"ZG-{self.year}-{self.seq:04d}"

    def touch(self, at: datetime) -> None:
        if self.updated_at is None or at > self.updated_at:
            self.updated_at = at


# ---- small helpers -----------------------------------------------------------------------

def _at(day: date, rng) -> datetime:
    """A moment in office hours on `day`."""
    return datetime(day.year, day.month, day.day, rng.randint(8, 17), rng.randint(0, 59), rng.randint(0, 59))


def _after(moment: datetime, day: date, rng) -> datetime:
    """A moment on `day`, strictly after `moment`."""
    candidate = _at(day, rng)
    return candidate if candidate > moment else moment + timedelta(minutes=rng.randint(3, 50))


def _yuan(value) -> Decimal:
    return Decimal(value).quantize(CENT)


def _days(lo: date, hi: date, rng) -> date:
    return lo + timedelta(days=rng.randint(0, max(0, (hi - lo).days)))


def _wan(amount: Decimal) -> str:
    return f"{amount / 10000:.2f}"


class People:
    """The generated accounts who act on the ledger."""

    def __init__(self, ctx):
        users, org = ctx.data["users"], ctx.data["org"]
        self.finance = [users[u] for u in ("finance", "finance2") if u in users]
        self.audit = [users[u] for u in ("audit", "audit2") if u in users]
        self.liaison = {d: users.get(f"unit{org[d]['code']}") for d in ctx.ids["departments"]}

    def unit_user(self, plan: Plan) -> int | None:
        return self.liaison.get(plan.department_id)


# ---- listing -----------------------------------------------------------------------------

def _term(rect_type: str, rng) -> int:
    if rect_type == "immediate":
        return rng.randint(15, 30)
    if rect_type == "long_term":
        return rng.choice((365, 540, 730))
    return rng.choice((60, 90, 90, 120, 180))


def _rect_type(rng) -> str:
    roll = rng.random()
    return "immediate" if roll < 0.15 else "long_term" if roll < 0.25 else "deadline"


def _finding_rows(ctx, conn) -> dict[int, tuple]:
    """finding id -> (description, suggestion, the evaluation's completion time)."""
    f, e = ctx.metadata.tables["evaluation_findings"], ctx.metadata.tables["evaluations"]
    stmt = sa.select(f.c.id, f.c.description, f.c.suggestion, e.c.completed_at).join(e, e.c.id == f.c.evaluation_id)
    return {row[0]: row[1:] for row in conn.execute(stmt)}


def from_findings(ctx, conn, people: People, rng, last_day: date) -> list[Plan]:
    """列入台账 from evaluation findings: all the listed findings of one evaluation in one step
    (same day, deadline, type and person), as `list_from_findings` does."""
    from portal.performance.models import EvaluationMode

    texts = _finding_rows(ctx, conn)
    by_evaluation: dict[int, list] = defaultdict(list)
    for finding in ctx.data["findings"]:
        by_evaluation[finding[1]].append(finding)
    plans = []
    for eid in sorted(by_evaluation):
        pid, mode, *_rest = ctx.data["evaluation"][eid]
        name, year, unit_id, dept_id, *_ = ctx.data["project"][pid]
        completed = texts[by_evaluation[eid][0][0]][2]
        listed_on = (completed + timedelta(days=rng.randint(3, 40))).date() if completed else last_day
        if listed_on > last_day:  # the evaluation is being finished now: some findings are listed already
            if rng.random() < 0.5:
                continue
            listed_on = _days(date(last_day.year, 1, 5), last_day, rng)
        elif rng.random() > EVALUATION_SHARE:
            continue
        listed_at = _at(listed_on, rng)
        rect_type = _rect_type(rng)
        deadline = listed_on + timedelta(days=_term(rect_type, rng))
        person = "" if rng.random() < 0.5 else person_name(rng)
        actor = rng.choice(people.finance)
        reference = f"{EvaluationMode(mode).zh}：{name}"[:200]
        for fid, _eid, category, amount in by_evaluation[eid]:
            description, suggestion, _completed = texts[fid]
            plans.append(Plan("evaluation", listed_at, year, unit_id, dept_id, category.strip(), description.strip(),
                              _yuan(amount or 0), rect_type, deadline, actor, project_id=pid, finding_id=fid,
                              source_ref=reference, requirement=suggestion or "", person=person))
    return plans


def _listing_window(year: int, last_day: date) -> tuple[date, date]:
    """Audits of a budget year report in the following year."""
    first = date(year + 1, 1, 5)
    return first, max(first, min(date(year + 1, 12, 20), last_day))


def from_audits(ctx, count: int, people: People, rng, last_day: date) -> list[Plan]:
    """审计发现: one audit report per department and year, several problems each."""
    org, projects = ctx.data["org"], ctx.data["project"]
    by_department: dict[tuple, list[int]] = defaultdict(list)
    for pid, (_n, year, _u, dept, *_r) in projects.items():
        by_department[(dept, year)].append(pid)
    units_of: dict[int, list[int]] = defaultdict(list)
    for uid in ctx.ids["units"]:
        units_of[org[uid]["department_id"]].append(uid)
    area = ctx.data.get("area", "")
    prefix = (area[:-1] if area.endswith("省") else area[:1]) + "审财报"  # 江临审财报 / 临审财报
    report_no: Counter = Counter()
    plans: list[Plan] = []
    while len(plans) < count:
        dept = rng.choice(ctx.ids["departments"])
        year = rng.choice(ctx.scale.years)
        first, last = _listing_window(year, last_day)
        listed_on = _days(first, last, rng)
        report_no[listed_on.year] += 1
        reference = f"{prefix}〔{listed_on.year}〕{report_no[listed_on.year]}号"
        listed_at = _at(listed_on, rng)
        actor = rng.choice(people.audit)
        candidates = by_department.get((dept, year), [])
        for _ in range(min(count - len(plans), rng.randint(2, 6))):
            category, text, requirement, basis = rng.choice(AUDIT_TEMPLATES)
            pid = rng.choice(candidates) if candidates and rng.random() < 0.7 else None
            if pid is None and "{project}" in text:
                category, text, requirement, basis = AUDIT_TEMPLATES[2]
            unit_id = projects[pid][2] if pid else rng.choice(units_of[dept])
            amount = _yuan(rng.randint(5, 800) * 10000) if "{n}" in text else Decimal("0.00")
            description = text.format(project=projects[pid][0] if pid else "", n=_wan(amount), p=rng.randint(20, 60),
                                      d=rng.randint(2, 9))
            rect_type = _rect_type(rng)
            plans.append(Plan("audit", listed_at, year if pid else listed_on.year, unit_id, dept, category,
                              description, amount, rect_type, listed_on + timedelta(days=_term(rect_type, rng)), actor,
                              project_id=pid, source_ref=reference, policy_basis=basis, requirement=requirement,
                              completion_standard="提供整改佐证材料，经财政、审计联合核实。",
                              person=rng.choice(("单位分管负责人", "财务科科长", person_name(rng)))))
    return plans


def from_monitoring(ctx, count: int, people: People, rng, last_day: date) -> list[Plan]:
    """运行监控预警 during the budget year, listed by finance from the warning."""
    projects = ctx.data["project"]
    pids = ctx.ids["projects"]
    plans = []
    for _ in range(count):
        pid = pids[rng.randrange(len(pids))]
        name, year, unit_id, dept, budget, *_ = projects[pid]
        month = rng.randint(6, 10)
        listed_on = min(last_day, date(year, month + 1, rng.randint(5, 25)))
        category, text, requirement = rng.choice(MONITORING_TEMPLATES)
        rate = rng.randint(15, 45)
        amount = _yuan(budget * Decimal(100 - rate) / 100) if "{n}" in text else Decimal("0.00")
        description = text.format(y=year, m=month, p=rate, g=rng.randint(10, 35), n=_wan(amount), x=rng.randint(1, 5))
        rect_type = "immediate" if rng.random() < 0.3 else "deadline"
        plans.append(Plan("monitoring", _at(listed_on, rng), year, unit_id, dept, category, description, amount,
                          rect_type, listed_on + timedelta(days=rng.choice((30, 45, 60))), rng.choice(people.finance),
                          project_id=pid, source_ref=f"{year}年{month}月绩效运行监控预警", requirement=requirement,
                          person=person_name(rng)))
    return plans


def number(plans: list[Plan], ctx) -> dict[int, int]:
    """Ids in listing order; ledger numbers per year in the same order (gapless). Returns the
    counter per year (its last number)."""
    plans.sort(key=lambda p: (p.listed_at, p.source != "evaluation", p.finding_id or 0))
    last: dict[int, int] = defaultdict(int)
    for p in plans:
        p.id = ctx.new_id("problems")
        last[p.year] += 1
        p.seq = last[p.year]
    return dict(last)


def flag_recurrences(plans: list[Plan]) -> None:
    """屡查屡犯, as `find_recurrence` sees it when each problem is listed."""
    from portal.ledger.queries import similar

    earlier: dict[tuple, list[Plan]] = defaultdict(list)
    for p in plans:  # in id order
        key = (p.unit_id, p.category)
        candidates = sorted((c for c in earlier[key] if c.year < p.year), key=lambda c: (-c.year, -c.id))[:200]
        p.recurrence_of = next((c.id for c in candidates if similar(c.description, p.description)), None)
        earlier[key].append(p)


# ---- rectification ---------------------------------------------------------------------

def target_state(age: int, rect_type: str, rng) -> str:
    """Where a problem of this age stands now: older problems further along."""
    roll = rng.random()
    if rect_type == "long_term" and age >= 10:
        return LONG_TERM if roll < 0.6 else LISTED if roll < 0.65 else SUBMITTED if roll < 0.75 else \
            CLOSED if roll < 0.9 and age >= 60 else IN_PROGRESS
    if age < 7:
        return LISTED if roll < 0.7 else IN_PROGRESS if age >= 3 else LISTED
    if age < 30:
        return LISTED if roll < 0.4 else IN_PROGRESS if roll < 0.8 else SUBMITTED if roll < 0.93 or age < 20 else CLOSED
    if age < 120:
        return LISTED if roll < 0.12 else IN_PROGRESS if roll < 0.5 else SUBMITTED if roll < 0.65 else \
            LONG_TERM if roll < 0.67 else CLOSED
    if age < 365:
        return LISTED if roll < 0.04 else IN_PROGRESS if roll < 0.25 else SUBMITTED if roll < 0.33 else \
            LONG_TERM if roll < 0.36 else CLOSED
    return LISTED if roll < 0.01 else IN_PROGRESS if roll < 0.08 else SUBMITTED if roll < 0.1 else \
        LONG_TERM if roll < 0.12 else CLOSED


MIN_AGE = {LISTED: 0, IN_PROGRESS: 3, LONG_TERM: 10, SUBMITTED: 7, CLOSED: 20}


def ensure_every_state(plans: list[Plan], targets: dict[int, str], last_day: date, rng) -> None:
    """At small scales: give each state at least one problem old enough for it."""
    counts = Counter(targets.values())
    for state in STATES:
        if counts[state] or not plans:
            continue
        commonest = counts.most_common(1)[0][0]
        eligible = [p for p in plans if targets[p.id] == commonest and (last_day - p.listed_on).days >= MIN_AGE[state]]
        if eligible and counts[commonest] > 1:
            chosen = rng.choice(eligible)
            targets[chosen.id] = state
            counts[commonest] -= 1
            counts[state] += 1


def _money_split(plan: Plan, total: Decimal, parts: int, rng) -> list[dict]:
    """`total` yuan over `parts` updates, in the columns this category's money goes to."""
    keys = MONEY_OF.get(plan.category, ("adjusted", "other"))
    shares = []
    left = total
    for i in range(parts):
        piece = left if i == parts - 1 else _yuan(left * Decimal(rng.randint(20, 70)) / 100)
        left -= piece
        row = dict.fromkeys(MONEY_KEYS, Decimal("0.00"))
        row[rng.choice(keys)] = piece
        shares.append(row)
    return shares


def _measure_text(money: dict, rng) -> str:
    text = "".join(MEASURES[k] for k in MONEY_KEYS if money[k] > 0)
    return text + rng.choice(GENERIC_MEASURES)


def _progress(plan: Plan, at: datetime, money: dict, rng, *, submission: bool, files: int) -> None:
    """record_progress(): one update with its evidence files; money added; measures kept on the problem."""
    measured = submission or any(money.values())
    text = _measure_text(money, rng) if measured else rng.choice(PROGRESS)
    evidence = at.date() - timedelta(days=rng.randint(0, 10)) if files else at.date() if rng.random() < 0.3 else None
    evidence = max(evidence, plan.listed_on) if evidence else None
    plan.updates.append((at, text, evidence, money, submission, files, plan.unit_user))
    for k in MONEY_KEYS:
        plan.money[k] += money[k]
    if measured:
        plan.measures = text
    plan.touch(at)


def _offsets(rng, lo: int, hi: int, n: int, *, avoid: tuple[int, int] | None = None) -> list[int]:
    """n day offsets in [lo, hi], none inside `avoid` (a submission and its return)."""
    days = [rng.randint(lo, hi) for _ in range(n)] if hi >= lo else []
    return sorted(d for d in days if avoid is None or not avoid[0] <= d <= avoid[1])


def _steps(target: str, span: int, rng) -> tuple[list[tuple[int, str]], int]:
    """The unit's and the bureaus' steps as (day offset from listing, kind) and the day the last
    sign-off may fall on. Kinds: progress, submission, return (退回: the submission sent back)."""
    sent_back = None
    if target in (SUBMITTED, CLOSED):
        if target == CLOSED:
            last = min(span, max(12, int(rng.triangular(12, 300, 60))))
            submit = max(5, last - rng.randint(2, 20))
        else:
            last = span
            submit = rng.randint(max(5, span - 45), span)
        if submit >= 14 and rng.random() < 0.1:
            first = rng.randint(5, submit - 8)
            sent_back = (first, first + rng.randint(1, 5))
        steps = [(d, "progress") for d in _offsets(rng, 2, submit - 1, rng.randint(0, 2), avoid=sent_back)]
        steps.append((submit, "submission"))
    else:
        if target == IN_PROGRESS and span >= 20 and rng.random() < 0.15:
            first = rng.randint(3, span - 6)
            sent_back = (first, first + rng.randint(1, 5))
        n = rng.randint(1, 3) if target == IN_PROGRESS else rng.randint(0, 2)
        steps = [(d, "progress") for d in _offsets(rng, 2, span, n, avoid=sent_back)]
        last = span
    if sent_back:
        steps += [(sent_back[0], "submission"), (sent_back[1], "return")]
    steps.sort(key=lambda s: (s[0], s[1] == "return"))
    return steps, last


def _on(plan: Plan, offset: int) -> date:
    return plan.listed_on + timedelta(days=offset)


def rectify(plan: Plan, target: str, people: People, rng, last_day: date) -> None:
    """Move one problem to `target` through the operations' steps, every step by last_day."""
    span = (last_day - plan.listed_on).days
    plan.touch(plan.listed_at)
    if target == LISTED or span < 2:
        return
    if target == LONG_TERM:  # 转为长期整改, by finance, with milestones
        plan.touch(_at(_on(plan, rng.randint(3, min(span, 90))), rng))
        plan.rect_type = "long_term"
        _milestones(plan, rng, last_day)
    share = {CLOSED: 100, SUBMITTED: rng.choice((80, 100, 100)), IN_PROGRESS: rng.randint(0, 60),
             LONG_TERM: rng.randint(0, 50)}[target]
    steps, last_offset = _steps(target, span, rng)
    money = iter(_money_split(plan, _yuan(plan.amount * share / 100), sum(k != "return" for _d, k in steps) or 1,
                              rng))
    moment = plan.listed_at
    for offset, kind in steps:
        moment = _after(moment, _on(plan, offset), rng)
        if kind == "return":  # either bureau; earlier sign-offs no longer count
            plan.submitted_at, plan.signed = None, {}
            plan.touch(moment)
            continue
        submission = kind == "submission"
        files = rng.randint(1, 2) if submission else int(rng.random() < 0.3)
        _progress(plan, moment, next(money), rng, submission=submission, files=files)
        if submission:
            plan.submitted_at = moment
    if target in (SUBMITTED, CLOSED):
        if rng.random() < 0.4:
            plan.accountability = rng.choice(ACCOUNTABILITY)
        if rng.random() < 0.5:
            plan.rules_improved = rng.choice(RULES)
        _sign(plan, target, people, rng, plan.submitted_at, last_offset)
    plan.state = target if target != IN_PROGRESS or plan.updates else LISTED


def _sign(plan: Plan, target: str, people: People, rng, submitted: datetime, last_offset: int) -> None:
    """销号确认: both bureaus for a closed problem (the second closes it), perhaps one for a submitted one."""
    bureaus = ["finance", "audit"]
    rng.shuffle(bureaus)
    end = plan.listed_on + timedelta(days=last_offset)
    if target == CLOSED:
        first = _after(submitted, _days(submitted.date(), end, rng), rng)
        second = _after(first, end if first.date() <= end else first.date(), rng)
        for bureau, at in zip(bureaus, (first, second), strict=True):
            users = people.finance if bureau == "finance" else people.audit
            plan.signed[bureau] = (rng.choice(users), at, rng.choice(("", "", "同意销号。", "佐证材料齐全，同意销号。")))
        plan.closed_on = second.date()
        plan.touch(second)
    elif rng.random() < 0.4:
        at = _after(submitted, _days(submitted.date(), end, rng), rng)
        users = people.finance if bureaus[0] == "finance" else people.audit
        plan.signed[bureaus[0]] = (rng.choice(users), at, "")
        plan.touch(at)


def _milestones(plan: Plan, rng, last_day: date) -> None:
    """阶段目标 of a long-term problem; the ones due so far mostly done."""
    for k, title in enumerate(rng.sample(MILESTONES, 3), start=1):
        due = plan.listed_on + timedelta(days=90 * k + rng.randint(0, 30))
        done = None
        if due <= last_day and rng.random() < 0.8:
            done = min(last_day, due - timedelta(days=rng.randint(-10, 20)))
            done = max(done, plan.listed_on)
        plan.milestones.append((f"第{k}阶段：{title}", due, done))


def extend(plan: Plan, people: People, rng, last_day: date) -> None:
    """延期申请 by the unit while the problem is open (before any submission); finance approves
    (the deadline moves), refuses with a reason, or has not decided yet."""
    if plan.rect_type == "immediate" or rng.random() > 0.12:
        return
    submissions = [at for at, _t, _e, _m, submission, *_rest in plan.updates if submission]
    open_until = min(submissions).date() - timedelta(days=1) if submissions else last_day
    lo = plan.listed_on + timedelta(days=7)
    hi = min(open_until, max(lo, plan.deadline - timedelta(days=3)))
    if hi < lo:
        return
    requested = _at(_days(lo, hi, rng), rng)
    old, new = plan.deadline, plan.deadline + timedelta(days=rng.choice((30, 60, 90)))
    reason = rng.choice(EXTENSION_REASONS)
    roll = rng.random()
    if plan.state in OPEN and (roll < 0.15 or requested.date() >= last_day):
        plan.extensions.append((requested, old, new, reason, "pending", None, None, ""))
        return
    decided = _after(requested, min(last_day, requested.date() + timedelta(days=rng.randint(1, 10))), rng)
    approve = roll < 0.75
    plan.extensions.append((requested, old, new, reason, "approved" if approve else "refused",
                            rng.choice(people.finance), decided, "" if approve else rng.choice(REFUSALS)))
    if approve:
        plan.deadline = new
        plan.touch(decided)


def bucket(plan: Plan, today: date) -> str | None:
    """The ledger's deadline bucket (portal.ledger.queries.bucket_of)."""
    if plan.state not in OPEN:
        return None
    days = (plan.deadline - today).days
    return "overdue" if days < 0 else "d10" if days <= 10 else "d20" if days <= 20 else "later"


def ensure_every_bucket(plans: list[Plan], today: date, rng) -> None:
    """At small scales: finance sets a deadline (设定整改时限) so each deadline bucket has a problem."""
    wanted = {"overdue": (-60, -1), "d10": (0, 10), "d20": (11, 20), "later": (21, 120)}
    counts = Counter(b for p in plans if (b := bucket(p, today)))
    for name, (lo, hi) in wanted.items():
        if counts[name] or not counts:
            continue
        commonest = counts.most_common(1)[0][0]
        eligible = [p for p in plans if bucket(p, today) == commonest and not p.extensions
                    and (today - p.listed_on).days > -lo]
        if not eligible or counts[commonest] < 2:
            continue
        chosen = rng.choice(eligible)
        chosen.deadline = max(chosen.listed_on, today + timedelta(days=rng.randint(lo, hi)))
        chosen.touch(_after(chosen.updated_at, today - timedelta(days=1), rng))
        counts[commonest] -= 1
        counts[name] += 1


def explain_delays(plans: list[Plan], today: date, rng) -> None:
    """未完成原因及下一步措施, filled in by units behind their deadline."""
    for p in plans:
        if p.state in (IN_PROGRESS, LONG_TERM) and p.deadline < today and p.updates:
            p.not_done_reason = rng.choice(NOT_DONE)


# ---- rows --------------------------------------------------------------------------------

PROBLEM_COLUMNS = [
    "id", "number", "year", "seq", "source", "source_ref", "evaluation_finding_id", "project_id", "unit_id",
    "department_id", "category", "description", "amount", "policy_basis", "requirement", "completion_standard",
    "rect_type", "listed_on", "deadline", "person_responsible", "measures", "accountability", "rules_improved",
    "not_done_reason", "state", "submitted_at", "closed_on", "finance_signed_at", "audit_signed_at",
    "recurrence_of_id", "created_by_id", "created_at", "updated_at", *(f"rect_{k}" for k in MONEY_KEYS)]


def problem_row(p: Plan) -> tuple:
    signed = {b: at for b, (_u, at, _c) in p.signed.items()}
    return (p.id, p.number, p.year, p.seq, p.source, p.source_ref, p.finding_id, p.project_id, p.unit_id,
            p.department_id, p.category, p.description, p.amount, p.policy_basis, p.requirement,
            p.completion_standard, p.rect_type, p.listed_on, p.deadline, p.person[:60], p.measures, p.accountability,
            p.rules_improved, p.not_done_reason, p.state, p.submitted_at, p.closed_on, signed.get("finance"),
            signed.get("audit"), p.recurrence_of, p.created_by, p.listed_at, p.updated_at,
            *(p.money[k] for k in MONEY_KEYS))


def rectified_total(money: dict) -> Decimal:
    """Exactly as the model's `rectified_total` (zero columns count as Decimal(0))."""
    return sum((money[k] or Decimal(0) for k in MONEY_KEYS), Decimal(0))


def public_row(p: Plan) -> dict:
    """What portal.ledger.panels.public_problems returns for one problem."""
    from portal.ledger.models import ProblemState, RectificationType

    return {"number": p.number, "category": p.category, "description": p.description, "amount": p.amount,
            "rect_type": RectificationType(p.rect_type).zh, "state": ProblemState(p.state).zh,
            "measures": p.measures, "amount_rectified": rectified_total(p.money),
            "deadline": p.deadline, "closed_on": p.closed_on}


def insert_all(ctx, conn, plans: list[Plan], counters: dict[int, int]) -> None:
    ctx.insert(conn, "problems", (problem_row(p) for p in plans), columns=PROBLEM_COLUMNS, total=len(plans))
    ctx.insert(conn, "counters", [("ledger", year, last) for year, last in sorted(counters.items())],
               columns=["scope", "period", "last"])
    updates, attachments, links = [], [], []
    for p in plans:
        for at, text, evidence, money, submission, files, author in p.updates:
            uid = ctx.new_id("problem_updates")
            updates.append((uid, p.id, author, at, text, evidence, submission, *(money[k] for k in MONEY_KEYS)))
            for n in range(files):
                name, kind = EVIDENCE[(uid + n) % len(EVIDENCE)]
                digest = hashlib.sha256(f"{p.number}/{uid}/{n}/{name}".encode()).hexdigest()
                aid = ctx.new_id("attachments")
                attachments.append((aid, digest, name, kind, 40_000 + int(digest[:5], 16), None,
                                    evidence, author, at))
                links.append((ctx.new_id("attachment_links"), aid, "problem_updates", uid, "evidence"))
    ctx.insert(conn, "problem_updates", updates, columns=[
        "id", "problem_id", "author_id", "created_at", "text", "evidence_date", "is_submission",
        *(f"rect_{k}" for k in MONEY_KEYS)])
    ctx.insert(conn, "attachments", attachments, columns=[
        "id", "sha256", "filename", "kind", "size", "text", "document_date", "uploaded_by_id", "uploaded_at"])
    ctx.insert(conn, "attachment_links", links, columns=["id", "attachment_id", "record_type", "record_id", "purpose"])
    ctx.insert(conn, "problem_extensions", [
        (ctx.new_id("problem_extensions"), p.id, p.unit_user, *e) for p in plans for e in p.extensions
    ], columns=["id", "problem_id", "requested_by_id", "requested_at", "old_deadline", "new_deadline", "reason",
                "state", "decided_by_id", "decided_at", "decision_comment"])
    ctx.insert(conn, "problem_signoffs", [
        (ctx.new_id("problem_signoffs"), p.id, bureau, user, at, comment)
        for p in plans for bureau, (user, at, comment) in sorted(p.signed.items(), key=lambda s: s[1][1])
    ], columns=["id", "problem_id", "bureau", "user_id", "signed_at", "comment"])
    ctx.insert(conn, "problem_milestones", [
        (ctx.new_id("problem_milestones"), p.id, title, due, done) for p in plans for title, due, done in p.milestones
    ], columns=["id", "problem_id", "title", "due_date", "done_on"])


# ---- the plug-in -------------------------------------------------------------------------

def generate(ctx, conn, scale) -> None:
    if not ctx.has_table("problems") or not ctx.data.get("project"):
        return
    rng = ctx.rng("ledger")
    today = ctx.now.date()
    last_day = today - timedelta(days=1)  # every generated step happened before ctx.now
    people = People(ctx)
    plans = from_findings(ctx, conn, people, ctx.rng("ledger:findings"), last_day)
    others = max(0, scale.problems - len(plans))
    plans += from_audits(ctx, round(others * AUDIT_SHARE), people, ctx.rng("ledger:audit"), last_day)
    plans += from_monitoring(ctx, others - round(others * AUDIT_SHARE), people, ctx.rng("ledger:monitoring"),
                             last_day)
    counters = number(plans, ctx)
    flag_recurrences(plans)
    targets = {p.id: target_state((last_day - p.listed_on).days, p.rect_type, rng) for p in plans}
    ensure_every_state(plans, targets, last_day, rng)
    for p in plans:
        p.unit_user = people.unit_user(p)
        rectify(p, targets[p.id], people, rng, last_day)
        extend(p, people, rng, last_day)
    ensure_every_bucket(plans, today, rng)
    explain_delays(plans, today, rng)
    insert_all(ctx, conn, plans, counters)
    public: dict[int, list[dict]] = defaultdict(list)
    for p in sorted(plans, key=lambda p: (p.year, p.seq)):
        if p.project_id is not None:
            public[p.project_id].append(public_row(p))
    ctx.ids["problems"] = [p.id for p in plans]
    ctx.data["public_problems"] = dict(public)
