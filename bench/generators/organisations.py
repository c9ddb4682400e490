"""Foundation data: the finance and audit bureaus, the congress committee, counties with their
departments (主管部门, under the county's finance bureau at province scale) and subordinate units
(下属单位), third-party agencies, and users.

Publishes: ctx.ids["departments"], ctx.ids["county_bureaus"] (province scale), ctx.ids["units"] (every budget unit, departments included),
ctx.ids["agencies"], ctx.data["org"] (id -> dict(name, code, county, sector, department_id)),
ctx.data["users"] (username -> id), ctx.data["area"] (the province or city name)."""
from __future__ import annotations

import hashlib

from bench.generate import BENCH_PASSWORD

ORDER = 0

# (sector key, department name, typical subordinate units)
DEPARTMENTS = [
    ("edu", "教育局", ["第一中学", "第二中学", "实验小学", "城关小学", "职业中等专业学校", "机关幼儿园", "教师发展中心",
                    "学生资助管理中心", "第三中学", "民族中学"]),
    ("health", "卫生健康委员会", ["人民医院", "中医医院", "妇幼保健院", "疾病预防控制中心", "卫生健康综合监督执法局",
                             "第二人民医院", "急救中心"]),
    ("housing", "住房和城乡建设局", ["棚户区改造服务中心", "住房保障服务中心", "建设工程质量安全监督站", "城市建设投资服务中心"]),
    ("agri", "农业农村局", ["农业技术推广中心", "动物疫病预防控制中心", "农村经营管理站", "农业综合执法大队", "种子管理站"]),
    ("transport", "交通运输局", ["公路事业发展中心", "交通运输综合行政执法大队", "农村公路管理所", "道路运输服务中心"]),
    ("civil", "民政局", ["社会福利院", "救助管理站", "殡葬管理所", "社会组织服务中心"]),
    ("hrss", "人力资源和社会保障局", ["就业服务中心", "社会保险事业中心", "劳动人事争议仲裁院", "技工学校"]),
    ("eco", "生态环境局", ["环境监测站", "生态环境保护综合行政执法大队", "固体废物管理中心"]),
    ("culture", "文化和旅游局", ["图书馆", "文化馆", "博物馆", "文物保护中心", "旅游服务中心"]),
    ("water", "水利局", ["水库管理中心", "水土保持监测站", "农村供水服务中心", "河道管理所"]),
    ("land", "自然资源和规划局", ["不动产登记中心", "土地储备中心", "测绘院", "林业技术推广站"]),
    ("emergency", "应急管理局", ["应急救援指挥中心", "安全生产监察执法大队"]),
    ("market", "市场监督管理局", ["食品药品检验检测中心", "计量检定测试所", "消费者权益保护中心"]),
    ("justice", "司法局", ["法律援助中心", "公证处", "社区矫正管理局"]),
    ("sci", "科学技术局", ["科技情报研究所", "生产力促进中心"]),
    ("industry", "工业和信息化局", ["中小企业服务中心", "大数据中心"]),
    ("veterans", "退役军人事务局", ["退役军人服务中心", "军供站"]),
    ("medical", "医疗保障局", ["医疗保障服务中心", "医疗保障基金监测中心"]),
    ("sports", "体育局", ["体育运动学校", "全民健身服务中心"]),
    ("city", "城市管理局", ["环境卫生管理所", "园林绿化服务中心", "市政设施维护中心", "城市管理综合执法大队"]),
    ("rural", "乡村振兴局", ["乡村振兴服务中心", "扶贫资产管理中心"]),
    ("dev", "发展和改革委员会", ["价格认证中心", "重点项目服务中心", "粮食和物资储备中心"]),
    ("stats", "统计局", ["普查中心", "社会经济调查队"]),
    ("commerce", "商务局", ["招商服务中心", "电子商务服务中心"]),
    ("forestry", "林业局", ["国有林场", "森林病虫害防治检疫站", "森林资源监测中心"]),
    ("disabled", "残疾人联合会", ["残疾人康复中心", "残疾人就业服务所"]),
    ("affairs", "机关事务服务中心", ["公务用车服务中心", "机关幼儿园"]),
    ("archive", "档案馆", ["档案数字化中心"]),
    ("police", "公安局", ["交通警察大队", "看守所", "出入境管理服务中心"]),
    ("court", "人民法院", ["执行局", "诉讼服务中心"]),
]

