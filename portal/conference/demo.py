"""Demo data: three meetings with minutes and resolutions in every state, a shared library with
searchable text, and both bureaus' plans with a few overlaps."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from portal.core import clock
from portal.extensions import db

MINUTES = """## 一、会议听取的情况
会议听取了市财政局关于{year}年重点绩效评价工作进展的汇报，以及市审计局关于预算执行审计发现问题整改情况的通报。

## 二、会议议定事项
会议认为，财审联动在**指标共商、信息共享、成果共用、整改共抓**四个方面取得了积极进展，要求双方：
- 按季度互通评价计划与审计计划，避免重复进点；
- 对评价与审计共同发现的问题，统一纳入问题台账，实行销号管理。
"""

LIBRARY = [
    ("audit", "audit_report", "关于临州市{year}年度市本级预算执行和其他财政收支情况的审计工作报告",
     "审计发现：部分项目资金闲置，棚户区改造专项资金结存超过两年；义务教育经费绩效目标设置不够细化，"
     "产出指标缺少量化标准。建议财政部门加强项目预算绩效目标审核，盘活存量资金。"),
    ("audit", "audit_decision", "临州市审计局审计决定书（临审决〔{year}〕5号）",
     "责令市住房和城乡建设局将闲置的棚户区改造资金统筹盘活，归还原渠道资金312.5万元，并完善资金拨付管理制度。"),
    ("finance", "evaluation_result", "{year}年度重点项目财政评价结果汇总表",
     "重点评价项目共10个，其中评价等级为优的3个、良的4个、中的2个、差的1个。评价发现项目绩效目标不明确、"
     "资金使用效率偏低等问题，已纳入问题台账跟踪整改。"),
    ("finance", "plan", "{next_year}年度财政重点绩效评价工作计划（征求意见稿）",
     "拟对教育、卫生健康、农业农村等领域的重点项目开展财政评价，请审计局提出意见，避免与审计项目计划重复。"),
    ("audit", "other", "财审联动工作情况简报（第3期）",
     "本期简报介绍了联席会议议定事项的落实情况，问题台账整改率达到百分之七十八。"),
]


def seed(ctx: dict) -> None:
    from portal.accounts.models import Organisation, OrgKind
    from portal.conference import operations
    from portal.conference.models import ActionState, DocumentKind, Meeting
    from portal.performance.models import Project

    if db.session.execute(sa.select(Meeting.id).limit(1)).first() is not None:
        return
    orgs, users = ctx["orgs"], ctx["users"]
    projects = ctx.get("projects") or db.session.scalars(sa.select(Project)).all()
    finance, audit, conference = users["finance"], users["audit"], users["conference"]
    today = clock.today()
    year = today.year
    attendees = [finance, users["finance2"], users["signer"], audit, users["audit2"], conference]
    units = [orgs[k] for k in ("edu", "health", "housing", "agri") if k in orgs]

    # meetings: the last one recently, the first ones earlier this year
    dates = [today - timedelta(days=200), today - timedelta(days=90), today - timedelta(days=10)]
    dates = [d if d.year == year else date(year, 1, 15 + i) for i, d in enumerate(dates)]
    states_plan = [
        [("done", -120), ("dropped", -60), ("done", -30)],
        [("in_progress", -5), ("in_progress", 20), ("open", 3)],
        [("open", 40), ("open", -2), ("in_progress", 60)],
    ]
    texts = [
        "财政局牵头建立评价计划与审计计划季度互通机制",
        "审计局向财政局共享上年度预算执行审计发现的问题清单",
        "对义务教育经费项目开展联合跟踪，督促主管部门细化绩效目标",
        "住建局限期整改棚户区改造资金闲置问题，并报送整改进展",
        "卫健委对基层医疗卫生机构补助资金绩效自评结果进行复核",
        "双方共同研究将评价结果纳入下年度预算安排的具体规则",
        "农业农村局对高标准农田建设项目绩效目标进行修订",
    ]
    n = 0
    for i, held_on in enumerate(dates):
        meeting = operations.create_meeting(
            actor=conference if i % 2 else finance, held_on=held_on,
            place="市财政局三楼会议室" if i % 2 == 0 else "市审计局二楼会议室",
            convening_org=orgs["finance"] if i % 2 == 0 else orgs["audit"], attendees=attendees,
            agenda="通报重点绩效评价进展\n通报审计发现问题整改情况\n研究下一阶段财审联动工作",
            minutes=MINUTES.format(year=year), distribution="市政府办公室，市财政局、市审计局各科室")
        for state, offset in states_plan[i]:
            owner_key = ["finance", "audit", "edu", "housing", "health", "finance", "agri"][n % 7]
            owner_org = orgs.get(owner_key, orgs["finance"])
            owner_user = {"finance": finance, "audit": audit, "edu": users["unit"],
                          "housing": users["unit3"]}.get(owner_key)
            due = today + timedelta(days=offset)
            with clock.frozen(min(held_on, due)):  # agreed at the meeting, when its due date lay ahead
                action = operations.add_action(meeting, actor=conference, text=texts[n % len(texts)], owner_org=owner_org,
                                               owner_user=owner_user, due_date=due)
            n += 1
            if state in ("in_progress", "done", "dropped"):
                operations.transition_action(action, "start", actor=conference,
                                             comment="已召开专题会议部署落实。")
            if state == "done":
                operations.transition_action(action, "complete", actor=conference, comment="已按要求完成，材料已归档。")
            elif state == "dropped":
                operations.transition_action(action, "drop", actor=conference,
                                             comment="该事项已并入市政府统一部署的专项整治，不再单独督办。")
            if i == 0 and n == 1 and projects:
                operations.link_record(action, actor=conference, record_type="projects", record_id=projects[0].id)
        assert action.state in (ActionState.OPEN, ActionState.IN_PROGRESS, ActionState.DONE, ActionState.DROPPED)

    # the shared library
    for who, kind, title, text in LIBRARY:
        actor = audit if who == "audit" else finance
        title = title.format(year=year - 1, next_year=year + 1)
        document = _share(actor, title, DocumentKind(kind), year, text, projects[:2], units[:2])
        operations.log_open(document, finance if who == "audit" else audit)

    # both plans, with overlaps: the same project, and the same unit
    this_year = [p for p in projects if p.year == year] or list(projects)
    for p in this_year[:4]:
        operations.add_plan_item(actor=finance, year=p.year, title=f"{p.name}财政重点评价", project=p)
    if this_year:
        p = this_year[0]
        operations.add_plan_item(actor=audit, year=p.year, title=f"{p.name}专项审计", project=p)
    if len(this_year) > 1:
        p = this_year[1]
        operations.add_plan_item(actor=audit, year=p.year, title=f"{p.unit.name}预算执行审计", unit=p.unit)
    other_unit = db.session.scalars(sa.select(Organisation).where(Organisation.kind == OrgKind.BUDGET_UNIT)
                                    .order_by(Organisation.id.desc())).first()
    if other_unit is not None:
        operations.add_plan_item(actor=audit, year=year, title=f"{other_unit.name}经济责任审计", unit=other_unit)
    db.session.flush()


def _share(actor, title, kind, year, text, projects, units):
    import io

    from werkzeug.datastructures import FileStorage

    from portal.conference.operations import share_document

    data = f"{title}\n\n{text}\n".encode()
    return share_document(actor=actor, title=title, kind=kind, year=year, note="供对方参考使用。",
                          projects=projects, units=units,
                          files=[FileStorage(io.BytesIO(data), filename=f"{title[:30]}.txt")])
