"""Demo data (order 150): the 2027 budget's ex-ante assessments in 临州市, in every state — a
draft, one awaiting assessment, one with the expert, one sent back 调整后支持 and being revised,
one supported after revision, supported ones, three not supported (建议取消) and a withdrawn
one — by finance, by the expert and by a drawn agency. The city's rule comes into force with the
2027 budget (from_year), so the 2025–2026 demo projects are not held up. The year's figures
(事前绩效评估情况) are published on the public site by the publishing demo. Deterministic."""
from __future__ import annotations

from decimal import Decimal

from portal.assessments import operations
from portal.assessments.models import DIMENSIONS, Method
from portal.extensions import db
from portal.performance.models import BudgetType, Project, ProjectKind
from portal.reviews.operations import draw_result, set_pool

YEAR = 2027
# (department key, project, 万元, kind, plan)
PLANS = [
    ("edu", "临州市智慧校园建设项目", 1800, ProjectKind.PROJECT, "revising"),
    ("edu", "临州市学前教育扩容提质项目", 2600, ProjectKind.PROJECT, "adjusted_supported"),
    ("edu", "临州市中小学课后服务补助政策", 900, ProjectKind.POLICY, "draft"),
    ("health", "临州市基层医疗机构能力提升项目", 3200, ProjectKind.PROJECT, "supported"),
    ("health", "临州市智慧医疗信息平台项目", 1500, ProjectKind.PROJECT, "rejected"),
    ("housing", "临州市老旧小区改造提升项目", 4800, ProjectKind.PROJECT, "supported"),
    ("housing", "临州市城市景观亮化工程", 2200, ProjectKind.PROJECT, "rejected"),
    ("agri", "临州市高标准农田建设项目", 3600, ProjectKind.PROJECT, "supported_agency"),
    ("transport", "临州市农村公路提档升级项目", 2800, ProjectKind.PROJECT, "assessing"),
    ("civil", "临州市居家养老服务补贴政策", 1200, ProjectKind.POLICY, "supported"),
    ("culture", "临州市文旅节庆活动补助项目", 800, ProjectKind.PROJECT, "rejected"),
    ("eco", "临州市河道生态修复项目", 2100, ProjectKind.PROJECT, "submitted"),
    ("water", "临州市小型水库除险加固项目", 1600, ProjectKind.PROJECT, "supported"),
    ("hrss", "临州市创业孵化基地建设项目", 700, ProjectKind.PROJECT, "withdrawn"),
]
FRACTION = {"supported": Decimal("0.88"), "supported_agency": Decimal("0.91"), "adjust": Decimal("0.72"),
            "rejected": Decimal("0.52")}


def _application(name: str, amount: Decimal) -> operations.Application:
    return operations.Application(
        basis=f"依据《临州市国民经济和社会发展第十四个五年规划纲要》及市委、市政府相关部署，{name}为新增项目。",
        plan="2027年1月启动，分三个阶段实施：前期准备（1—3月）、组织实施（4—10月）、验收评估（11—12月）。",
        costing=f"按现行支出标准和市场询价测算，共需资金{(amount / 10000).normalize():f}万元，全部申请市级财政安排。",
        overall_goal=f"完成{name}建设任务，资金使用规范高效，服务对象满意度不低于90%。",
        requested_amount=amount,
        indicators=[{"level1": "output", "name": "完成建设任务数量", "target": "≥10个", "weight": "30"},
                    {"level1": "output", "name": "验收合格率", "target": "100%", "weight": "20"},
                    {"level1": "benefit", "name": "受益群众人数", "target": "≥5000人", "weight": "30"},
                    {"level1": "satisfaction", "name": "服务对象满意度", "target": "≥90%", "weight": "10"}])


def _score(rnd, fraction: Decimal, actor) -> None:
    for sheet in rnd.sheets:
        weights = {d.id: d.weight for d in operations.dimensions(rnd.rule_set)}
        scores = {d: str((weights[d] * fraction).quantize(Decimal("0.01"))) for d in DIMENSIONS}
        operations.save_sheet(sheet, actor=actor, version=sheet.lock_version, scores=scores, submit=True,
                              comment="立项依据较充分；资金测算需进一步细化，绩效指标应量化。")


