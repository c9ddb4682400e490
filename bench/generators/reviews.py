"""Co-review (同审) of the third-party reports of agency-run finance evaluations, each report taken
through the co-review operations up to ctx.now: the default rubric (评审评分表), agency profiles and
the yearly pool (入库机构), draws (抽签) that `draw_result(seed, pool)` reproduces, the report slot
(待提交), versions V1, V2… (at most three rounds), review rounds with reviewers from finance and
audit (experts optional), conflict declarations with replacements, scores on the rubric with
reasons, comments and edit history, the lead's consolidated opinion (合议意见), returns to the lead
and endorsements by both bureaus (决定生效 ⇒ both endorsed).

Report files: a decided report's last version is the evaluation's report text from reports.py
(the same attachment, linked to the version too); earlier drafts are PDF attachments without
extracted text, so the search benchmark's documents stay the report texts. The audit log and
notifications the operations would also write are not generated.

Publishes: ctx.ids["review_reports"]."""
from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from bench.generators.organisations import person_name

ORDER = 220
MAX_ROUNDS = 3  # REVIEW_MAX_ROUNDS default
REPORT_DAYS, REVISION_DAYS, ROUND_DAYS = 30, 15, 10  # REVIEW_REPORT_DAYS, _REVISION_DAYS, _ROUND_DAYS defaults
SIDE_OFFSET = {"finance": 0, "audit": -2, "expert": 2}  # reviewers differ a little
JUSTIFICATIONS = {
    "评价依据与程序": ["评价依据列示较完整，但未说明现场核查抽样方法。", "评价程序规范，前期调研和现场核查资料齐全。"],
    "指标体系": ["指标体系总体合理，部分效益指标缺少可量化的评价标准。", "指标设置与项目特点结合紧密，权重分配恰当。"],
    "数据与证据": ["基础数据来源清楚，个别支出数据与决算数不一致，需核对。", "证据链完整，关键数据可追溯核实。"],
    "结论与问题": ["结论基本客观，问题表述较为笼统，未附具体金额。", "问题定性准确，涉及金额和责任单位列示清楚。"],
    "建议可行性": ["建议具有一定针对性，部分建议缺少落实主体和时限。", "建议针对问题提出，具有较强可操作性。"],
    "报告规范性": ["报告结构符合评价报告提纲要求，文字需进一步精炼。", "报告格式规范，图表清晰。"],
}
COMMENTS = [("第二章", "抽样方法与样本量需说明依据。"), ("第三章", "综合评分表与正文得分不一致。"),
            ("第8页", "支出数据与决算报表不一致，请核对。"), ("第12页", "满意度调查样本量偏小。"),
            ("第五章", "问题表述笼统，请列明涉及金额和责任单位。"), ("附件2", "指标评分依据缺少佐证材料。")]
SUMMARIES = ["报告总体符合要求，需按批注意见修改完善。", "报告结构完整，证据较充分，建议通过。",
             "报告关键数据无法核实，结论依据不足。"]
REPORT_PROBLEMS = ["抽样方法和样本量未作说明。", "部分支出数据与决算数不一致。", "问题表述笼统，未列明涉及金额。",
                   "满意度调查样本不足。", "评价结论与指标得分不对应。"]
OPINION_HEAD = {
    "accepted": "报告依据充分、程序规范、结论客观，问题与建议具体可行，同意通过。",
    "revise": "评审组认为报告结构基本完整，但证据支撑不足，需修改后重新提交。",
    "rejected": "报告评价程序不完整，关键数据无法核实，结论缺乏依据，不予通过。",
}
SEND_BACK = ["合议意见对数据问题的表述需与评审意见一致，请修改。", "请补充列明报告存在的主要问题。"]
QUALIFICATIONS = ["会计师事务所执业证书；财政部门绩效评价机构库入库单位；近三年承担重点绩效评价项目{n}个。",
                  "工程造价咨询甲级资质；ISO9001质量管理体系认证；具备基础设施类项目评价经验。",
                  "管理咨询类企业；拥有绩效评价专职人员{n}名，其中高级职称{m}名。"]


