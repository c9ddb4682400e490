"""Letters (函询) between the finance bureau and the audit bureau, in both directions, each left where
the letter operations would have left it at ctx.now: drafts, letters awaiting sign-off (待签发),
sent letters with their document number (临财绩函〔2025〕3号: gapless per issuing code and year,
the last one in `counters`, scope 'inquiry:<code>'), acknowledged (签收), partly and fully answered item
by item (逐项答复), followed up (追问), extended (延期), closed (办结) and withdrawn (撤回) letters.
Reply deadlines given in working days are counted on the shipped holiday table (调休 included),
which this plug-in loads as `flask inquiries load-holidays` would, with the bureaus' issuing
codes (发文机关代字) as the administrator would set them.

The audit log, notifications and attachments the operations would also write are not generated.

Publishes: ctx.ids["letters"]."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa

ORDER = 210
STATES = ("draft", "pending_signoff", "sent", "acknowledged", "answered", "closed", "withdrawn")
MIN_AGE = {"draft": 0, "pending_signoff": 0, "sent": 1, "acknowledged": 2, "withdrawn": 2, "answered": 3, "closed": 4}
EARLY = ("draft", "pending_signoff", "sent", "acknowledged")  # states a letter is young in
WORKDAYS = (5, 10, 10, 15, 15, 20, 30)  # "N working days" reply deadlines
OUTCOMES = (("provided", 0.72), ("partial", 0.14), ("not_held", 0.08), ("declined", 0.06))
REASONS = {
    "provided": ["已随函附送。", "", "已通过共享资料库提供。"],
    "partial": ["部分资料尚在整理，先行提供已形成部分。", "相关资料分散在各业务处室，已提供汇总部分。"],
    "not_held": ["经查，我单位未形成该项资料。", "该事项不属于本单位职责范围，未形成相关资料。"],
    "declined": ["该资料涉及正在进行的审计事项，按规定暂不予提供。", "该资料涉及企业商业秘密，按规定不予提供。"],
}
FOLLOW_UPS = ["请补充提供相关附件及说明。", "所提供资料不完整，请补充提供分项目明细。", "请进一步说明未能提供的原因。"]
EXTENSION_REASONS = ["对方来电说明资料涉及多个处室，需延长整理时间。", "所需资料正在汇总审核，经协商延长答复期限。"]
WITHDRAW_REASONS = ["内容需调整，另行发函。", "所涉事项已在联席会议上协调解决。"]

# (title, items) by direction; {project}, {year}, {next}, {month}, {topic} filled from the data
TO_AUDIT = [
    ("关于提供{project}审计资料的函", ["项目审计报告及审计决定书", "审计发现问题清单及整改情况", "项目竣工决算审计报告"]),
    ("关于提供{year}年度部门预算执行审计发现问题清单的函",
     ["{year}年度部门预算执行审计发现的绩效相关问题清单", "问题涉及金额及责任单位", "审计整改情况报告"]),
    ("关于提供{next}年度审计项目计划的函", ["{next}年度审计项目计划（绩效审计部分）", "拟开展的专项审计调查安排"]),
    ("关于商请提供{topic}专项审计报告的函", ["专项审计报告", "审计建议及被审计单位整改情况"]),
    ("关于提供{project}跟踪审计情况的函", ["跟踪审计阶段性报告", "审计发现的资金使用问题及处理意见"]),
]
TO_FINANCE = [
    ("关于提供{year}年度财政重点绩效评价报告的函",
     ["{year}年度财政重点绩效评价报告", "第三方机构评价工作底稿目录", "评价结果应用情况"]),
    ("关于提供{project}绩效评价资料的函", ["项目绩效目标及指标表", "绩效自评报告", "评价发现问题及整改情况"]),
    ("关于提供{year}年{month}月绩效运行监控预警情况的函", ["绩效运行监控预警项目清单及处理情况", "预警项目的纠偏措施"]),
    ("关于提供{year}年度绩效目标审核结果的函", ["{year}年度项目绩效目标审核结果（优良中差分布）", "审核退回项目清单"]),
]
BODY = ("根据《关于加强财政审计协同联动推进预算绩效管理的实施意见》，为做好{purpose}，现商请贵{office}提供以下资料，"
        "请于答复期限前函复。涉及的具体项目见关联项目清单。")


@dataclass
class LetterPlan:
    """One letter and what happened to it."""

    sender: int
    addressee: int
    drafter: int
    signer: int
    title: str
    items: list[str]
    created_at: datetime
    urgency: str
    marking: str
    copies: str
    body: str
    deadline: date | None
    workdays: int | None
    contact_person: str
    contact_phone: str
    projects: list[int]
    id: int = 0
    state: str = "draft"
    code: str | None = None
    year: int | None = None
    seq: int | None = None
    sent_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: int | None = None
    answered_at: datetime | None = None
    closed_at: datetime | None = None
    updated_at: datetime | None = None
    outcomes: dict = field(default_factory=dict)  # item position -> (outcome, reason, user, at, reply index, follow-ups)
    replies: list = field(default_factory=list)  # (author, at, note)
    followups: list = field(default_factory=list)  # (item position, text, previous outcome, user, at)
    extensions: list = field(default_factory=list)  # (old deadline, new deadline, reason, user, at)

    def touch(self, at: datetime) -> None:
        self.updated_at = max(self.updated_at or at, at)


class Workdays:
    """Chinese working days on the shipped holiday table (portal.inquiries.workdays)."""

    def __init__(self, rows):
        from portal.inquiries.workdays import FIXED_HOLIDAYS

        self.special = {day: worked for day, worked, _name in rows}
        self.known_years = {day.year for day in self.special}
        self.fixed = FIXED_HOLIDAYS

    def is_workday(self, day: date) -> bool:
        if day in self.special:
            return self.special[day]
        if day.year not in self.known_years and (day.month, day.day) in self.fixed:
            return False  # as workdays.Calendar: the fixed statutory days in a year without a schedule
        return day.weekday() < 5

    def add(self, start: date, n: int) -> date:
        """The n-th working day after `start`, as workdays.add_workdays counts."""
        day, counted = start, 0
        while counted < n:
            day += timedelta(days=1)
            counted += self.is_workday(day)
        return day

    def on_or_after(self, day: date) -> date:
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day


def _at(day: date, rng) -> datetime:
    return datetime(day.year, day.month, day.day, rng.randint(8, 17), rng.randint(0, 59), rng.randint(0, 59))


def _after(moment: datetime, day: date, rng) -> datetime:
    candidate = _at(day, rng)
    return candidate if candidate > moment else moment + timedelta(minutes=rng.randint(3, 50))


class Bureaus:
    """The two bureaus, their staff, signers, codes and headers."""

    def __init__(self, ctx, conn):
        users, org = ctx.data["users"], ctx.data["org"]
        self.finance, self.audit = ctx.data["finance_bureau"], ctx.data["audit_bureau"]
        area = ctx.data.get("area", "")
        short = area[:-1] if area.endswith("省") else area[:1]  # 江临 / 临
        self.code = {self.finance: f"{short}财绩函", self.audit: f"{short}审函"}
        self.header = {o: org[o]["name"] for o in (self.finance, self.audit)}
        self.staff = {self.finance: [users["finance"], users["finance2"]], self.audit: [users["audit"], users["audit2"]]}
        self.signer = {self.finance: users["signer"], self.audit: users["auditsigner"]}
        self.office = "厅" if area.endswith("省") else "局"
        self.copies = org[ctx.data["congress"]]["name"] if ctx.data.get("congress") else ""
        names = ctx.metadata.tables["users"]
        self.names = dict(conn.execute(sa.select(names.c.id, names.c.display_name)).all())


def _pick(rng, weighted) -> str:
    roll, total = rng.random(), 0.0
    for value, weight in weighted:
        total += weight
        if roll < total:
            return value
    return weighted[-1][0]


def target_state(age: int, rng) -> str:
    if age < 3:
        return _pick(rng, (("draft", 0.45), ("pending_signoff", 0.35), ("sent", 0.2)))
    if age < 15:
        return _pick(rng, (("draft", 0.1), ("pending_signoff", 0.1), ("sent", 0.22), ("acknowledged", 0.3),
                           ("answered", 0.2), ("withdrawn", 0.03), ("closed", 0.05)))
    if age < 45:
        return _pick(rng, (("draft", 0.02), ("sent", 0.06), ("acknowledged", 0.2), ("answered", 0.3),
                           ("closed", 0.38), ("withdrawn", 0.04)))
    return _pick(rng, (("draft", 0.01), ("sent", 0.02), ("acknowledged", 0.03), ("answered", 0.08),
                       ("closed", 0.82), ("withdrawn", 0.04)))


def ensure_every_state(plans: list[LetterPlan], targets: list[str], last_day: date, rng) -> None:
    """At small scales: each state has a letter (the youngest eligible one for the early states)."""
    counts = Counter(targets)
    for state in STATES:
        if counts[state]:
            continue
        ages = [(last_day - p.created_at.date()).days for p in plans]
        eligible = [i for i, t in enumerate(targets) if counts[t] > 1 and ages[i] >= MIN_AGE[state]]
        if not eligible:
            continue
        chosen = min(eligible, key=lambda i: ages[i]) if state in EARLY else rng.choice(eligible)
        counts[targets[chosen]] -= 1
        targets[chosen] = state
        counts[state] += 1


def draft(ctx, bureaus: Bureaus, rng, day: date, projects_by_year: dict[int, list[int]]) -> LetterPlan:
    """起草: a letter from one bureau to the other, with its items and related projects."""
    to_audit = rng.random() < 0.6
    sender, addressee = (bureaus.finance, bureaus.audit) if to_audit else (bureaus.audit, bureaus.finance)
    title, items = rng.choice(TO_AUDIT if to_audit else TO_FINANCE)
    years = [y for y in ctx.scale.years if y < day.year] or [min(ctx.scale.years)]
    year = rng.choice(years)
    pool = projects_by_year.get(year, [])
    projects = sorted(set(rng.sample(pool, min(len(pool), rng.randint(1, 3))))) if pool else []
    project = ctx.data["project"][projects[0]] if projects else None
    values = {"project": project[0] if project else f"{year}年度重点项目", "year": year, "next": day.year,
              "month": rng.randint(6, 10), "topic": project[5] if project else "专项资金"}
    chosen = rng.sample(items, rng.randint(1, len(items)))
    drafter = rng.choice(bureaus.staff[sender])
    by_workdays = rng.random() < 0.65
    roll = rng.random()
    return LetterPlan(
        sender=sender, addressee=addressee, drafter=drafter, signer=bureaus.signer[sender],
        title=title.format(**values)[:200], items=[i.format(**values) for i in chosen], created_at=_at(day, rng),
        urgency="very_urgent" if roll < 0.05 else "urgent" if roll < 0.25 else "normal",
        marking="open" if rng.random() < 0.15 else "internal",
        copies=bureaus.copies if rng.random() < 0.2 else "",
        body=BODY.format(purpose=values["project"] + "的评价和审计工作", office=bureaus.office),
        deadline=None if by_workdays else day + timedelta(days=rng.randint(10, 30)),
        workdays=rng.choice(WORKDAYS) if by_workdays else None,
        contact_person=bureaus.names.get(drafter, ""), contact_phone=f"0571-8{sender % 10}{rng.randint(100000, 999999)}",
        projects=projects)


def _next_day(moment: datetime, lo: int, hi: int, rng, cal: Workdays, last_day: date) -> date:
    """A working day lo..hi days after `moment`, never after last_day."""
    return min(last_day, cal.on_or_after(moment.date() + timedelta(days=rng.randint(lo, hi))))


def _answer(plan: LetterPlan, positions: list[int], author: int, at: datetime, rng) -> None:
    """One reply part (复函) giving outcomes for `positions`."""
    plan.replies.append((author, at, rng.choice(("现将有关资料函复如下。", "特此函复。", ""))))
    for position in positions:
        outcome = _pick(rng, OUTCOMES)
        follow_ups = plan.outcomes.get(position, (None,) * 5 + (0,))[5]
        plan.outcomes[position] = (outcome, rng.choice(REASONS[outcome]), author, at, len(plan.replies) - 1,
                                   follow_ups)


def advance(plan: LetterPlan, target: str, bureaus: Bureaus, cal: Workdays, last_day: date, rng) -> None:
    """Take the letter through the operations up to `target`, every step by last_day."""
    plan.touch(plan.created_at)
    if target == "draft":
        return
    moment = _after(plan.created_at, _next_day(plan.created_at, 0, 1, rng, cal, last_day), rng)  # 提交签发
    plan.state = "pending_signoff"
    plan.touch(moment)
    if target == "pending_signoff":
        return
    moment = _after(moment, _next_day(moment, 0, 3, rng, cal, last_day), rng)  # 签发: numbered and sent
    plan.state, plan.sent_at, plan.code, plan.year = "sent", moment, bureaus.code[plan.sender], moment.year
    if plan.workdays:
        plan.deadline = cal.add(moment.date(), plan.workdays)
    elif plan.deadline <= moment.date():  # the signer returned it and the drafter moved the deadline on
        plan.deadline = moment.date() + timedelta(days=10)
    plan.touch(moment)
    if target == "withdrawn":
        moment = _after(moment, _next_day(moment, 0, 2, rng, cal, last_day), rng)
        plan.state = "withdrawn"
        plan.touch(moment)
        return
    liaison = rng.choice(bureaus.staff[plan.addressee])
    if target != "sent":
        moment = _after(moment, _next_day(moment, 0, 3, rng, cal, last_day), rng)  # 签收
        plan.state, plan.acknowledged_at, plan.acknowledged_by = "acknowledged", moment, liaison
        plan.touch(moment)
    moment = _maybe_extend(plan, moment, bureaus, cal, last_day, rng)
    if target in ("sent", "acknowledged"):
        if target == "acknowledged" and len(plan.items) > 1 and rng.random() < 0.4:  # a first part of the answer
            moment = _after(moment, _next_day(moment, 1, 6, rng, cal, last_day), rng)
            _answer(plan, list(range(1, len(plan.items))), liaison, moment, rng)
        return
    _answer_all(plan, moment, liaison, bureaus, cal, last_day, rng)
    if target == "closed":
        moment = _after(plan.answered_at, _next_day(plan.answered_at, 1, 10, rng, cal, last_day), rng)  # 办结
        plan.state, plan.closed_at = "closed", moment
        plan.touch(moment)


def _maybe_extend(plan, moment, bureaus, cal, last_day, rng) -> datetime:
    """延期 by the sender before the answer (some letters)."""
    if rng.random() > 0.1:
        return moment
    at = _after(moment, _next_day(moment, 1, 5, rng, cal, last_day), rng)
    new = max(plan.deadline, at.date()) + timedelta(days=rng.randint(5, 15))
    plan.extensions.append((plan.deadline, new, rng.choice(EXTENSION_REASONS), rng.choice(bureaus.staff[plan.sender]),
                            at))
    plan.deadline = new
    plan.touch(at)
    return at


def _answer_all(plan, moment, liaison, bureaus, cal, last_day, rng) -> None:
    """答复: one or two parts until every item has an outcome; perhaps a follow-up answered again."""
    positions = list(range(1, len(plan.items) + 1))
    late = rng.random() < 0.1
    span = max(1, (plan.deadline - moment.date()).days) if plan.deadline else 10
    if len(positions) > 1 and rng.random() < 0.3:
        moment = _after(moment, _next_day(moment, 1, max(1, span // 2), rng, cal, last_day), rng)
        _answer(plan, positions[:1], liaison, moment, rng)
        positions = positions[1:]
    moment = _after(moment, _next_day(moment, 1, span + (10 if late else 0), rng, cal, last_day), rng)
    _answer(plan, positions, liaison, moment, rng)
    plan.state, plan.answered_at = "answered", moment
    plan.touch(moment)
    follow_up = _next_day(moment, 1, 4, rng, cal, last_day)
    again = _next_day(moment, 5, 9, rng, cal, last_day)
    if rng.random() < 0.1 and again > follow_up and again < last_day:  # 追问 one item, answered again
        position = rng.choice(range(1, len(plan.items) + 1))
        asked = _after(moment, follow_up, rng)
        outcome = plan.outcomes[position]
        plan.followups.append((position, rng.choice(FOLLOW_UPS), outcome[0], rng.choice(bureaus.staff[plan.sender]),
                               asked))
        plan.outcomes[position] = (None, "", None, None, None, outcome[5] + 1)
        answered = _after(asked, again, rng)
        _answer(plan, [position], liaison, answered, rng)
        plan.answered_at = answered
        plan.touch(answered)


def number(plans: list[LetterPlan]) -> dict[tuple, int]:
    """签发 order gives the numbers: gapless per (code, year). Returns the counters."""
    last: dict[tuple, int] = defaultdict(int)
    for plan in sorted((p for p in plans if p.sent_at), key=lambda p: (p.sent_at, p.id)):
        last[(plan.code, plan.year)] += 1
        plan.seq = last[(plan.code, plan.year)]
    return dict(last)


LETTER_COLUMNS = ["id", "state", "sender_org_id", "addressee_org_id", "copies", "title", "urgency", "marking", "body",
                  "deadline", "deadline_workdays", "contact_person", "contact_phone", "drafter_id", "signer_id",
                  "number_code", "number_year", "number_seq", "sent_at", "acknowledged_at", "acknowledged_by_id",
                  "answered_at", "closed_at", "created_at", "updated_at"]


def letter_row(p: LetterPlan) -> tuple:
    return (p.id, p.state, p.sender, p.addressee, p.copies, p.title, p.urgency, p.marking, p.body, p.deadline,
            p.workdays, p.contact_person, p.contact_phone, p.drafter, p.signer if p.sent_at else None, p.code,
            p.year, p.seq, p.sent_at, p.acknowledged_at, p.acknowledged_by, p.answered_at, p.closed_at,
            p.created_at, p.updated_at)


def insert_all(ctx, conn, plans: list[LetterPlan], counters: dict[tuple, int]) -> None:
    ctx.insert(conn, "inquiry_letters", (letter_row(p) for p in plans), columns=LETTER_COLUMNS, total=len(plans))
    ctx.insert(conn, "inquiry_letter_projects", [(p.id, pid) for p in plans for pid in p.projects],
               columns=["letter_id", "project_id"])
    ctx.insert(conn, "counters", [(f"inquiry:{c}", y, n) for (c, y), n in sorted(counters.items())],
               columns=["scope", "period", "last"])
    replies, items, followups, extensions = [], [], [], []
    for p in plans:
        reply_ids = []
        for author, at, note in p.replies:
            reply_ids.append(ctx.new_id("inquiry_replies"))
            replies.append((reply_ids[-1], p.id, author, at, note))
        item_ids = {}
        for position, text in enumerate(p.items, start=1):
            outcome, reason, user, at, reply, follow_ups = p.outcomes.get(position, (None, "", None, None, None, 0))
            item_ids[position] = ctx.new_id("inquiry_items")
            items.append((item_ids[position], p.id, position, text, outcome, reason, user, at,
                          None if reply is None else reply_ids[reply], follow_ups))
        followups += [(ctx.new_id("inquiry_followups"), item_ids[pos], text, previous, user, at)
                      for pos, text, previous, user, at in p.followups]
        extensions += [(ctx.new_id("inquiry_extensions"), p.id, *e) for e in p.extensions]
    ctx.insert(conn, "inquiry_replies", replies, columns=["id", "letter_id", "author_id", "created_at", "note"])
    ctx.insert(conn, "inquiry_items", items, columns=["id", "letter_id", "position", "description", "outcome", "reason",
                                                      "answered_by_id", "answered_at", "reply_id", "follow_ups"])
    ctx.insert(conn, "inquiry_followups", followups, columns=["id", "item_id", "text", "previous_outcome", "by_id", "at"])
    ctx.insert(conn, "inquiry_extensions", extensions, columns=["id", "letter_id", "old_deadline", "new_deadline",
                                                                "reason", "by_id", "at"])


def letter_projects(ctx) -> dict[int, list[int]]:
    """Projects letters are about, by year: the finance (key) evaluations', else any of that year."""
    key, every = defaultdict(list), defaultdict(list)
    for pid, mode, *_rest in ctx.data.get("evaluation", {}).values():
        if mode == "finance":
            key[ctx.data["project"][pid][1]].append(pid)
    for pid in ctx.ids["projects"]:
        every[ctx.data["project"][pid][1]].append(pid)
    return {year: sorted(key[year]) or every[year] for year in every}


