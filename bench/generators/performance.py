"""Performance core: projects over several years, one goal per project with its indicator table,
an evaluation per project (self / department / finance) with its findings.

Publishes: ctx.ids["projects"], ctx.ids["evaluations"] (completed ones), ctx.data["project"]
(id -> (name, year, unit_id, department_id, annual_budget)), ctx.data["evaluation"]
(id -> (project_id, mode, score, grade, agency_id)), ctx.data["findings"] (list of
(finding_id, evaluation_id, category, amount))."""
from __future__ import annotations

import math
from datetime import datetime, timedelta
from decimal import Decimal

ORDER = 100

# sector -> project topics (project names are "<county><year>年度<topic>")
TOPICS = {
    "edu": ["义务教育学校改善办学条件项目", "学生资助补助经费", "农村义务教育学生营养改善计划", "教师培训专项经费",
            "学前教育发展资金", "普通高中免学费补助资金", "义务教育薄弱环节改善与能力提升项目"],
    "health": ["基本公共卫生服务补助资金", "医疗服务能力提升项目", "重大传染病防控经费", "家庭医生签约服务补助",
               "基层医疗卫生机构标准化建设项目", "计划生育家庭奖励扶助资金"],
    "housing": ["城镇棚户区改造项目", "城镇老旧小区改造工程", "保障性租赁住房建设项目", "城市排水防涝设施建设",
                "农村危房改造补助资金", "棚户区改造专项债券项目"],
    "agri": ["高标准农田建设项目", "农村人居环境整治提升项目", "耕地地力保护补贴", "动物防疫补助经费",
             "农业产业发展资金", "农机购置与应用补贴"],
    "transport": ["农村公路建设养护项目", "城乡公交运营补贴", "危桥改造工程", "国省干线公路大中修工程"],
    "civil": ["城乡最低生活保障资金", "特困人员救助供养资金", "养老服务体系建设项目", "困难残疾人生活补贴"],
    "hrss": ["就业补助资金", "职业技能提升行动专项资金", "城乡居民基本养老保险补助", "创业担保贷款贴息"],
    "eco": ["大气污染防治资金", "农村生活污水治理项目", "土壤污染防治专项资金", "重点流域水环境综合治理"],
    "culture": ["公共文化服务体系建设资金", "非物质文化遗产保护项目", "全域旅游发展专项资金", "文物保护修缮工程"],
    "water": ["农村饮水安全巩固提升工程", "中小河流治理项目", "小型水库除险加固工程", "水土保持综合治理项目"],
    "land": ["国土空间规划编制项目", "地质灾害防治资金", "耕地保护与占补平衡项目"],
    "emergency": ["应急物资储备项目", "森林防灭火能力建设", "安全生产专项整治经费"],
    "market": ["食品安全抽检监测经费", "特种设备安全监察经费", "知识产权保护专项资金"],
    "city": ["城市园林绿化养护项目", "城市道路照明维护经费", "生活垃圾分类处理项目", "市政设施维修改造工程"],
    "rural": ["衔接推进乡村振兴补助资金", "脱贫人口小额信贷贴息", "以工代赈项目"],
    "dev": ["地方政府专项债券项目前期工作经费", "粮食储备费用补贴", "重点项目前期工作经费"],
    "medical": ["城乡居民基本医疗保险补助", "医疗救助资金"],
    "forestry": ["国土绿化造林项目", "天然林保护修复资金", "林业有害生物防治经费"],
}
GENERIC_TOPICS = ["信息化建设运维项目", "专项业务工作经费", "办公设备购置项目", "地方政府专项债券项目",
                  "政府购买服务项目", "宣传培训专项经费"]
FUND_WORDS = ("棚户区", "专项债券", "保障性", "土地")
SOCIAL_WORDS = ("养老保险", "医疗保险", "医疗救助")