@dataclass
class Review:
    """One reviewer's assignment in one round (评审意见)."""

    reviewer: int
    side: str
    created: datetime
    state: str = "pending"
    conflict: str | None = None
    declared_at: datetime | None = None
    submitted_at: datetime | None = None
    updated_at: datetime | None = None
    scores: dict = field(default_factory=dict)  # criterion position -> (score or None, justification)
    summary: str = ""
    comments: list = field(default_factory=list)
    snapshots: list = field(default_factory=list)  # (number, content, saved_at): the review before each edit
    revision: int = 0


@dataclass
class Round:
    number: int
    version: int
    created: datetime
    deadline: date
    lead: int
    opened_by: int
    reviews: list[Review]
    state: str = "open"
    opinion: str = ""
    proposed: str | None = None
    decision: str | None = None
    finance_endorser: int | None = None
    audit_endorser: int | None = None
    score: Decimal | None = None
    decided_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass
class ReportPlan:
    evaluation_id: int
    project_id: int
    year: int
    agency: int
    title: str
    created: datetime
    due_date: date
    state: str = "awaiting"
    final_score: Decimal | None = None
    decided_at: datetime | None = None
    updated_at: datetime | None = None
    draw: tuple | None = None
    versions: list = field(default_factory=list)  # (uploaded_at, due date, note)
    rounds: list[Round] = field(default_factory=list)


class Staff:
    """Reviewers, leads and endorsers among the generated accounts."""

    def __init__(self, ctx):
        users = ctx.data["users"]
        self.finance = [users["finance"], users["finance2"]]
        self.audit = [users["audit"], users["audit2"]]
        self.experts = [users[u] for u in sorted(users) if u.startswith("expert")]
        self.agency_user = {org: users.get(f"agency{ctx.data['org'][org]['code'][2:]}") for org in ctx.ids["agencies"]}

    def of(self, side: str) -> list[int]:
        return {"finance": self.finance, "audit": self.audit, "expert": self.experts}[side]


def _at(day: date, rng) -> datetime:
    return datetime(day.year, day.month, day.day, rng.randint(8, 17), rng.randint(0, 59), rng.randint(0, 59))


def _after(moment: datetime, days: int, rng) -> datetime:
    candidate = _at(moment.date() + timedelta(days=days), rng)
    return candidate if candidate > moment else moment + timedelta(minutes=rng.randint(3, 50))


class Stop(Exception):
    """The next step would come after ctx.now: the report stays where it is."""


class Clock:
    """Steps in time, refusing any step after the last generated day."""

    def __init__(self, last_day: date, rng):
        self.last_day, self.rng = last_day, rng

    def after(self, moment: datetime, lo: int, hi: int) -> datetime:
        at = _after(moment, self.rng.randint(lo, hi), self.rng)
        if at.date() > self.last_day:
            raise Stop
        return at


# ---- setup ---------------------------------------------------------------------------------

def rubric(ctx, conn) -> list[tuple[int, int, str]]:
    """The default rubric (weights total 100); returns its criteria as (id, weight, name)."""
    from portal.reviews.operations import DEFAULT_CRITERIA, DEFAULT_RUBRIC_NAME

    rid = ctx.new_id("review_rubrics")
    created = datetime(min(ctx.scale.years), 12, 1, 9, 0)
    ctx.insert(conn, "review_rubrics", [(rid, DEFAULT_RUBRIC_NAME, True, created)],
               columns=["id", "name", "is_default", "created_at"])
    criteria = [(ctx.new_id("review_rubric_criteria"), rid, i, name, guidance, weight)
                for i, (name, weight, guidance) in enumerate(DEFAULT_CRITERIA)]
    ctx.insert(conn, "review_rubric_criteria", criteria,
               columns=["id", "rubric_id", "position", "name", "guidance", "weight"])
    ctx.data["review_rubric"] = rid
    return [(cid, weight, name) for cid, _r, _p, name, _g, weight in criteria]