# generic offices any department may have, named "<department><office>"
GENERIC_UNITS = ["信息中心", "综合服务中心", "培训中心", "后勤服务中心", "综合行政执法大队", "监测中心", "档案管理中心",
                 "宣传教育中心", "财务核算中心", "政务服务中心"]

_COUNTY_FIRST = "清安平阳东西南北宁丰河山泉石云桃柳松兴永和德嘉新长临江湖川岭溪峰桥湾源潭"
_COUNTY_SECOND = "阳安平江山川源溪宁丰城乐化德昌兴泉州陵水林台原谷"
_COUNTY_SUFFIX = ["县", "县", "县", "市", "区"]

_AGENCY_FIRST = ["正衡", "华审", "中评", "信达", "天职", "立信", "瑞华", "致远", "中兴", "众和", "明德", "恒信",
                 "德勤", "永拓", "中联", "大信", "至诚", "公正", "诚信", "开元"]
_AGENCY_KIND = ["会计师事务所（特殊普通合伙）", "工程造价咨询有限公司", "绩效管理咨询有限公司", "资产评估有限公司",
                "税务师事务所有限公司"]

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
_GIVEN = "建华国强立新晓梅丽芳明伟静磊敏军洋勇艳杰娟涛超秀英红霞平刚桂兰玉文志斌鹏宇浩然雪琳佳欣"


def county_names(rng, count: int) -> list[str]:
    names: list[str] = []
    seen = set()
    while len(names) < count:
        stem = rng.choice(_COUNTY_FIRST) + rng.choice(_COUNTY_SECOND)
        if stem in seen or stem[0] == stem[1]:
            continue
        seen.add(stem)
        names.append(stem + rng.choice(_COUNTY_SUFFIX))
    return names


def password_hash_for(password: str, salt: str, iterations: int = 200_000) -> str:
    """A werkzeug-format PBKDF2 hash with a fixed salt, so the same seed gives the same rows."""
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations).hex()
    return f"pbkdf2:sha256:{iterations}${salt}${digest}"


def person_name(rng) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))