# (level1, level2, name, operator, unit, low, high) — numbers drawn between low and high;
# a qualitative indicator has operator "qualitative" and its target text in `unit`'s place.
QUANTITY = {
    "edu": [("资助学生人数", "人", 200, 20000), ("改造校舍面积", "平方米", 500, 30000), ("培训教师人次", "人次", 50, 3000)],
    "health": [("建立居民电子健康档案人数", "人", 5000, 500000), ("65岁及以上老年人健康管理人数", "人", 1000, 80000),
               ("家庭医生签约人数", "人", 2000, 200000)],
    "housing": [("棚户区改造套数", "套", 50, 5000), ("老旧小区改造户数", "户", 100, 8000),
                ("新建排水管网长度", "公里", 1, 120)],
    "agri": [("建设高标准农田面积", "亩", 1000, 100000), ("培训农民人次", "人次", 100, 10000)],
    "transport": [("新改建农村公路里程", "公里", 5, 400), ("改造危桥数量", "座", 1, 60)],
    "civil": [("保障低保对象人数", "人", 500, 60000), ("新增养老床位数", "张", 20, 2000)],
    "hrss": [("城镇新增就业人数", "人", 500, 30000), ("开展职业技能培训人次", "人次", 200, 20000)],
    "eco": [("完成污水治理村庄数", "个", 5, 300), ("淘汰燃煤小锅炉数量", "台", 5, 500)],
    "water": [("农村饮水安全受益人口", "人", 1000, 300000), ("治理河道长度", "公里", 2, 150)],
}
GENERIC_QUANTITY = [("完成项目数量", "个", 1, 80), ("服务覆盖人数", "人", 100, 100000), ("购置设备数量", "台（套）", 5, 2000),
                    ("开展宣传培训次数", "次", 2, 200)]
OTHER_INDICATORS = [
    ("output", "quality", "验收合格率", "ge", "%", 95, 100),
    ("output", "quality", "资金使用合规率", "eq", "%", 100, 100),
    ("output", "quality", "工程质量达标率", "ge", "%", 90, 100),
    ("output", "timeliness", "按期完成率", "ge", "%", 90, 100),
    ("output", "timeliness", "资金拨付及时率", "ge", "%", 90, 100),
    ("output", "timeliness", "项目完成时间", "qualitative", "年底前完成", 0, 0),
    ("output", "output_cost", "项目总成本", "le", "万元", 50, 20000),
    ("output", "output_cost", "单位建设成本", "le", "元/平方米", 800, 4000),
    ("benefit", "economic", "带动就业人数", "ge", "人", 10, 3000),
    ("benefit", "economic", "带动群众增收", "ge", "万元", 10, 5000),
    ("benefit", "social", "群众生活条件改善情况", "qualitative", "有效改善", 0, 0),
    ("benefit", "social", "政策知晓率", "ge", "%", 80, 98),
    ("benefit", "social", "公共服务均等化水平", "qualitative", "明显提升", 0, 0),
    ("benefit", "ecological", "主要污染物减排量", "ge", "吨", 10, 5000),
    ("benefit", "ecological", "森林覆盖率", "ge", "%", 30, 70),
    ("benefit", "sustainable", "长效管护机制", "qualitative", "健全", 0, 0),
    ("benefit", "sustainable", "设施正常使用年限", "ge", "年", 5, 30),
    ("cost", "economic_cost", "项目预算控制数", "le", "万元", 50, 20000),
]
SATISFACTION = [("受益群众满意度", "ge", "%", 85, 95), ("服务对象满意度", "ge", "%", 85, 95),
                ("学生及家长满意度", "ge", "%", 85, 95)]