def agencies(ctx, conn, rng) -> None:
    """资质与联系人 of every agency, and the yearly pools of qualified agencies (入库机构)."""
    org, staff = ctx.data["org"], Staff(ctx)
    names = ctx.metadata.tables["users"]
    display = dict(conn.execute(sa.select(names.c.id, names.c.display_name)).all())
    set_up = datetime(min(ctx.scale.years), 9, 1, 10, 0)
    profiles = []
    for n, agency in enumerate(ctx.ids["agencies"], start=1):
        code = "91" + hashlib.sha256(f"{ctx.seed}:{agency}".encode()).hexdigest()[:16].upper()
        profiles.append((ctx.new_id("agency_profiles"), agency,
                         rng.choice(QUALIFICATIONS).format(n=rng.randint(8, 40), m=rng.randint(3, 12)), code,
                         display.get(staff.agency_user.get(agency), person_name(rng)),
                         f"0571-8890{n:04d}", f"contact{n:03d}@agency.example.cn",
                         f"{org[agency]['name'][:2]}市政务服务中心东侧{n}号", set_up, set_up))
    ctx.insert(conn, "agency_profiles", profiles, columns=[
        "id", "organisation_id", "qualifications", "credit_code", "contact_person", "contact_phone", "contact_email",
        "address", "created_at", "updated_at"])
    ctx.insert(conn, "agency_pool_entries", [
        (ctx.new_id("agency_pool_entries"), year, agency, datetime(year, 9, 1, 10, 0))
        for year in ctx.scale.years for agency in ctx.ids["agencies"]], columns=["id", "year", "agency_id", "added_at"])


def reviewed_evaluations(ctx, conn, share: float, rng) -> list[tuple]:
    """Finance evaluations run by an agency, the share whose report is co-reviewed."""
    e = ctx.metadata.tables["evaluations"]
    rows = conn.execute(sa.select(e.c.id, e.c.project_id, e.c.year, e.c.agency_id)
                        .where(e.c.mode == "finance", e.c.agency_id.is_not(None)).order_by(e.c.id)).all()
    return [tuple(r) for r in rows if rng.random() < share]


def draw_seed(ctx, evaluation_id: int, pool: list[int], agency: int) -> str:
    """A seed with which `draw_result(seed, pool)` picks the agency the evaluation has."""
    for k in range(10_000):
        seed = hashlib.sha256(f"{ctx.seed}:draw:{evaluation_id}:{k}".encode()).hexdigest()[:32]
        if random.Random(seed).choice(sorted(pool)) == agency:
            return seed
    raise RuntimeError("no seed found")  # cannot happen: each try picks the agency with p = 1/len(pool)


# ---- one report through the workflow ----------------------------------------------------------

def _score(weight: int, quality: float, rng) -> Decimal:
    percent = min(100.0, max(30.0, quality + rng.uniform(-6, 6)))
    return (Decimal(round(weight * percent / 50)) / 2).quantize(Decimal("0.01"))  # half points


def _content(review: Review, criteria) -> str:
    """The review as `_snapshot` keeps it before an edit."""
    scores = {str(cid): [None if review.scores[i][0] is None else f"{review.scores[i][0]:.2f}", review.scores[i][1]]
              for i, (cid, _w, _n) in enumerate(criteria) if i in review.scores}
    return json.dumps({"summary": review.summary, "scores": scores, "comments": [list(c) for c in review.comments]},
                      ensure_ascii=False)


def _save(review: Review, criteria, quality: float, at: datetime, rng, *, submit: bool) -> None:
    """save_review(): a draft keeps some scores blank; a submission scores every criterion with a reason."""
    if review.scores or review.summary or review.comments:
        review.snapshots.append((review.revision + 1, _content(review, criteria), at))
    review.revision += 1
    for i, (_cid, weight, name) in enumerate(criteria):
        blank = not submit and rng.random() < 0.4
        review.scores[i] = (None, "") if blank else (_score(weight, quality, rng), rng.choice(JUSTIFICATIONS[name]))
    review.summary = rng.choice(SUMMARIES[:2] if quality >= 70 else SUMMARIES[::2])
    review.comments = rng.sample(COMMENTS, rng.randint(1, 3)) if submit or rng.random() < 0.5 else []
    review.updated_at = at
    if submit:
        review.state, review.submitted_at = "submitted", at