def setup(ctx, conn, bureaus: Bureaus) -> Workdays:
    """What the administrator sets up first: issuing codes and the holiday table."""
    from portal.inquiries.workdays import calendar_rows, official_years

    ctx.insert(conn, "inquiry_issuing_codes", [
        (ctx.new_id("inquiry_issuing_codes"), org, code, bureaus.header[org], ctx.now, ctx.now)
        for org, code in bureaus.code.items()], columns=["id", "organisation_id", "code", "header", "created_at",
                                                         "updated_at"])
    rows = [row for year in official_years() for row in calendar_rows(year)]
    ctx.insert(conn, "inquiry_holidays", [(ctx.new_id("inquiry_holidays"), *row) for row in rows],
               columns=["id", "day", "is_workday", "name"])
    return Workdays(rows)


def generate(ctx, conn, scale) -> None:
    if not ctx.has_table("inquiry_letters") or not ctx.data.get("audit_bureau"):
        return
    rng = ctx.rng("inquiries")
    bureaus = Bureaus(ctx, conn)
    cal = setup(ctx, conn, bureaus)
    last_day = ctx.now.date() - timedelta(days=1)
    first_day = date(min(scale.years) + 1, 1, 2)
    projects_by_year = letter_projects(ctx)
    days = sorted(min(last_day, cal.on_or_after(first_day + timedelta(days=rng.randint(0, (last_day - first_day).days))))
                  for _ in range(scale.letters))
    plans = [draft(ctx, bureaus, rng, day, projects_by_year) for day in days]
    plans.sort(key=lambda p: p.created_at)
    for plan in plans:
        plan.id = ctx.new_id("inquiry_letters")
    targets = [target_state((last_day - p.created_at.date()).days, rng) for p in plans]
    ensure_every_state(plans, targets, last_day, rng)
    for plan, target in zip(plans, targets, strict=True):
        advance(plan, target, bureaus, cal, last_day, rng)
    counters = number(plans)
    insert_all(ctx, conn, plans, counters)
    ctx.ids["letters"] = [p.id for p in plans]