FINDING_CATEGORIES = [
    ("绩效目标设置不合理", "绩效目标设置不够细化量化，部分指标与项目实际内容关联度不高，{x}项指标无法衡量。"),
    ("预算编制不科学", "预算编制依据不充分，年初预算与实际需求差异较大，年中追加调整资金{amount}万元。"),
    ("资金使用不规范", "部分资金未按规定用途使用，存在挤占挪用项目资金{amount}万元的情况。"),
    ("预算执行进度缓慢", "截至年底预算执行率仅为{rate}%，资金沉淀{amount}万元，未能按序时进度支出。"),
    ("项目管理不到位", "项目实施方案不完善，过程管理资料缺失，{x}个子项目未按期完成验收。"),
    ("政府采购不规范", "部分采购事项未按规定履行政府采购程序，涉及金额{amount}万元。"),
    ("资产管理不规范", "项目形成的资产未及时登记入账，涉及资产{amount}万元，存在账实不符问题。"),
    ("绩效自评不真实", "单位自评得分明显偏高，自评报告未如实反映项目存在的问题。"),
    ("配套资金未落实", "地方配套资金未按承诺足额到位，缺口{amount}万元，影响项目整体进度。"),
]
SUGGESTIONS = [
    "进一步细化量化绩效目标，提高指标的可衡量性。",
    "加快预算执行进度，盘活存量资金，提高资金使用效益。",
    "健全项目管理制度，加强过程监督和资料归档。",
    "严格执行政府采购和资产管理规定，及时办理资产入账。",
    "强化绩效结果应用，将评价结果与下年度预算安排挂钩。",
    "建立问题整改台账，明确整改时限和责任人，做到清零销号。",
]
GOAL_TEMPLATES = [
    "通过实施{topic}，完成年度建设任务，资金使用规范高效，项目按期完成验收，受益群众满意度达到90%以上。",
    "保障{topic}顺利实施，提升公共服务水平，确保资金及时足额拨付到位，政策目标全面实现。",
    "围绕{topic}年度任务，加强资金管理和绩效监控，确保各项产出指标按期完成，社会效益明显提升。",
]


def _money(rng, low=5e4, high=3e8) -> Decimal:
    value = math.exp(rng.uniform(math.log(low), math.log(high)))
    return Decimal(int(value / 100) * 100)