def seed(ctx: dict) -> None:
    orgs, users = ctx["orgs"], ctx["users"]
    finance, expert, admin = users["finance"], users["expert"], users["admin"]
    operations.update_rules({"threshold": "5000000", "from_year": str(YEAR), "support_from": "80", "adjust_from": "60",
                             **{f"w_{d}": str(w) for d, w in operations.assessment_rules.DEFAULT_WEIGHTS.items()}},
                     actor=admin, version=0)
    agencies = [orgs["agency1"], orgs["agency2"], orgs["agency3"]]
    set_pool(YEAR, [a.id for a in agencies], actor=finance)
    pool = sorted(a.id for a in agencies)
    seed = next(f"lz-{YEAR}-{n}" for n in range(100) if draw_result(f"lz-{YEAR}-{n}", pool) == orgs["agency1"].id)
    unit_of = {"edu": users["unit"], "housing": users["unit3"]}
    for serial, (key, name, wan, kind, plan) in enumerate(PLANS, start=1):
        dept = orgs[key]
        amount = Decimal(wan) * 10000
        project = Project(code=f"{YEAR}{dept.code}X{serial:03d}", name=name, year=YEAR, kind=kind,
                          budget_type=BudgetType.GENERAL, unit=dept, department=dept, initial_budget=amount,
                          annual_budget=amount, executed=Decimal(0), description=f"{dept.name}申报的新增项目（演示数据）。")
        db.session.add(project)
        db.session.flush()
        applicant = unit_of.get(key, finance)
        assessment = operations.apply_for(project, _application(name, amount), actor=applicant)
        if plan == "draft":
            continue
        operations.submit(assessment, actor=applicant)
        if plan == "submitted":
            continue
        if plan == "withdrawn":
            operations.withdraw(assessment, actor=applicant, comment="项目纳入上级专项资金支持，不再申请市级预算。")
            continue
        if plan == "supported_agency":
            rnd = operations.arrange(assessment, actor=finance, method=Method.AGENCY, pool_ids=pool, seed=seed,
                                     witnesses="周明（联席会议办公室）、刘芳（审计局）")
            _score(rnd, FRACTION[plan], users["agency"])
        elif plan == "assessing":
            operations.arrange(assessment, actor=finance, method=Method.EXPERTS, assessor_ids=[expert.id])
            continue
        else:
            method = Method.EXPERTS if plan in ("revising", "adjusted_supported") else Method.FINANCE
            rnd = operations.arrange(assessment, actor=finance, method=method, assessor_ids=[expert.id])
            _score(rnd, FRACTION["adjust"] if plan in ("revising", "adjusted_supported") else FRACTION[plan],
                   expert if method == Method.EXPERTS else finance)
        share = {"rejected": Decimal(0), "revising": Decimal("0.7"), "adjusted_supported": Decimal("0.7")}
        recommended = (amount * share.get(plan, Decimal("0.9"))).quantize(Decimal("0.01"))
        operations.conclude(assessment, actor=finance, recommended_amount=recommended if recommended else None,
                            opinion="经评估，" + {"rejected": "项目立项必要性不足，绩效目标不明确，建议不予安排。",
                                          "revising": "项目总体可行，建议压缩建设规模、细化绩效指标后支持。",
                                          "adjusted_supported": "项目总体可行，建议压缩建设规模、细化绩效指标后支持。"}
                     .get(plan, "项目立项依据充分，实施方案可行，予以支持。"))
        if plan == "adjusted_supported":
            data = _application(name, recommended)
            data.costing = f"按评估意见压缩建设规模，调整后申请{(recommended / 10000).normalize():f}万元。"
            operations.update_application(assessment, data, actor=applicant, version=assessment.lock_version)
            operations.submit(assessment, actor=applicant)
            rnd = operations.arrange(assessment, actor=finance, method=Method.FINANCE)
            _score(rnd, FRACTION["supported"], finance)
            operations.conclude(assessment, actor=finance, recommended_amount=recommended,
                                opinion="修改后的方案压缩了规模、细化了指标，予以支持。")
    ctx["assessment_year"] = YEAR
    ctx.setdefault("year_figures", {})["ex_ante"] = YEAR  # 事前绩效评估情况: published by the publishing demo
