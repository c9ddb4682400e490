"""Joint oversight at scale: joint evaluation teams (联合评价组) on a share of the key (finance)
evaluations, and the last budget year's work assessment (绩效管理工作考核) with a scorecard per
department and, at province scale, per county finance bureau.

Teams are what `portal.oversight.operations.add_member / add_opinion / finalise` leave: finance
leads, the congress committee, the audit bureau and the project's department sit as members, the
evaluation's agency observes; one to three opinions of the members; 80 % finalised with the lead's
joint opinion, the rest still working. The scorecards are computed by the portal's own code: the
registered automatic indicators (`portal.oversight.indicators`) and the subjects
(`portal.oversight.queries.subjects`) read the data the earlier plug-ins committed, finance's
manual indicator is scored by a seeded draw, totals, grades and ranks come from
`operations._rank`; the year is circulated (已通报) with its number, the counter continuing it.
Packages for the People's Congress are not generated: each is a zip of the year's files, built by
its job. Audit-log entries and notifications are not generated.

Publishes: ctx.ids["teams"], ctx.ids["scorecards"]."""
from __future__ import annotations

import tempfile
from contextlib import contextmanager, nullcontext
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

ORDER = 950  # after publishing (900): the disclosure indicator reads the snapshots
OPINIONS = ["建议核实资金拨付进度与合同约定是否一致。", "绩效指标设置偏重产出，建议补充效益指标的佐证材料。",
            "部分支出依据不足，建议在评价报告中列明问题金额。", "同意评价组初步结论，建议加强结果应用。",
            "满意度调查样本偏少，建议扩大调查范围。"]


def _teams(ctx, conn, scale) -> None:
    rng = ctx.rng("oversight.teams")
    users, org = ctx.data["users"], ctx.data["org"]
    finance, congress, audit = users["finance"], users["congress"], users["audit"]
    key = [eid for eid, (_p, mode, *_rest) in sorted(ctx.data["evaluation"].items()) if mode == "finance"]
    chosen = [eid for eid in key if rng.random() < scale.team_share]
    teams, members, opinions = [], [], []
    for eid in chosen:
        pid, _mode, _score, _grade, agency = ctx.data["evaluation"][eid]
        department = ctx.data["project"][pid][3]
        tid = ctx.new_id("joint_teams")
        at = ctx.now - timedelta(days=rng.randint(30, 200))
        seats = [(finance, ctx.data["finance_bureau"], "finance", "lead"),
                 (congress, ctx.data["congress"], "congress", "member"),
                 (audit, ctx.data["audit_bureau"], "audit", "member")]
        liaison = users.get(f"unit{org[department]['code']}")
        if liaison:
            seats.append((liaison, department, "department", "member"))
        agency_user = users.get(f"agency{org[agency]['code'][2:]}") if agency else None
        if agency_user:
            seats.append((agency_user, agency, "agency", "observer"))
        ids = []
        for user_id, org_id, side, role in seats:
            mid = ctx.new_id("joint_team_members")
            ids.append((mid, side, role))
            members.append((mid, tid, user_id, org_id, side, role, at))
        writers = [(mid, side) for mid, side, role in ids if role != "observer"]
        for n in range(rng.randint(1, 3)):
            mid, _side = writers[rng.randrange(len(writers))]
            opinions.append((ctx.new_id("joint_team_opinions"), tid, mid, rng.choice(OPINIONS),
                             at + timedelta(days=n + 1)))
        done = rng.random() < 0.8
        teams.append((tid, eid, "finalised" if done else "working",
                      "联合评价组同意评价结论，建议按评价意见整改并将结果与预算安排挂钩。" if done else "",
                      finance, at, finance if done else None, at + timedelta(days=10) if done else None,
                      3 + len(seats) if done else 1 + len(seats)))
    ctx.insert(conn, "joint_teams", teams, columns=["id", "evaluation_id", "state", "conclusion", "formed_by_id",
                                                    "formed_at", "finalised_by_id", "finalised_at", "lock_version"])
    ctx.insert(conn, "joint_team_members", members, columns=["id", "team_id", "user_id", "organisation_id", "side",
                                                             "role", "added_at"])
    ctx.insert(conn, "joint_team_opinions", opinions, columns=["id", "team_id", "member_id", "text", "created_at"])
    ctx.ids["teams"] = [t[0] for t in teams]


