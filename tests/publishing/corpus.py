"""A fixture corpus of published projects (shared by publishing and public-site tests).

Every unpublished or internal value carries MARKER so crawls can prove it never leaks."""
from __future__ import annotations

from decimal import Decimal
from itertools import count

from portal.accounts.models import OrgKind
from portal.core import clock
from portal.core.attachments import store_bytes
from portal.extensions import db
from portal.performance import models
from tests import factories

MARKER = "机密标记ZQX7"
_pdf = count(1)


def pdf_bytes() -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\n% " + str(next(_pdf)).encode() + b"\ntrailer<<>>\n%%EOF"


def add_goal(project, overall: str, indicators, *, state=models.GoalState.APPROVED, version=1, review_comment=""):
    goal = models.PerformanceGoal(project=project, version=version, state=state, overall_goal=overall,
                                  review_comment=review_comment or f"审核意见{MARKER}",
                                  approved_at=clock.now() if state == models.GoalState.APPROVED else None)
    for i, (name, op, value, unit, text) in enumerate(indicators):
        level1, level2 = (models.Level1.SATISFACTION, models.Level2.SERVICE_SATISFACTION) if "满意" in name else (
            models.Level1.OUTPUT, models.Level2.QUANTITY)
        goal.indicators.append(models.Indicator(position=i, level1=level1, level2=level2, name=name, operator=op,
                                                target_value=None if value is None else Decimal(value), unit=unit,
                                                target_text=text, weight=Decimal(10)))
    db.session.add(goal)
    db.session.flush()
    return goal


def add_evaluation(project, score, *, mode=models.EvaluationMode.FINANCE, agency=None, conclusion="", findings=(),
                   report_text=None, actor=None):
    from tests.factories import make_evaluation

    evaluation = make_evaluation(project, mode=mode, agency=agency, score=score, conclusion=conclusion,
                                 suggestions="加强资金管理。", completed_at=clock.now())
    for category, description, amount in findings:
        evaluation.findings.append(models.EvaluationFinding(category=category, description=description,
                                                            amount=None if amount is None else Decimal(amount),
                                                            suggestion="限期整改"))
    db.session.flush()
    if report_text is not None:
        attachment = store_bytes(f"{project.name}绩效评价报告.pdf", pdf_bytes(), actor=actor, record=evaluation,
                                 purpose="report")
        attachment.text = report_text
        db.session.flush()
    return evaluation


