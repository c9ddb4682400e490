"""The co-review list's columns and filters (portal/core/listing.py): what is shown is what is exported."""
from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l

from portal.core import clock
from portal.core.listing import Column, Filter, Listing, id_arg
from portal.performance.models import Evaluation, Project
from portal.reviews.models import Report, ReportState


def _years():
    year = clock.today().year
    return [(y, y) for y in range(year + 1, year - 6, -1)]


REPORTS = Listing("reports", columns=[
    Column("title", _l("评价报告"), lambda r: r.title, sort=(Report.title,),
           link=lambda r: url_for("reviews.report", report_id=r.id)),
    Column("year", _l("年度"), lambda r: r.evaluation.year, kind="number", sort=(Evaluation.year,)),
    Column("agency", _l("第三方机构"), lambda r: r.agency.name, sort=(Report.agency_id,)),
    Column("version", _l("版本"), lambda r: r.latest_version.label if r.latest_version else "—"),
    Column("rounds", _l("轮次"), lambda r: len(r.rounds), kind="number"),
    Column("state", _l("状态"), lambda r: r.state, kind="badge", sort=(Report.state,)),
    Column("score", _l("最终得分"), lambda r: r.final_score, kind="number", sort=(Report.final_score,)),
    Column("due", _l("提交期限"), lambda r: r.due_date, kind="date", sort=(Report.due_date,)),
], filters=[
    Filter("year", _l("年度"), kind="select", parse=id_arg, choices=_years,
           apply=lambda stmt, year: stmt.where(Evaluation.year == year)),
    Filter("state", _l("状态"), kind="select", choices=lambda: [(s.value, s.label) for s in ReportState],
           apply=lambda stmt, state: stmt.where(Report.state == ReportState(state))),
    Filter("q", _l("报告标题"), apply=lambda stmt, q: stmt.where(Report.title.contains(q))),
], tiebreak=lambda: (Report.id.desc(),))


def _report_of(evaluation):
    return evaluation.list_extra


def decorate_evaluations(evaluations) -> None:
    """Each evaluation's report, in one query for the page."""
    import sqlalchemy as sa

    from portal.extensions import db

    reports = {r.evaluation_id: r for r in db.session.scalars(
        sa.select(Report).where(Report.evaluation_id.in_([e.id for e in evaluations])))}
    for evaluation in evaluations:
        evaluation.list_extra = reports.get(evaluation.id)


EVALUATIONS = Listing("evaluations", columns=[
    Column("project", _l("项目"), lambda e: e.project.name, sort=(Project.name,)),
    Column("year", _l("年度"), lambda e: e.year, kind="number", sort=(Evaluation.year,)),
    Column("agency", _l("第三方机构"), lambda e: e.agency.name if e.agency else str(_l("未确定")),
           sort=(Evaluation.agency_id,)),
    Column("report", _l("评价报告"), lambda e: _report_of(e).title if _report_of(e) else "—",
           link=lambda e: url_for("reviews.report", report_id=_report_of(e).id) if _report_of(e) else None),
    Column("report_state", _l("报告状态"), lambda e: _report_of(e).state if _report_of(e) else None, kind="badge"),
], filters=[
    Filter("year", _l("年度"), kind="select", parse=id_arg, choices=_years,
           apply=lambda stmt, year: stmt.where(Evaluation.year == year)),
    Filter("q", _l("项目名称"), apply=lambda stmt, q: stmt.where(Project.name.contains(q))),
    Filter("agency", _l("第三方机构"), kind="select", choices=lambda: [("none", _l("未确定")), ("some", _l("已确定"))],
           apply=lambda stmt, v: stmt.where(Evaluation.agency_id.is_(None) if v == "none"
                                            else Evaluation.agency_id.is_not(None))),
], tiebreak=lambda: (Evaluation.id,), decorate=decorate_evaluations, endpoint="reviews.evaluations")