@contextmanager
def _portal_on(conn):
    """The portal's reads (db.session) on this plug-in's own connection and transaction, inside an
    app context (a bench run has none; a test has its own)."""
    import sqlalchemy as sa
    from flask import has_app_context

    from portal.extensions import db

    if has_app_context():
        scope = nullcontext()
    else:
        from portal import create_app

        tmp = tempfile.mkdtemp(prefix="bench-oversight-")
        scope = create_app({"SQLALCHEMY_DATABASE_URI": conn.engine.url.render_as_string(hide_password=False),
                            "SECRET_KEY": "bench", "INSTANCE_DIR": tmp, "UPLOAD_DIR": tmp + "/uploads",
                            "SEARCH_INDEX_DIR": tmp + "/index"}).app_context()
    with scope:
        saved, session = db.session, sa.orm.Session(bind=conn)
        db.session = session
        try:
            yield
        finally:
            session.close()
            db.session = saved


def _figures(ctx, conn, year: int):
    """The year's subjects and automatic figures, read by the portal's own code."""
    from portal.oversight import indicators, operations, queries

    with _portal_on(conn):
        budget, monitoring, disclosure = operations.default_dates(year)
        as_of = ctx.now.date()
        context = indicators.Context(year, as_of, budget, monitoring, disclosure)
        system = indicators.default_system()
        figures = {method: indicators.AUTOMATIC[method].compute(context)
                   for _name, method, _w, _g in system if method in indicators.AUTOMATIC}
        subjects = [(s.org.id, s.kind.value, list(s.department_ids)) for s in queries.subjects(year)]
    return (budget, monitoring, disclosure, as_of), system, figures, subjects


def _assessment(ctx, conn, scale) -> None:
    from portal.oversight import indicators, operations

    rng = ctx.rng("oversight.scorecards")
    year = max(scale.years)
    (budget, monitoring, disclosure, as_of), system, figures, subjects = _figures(ctx, conn, year)
    aid = ctx.new_id("work_assessments")
    indicator_rows, by_position = [], []
    for position, (name, method, weight, guidance) in enumerate(system):
        iid = ctx.new_id("work_assessment_indicators")
        indicator_rows.append((iid, aid, position, name, method, weight, guidance))
        by_position.append(SimpleNamespace(id=iid, position=position, method=method, weight=weight))
    cards = []
    for org_id, kind, department_ids in subjects:
        lines = []
        for ind in by_position:
            if ind.method in figures:
                numerator = sum(figures[ind.method].get(d, (0, 0))[0] for d in department_ids)
                denominator = sum(figures[ind.method].get(d, (0, 0))[1] for d in department_ids)
                score = indicators.score_of(ind.weight, numerator, denominator) if denominator else None
                lines.append(SimpleNamespace(indicator=ind, automatic=True, numerator=numerator,
                                             denominator=denominator, score=score, note="",
                                             applicable=denominator != 0))
            else:  # finance's own indicator: 60–100 % of its weight
                score = (ind.weight * Decimal(rng.randint(60, 100)) / 100).quantize(Decimal("0.01"))
                lines.append(SimpleNamespace(indicator=ind, automatic=False, numerator=None, denominator=None,
                                             score=score, note="按制度建设和工作创新情况评分。", applicable=True))
        cards.append(SimpleNamespace(id=ctx.new_id("scorecards"), organisation_id=org_id, subject_kind=kind,
                                     lines=lines, total=None, rank=None, grade=None))
    operations._rank(SimpleNamespace(scorecards=cards))  # totals, grades and ranks as the operation sets them
    number = f"{ctx.data['area'][:2]}财绩通〔{ctx.now.year}〕1号"
    ctx.insert(conn, "work_assessments", [dict(
        id=aid, year=year, state="published", computed_at=ctx.now, as_of=as_of, budget_approved_on=budget,
        monitoring_due_on=monitoring, disclosure_due_on=disclosure, published_at=ctx.now, circular_number=number,
        lock_version=3)])
    ctx.insert(conn, "work_assessment_indicators", indicator_rows,
               columns=["id", "assessment_id", "position", "name", "method", "weight", "guidance"])
    ctx.insert(conn, "scorecards", [(c.id, aid, c.organisation_id, c.subject_kind, c.total, c.rank,
                                     c.grade.value if c.grade else None) for c in cards],
               columns=["id", "assessment_id", "organisation_id", "subject_kind", "total", "rank", "grade"])
    ctx.insert(conn, "scorecard_lines", ((ctx.new_id("scorecard_lines"), c.id, line.indicator.id,
                                          line.indicator.position, line.automatic, line.numerator, line.denominator,
                                          line.score, line.note) for c in cards for line in c.lines),
               columns=["id", "scorecard_id", "indicator_id", "position", "automatic", "numerator", "denominator",
                        "score", "note"], total=len(cards) * len(by_position))
    ctx.insert(conn, "counters", [("assessment_circular", ctx.now.year, 1)], columns=["scope", "period", "last"])
    ctx.ids["scorecards"] = [c.id for c in cards]


def generate(ctx, conn, scale) -> None:
    if not ctx.has_table("joint_teams") or not scale.team_share:
        return
    _teams(ctx, conn, scale)
    _assessment(ctx, conn, scale)