def _weights(total: int, n: int) -> list[Decimal]:
    """Split `total` points over n indicators in whole 0.5 steps, summing exactly to total."""
    if n == 0:
        return []
    base = Decimal(total * 2 // n) / 2
    weights = [base] * n
    weights[0] += Decimal(total) - base * n
    return weights


def generate(ctx, conn, scale) -> None:
    from portal.performance.models import Grade

    rng = ctx.rng("performance")
    org = ctx.data["org"]
    units = ctx.ids["units"]
    agencies = ctx.ids["agencies"]
    years = scale.years
    latest = max(years)

    # ---- projects -------------------------------------------------------------------------
    projects = []
    project_info: dict[int, tuple] = {}
    seq: dict[tuple, int] = {}
    for i in range(scale.projects):
        year = years[i % len(years)]
        unit_id = units[rng.randrange(len(units))]
        unit = org[unit_id]
        dept = org[unit["department_id"]]
        topic = rng.choice(TOPICS.get(unit["sector"], GENERIC_TOPICS) + GENERIC_TOPICS[:2])
        key = (dept["code"], year)
        seq[key] = seq.get(key, 0) + 1
        code = f"{dept['code']}-{year}-{seq[key]:04d}"
        name = f"{unit['county']}{unit['name'].removeprefix(unit['county'])}{year}年度{topic}"
        budget_type = ("fund" if any(w in topic for w in FUND_WORDS)
                       else "social_insurance" if any(w in topic for w in SOCIAL_WORDS)
                       else "state_capital" if rng.random() < 0.02 else "general")
        kind = "policy" if ("补助" in topic or "补贴" in topic) and rng.random() < 0.6 else "project"
        initial = _money(rng)
        annual = (initial * Decimal(rng.choice((90, 95, 100, 100, 100, 105, 110, 120))) / 100).quantize(Decimal("1"))
        rate = Decimal(rng.choice((55, 70, 80, 88, 92, 95, 97, 99, 100, 100))) if year < latest else \
            Decimal(rng.randint(30, 75))
        executed = (annual * rate / 100).quantize(Decimal("1"))
        stopped = year < latest and rng.random() < 0.005
        pid = ctx.new_id("projects")
        created = datetime(year - 1, rng.randint(9, 12), rng.randint(1, 28), 9, 0)
        projects.append((pid, code, name, year, kind, budget_type, unit_id, unit["department_id"], initial, annual,
                         executed, "stopped" if stopped else "active",
                         "绩效监控预警后经批准终止实施，收回资金统筹使用。" if stopped else "",
                         f"{topic}，由{unit['name']}负责实施。", created, created))
        project_info[pid] = (name, year, unit_id, unit["department_id"], annual, topic, unit["sector"])
    ctx.insert(conn, "projects", projects, columns=[
        "id", "code", "name", "year", "kind", "budget_type", "unit_id", "department_id", "initial_budget",
        "annual_budget", "executed", "status", "stop_reason", "description", "created_at", "updated_at"])

    # ---- goals and indicators -------------------------------------------------------------
    goals = []
    goal_of: dict[int, int] = {}
    for pid, (_name, year, _u, _d, _b, topic, _s) in project_info.items():
        gid = ctx.new_id("performance_goals")
        goal_of[pid] = gid
        submitted = datetime(year - 1, 10, rng.randint(1, 28), 10, 0)
        if year < latest or rng.random() < 0.8:
            state, grade = "approved", rng.choice(("excellent", "excellent", "good", "good", "good", "fair"))
            approved = submitted + timedelta(days=rng.randint(20, 60))
        else:
            state, grade, approved = rng.choice(("submitted", "returned", "draft")), None, None
        goals.append((gid, pid, 1, state, rng.choice(GOAL_TEMPLATES).format(topic=topic), grade,
                       "目标设置基本合理，部分指标需进一步细化。" if grade == "fair" else "", "",
                       submitted if state != "draft" else None, approved, submitted, approved or submitted))
    ctx.insert(conn, "performance_goals", goals, columns=[
        "id", "project_id", "version", "state", "overall_goal", "review_grade",
        "review_comment", "change_reason", "submitted_at", "approved_at", "created_at", "updated_at"])

    lo, hi = scale.indicators_per_goal
    total_indicators = len(goals) * (lo + hi) // 2

    def indicator_rows():
        irng = ctx.rng("indicators")
        for pid, (_name, _year, _u, _d, _b, _topic, sector) in project_info.items():
            gid = goal_of[pid]
            n = irng.randint(lo, hi)
            n_sat = 1
            n_other = max(2, (n - n_sat) // 2)
            n_qty = max(1, n - n_sat - n_other)
            quantity = QUANTITY.get(sector, GENERIC_QUANTITY)
            pool = quantity + [q for q in GENERIC_QUANTITY if q not in quantity]
            picked = [("output", "quantity", *q) for q in irng.sample(pool, min(n_qty, len(pool)))]
            others = irng.sample(OTHER_INDICATORS, n_other)
            if not any(o[0] == "benefit" for o in others):
                others[-1] = OTHER_INDICATORS[10]
            picked += sorted(others, key=lambda o: ("output", "benefit", "cost").index(o[0]))
            sat = irng.choice(SATISFACTION)
            picked.append(("satisfaction", "service_satisfaction", sat[0], sat[2], sat[3], sat[4]))
            # default weights: output 50, benefit 30, satisfaction 10 (execution rate 10 is not a row)
            out = [p for p in picked if p[0] in ("output", "cost")]
            ben = [p for p in picked if p[0] == "benefit"]
            weights = dict(zip(map(id, out), _weights(50, len(out)), strict=True))
            weights.update(zip(map(id, ben), _weights(30, len(ben)), strict=True))
            for position, item in enumerate(picked):
                if item[0] == "satisfaction":
                    level1, level2, name, operator, unit, low, high = item[0], item[1], item[2], "ge", item[3], item[4], item[5]
                else:
                    level1, level2, name, *rest = item
                    if len(rest) == 3:  # quantity rows: (name, unit, low, high)
                        operator, (unit, low, high) = "ge", rest
                    else:
                        operator, unit, low, high = rest
                if operator == "qualitative":
                    value, text, unit = None, unit, ""
                else:
                    value = Decimal(irng.randint(int(low), int(high))) if high > low else Decimal(int(low))
                    text = ""
                weight = Decimal(10) if level1 == "satisfaction" else weights[id(item)]
                yield (ctx.new_id("indicators"), gid, position, level1, level2, name, operator, value, text, unit,
                       weight)

    ctx.insert(conn, "indicators", indicator_rows(), total=total_indicators, columns=[
        "id", "goal_id", "position", "level1", "level2", "name", "operator", "target_value", "target_text", "unit",
        "weight"])

    # ---- evaluations and findings ---------------------------------------------------------
    erng = ctx.rng("evaluations")
    evaluations, findings = [], []
    evaluation_info: dict[int, tuple] = {}
    finding_info = []
    for pid, (name, year, _u, _d, budget, _topic, _s) in project_info.items():
        if erng.random() >= scale.evaluated_share:
            continue
        roll = erng.random()
        mode = "finance" if roll < 0.03 else "department" if roll < 0.12 else "self"
        agency = agencies[erng.randrange(len(agencies))] if mode == "finance" and agencies and erng.random() < 0.8 else None
        completed = year < latest or erng.random() < 0.7
        eid = ctx.new_id("evaluations")
        if completed:
            score = Decimal(str(round(min(100.0, max(35.0, erng.gauss(84, 8))), 2))).quantize(Decimal("0.01"))
            grade = Grade.for_score(score)
            conclusion = f"经综合评价，{name}得分{score}分，绩效等级为“{grade.zh}”。"
            done_at = datetime(year + 1, erng.randint(3, 9), erng.randint(1, 28), 15, 0)
            state = "completed"
        else:
            score, grade, conclusion, done_at, state = None, None, "", None, "draft"
        suggestion = "".join(erng.sample(SUGGESTIONS, 2))
        created = datetime(year + 1, 2, erng.randint(1, 28), 9, 0)
        evaluations.append((eid, pid, mode, year, state, agency, score, grade.value if grade else None, conclusion,
                            suggestion, done_at, created, done_at or created))
        if completed:
            evaluation_info[eid] = (pid, mode, score, grade.value, agency)
            expected = scale.findings_per_evaluation * (2.0 if score < 80 else 0.8)
            count = min(5, int(erng.expovariate(1 / expected) + 0.5)) if expected > 0 else 0
            for _ in range(count):
                category, template = erng.choice(FINDING_CATEGORIES)
                amount = (budget * Decimal(erng.randint(1, 30)) / 100).quantize(Decimal("0.01")) \
                    if "{amount}" in template else None
                description = template.format(x=erng.randint(1, 6), rate=erng.randint(30, 75),
                                              amount=f"{(amount or 0) / 10000:.2f}")
                fid = ctx.new_id("evaluation_findings")
                findings.append((fid, eid, category, description, amount, erng.choice(SUGGESTIONS)))
                finding_info.append((fid, eid, category, amount))
    ctx.insert(conn, "evaluations", evaluations, columns=[
        "id", "project_id", "mode", "year", "state", "agency_id", "score", "grade", "conclusion", "suggestions",
        "completed_at", "created_at", "updated_at"])
    ctx.insert(conn, "evaluation_findings", findings, columns=[
        "id", "evaluation_id", "category", "description", "amount", "suggestion"])

    ctx.ids["projects"] = list(project_info)
    ctx.ids["evaluations"] = list(evaluation_info)
    ctx.data.update(project=project_info, evaluation=evaluation_info, findings=finding_info, goal_of=goal_of)
