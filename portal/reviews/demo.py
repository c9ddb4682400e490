"""Demo data (order 400): agency profiles and pool, draws, and reports in every stage —
including one that needed two revisions (V1 修改, V2 修改, V3 通过)."""
from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.accounts.models import Organisation, Role, User
from portal.core import clock
from portal.extensions import db
from portal.performance.models import BudgetType, Evaluation, EvaluationMode, Project, ProjectKind
from portal.reviews import operations
from portal.reviews.models import Report

QUALIFICATIONS = {
    "agency1": "会计师事务所执业证书；财政部门绩效评价机构库入库单位；近三年承担市级重点绩效评价项目12个。",
    "agency2": "工程造价咨询甲级资质；ISO9001质量管理体系认证；具备基础设施类项目评价经验。",
    "agency3": "管理咨询类企业；拥有绩效评价专职人员28名，其中高级职称9名；参与制定省级评价指标库。",
}

SCORE_TEXT = {
    "评价依据与程序": "评价依据列示较完整，但未说明现场核查抽样方法。",
    "指标体系": "指标体系总体合理，部分效益指标缺少可量化的评价标准。",
    "数据与证据": "基础数据来源清楚，个别支出数据与决算数不一致，需核对。",
    "结论与问题": "结论基本客观，问题表述较为笼统，未附具体金额。",
    "建议可行性": "建议具有一定针对性，部分建议缺少落实主体和时限。",
    "报告规范性": "报告结构符合评价报告提纲要求，文字需进一步精炼。",
}


def _report_docx(title: str, project: Project, version: int) -> bytes:
    import docx

    document = docx.Document()
    document.add_heading(f"{title}（第{version}稿）", level=1)
    paragraphs = [
        ("一、基本情况", f"{project.name}是{project.unit.name}组织实施的{project.year}年度重点支出项目，"
                     f"全年预算数{project.annual_budget / 10000:.2f}万元。项目主要用于保障相关公共服务的正常运转，"
                     "资金由市级财政全额安排，按季度拨付至项目单位。"),
        ("二、评价工作开展情况", "受临州市财政局委托，评价组按照《项目支出绩效评价管理办法》的要求，"
                        "采取资料审核、现场核查、问卷调查和座谈访谈相结合的方式开展评价，"
                        "共抽查支出凭证146份，发放满意度问卷320份，回收有效问卷301份。"),
        ("三、综合评价情况及结论", "经综合评价，该项目决策依据较为充分，资金管理总体规范，"
                         "主要产出指标基本完成，但部分效益指标未达到年初目标，综合得分为84.5分，评价等级为“良”。"),
        ("四、存在的问题", "一是绩效目标设置不够细化，部分指标缺少可衡量的目标值；二是资金支付进度滞后，"
                    "第三季度执行率低于序时进度；三是项目验收资料不完整，部分合同未按约定履行验收程序。"),
        ("五、建议", "建议项目单位细化绩效目标和指标值，加快预算执行进度，健全项目验收和档案管理制度，"
                  "并将评价结果应用于下一年度预算安排。"),
    ]
    if version > 1:
        paragraphs.append(("六、修改说明", f"根据第{version - 1}轮合议意见，本稿补充了抽样方法说明，"
                                      "核对并更正了支出数据，对存在问题逐项列明了涉及金额。"))
    for heading, text in paragraphs:
        document.add_heading(heading, level=2)
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _demo_projects(ctx) -> list[Project]:
    projects = ctx.get("projects") or db.session.scalars(sa.select(Project).order_by(Project.id)).all()
    if len(projects) >= 7:
        return list(projects)
    orgs = ctx["orgs"]
    names = [("edu/0", "校园安全设施提升改造项目"), ("health/0", "基层医疗机构设备购置项目"),
             ("housing/0", "老旧小区改造补助资金"), ("agri/0", "高标准农田建设项目"),
             ("transport/0", "农村公路养护专项资金"), ("civil/0", "困难群众基本生活救助资金"),
             ("hrss/0", "职业技能提升培训补贴"), ("eco/0", "重点流域水污染防治专项")]
    created = list(projects)
    year = clock.today().year - 1
    for i, (key, name) in enumerate(names):
        unit = orgs[key]
        budget = Decimal(3_000_000 + i * 1_250_000)
        project = Project(code=f"RV{year}{i + 1:03d}", name=name, year=year, kind=ProjectKind.PROJECT,
                          budget_type=BudgetType.GENERAL, unit=unit, department=unit.department,
                          initial_budget=budget, annual_budget=budget, executed=budget * Decimal("0.86"))
        db.session.add(project)
        created.append(project)
    db.session.flush()
    return created


def _agency_staff(ctx, key: str, org: Organisation) -> User:
    users = ctx["users"]
    if key == "agency1" and "agency" in users:
        return users["agency"]
    username = f"{key}"
    user = users.get(username) or db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        from portal.demo import DEMO_PASSWORD

        user = User(username=username, display_name={"agency2": "何志远", "agency3": "林雪"}.get(key, "机构人员"),
                    organisation=org, title="项目负责人")
        user.set_password(DEMO_PASSWORD)
        user.set_roles([Role.AGENCY_STAFF])
        db.session.add(user)
        db.session.flush()
        users[username] = user
    return user


def _review(assignment, actor, *, base: int, submit: bool = True) -> None:
    operations.declare(assignment, actor=actor, conflict=None)
    scores = {}
    base += {"finance": 0, "audit": -4, "expert": 3}[assignment.side.value]  # reviewers differ a little
    for c in assignment.round.rubric.criteria:
        value = min(c.weight, round(c.weight * (base + ((c.position + assignment.reviewer_id) % 3) * 3) / 100))
        scores[c.id] = (str(value), SCORE_TEXT.get(c.name, "总体符合要求。"))
    operations.save_review(assignment, actor=actor, version=assignment.lock_version, scores=scores, summary="报告总体符合要求，需按批注意见修改完善。",
                           comments=[("第二章", "抽样方法与样本量需说明依据。"), ("第8页", "支出数据与决算报表不一致。")],
                           submit=submit)