def build(world) -> dict:
    """Three departments, a dozen projects with goals and results, plus unpublishable material."""
    housing = factories.make_org(OrgKind.BUDGET_UNIT, "测试市住房和城乡建设局", code="D3",
                                 contact_person=f"联系人{MARKER}")
    housing_unit = factories.make_org(OrgKind.BUDGET_UNIT, "测试市棚户区改造服务中心", parent=housing, code="D301")
    edu, school = world.department, world.subunit
    health = world.other_department
    agency = world.agency_org
    p = {}

    def project(key, unit, name, budget, **kw):
        p[key] = factories.make_project(unit, name=name, budget=budget, description=kw.pop("description", ""), **kw)
        return p[key]

    q = models.Operator.GE
    project("shack", housing_unit, "城东片区棚户区改造项目", "68000000", budget_type=models.BudgetType.FUND,
            description="利用专项债券资金实施城东片区棚户区改造。")
    add_goal(p["shack"], "完成城东片区棚户区改造安置房建设，改善居民住房条件。",
             [("改造户数", q, "1200", "户", ""), ("居民满意度", q, "90", "%", "")])
    add_evaluation(p["shack"], 72.5, agency=agency, actor=world.finance,
                   conclusion="项目预算执行率低，安置房交付滞后。",
                   findings=[("资金管理", "专项债券资金闲置3200万元，预算执行率低。", "32000000")],
                   report_text="临州市城东片区棚户区改造项目绩效评价报告。第三方机构现场核查发现安置房交付率仅为百分之六十二。")
    add_evaluation(p["shack"], 88, mode=models.EvaluationMode.SELF, conclusion="基本完成年度目标。")

    project("oldtown", housing_unit, "老旧小区改造提升工程", "12000000")
    add_goal(p["oldtown"], "完成老旧小区改造42个，加装电梯60部。", [("加装电梯数量", q, "60", "部", "")])
    add_evaluation(p["oldtown"], 91, agency=agency, conclusion="目标全面完成，群众满意度高。")

    project("canteen", school, "学校食堂改造项目", "3500000")
    add_goal(p["canteen"], "改造学校食堂3处，保障食品安全。", [("改造食堂数量", q, "3", "处", "")])
    add_evaluation(p["canteen"], 84, mode=models.EvaluationMode.SELF, conclusion="食堂改造按期完成。")

    project("teachers", edu, "乡村教师培训计划", "2600000", kind=models.ProjectKind.POLICY)
    add_goal(p["teachers"], "培训乡村教师1500人次，提升义务教育质量。", [("培训人次", q, "1500", "人次", "")])
    add_evaluation(p["teachers"], 58, agency=agency, conclusion="培训覆盖不足，满意度偏低。",
                   findings=[("项目管理", "培训课程与需求脱节，参训率不足百分之五十。", None)],
                   report_text="乡村教师培训计划评价报告：问卷调查显示教师满意度为百分之六十八。")

    project("vaccine", world.other_department, "免疫规划疫苗接种项目", "9800000")
    add_goal(p["vaccine"], "适龄儿童免疫规划疫苗接种率保持在95%以上。", [("疫苗接种率", q, "95", "%", "")])
    add_evaluation(p["vaccine"], 93.5, agency=agency, conclusion="接种率达到98.2%，绩效优良。")

    project("hospital", health, "基层医疗卫生机构能力提升", "15000000", budget_type=models.BudgetType.GENERAL)
    add_goal(p["hospital"], "为乡镇卫生院配置DR设备20台。", [("设备配置数量", q, "20", "台", "")])
    add_evaluation(p["hospital"], 81, agency=agency, conclusion="设备到位率100%，但使用率不高。",
                   findings=[("资产管理", "部分设备闲置，使用率低于百分之三十。", "1800000")])

    project("sewage", housing_unit, "城区污水处理提质增效工程", "42000000", budget_type=models.BudgetType.FUND)
    add_goal(p["sewage"], "新建污水管网35公里。", [("新建管网长度", q, "35", "公里", "")])
    add_evaluation(p["sewage"], 76, agency=agency, conclusion="管网建设进度滞后，整改率有待提高。")

    project("library", school, "校园图书馆数字化建设", "800000")
    add_goal(p["library"], "完成数字图书馆平台建设。", [("平台上线时间", models.Operator.LE, "10", "月", "")])

    # Unpublishable: a draft goal, an unfinished evaluation, an internal review comment, a project
    # with no approved goal, and a draft project name.
    project("secret", school, f"草稿项目{MARKER}", "500000")
    add_goal(p["secret"], f"草稿目标{MARKER}", [("草稿指标", q, "1", "个", "")], state=models.GoalState.DRAFT)
    add_goal(p["canteen"], f"修订中的目标{MARKER}", [("新指标", q, "5", "处", "")], state=models.GoalState.SUBMITTED,
             version=2)
    from tests.factories import make_evaluation

    make_evaluation(p["vaccine"], mode=models.EvaluationMode.SELF, conclusion=f"未完成的自评{MARKER}")
    draft_eval = make_evaluation(p["oldtown"], mode=models.EvaluationMode.SELF, conclusion=f"评价草稿{MARKER}")
    store_bytes(f"内部底稿{MARKER}.pdf", pdf_bytes(), actor=world.finance, record=draft_eval).text = f"底稿{MARKER}"
    db.session.flush()
    return {"projects": p, "housing": housing, "housing_unit": housing_unit, "agency": agency}
