"""Demo letters (order 300): a dozen in every state, both directions, some overdue. Wording
follows the source documents (函询审计资料 on the 20 key-evaluated projects, etc.)."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from portal.core import clock
from portal.extensions import db
from portal.inquiries import operations
from portal.inquiries.workdays import load_holidays

F2A = [
    ("关于提供2025年度20个重点评价项目审计报告及审计决定书的函",
     ["2025年度20个财政重点评价项目的审计报告（含附表）", "相关审计决定书及审计移送处理书",
      "审计发现问题的整改情况说明"], "closed", 60),
    ("关于提供2025年度部门预算执行审计发现问题清单的函",
     ["2025年度市级部门预算执行审计发现的绩效相关问题清单", "问题涉及金额及责任单位"], "answered", 40),
    ("关于提供市人民医院基础设施建设项目审计资料的函",
     ["项目竣工决算审计报告", "审计发现的资金使用问题及处理意见"], "acknowledged", 30),
    ("关于提供2026年度审计项目计划的函", ["2026年度审计项目计划（绩效审计部分）"], "sent", 25),
    ("关于提供义务教育薄弱环节改善项目审计结论的函",
     ["审计结论及审计建议", "被审计单位整改报告"], "sent", 3),
    ("关于商请提供乡村振兴衔接资金专项审计报告的函", ["专项审计报告"], "pending_signoff", 0),
    ("关于提供棚户区改造项目跟踪审计情况的函", ["跟踪审计阶段性报告"], "draft", 0),
    ("关于提供公路养护资金审计资料的函", ["审计报告"], "withdrawn", 12),
]
A2F = [
    ("关于提供2025年度财政重点绩效评价报告的函",
     ["2025年度财政重点绩效评价报告（20个项目）", "第三方机构评价工作底稿目录", "评价结果应用情况"], "acknowledged", 35),
    ("关于提供2025年度部门整体支出绩效自评结果的函",
     ["各部门整体支出绩效自评表", "自评结果抽查复核情况"], "answered", 20),
    ("关于提供2026年1—7月绩效运行监控预警情况的函", ["绩效运行监控预警项目清单及处理情况"], "sent", 18),
    ("关于提供绩效目标审核结果的函", ["2026年度项目绩效目标审核结果（优良中差分布）"], "closed", 50),
]

def seed(ctx: dict) -> None:
    from portal.performance.models import Project

    orgs, users = ctx["orgs"], ctx["users"]
    load_holidays()
    admin = users["admin"]
    operations.set_issuing_code(orgs["finance"], "临财绩函", "临州市财政局", actor=admin)
    operations.set_issuing_code(orgs["audit"], "临审函", "临州市审计局", actor=admin)
    projects = ctx.get("projects") or db.session.scalars(sa.select(Project).order_by(Project.id).limit(40)).all()
    plan = [(users["finance"], users["signer"], users["audit"], users["auditsigner"], orgs["audit"], spec)
            for spec in F2A]
    plan += [(users["audit"], users["auditsigner"], users["finance"], users["signer"], orgs["finance"], spec)
             for spec in A2F]
    for n, (drafter, signer, liaison, reply_signer, addressee, (title, items, state, age)) in enumerate(plan):
        sent_on = clock.today() - timedelta(days=age) if age else clock.today()
        with clock.frozen(sent_on - timedelta(days=1)):
            letter = operations.create_letter(operations.LetterData(
                addressee_org_id=addressee.id, title=title, urgency="urgent" if n % 4 == 0 else "normal",
                marking="internal", copies="市人大常委会预算工作委员会" if n % 3 == 0 else "",
                body=("根据《关于加强财政审计联动推进预算绩效管理的实施意见》，为做好预算项目财政评价工作，"
                      "现商请贵局提供以下资料，作为评价的重要参考依据。"),
                deadline_workdays=10 if n % 2 == 0 else 15, contact_person=drafter.display_name,
                contact_phone="0571-8700" + f"{n:04d}", items=items,
                project_ids=[p.id for p in projects[n * 2:n * 2 + 2]]), actor=drafter)
            if state == "draft":
                continue
            operations.submit(letter, actor=drafter)
            if state == "pending_signoff":
                continue
        with clock.frozen(sent_on):
            operations.approve(letter, actor=signer)
            if state == "withdrawn":
                operations.withdraw(letter, "内容需调整，另行发函。", actor=signer)
                continue
            if state == "sent":
                continue
            operations.acknowledge(letter, actor=liaison)
        with clock.frozen(sent_on + timedelta(days=min(age // 2, 10) or 1)):
            first = letter.items[0]
            answers = {first.id: ("provided", "已随函附送。")}
            if state in ("answered", "closed"):
                for item in letter.items[1:]:
                    answers[item.id] = ("partial", "部分资料尚在整理，先行提供已形成部分。")
            if state == "acknowledged" and len(letter.items) == 1:
                continue
            part = operations.reply(letter, answers, actor=liaison, note="现将有关资料函复如下。", and_submit=True)
            operations.approve_reply(part, actor=reply_signer)
            if state == "closed":
                operations.close(letter, "资料已收悉。", actor=drafter)
    db.session.commit()