def _run_round(rnd, users, *, decision: str, base: int, opinion: str) -> None:
    for a in rnd.assignments:
        _review(a, a.reviewer, base=base)
    operations.propose(rnd, actor=rnd.lead, opinion=opinion, decision=decision)
    operations.endorse(rnd, actor=users["finance"] if rnd.lead != users["finance"] else users["finance2"])
    operations.endorse(rnd, actor=users["audit"])


OPINION_REVISE = ("## 合议意见\n\n评审组认为报告结构基本完整，但证据支撑不足，需修改后重新提交。\n\n"
                  "## 存在问题\n\n1. 抽样方法和样本量未作说明。\n2. 部分支出数据与决算数不一致。\n"
                  "3. 问题表述笼统，未列明涉及金额。\n\n## 修改要求\n\n请逐项修改并附修改说明。")
OPINION_ACCEPT = ("## 合议意见\n\n报告依据充分、程序规范、结论客观，问题与建议具体可行，同意通过。\n\n"
                  "## 存在问题\n\n1. 项目单位绩效目标细化不足。\n2. 预算执行进度滞后于序时进度。")
OPINION_REJECT = ("## 合议意见\n\n报告评价程序不完整，关键数据无法核实，结论缺乏依据，不予通过。\n\n"
                  "## 存在问题\n\n1. 未开展现场核查。\n2. 满意度调查样本不足。")


def seed(ctx: dict) -> None:
    orgs, users = ctx["orgs"], ctx["users"]
    finance, audit = users["finance"], users["audit"]
    agencies = [orgs[k] for k in ("agency1", "agency2", "agency3")]
    staff = {a.id: _agency_staff(ctx, k, a) for k, a in zip(("agency1", "agency2", "agency3"), agencies, strict=True)}
    for key, agency in zip(("agency1", "agency2", "agency3"), agencies, strict=True):
        operations.save_profile(agency, actor=finance, qualifications=QUALIFICATIONS[key], contact_person=staff[agency.id].display_name,
                                contact_phone=f"0571-8890{agencies.index(agency) + 1:04d}", address="临州市政务服务中心东侧")
    operations.default_rubric()
    projects = _demo_projects(ctx)
    evaluations = [e for e in (ctx.get("evaluations") or []) if e.mode == EvaluationMode.FINANCE]
    used = {e.project_id for e in evaluations}
    for project in projects:
        if len(evaluations) >= 8:
            break
        if project.id in used:
            continue
        evaluation = Evaluation(project=project, mode=EvaluationMode.FINANCE, year=project.year)
        db.session.add(evaluation)
        evaluations.append(evaluation)
    db.session.flush()
    evaluations = [e for e in evaluations if operations.report_for(e) is None][:8]
    years = {e.year for e in evaluations}
    for year in years:
        operations.set_pool(year, [a.id for a in agencies], actor=finance)
    reviewers = [finance.id, audit.id, users["expert"].id]
    stages = ["awaiting", "submitted", "open", "endorsing", "accepted", "rejected", "twice_revised", "revising"]
    for stage, evaluation in zip(stages, evaluations, strict=False):
        if evaluation.agency_id is None:
            operations.draw_agency(evaluation, actor=finance, pool_ids=[a.id for a in agencies],
                                   witnesses="周明（联席会议办公室）、刘芳（审计局）")
            report = operations.report_for(evaluation)
        else:
            report = operations.commission_report(evaluation, actor=finance)
        db.session.flush()
        if stage == "awaiting":
            continue
        agent = staff[report.agency_id]
        _upload(report, agent, 1)
        if stage == "submitted":
            continue
        rnd = operations.open_round(report, actor=finance, reviewer_ids=reviewers, lead_id=finance.id,
                                    deadline=clock.today() + timedelta(days=10))
        if stage == "open":
            mine = {a.reviewer_id: a for a in rnd.assignments}
            _review(mine[finance.id], finance, base=80, submit=True)
            operations.declare(mine[audit.id], actor=audit, conflict=None)
            continue
        if stage == "endorsing":
            for a in rnd.assignments:
                _review(a, a.reviewer, base=85)
            operations.propose(rnd, actor=finance, opinion=OPINION_ACCEPT, decision="accepted")
            operations.endorse(rnd, actor=finance)
            continue
        if stage == "accepted":
            _run_round(rnd, users, decision="accepted", base=90, opinion=OPINION_ACCEPT)
        elif stage == "rejected":
            _run_round(rnd, users, decision="rejected", base=52, opinion=OPINION_REJECT)
        elif stage == "revising":
            _run_round(rnd, users, decision="revise", base=70, opinion=OPINION_REVISE)
        elif stage == "twice_revised":
            _run_round(rnd, users, decision="revise", base=68, opinion=OPINION_REVISE)
            _upload(report, agent, 2)
            _run_round(report.current_round, users, decision="revise", base=78, opinion=OPINION_REVISE)
            _upload(report, agent, 3)
            _run_round(report.current_round, users, decision="accepted", base=88, opinion=OPINION_ACCEPT)
        db.session.flush()


def _upload(report: Report, agent: User, number: int) -> None:
    data = _report_docx(report.title, report.evaluation.project, number)
    operations.store_version_bytes(report, f"{report.title}-V{number}.docx", data, actor=agent,
                                   note="" if number == 1 else f"根据第{number - 1}轮合议意见修改。")