def _total(review: Review) -> Decimal | None:
    if not review.scores:
        return None
    return sum((s for s, _j in review.scores.values() if s is not None), Decimal(0))


def _declare(review: Review, rnd: Round, staff: Staff, clock: Clock, rng) -> None:
    """利益冲突声明: usually none; a conflicted bureau reviewer is replaced by finance (补充指派)."""
    review.declared_at = review.updated_at = clock.after(review.created, 0, 3)
    taken = {r.reviewer for r in rnd.reviews}
    replaceable = [u for u in staff.of(review.side) if u not in taken]
    conflicted = rnd.number == 1 and review.reviewer != rnd.lead and rng.random() < 0.05
    if conflicted and (review.side == "expert" or replaceable):
        review.state, review.conflict = "conflicted", rng.choice(("agency", "unit", "project"))
        if review.side != "expert":
            rnd.reviews.append(Review(rng.choice(replaceable), review.side, clock.after(review.declared_at, 0, 2)))
        return
    review.state = "active"


def _review_round(rnd: Round, staff: Staff, criteria, quality: float, clock: Clock, rng) -> None:
    """Declarations, then drafts and submissions of everyone who may review."""
    done = 0
    while done < len(rnd.reviews):  # replacements join the list as it goes
        _declare(rnd.reviews[done], rnd, staff, clock, rng)
        done += 1
    for review in rnd.reviews:
        if review.state != "active":
            continue
        own = quality + SIDE_OFFSET[review.side]
        if rng.random() < 0.4:
            _save(review, criteria, own, clock.after(review.declared_at, 1, 4), rng, submit=False)
        _save(review, criteria, own, clock.after(review.updated_at, 1, 12), rng, submit=True)


def _decide(score: Decimal, number: int, rng) -> str:
    """The lead's proposal: a failing report is rejected; a weak one revised while rounds remain."""
    if score < 60:
        return "rejected"
    if score >= 85 or (score >= 80 and rng.random() < 0.7):
        return "accepted"
    return "revise" if number < MAX_ROUNDS else "accepted" if score >= 70 else "rejected"


def _opinion(decision: str, problems: list[str]) -> str:
    lines = ["## 合议意见", "", OPINION_HEAD[decision], "", "## 存在问题", ""]
    lines += [f"{n}. {text}" for n, text in enumerate(problems, start=1)]
    if decision == "revise":
        lines += ["", "## 修改要求", "", "请逐项修改并附修改说明，按期提交修改稿。"]
    return "\n".join(lines)


def _consolidate(rnd: Round, report: ReportPlan, staff: Staff, problems: list[str], clock: Clock, rng) -> None:
    """The lead proposes, perhaps is sent back once, and both bureaus endorse (the decision takes effect)."""
    submitted = [r for r in rnd.reviews if r.state == "submitted"]
    at = clock.after(max(r.submitted_at for r in submitted), 1, 3)
    rnd.score = (sum((_total(r) for r in submitted), Decimal(0)) / len(submitted)).quantize(Decimal("0.01"))
    rnd.proposed = _decide(rnd.score, rnd.number, rng)
    rnd.opinion = _opinion(rnd.proposed, problems)
    rnd.state, rnd.updated_at = "endorsing", at
    conflicted = {r.reviewer for r in rnd.reviews if r.state == "conflicted"}
    if rng.random() < 0.15:  # 退回牵头人
        at = clock.after(at, 1, 4)
        rnd.state, rnd.updated_at = "returned", at
        at = clock.after(at, 2, 7)
        rnd.opinion += "\n\n（已根据会签意见修改：" + rng.choice(SEND_BACK) + "）"
        rnd.state, rnd.updated_at = "endorsing", at
    finance = rng.choice([u for u in staff.finance if u not in conflicted])
    audit = rng.choice([u for u in staff.audit if u not in conflicted])
    first, second = ("finance", "audit") if rng.random() < 0.6 else ("audit", "finance")
    for side in (first, second):
        at = clock.after(at, 0 if side == second else 1, 7)
        setattr(rnd, f"{side}_endorser", finance if side == "finance" else audit)
        rnd.updated_at = at
    rnd.decision, rnd.decided_at, rnd.state = rnd.proposed, at, "decided"