def generate(ctx, conn, scale) -> None:
    from portal.accounts.models import OrgKind, Role

    rng = ctx.rng("organisations")
    province = scale.counties > 1
    area = "江临省" if province else "临州市"
    ctx.data["area"] = area
    orgs: list[dict] = []
    info: dict[int, dict] = {}

    def add(name, short, kind, code, parent_id=None, **extra) -> int:
        oid = ctx.new_id("organisations")
        orgs.append({"id": oid, "name": name, "short_name": short[:60], "kind": kind.value, "code": code,
                     "parent_id": parent_id, "contact_person": "", "contact_phone": "", "is_active": True})
        info[oid] = {"name": name, "code": code, **extra}
        return oid

    bureau_suffix = ("财政厅", "审计厅") if province else ("财政局", "审计局")
    finance = add(area + bureau_suffix[0], bureau_suffix[0], OrgKind.FINANCE_BUREAU, "CZ")
    audit = add(area + bureau_suffix[1], bureau_suffix[1], OrgKind.AUDIT_BUREAU, "SJ")
    congress = add(area + "人大常委会预算工作委员会", "人大预工委", OrgKind.CONGRESS, "RD")

    counties = county_names(rng, scale.counties) if province else [area]
    departments, units = [], []
    taken: set[str] = set()
    county_bureaus = []
    for ci, county in enumerate(counties):
        # at province scale each county's departments sit under its finance bureau (县级财政局), the
        # subject the province's work assessment scores over them
        bureau = add(county + "财政局", "财政局", OrgKind.FINANCE_BUREAU, f"CZ{ci + 1:03d}", finance,
                     county=county) if province else None
        if bureau is not None:
            county_bureaus.append(bureau)
        picked = DEPARTMENTS[: scale.departments_per_county] if not province else \
            DEPARTMENTS[:10] + rng.sample(DEPARTMENTS[10:], max(0, scale.departments_per_county - 10))
        for di, (sector, dept_name, unit_names) in enumerate(picked):
            dcode = f"{ci + 1:03d}{di + 1:02d}"
            dept = add(county + dept_name, dept_name, OrgKind.BUDGET_UNIT, dcode, bureau, county=county,
                       sector=sector)
            info[dept]["department_id"] = dept
            departments.append(dept)
            units.append(dept)
            lo, hi = scale.units_per_department
            choices = unit_names + [dept_name + g for g in GENERIC_UNITS]
            n_units = min(len(choices), rng.randint(lo, hi))
            for ui, unit_name in enumerate(rng.sample(choices, n_units)):
                full = county + unit_name
                if full in taken:  # the same unit name under two departments
                    full = county + dept_name + unit_name
                taken.add(full)
                uid = add(full, unit_name, OrgKind.BUDGET_UNIT, f"{dcode}{ui + 1:02d}", dept,
                          county=county, sector=sector, department_id=dept)
                units.append(uid)

    agencies = []
    seen = set()
    while len(agencies) < scale.agencies:
        name = rng.choice(["江临", "临州", "华中", "中天", "北方", "东方"]) + rng.choice(_AGENCY_FIRST) + rng.choice(_AGENCY_KIND)
        if name in seen:
            continue
        seen.add(name)
        agencies.append(add(name, name[:8], OrgKind.AGENCY, f"AG{len(agencies) + 1:03d}"))

    ctx.insert(conn, "organisations", orgs)

    # users: the bureaus' staff, one liaison per department, one staff member per agency
    password_hash = password_hash_for(BENCH_PASSWORD, salt=f"bench{ctx.seed:08d}")  # one hash for every account
    users, roles = [], []
    usernames: dict[str, int] = {}

    def user(username, org_id, role_list, title=""):
        uid = ctx.new_id("users")
        usernames[username] = uid
        users.append({"id": uid, "username": username, "display_name": person_name(rng), "email": "", "phone": "",
                      "title": title, "password_hash": password_hash, "organisation_id": org_id,
                      "is_active": True, "failed_logins": 0, "locale": "zh"})
        roles.extend({"user_id": uid, "role": r.value} for r in role_list)

    user("admin", finance, [Role.ADMIN], "信息中心")
    user("finance", finance, [Role.FINANCE_OFFICER], "绩效管理处处长" if province else "绩效管理科科长")
    user("finance2", finance, [Role.FINANCE_OFFICER])
    user("signer", finance, [Role.SIGNER, Role.FINANCE_OFFICER], "副厅长" if province else "副局长")
    user("audit", audit, [Role.AUDIT_LIAISON])
    user("audit2", audit, [Role.AUDIT_LIAISON])
    user("auditsigner", audit, [Role.SIGNER, Role.AUDIT_LIAISON])
    user("conference", audit, [Role.CONFERENCE_MEMBER])
    user("congress", congress, [Role.OBSERVER])
    for i in range(5):
        user(f"expert{i + 1}", finance, [Role.EXPERT], "评审专家")
    for dept in departments:
        user(f"unit{info[dept]['code']}", dept, [Role.UNIT_LIAISON], "财务科科长")
    for agency in agencies:
        user(f"agency{info[agency]['code'][2:]}", agency, [Role.AGENCY_STAFF], "项目经理")
    ctx.insert(conn, "users", users)
    ctx.insert(conn, "user_roles", roles)

    ctx.ids.update(departments=departments, units=units, agencies=agencies, counties=list(range(len(counties))),
                   county_bureaus=county_bureaus)
    ctx.data.update(org=info, users=usernames, finance_bureau=finance, audit_bureau=audit, congress=congress,
                    county_names=counties)
