"""Indicator library (指标库): reusable indicators by sector and spending direction; Excel import;
a generator that builds a few hundred realistic demo indicators from templates."""
from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.core import parsing
from portal.core.audit import record_change
from portal.core.errors import DomainError
from portal.core.excel import read_rows
from portal.core.permissions import can
from portal.extensions import db
from portal.performance import operations
from portal.performance.models import LEVEL2_OF, Level2, LibraryIndicator, Operator, StandardSource

LIBRARY_COLUMNS = ["行业", "支出方向", "一级指标", "二级指标", "三级指标", "运算符号", "建议指标值", "度量单位",
                   "指标值确定依据"]

# sector, direction, subject (the thing delivered), its unit, typical quantity, unit cost (万元),
# benefit measure, benefit unit, benefit value, who is served
DIRECTIONS = [
    ("教育", "义务教育", "义务教育薄弱学校改造", "所", 12, 300, "受益学生人数", "人", 8000, "师生"),
    ("教育", "学生资助", "家庭经济困难学生资助", "人次", 3500, 0.25, "资助政策知晓率", "%", 95, "受助学生"),
    ("教育", "学前教育", "普惠性幼儿园建设", "所", 6, 400, "学前三年毛入园率", "%", 92, "幼儿家长"),
    ("教育", "职业教育", "职业技能实训基地建设", "个", 3, 500, "毕业生就业率", "%", 90, "学生"),
    ("教育", "教师队伍", "教师培训", "人次", 2000, 0.2, "参训教师教学能力提升率", "%", 85, "参训教师"),
    ("卫生健康", "公共卫生", "基本公共卫生服务", "万人", 86, 0.0089, "居民电子健康档案建档率", "%", 90, "居民"),
    ("卫生健康", "疾病防控", "适龄儿童免疫规划疫苗接种", "人次", 60000, 0.0015, "免疫规划疫苗接种率", "%", 95, "儿童家长"),
    ("卫生健康", "医疗服务", "县域医共体设备购置", "台（套）", 120, 8, "基层诊疗量占比", "%", 65, "患者"),
    ("卫生健康", "妇幼健康", "两癌免费筛查", "人", 20000, 0.02, "筛查早诊率", "%", 70, "受检妇女"),
    ("住房城乡建设", "棚户区改造", "棚户区改造开工", "套", 1200, 15, "改善居住条件户数", "户", 1200, "棚改居民"),
    ("住房城乡建设", "老旧小区改造", "老旧小区改造", "个", 35, 150, "受益居民户数", "户", 9000, "小区居民"),
    ("住房城乡建设", "保障性住房", "公共租赁住房保障", "户", 2500, 0.5, "保障对象应保尽保率", "%", 100, "保障对象"),
    ("住房城乡建设", "城市基础设施", "市政道路维修", "公里", 25, 80, "道路完好率", "%", 95, "市民"),
    ("住房城乡建设", "专项债券项目", "专项债券项目建设", "个", 8, 3000, "债券资金支出进度", "%", 90, "项目单位"),
    ("农业农村", "农村饮水安全", "农村饮水安全巩固提升工程", "处", 40, 50, "农村自来水普及率", "%", 95, "农村居民"),
    ("农业农村", "高标准农田", "高标准农田建设", "万亩", 5, 150, "亩均粮食产能提升", "公斤", 50, "种粮农户"),
    ("农业农村", "乡村振兴", "农村人居环境整治村", "个", 60, 30, "农村卫生厕所普及率", "%", 90, "村民"),
    ("农业农村", "农业技术推广", "农业技术培训", "人次", 5000, 0.05, "主推技术到位率", "%", 95, "农户"),
    ("农业农村", "动物防疫", "重大动物疫病强制免疫", "万头（只）", 300, 0.3, "免疫抗体合格率", "%", 70, "养殖户"),
    ("交通运输", "农村公路", "农村公路提质改造", "公里", 120, 60, "农村公路优良中等路率", "%", 85, "沿线群众"),
    ("交通运输", "公共交通", "新能源公交车购置", "辆", 80, 90, "公交分担率", "%", 30, "乘客"),
    ("交通运输", "公路养护", "干线公路养护", "公里", 400, 5, "路面技术状况指数", "分", 80, "通行群众"),
    ("民政", "社会救助", "城乡低保", "人", 18000, 0.6, "应保尽保率", "%", 100, "救助对象"),
    ("民政", "养老服务", "社区居家养老服务中心建设", "个", 30, 60, "养老服务覆盖率", "%", 90, "老年人"),
    ("民政", "儿童福利", "孤儿基本生活保障", "人", 400, 1.8, "保障金按时足额发放率", "%", 100, "监护人"),
    ("人力资源社会保障", "就业创业", "职业技能培训补贴", "人次", 12000, 0.15, "培训后就业率", "%", 75, "参训人员"),
    ("人力资源社会保障", "创业担保贷款", "创业担保贷款贴息", "人", 900, 1.2, "带动就业人数", "人", 2700, "创业者"),
    ("人力资源社会保障", "社会保险", "城乡居民基本养老保险补贴", "万人", 45, 0.02, "参保率", "%", 95, "参保居民"),
    ("生态环境", "大气污染防治", "大气污染防治项目", "个", 20, 100, "空气质量优良天数比例", "%", 88, "市民"),
    ("生态环境", "水污染防治", "黑臭水体整治", "条", 10, 400, "地表水考核断面达标率", "%", 100, "沿岸居民"),
    ("生态环境", "土壤污染防治", "受污染耕地安全利用", "万亩", 3, 100, "受污染耕地安全利用率", "%", 93, "农户"),
    ("文化和旅游", "公共文化服务", "送戏下乡演出", "场", 300, 1, "群众文化活动参与人次", "万人次", 30, "群众"),
    ("文化和旅游", "图书馆免费开放", "图书馆免费开放", "天", 300, 1, "年接待读者", "万人次", 60, "读者"),
    ("文化和旅游", "文物保护", "文物保护修缮", "处", 8, 80, "文物安全事故发生数", "起", 0, "游客"),
    ("水利", "水库除险加固", "小型水库除险加固", "座", 15, 200, "新增恢复蓄水能力", "万立方米", 300, "下游群众"),
    ("水利", "防汛抗旱", "山洪灾害防治", "处", 25, 40, "因灾死亡人数", "人", 0, "受保护群众"),
    ("水利", "河湖管护", "河道清淤疏浚", "公里", 60, 20, "河湖水面漂浮物清理率", "%", 100, "沿河居民"),
    ("通用", "信息化建设", "信息系统建设", "个", 2, 300, "系统正常运行率", "%", 99, "系统使用人员"),
    ("通用", "政府购买服务", "政府购买服务", "项", 10, 50, "服务合同履约率", "%", 100, "服务对象"),
    ("通用", "部门整体支出", "重点工作任务", "项", 20, 100, "重点工作完成率", "%", 100, "服务对象"),
]

