"""Demo data for 临州市 (a fictional city). Every name here is invented and labelled as demo.

Modules add their own seeders with `register_seeder(name, run, order=...)`; each gets a
shared `ctx` dict (organisations and users by key) so later seeders build on earlier ones."""
from __future__ import annotations

from portal.accounts import twofactor
from portal.accounts.models import Organisation, OrgKind, Role, User
from portal.core import clock
from portal.core.registry import SEEDERS, register_seeder
from portal.extensions import db

DEMO_PASSWORD = "Demo@2026"
# Two-factor sign-in is required for administrators and signers (TOTP_REQUIRED_FOR): the demo
# enrols those accounts with this fixed, printed secret. Never use it outside the demo.
DEMO_TOTP_SECRET = "LZDEMOTOTPADMINSECRETXYZ"

BUREAUS = [
    # key, name, short name, kind, code
    ("finance", "临州市财政局", "市财政局", OrgKind.FINANCE_BUREAU, "LZCZ"),
    ("audit", "临州市审计局", "市审计局", OrgKind.AUDIT_BUREAU, "LZSJ"),
    ("congress", "临州市人大常委会预算工作委员会", "市人大预工委", OrgKind.CONGRESS, "LZRD"),
]

# Departments (主管部门) with their subordinate units (下属单位).
DEPARTMENTS = [
    ("edu", "临州市教育局", "LZ101", ["临州市第一中学", "临州市实验小学"]),
    ("health", "临州市卫生健康委员会", "LZ102", ["临州市人民医院", "临州市疾病预防控制中心"]),
    ("housing", "临州市住房和城乡建设局", "LZ103", ["临州市棚户区改造服务中心"]),
    ("agri", "临州市农业农村局", "LZ104", ["临州市农业技术推广中心"]),
    ("transport", "临州市交通运输局", "LZ105", ["临州市公路事业发展中心"]),
    ("civil", "临州市民政局", "LZ106", ["临州市社会福利院"]),
    ("hrss", "临州市人力资源和社会保障局", "LZ107", ["临州市就业服务中心"]),
    ("eco", "临州市生态环境局", "LZ108", ["临州市环境监测站"]),
    ("culture", "临州市文化和旅游局", "LZ109", ["临州市图书馆"]),
    ("water", "临州市水利局", "LZ110", ["临州市水库管理中心"]),
]

AGENCIES = [
    ("agency1", "临州正衡会计师事务所（演示）", "LZA01"),
    ("agency2", "华审工程造价咨询有限公司（演示）", "LZA02"),
    ("agency3", "中评绩效管理咨询有限公司（演示）", "LZA03"),
]

# username, name, organisation key, roles, title
USERS = [
    ("admin", "系统管理员", "finance", [Role.ADMIN], "信息中心"),
    # 三权分立: the security and the audit administrator are other people than the system administrator
    ("security", "安全管理员", "finance", [Role.SECURITY_ADMIN], "信息中心（安全管理）"),
    ("auditor", "审计管理员", "finance", [Role.AUDIT_ADMIN], "信息中心（安全审计）"),
    ("finance", "王建华", "finance", [Role.FINANCE_OFFICER], "绩效管理科科长"),
    ("finance2", "李晓梅", "finance", [Role.FINANCE_OFFICER], "绩效管理科科员"),
    ("signer", "赵国强", "finance", [Role.SIGNER, Role.FINANCE_OFFICER], "副局长"),
    ("audit", "陈立新", "audit", [Role.AUDIT_LIAISON], "财政审计科科长"),
    ("audit2", "刘芳", "audit", [Role.AUDIT_LIAISON], "财政审计科科员"),
    ("auditsigner", "孙卫东", "audit", [Role.SIGNER, Role.AUDIT_LIAISON], "副局长"),
    ("conference", "周明", "audit", [Role.CONFERENCE_MEMBER], "联席会议办公室"),
    ("unit", "张丽", "edu", [Role.UNIT_LIAISON], "财务科科长"),
    ("unit2", "黄磊", "edu/0", [Role.UNIT_LIAISON], "总务处主任"),
    ("unit3", "吴静", "housing", [Role.UNIT_LIAISON], "计划财务科科长"),
    ("agency", "郑晓光", "agency1", [Role.AGENCY_STAFF], "项目经理"),
    ("expert", "钱立群", "finance", [Role.EXPERT], "评审专家（高级会计师）"),
    ("congress", "冯建国", "congress", [Role.OBSERVER], "预算工委副主任"),
]


def seed_organisations_and_users(ctx: dict) -> None:
    orgs = ctx.setdefault("orgs", {})
    for key, name, short, kind, code in BUREAUS:
        orgs[key] = Organisation(name=name, short_name=short, kind=kind, code=code,
                                 contact_person="", contact_phone="0000-0000000")
    for key, name, code, units in DEPARTMENTS:
        dept = Organisation(name=name, short_name=name.removeprefix("临州市"), kind=OrgKind.BUDGET_UNIT, code=code)
        orgs[key] = dept
        for i, unit_name in enumerate(units):
            orgs[f"{key}/{i}"] = Organisation(name=unit_name, short_name=unit_name.removeprefix("临州市"),
                                              kind=OrgKind.BUDGET_UNIT, code=f"{code}{i + 1:02d}", parent=dept)
    for key, name, code in AGENCIES:
        orgs[key] = Organisation(name=name, short_name=name[:6], kind=OrgKind.AGENCY, code=code)
    db.session.add_all(orgs.values())
    users = ctx.setdefault("users", {})
    for username, name, org_key, roles, title in USERS:
        user = User(username=username, display_name=name, organisation=orgs[org_key], title=title,
                    email="", phone="")
        user.set_password(DEMO_PASSWORD)
        user.set_roles(roles)
        if twofactor.required(user):
            user.totp_secret, user.totp_enabled_at = DEMO_TOTP_SECRET, clock.now()
        users[username] = user
    db.session.add_all(users.values())
    db.session.flush()


register_seeder("organisations", seed_organisations_and_users, order=0)


def seed() -> dict:
    from portal.core.links import link_context

    ctx: dict = {}
    with link_context():
        for seeder in SEEDERS:
            seeder.run(ctx)
            db.session.flush()
        db.session.commit()
    return ctx


def print_accounts(echo, password: str) -> None:
    echo("")
    echo(f"演示账户（密码均为 {password}） / Demo accounts (password {password}):")
    for username, name, _org_key, roles, _title in USERS:
        role_names = "、".join(r.zh for r in roles)
        echo(f"  {username:<12} {name}（{role_names}）")
    echo(f"管理员和签发人须双因素认证：在验证器应用中添加密钥 {DEMO_TOTP_SECRET}（仅演示用），"
         f"登录时输入其6位验证码。 Admin and signers use 2FA: add the demo TOTP secret {DEMO_TOTP_SECRET} "
         "to an authenticator app and enter its 6-digit code after the password.")
    echo("")
    echo("公开网站 Public site: http://127.0.0.1:5000/     内部门户 Portal: http://127.0.0.1:5000/portal/")