def _open_round(report: ReportPlan, number: int, at: datetime, staff: Staff, rng, previous: Round | None) -> Round:
    if previous is None:  # 开启评审 by finance: at least one reviewer from each bureau
        reviewers = [("finance", u) for u in rng.sample(staff.finance, 1 + (rng.random() < 0.2))]
        reviewers += [("audit", u) for u in rng.sample(staff.audit, 1 + (rng.random() < 0.2))]
        reviewers += [("expert", u) for u in rng.sample(staff.experts, min(len(staff.experts), rng.randint(0, 2)))]
        lead = reviewers[0][1] if rng.random() < 0.8 else rng.choice(staff.audit)
        rnd = Round(number, number, at, at.date() + timedelta(days=rng.randint(10, 14)), lead,
                    rng.choice(staff.finance), [Review(u, side, at) for side, u in sorted(reviewers, key=lambda r: r[1])])
    else:  # a revised version goes back to the previous round's reviewers straight away
        rnd = Round(number, number, at, at.date() + timedelta(days=ROUND_DAYS), previous.lead, previous.opened_by,
                    [Review(r.reviewer, r.side, at) for r in previous.reviews if r.state != "conflicted"])
    rnd.updated_at = at
    report.rounds.append(rnd)
    report.state = "in_review"
    return rnd


def run(report: ReportPlan, staff: Staff, criteria, problems: list[str], clock: Clock, rng) -> None:
    """The report's life up to the last generated day: commission, versions, rounds, decision."""
    quality = rng.gauss(74, 9)
    try:
        uploaded = clock.after(report.created, 18, 40)  # V1
        report.versions.append((uploaded, report.due_date, ""))
        report.state, report.updated_at = "submitted", uploaded
        previous = None
        for number in range(1, MAX_ROUNDS + 1):
            opened = clock.after(uploaded, 1, 6) if previous is None else uploaded
            rnd = _open_round(report, number, opened, staff, rng, previous)
            report.updated_at = opened
            _review_round(rnd, staff, criteria, quality, clock, rng)
            _consolidate(rnd, report, staff, problems, clock, rng)
            report.updated_at = rnd.decided_at
            if rnd.decision != "revise":
                report.state = rnd.decision
                report.final_score, report.decided_at = rnd.score, rnd.decided_at
                return
            report.state, report.due_date = "revising", rnd.decided_at.date() + timedelta(days=REVISION_DAYS)
            uploaded = clock.after(rnd.decided_at, 7, 20)
            report.versions.append((uploaded, report.due_date, f"根据第{number}轮合议意见修改。"))
            report.updated_at = uploaded
            quality += rng.uniform(5, 12)
            previous = rnd
    except Stop:
        return


# ---- rows ----------------------------------------------------------------------------------