STANDARD_SOURCE_BY_LEVEL2 = {
    Level2.QUANTITY: StandardSource.PLAN, Level2.QUALITY: StandardSource.INDUSTRY,
    Level2.TIMELINESS: StandardSource.PLAN, Level2.OUTPUT_COST: StandardSource.BUDGET,
    Level2.ECONOMIC: StandardSource.HISTORY, Level2.SOCIAL: StandardSource.HISTORY,
    Level2.ECOLOGICAL: StandardSource.INDUSTRY, Level2.SUSTAINABLE: StandardSource.PLAN,
    Level2.SERVICE_SATISFACTION: StandardSource.INDUSTRY,
}


def _num(value) -> str:
    return f"{value:g}"


def generate_library() -> list[dict]:
    """Indicators from templates: 8 per spending direction (quantity, quality, timeliness, cost,
    social benefit, sustainability, satisfaction, plus a second quantity-side measure)."""
    items = []
    for sector, direction, subject, unit, qty, cost, benefit, b_unit, b_value, served in DIRECTIONS:
        reverse_benefit = b_unit in ("起", "人") and b_value == 0
        rows = [
            (Level2.QUANTITY, f"{subject}数量", Operator.GE, _num(qty), unit),
            (Level2.QUANTITY, f"{subject}任务完成率", Operator.GE, "100", "%"),
            (Level2.QUALITY, f"{subject}验收合格率" if unit in ("所", "个", "处", "座", "公里", "套", "条")
             else f"{subject}资金发放准确率", Operator.GE, "100", "%"),
            (Level2.TIMELINESS, f"{subject}按期完成率", Operator.GE, "95", "%"),
            (Level2.OUTPUT_COST, f"{subject}单位成本", Operator.LE, _num(cost), f"万元/{unit.split('（')[0]}"),
            (Level2.SOCIAL, benefit, Operator.LE if reverse_benefit else Operator.GE, _num(b_value), b_unit),
            (Level2.SUSTAINABLE, f"{subject}长效管护机制", Operator.QUALITATIVE, "逐步健全", ""),
            (Level2.SERVICE_SATISFACTION, f"{served}满意度", Operator.GE, "90", "%"),
        ]
        for level2, name, op, value, u in rows:
            level1 = next(l1 for l1, l2s in LEVEL2_OF.items() if level2 in l2s)
            items.append(dict(sector=sector, direction=direction, level1=level1, level2=level2, name=name,
                              operator=op, suggested_value=value, unit=u[:20],
                              source=STANDARD_SOURCE_BY_LEVEL2.get(level2, StandardSource.PLAN)))
    return items


def seed_library() -> list[LibraryIndicator]:
    existing = set(db.session.execute(sa.select(LibraryIndicator.sector, LibraryIndicator.direction,
                                                LibraryIndicator.name)).all())
    added = [LibraryIndicator(**item) for item in generate_library()
             if (item["sector"], item["direction"], item["name"]) not in existing]
    db.session.add_all(added)
    db.session.flush()
    return added


@dataclass
class LibraryImport:
    errors: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    added: int = 0
    updated: int = 0


def _library_text_limits() -> dict[int, int]:
    from portal.performance.forms import LibraryItemForm

    return {0: 60, 1: parsing.text_limit(LibraryItemForm, "direction"), 4: parsing.text_limit(LibraryItemForm, "name"),
            6: parsing.text_limit(LibraryItemForm, "suggested_value"), 7: parsing.text_limit(LibraryItemForm, "unit")}


LIBRARY_TEXT_LIMITS = _library_text_limits()  # column → limit; 行业 (sector) is a 60-character column


def import_library(data: bytes, *, actor) -> LibraryImport:
    """All-or-nothing import of library rows (新增或按 行业+支出方向+三级指标 更新)."""
    if not can(actor, "edit", LibraryIndicator):
        raise DomainError(_("只有财政绩效管理人员可以维护指标库。"))
    from portal.performance.excel_io import LEVEL1S, LEVEL2S, OPERATORS, _s

    sources = {s.zh: s for s in StandardSource} | {s.zh.removesuffix("标准"): s for s in StandardSource}
    result = LibraryImport()
    rows = read_rows(data)
    header = next(rows, None)
    if header is None or [_s(v) for v in header[1][:len(LIBRARY_COLUMNS)]] != LIBRARY_COLUMNS:
        raise DomainError(_("表头与指标库模板不一致，请下载模板后填写。"))
    seen = set()
    for number, values in rows:
        values = tuple(values) + (None,) * (len(LIBRARY_COLUMNS) - len(values))
        if all(v is None for v in values[:len(LIBRARY_COLUMNS)]):
            continue
        sector, direction, name = _s(values[0]), _s(values[1]), _s(values[4])
        l1, l2, op = LEVEL1S.get(_s(values[2])), LEVEL2S.get(_s(values[3])), OPERATORS.get(_s(values[5]))
        source = sources.get(_s(values[8]) or "计划标准")
        problems = []
        if not sector:
            problems.append((0, _("请填写行业。")))
        if not name:
            problems.append((4, _("请填写三级指标名称。")))
        if l1 is None:
            problems.append((2, _("一级指标无效。")))
        if l2 is None or (l1 is not None and l2 not in LEVEL2_OF[l1]):
            problems.append((3, _("二级指标无效或不属于该一级指标。")))
        if op is None:
            problems.append((5, _("运算符号应为 ≥ ≤ = > < 或 定性。")))
        if source is None:
            problems.append((8, _("指标值确定依据应为计划标准、历史标准、行业标准、预算支出标准或其他。")))
        for col, limit in LIBRARY_TEXT_LIMITS.items():  # the item form's limits (the same columns)
            message = parsing.too_long(_s(values[col]), limit)
            if message:
                problems.append((col, message))
        if (sector, direction, name) in seen:
            problems.append((4, _("与文件中前面的行重复。")))
        seen.add((sector, direction, name))
        for col, message in problems:
            result.errors.append((number, LIBRARY_COLUMNS[col], message))
        result.rows.append(dict(sector=sector, direction=direction, level1=l1, level2=l2, name=name,
                                operator=op, suggested_value=_s(values[6]), unit=_s(values[7]), source=source))
    if result.errors:
        return result
    existing = {(i.sector, i.direction, i.name): i for i in db.session.scalars(sa.select(LibraryIndicator))}
    for row in result.rows:
        item = existing.get((row["sector"], row["direction"], row["name"]))
        if item is None:
            item = LibraryIndicator(**row)
            db.session.add(item)
            db.session.flush()
            record_change(actor, "library.add", item, after=_audit_values(item))
            result.added += 1
            continue
        before = _audit_values(item)
        for k, v in row.items():
            if getattr(item, k) != v:
                setattr(item, k, v)
        old, new = operations.changes(before, _audit_values(item))
        if new:
            record_change(actor, "library.update", item, before=old, after=new)
            result.updated += 1
    db.session.flush()
    return result


def _audit_values(item: LibraryIndicator) -> dict:
    return {k: str(getattr(getattr(item, k), "value", getattr(item, k))) for k in LIBRARY_FIELDS}


LIBRARY_FIELDS = ("sector", "direction", "level1", "level2", "name", "operator", "suggested_value", "unit", "source")


class LibraryImportRefused(DomainError):
    def __init__(self, result: LibraryImport):
        super().__init__(_("文件有错误，未导入任何数据。"))
        self.result = result


def import_library_file(upload, *, actor) -> LibraryImport:
    """The library page's import: every row checked, written only when the whole file is clean."""
    if not upload or not getattr(upload, "filename", ""):
        raise DomainError(_("请选择要导入的 Excel 文件。"), field="file")
    result = import_library(upload.read(), actor=actor)
    if result.errors:
        raise LibraryImportRefused(result)
    return result


def library_rows(items):
    for i in items:
        yield [i.sector, i.direction, i.level1.zh, i.level2.zh, i.name, i.operator.zh, i.suggested_value, i.unit,
               i.source.zh]