def insert_all(ctx, conn, plans: list[ReportPlan], criteria, report_files: dict[int, int]) -> None:
    reports, draws, versions, files, links, rounds, assignments, scores, comments, revisions = ([] for _ in range(10))
    staff = Staff(ctx)
    for p in plans:
        rid = ctx.new_id("review_reports")
        reports.append((rid, p.evaluation_id, p.agency, p.title, p.state, p.due_date, p.final_score, p.decided_at,
                        p.created, p.updated_at or p.created))
        if p.draw:
            draws.append((ctx.new_id("agency_draws"), p.evaluation_id, *p.draw))
        version_ids = []
        for number, (uploaded, due, note) in enumerate(p.versions, start=1):
            vid = ctx.new_id("review_report_versions")
            version_ids.append(vid)
            final = number == len(p.versions) and p.state == "accepted"
            aid = report_files.get(p.evaluation_id) if final else None
            if aid is None:
                aid = ctx.new_id("attachments")
                digest = hashlib.sha256(f"{ctx.seed}:report:{rid}:{number}".encode()).hexdigest()
                files.append((aid, digest, f"{p.title}-V{number}.pdf"[:255], "pdf", 300_000 + int(digest[:5], 16),
                              None, None, staff.agency_user.get(p.agency), uploaded))
            links.append((ctx.new_id("attachment_links"), aid, "review_report_versions", vid, "report"))
            versions.append((vid, rid, number, aid, note, staff.agency_user.get(p.agency), uploaded, due))
        for rnd in p.rounds:
            round_id = ctx.new_id("review_rounds")
            rounds.append((round_id, rid, version_ids[rnd.version - 1], rnd.number, rnd.state, rnd.deadline,
                           ctx.data["review_rubric"], rnd.lead, rnd.opened_by, rnd.opinion, rnd.proposed,
                           rnd.finance_endorser, rnd.audit_endorser, rnd.decision, rnd.score, rnd.decided_at,
                           rnd.created, rnd.updated_at))
            for r in rnd.reviews:
                aid = ctx.new_id("review_assignments")
                assignments.append((aid, round_id, r.reviewer, r.side, r.state, r.conflict,
                                    "与该项目实施单位存在业务往来。" if r.conflict else "", r.declared_at, r.summary,
                                    r.submitted_at, r.revision, r.created, r.updated_at or r.created))
                scores += [(ctx.new_id("review_scores"), aid, criteria[i][0], s, j) for i, (s, j) in sorted(r.scores.items())]
                comments += [(ctx.new_id("review_comments"), aid, loc, text) for loc, text in r.comments]
                revisions += [(ctx.new_id("review_revisions"), aid, n, content, at) for n, content, at in r.snapshots]
    ctx.insert(conn, "review_reports", reports, columns=[
        "id", "evaluation_id", "agency_id", "title", "state", "due_date", "final_score", "decided_at", "created_at",
        "updated_at"])
    ctx.insert(conn, "agency_draws", draws, columns=[
        "id", "evaluation_id", "seed", "pool_json", "witnesses", "chosen_agency_id", "reason", "drawn_by_id",
        "drawn_at"])
    ctx.insert(conn, "attachments", files, columns=[
        "id", "sha256", "filename", "kind", "size", "text", "document_date", "uploaded_by_id", "uploaded_at"])
    ctx.insert(conn, "review_report_versions", versions, columns=[
        "id", "report_id", "number", "attachment_id", "note", "uploaded_by_id", "uploaded_at", "due_date"])
    ctx.insert(conn, "attachment_links", links, columns=["id", "attachment_id", "record_type", "record_id", "purpose"])
    ctx.insert(conn, "review_rounds", rounds, columns=[
        "id", "report_id", "version_id", "number", "state", "deadline", "rubric_id", "lead_id", "opened_by_id",
        "opinion", "proposed_decision", "finance_endorser_id", "audit_endorser_id", "decision", "score",
        "decided_at", "created_at", "updated_at"])
    ctx.insert(conn, "review_assignments", assignments, columns=[
        "id", "round_id", "reviewer_id", "side", "state", "conflict_kind", "conflict_note", "declared_at", "summary",
        "submitted_at", "revision", "created_at", "updated_at"])
    ctx.insert(conn, "review_scores", scores, columns=["id", "assignment_id", "criterion_id", "score",
                                                       "justification"])
    ctx.insert(conn, "review_comments", comments, columns=["id", "assignment_id", "location", "text"])
    ctx.insert(conn, "review_revisions", revisions, columns=["id", "assignment_id", "number", "content", "saved_at"])
    ctx.ids["review_reports"] = [r[0] for r in reports]


# ---- the plug-in -----------------------------------------------------------------------------

def commission(ctx, evaluation: tuple, staff: Staff, rng, last_day: date) -> ReportPlan:
    """抽签 (most) or a designated agency, and the report slot it will upload into."""
    eid, pid, year, agency = evaluation
    latest = max(ctx.scale.years)
    if year < latest:
        day = date(year + 1, 1, 10) + timedelta(days=rng.randint(0, 110))
    else:  # this year's key evaluations are under way
        first = date(year, 10, 20)
        day = first + timedelta(days=rng.randint(0, max(0, (last_day - first).days)))
    created = _at(min(day, last_day), rng)
    name = ctx.data["project"][pid][0]
    plan = ReportPlan(eid, pid, year, agency, f"{name}绩效评价报告"[:200], created, created.date() + timedelta(days=REPORT_DAYS))
    pool_all = ctx.ids["agencies"]
    if len(pool_all) >= 2 and rng.random() < 0.7:
        others = [a for a in pool_all if a != agency]
        pool = sorted([agency, *rng.sample(others, min(len(others), rng.randint(2, 5)))])
        witnesses = f"{person_name(rng)}（联席会议办公室）、{person_name(rng)}（{ctx.data['org'][ctx.data['audit_bureau']]['name']}）"
        plan.draw = (draw_seed(ctx, eid, pool, agency), json.dumps(pool), witnesses, agency, "",
                     rng.choice(staff.finance), created)
    return plan


STAGES = ("awaiting", "submitted", "in_review/open", "in_review/endorsing", "in_review/returned", "revising",
          "accepted", "rejected")


def stage(plan: ReportPlan) -> str:
    """The report's state, and its current round's while in review."""
    return f"in_review/{plan.rounds[-1].state}" if plan.state == "in_review" else plan.state


def simulate(ctx, evaluation: tuple, staff: Staff, criteria, findings: dict, stream: str, last_day: date) -> ReportPlan:
    """One report from commission to where it stands at ctx.now, on its own random stream."""
    rng = ctx.rng(stream)
    plan = commission(ctx, evaluation, staff, rng, last_day)
    problems = rng.sample(REPORT_PROBLEMS, 2) + findings.get(plan.evaluation_id, [])[:2]
    run(plan, staff, criteria, problems, Clock(last_day, rng), rng)
    return plan


def ensure_every_stage(ctx, plans: list[ReportPlan], evaluations: list[tuple], staff, criteria, findings,
                       last_day: date) -> None:
    """At small scales: give each stage a report, re-running one of a crowded stage (the current
    year's reports can stand anywhere; earlier years' only where decided reports stand)."""
    latest = max(ctx.scale.years)
    for wanted in STAGES:
        counts = {s: sum(stage(p) == s for p in plans) for s in STAGES}
        if counts[wanted]:
            continue
        crowded = [i for i, p in enumerate(plans) if counts[stage(p)] > 1
                   and (p.year == latest or wanted in ("accepted", "rejected"))]
        for i in sorted(crowded, key=lambda i: -counts[stage(plans[i])])[:3]:
            tries = (simulate(ctx, evaluations[i], staff, criteria, findings, f"reviews:{plans[i].evaluation_id}:{k}",
                              last_day) for k in range(1, 300))
            found = next((p for p in tries if stage(p) == wanted), None)
            if found is not None:
                plans[i] = found
                break


def generate(ctx, conn, scale) -> None:
    if not ctx.has_table("review_reports") or not ctx.ids.get("agencies"):
        return
    last_day = ctx.now.date() - timedelta(days=1)
    staff = Staff(ctx)
    criteria = rubric(ctx, conn)
    agencies(ctx, conn, ctx.rng("reviews:agencies"))
    findings: dict[int, list[str]] = {}
    for _fid, eid, category, _amount in ctx.data.get("findings", []):
        findings.setdefault(eid, []).append(f"项目单位{category}的问题在报告中已有反映，但分析不够深入。")
    evaluations = reviewed_evaluations(ctx, conn, scale.review_share, ctx.rng("reviews:share"))
    plans = [simulate(ctx, e, staff, criteria, findings, f"reviews:{e[0]}", last_day) for e in evaluations]
    ensure_every_stage(ctx, plans, evaluations, staff, criteria, findings, last_day)
    report_files = {eid: aid for aid, eid in ctx.data.get("reports", [])}
    insert_all(ctx, conn, plans, criteria, report_files)
