"""Read-side helpers: the agency quality record, the report timeline, dashboard figures."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import contains_eager, joinedload

from portal.accounts.models import Organisation
from portal.core.permissions import can
from portal.extensions import db
from portal.reviews.models import (
    AssignmentState,
    Decision,
    Report,
    ReportState,
    ReviewAssignment,
    ReviewRound,
)
from portal.reviews.policies import internal_reader


@dataclass
class ProgressRow:
    """One reviewer's progress in a round, as the lead's table shows it."""
    assignment: ReviewAssignment
    step: str  # 未开始 / 已声明 / 草稿 / 已提交 / 已回避, in words
    declared_at: datetime | None  # opened the review: the conflict declaration comes first
    saved_at: datetime | None  # last save (draft or submission)
    saves: int  # saved edits
    submitted_at: datetime | None
    late: bool  # the round's deadline has passed and the review is not in


def typed_total(criteria, typed_scores: dict) -> str:
    """The total of the scores as typed (what the page shows before the script recomputes it,
    e.g. after a refused save); a score that is not a number in its range counts for nothing —
    the save itself refuses it (operations.parse_score)."""
    total, any_score = Decimal(0), False
    for c in criteria:
        raw = (typed_scores.get(c.id, ("", ""))[0] or "").strip()
        try:
            value = Decimal(raw)
        except (InvalidOperation, ValueError):
            continue
        if value.is_finite() and 0 <= value <= c.weight:
            total, any_score = total + value, True
    return f"{total.normalize():f}" if any_score else "—"


def review_progress(rnd: ReviewRound) -> list[ProgressRow]:
    """Per reviewer of the round: how far they are and since when (callers check `progress`)."""
    rows = []
    for a in rnd.assignments:
        if a.state == AssignmentState.PENDING:
            step = _("尚未开始（待声明利益冲突）")
        elif a.state == AssignmentState.CONFLICTED:
            step = _("已回避")
        elif a.state == AssignmentState.SUBMITTED:
            step = _("已提交评分")
        elif a.revision:
            step = _("草稿已保存 %(n)s 次", n=a.revision)
        else:
            step = _("已声明无利益冲突，尚未保存")
        waiting = a.state in (AssignmentState.PENDING, AssignmentState.ACTIVE)
        rows.append(ProgressRow(assignment=a, step=step, declared_at=a.declared_at, saved_at=a.saved_at,
                                saves=a.revision, submitted_at=a.submitted_at,
                                late=waiting and rnd.overdue()))
    return rows


@dataclass
class QualityRow:
    report: Report
    year: int
    versions: int
    rounds: int
    late_versions: int
    decision: Decision | None
    final_score: Decimal | None


def quality_record(agency: Organisation) -> list[QualityRow]:
    reports = db.session.scalars(sa.select(Report).where(Report.agency_id == agency.id)).all()
    rows = []
    for r in reports:
        decided = [x for x in r.rounds if x.decision is not None]
        rows.append(QualityRow(report=r, year=r.year, versions=len(r.versions), rounds=len(r.rounds),
                               late_versions=sum(1 for v in r.versions if v.late),
                               decision=decided[-1].decision if decided else None, final_score=r.final_score))
    rows.sort(key=lambda q: (q.year, q.report.id))
    return rows


def quality_by_year(rows: list[QualityRow]) -> list[dict]:
    years: dict[int, list[QualityRow]] = defaultdict(list)
    for row in rows:
        years[row.year].append(row)
    out = []
    for year in sorted(years):
        items = years[year]
        scores = [r.final_score for r in items if r.final_score is not None]
        out.append({"year": year, "reports": len(items),
                    "mean_score": (sum(scores, Decimal(0)) / len(scores)).quantize(Decimal("0.1")) if scores else None,
                    "mean_rounds": Decimal(sum(r.rounds for r in items)) / len(items),
                    "late": sum(r.late_versions for r in items),
                    "accepted": sum(1 for r in items if r.decision == Decision.ACCEPTED),
                    "rejected": sum(1 for r in items if r.decision == Decision.REJECTED)})
    return out


def quality_chart(by_year: list[dict], width: int = 560):
    """Mean final score per year as columns (the one chart component, portal.core.charts)."""

    from portal.core import charts

    def colour(score) -> str:
        score = float(score or 0)
        return "#2e7d32" if score >= 90 else "#1565c0" if score >= 80 else "#f9a825" if score >= 60 else "#c62828"

    return charts.Chart(
        title=_("各年度评价报告平均得分"), categories=[str(r["year"]) for r in by_year], orientation="columns",
        series=[charts.Series(_("平均得分"), [r["mean_score"] for r in by_year],
                              colours=[colour(r["mean_score"]) for r in by_year])],
        scale_max=100, ticks=(0, 60, 80, 90, 100), tick_fmt=str, width=width, css="chart quality-chart",
        headers=[_("年度")])


@dataclass
class Event:
    at: datetime
    kind: str
    text: str
    link: str | None = None
    internal: bool = False


def timeline(report: Report, user) -> list[Event]:
    """Versions, rounds, reviews and decisions, oldest first; agencies see no reviewer or review."""
    from flask import url_for

    inside = internal_reader(user)
    events = []
    for v in report.versions:
        events.append(Event(v.uploaded_at, "version", _("提交报告 %(v)s", v=v.label)
                            + (_("（逾期）") if v.late else "")))
    for r in report.rounds:
        events.append(Event(r.created_at, "round", _("第%(n)s轮评审开启（%(v)s，截止 %(d)s）", n=r.number,
                                                      v=r.version.label, d=r.deadline.isoformat()),
                            link=url_for("reviews.round_view", round_id=r.id) if can(user, "view", r) else None))
        for a in r.assignments:
            if a.submitted_at and (inside or a.reviewer_id == user.id):
                events.append(Event(a.submitted_at, "review", _("%(name)s 提交评审意见", name=a.reviewer.display_name),
                                    link=url_for("reviews.review", assignment_id=a.id)
                                    if can(user, "view", a) else None, internal=True))
            if a.state == AssignmentState.CONFLICTED and inside and a.declared_at:
                events.append(Event(a.declared_at, "conflict", _("%(name)s 声明利益冲突并回避",
                                                                 name=a.reviewer.display_name), internal=True))
        if r.decided_at:
            events.append(Event(r.decided_at, "decision", _("第%(n)s轮结论：%(d)s", n=r.number, d=r.decision.label)))
    events.sort(key=lambda e: e.at)
    return events


PANEL_LIMIT = 10  # the dashboard lists the first ten of each to-do; the rest is one click away


@dataclass
class ToDo:
    """The first items of a to-do list and how many there are in all."""
    items: list
    total: int

    def __bool__(self) -> bool:
        return self.total > 0


def _to_do(stmt, limit: int) -> ToDo:
    items = list(db.session.scalars(stmt.limit(limit)))
    if len(items) < limit:
        return ToDo(items, len(items))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery()))
    return ToDo(items, total)


def my_open_reviews(user, limit: int = PANEL_LIMIT) -> ToDo:
    """Assignments waiting on this reviewer in open rounds, earliest deadline first."""
    from portal.reviews.models import RoundState

    return _to_do(
        sa.select(ReviewAssignment).join(ReviewRound)
        .where(ReviewAssignment.reviewer_id == user.id,
               ReviewAssignment.state.in_([AssignmentState.PENDING, AssignmentState.ACTIVE]),
               ReviewRound.state == RoundState.OPEN)
        .options(contains_eager(ReviewAssignment.round).joinedload(ReviewRound.report))
        .order_by(ReviewRound.deadline, ReviewAssignment.id), limit)


def waiting_endorsement(user, limit: int = PANEL_LIMIT) -> ToDo:
    """Consolidated opinions waiting on this bureau's countersignature (会签)."""
    from portal.reviews.models import RoundState
    from portal.reviews.operations import is_audit_member, is_finance_officer

    stmt = sa.select(ReviewRound).where(ReviewRound.state == RoundState.ENDORSING)
    if is_finance_officer(user):
        stmt = stmt.where(ReviewRound.finance_endorser_id.is_(None))
    elif is_audit_member(user):
        stmt = stmt.where(ReviewRound.audit_endorser_id.is_(None))
    else:
        return ToDo([], 0)
    return _to_do(stmt.options(joinedload(ReviewRound.report)).order_by(ReviewRound.id), limit)


def lead_to_do(user, limit: int = PANEL_LIMIT) -> ToDo:
    """Rounds this user leads that are open or returned to the lead."""
    from portal.reviews.models import RoundState

    return _to_do(sa.select(ReviewRound).where(
        ReviewRound.lead_id == user.id, ReviewRound.state.in_([RoundState.OPEN, RoundState.RETURNED]))
        .options(joinedload(ReviewRound.report)).order_by(ReviewRound.deadline, ReviewRound.id), limit)


def state_counts(year: int | None = None) -> dict[ReportState, int]:
    stmt = sa.select(Report.state, sa.func.count()).group_by(Report.state)
    if year:
        from portal.performance.models import Evaluation

        stmt = stmt.join(Evaluation, Evaluation.id == Report.evaluation_id).where(Evaluation.year == year)
    return {ReportState(s): n for s, n in db.session.execute(stmt).all()}


def summary_docx(rnd) -> bytes:
    """The round's review summary as a Word document (评审汇总): scores, comments, opinion."""
    import io

    import docx

    from portal.core.excel import xml_text  # stored text: what XML forbids is dropped
    from portal.reviews.operations import criterion_stats, round_score

    document = docx.Document()
    document.add_heading(xml_text(f"{rnd.report.title} 第{rnd.number}轮评审汇总（{rnd.version.label}）"), level=1)
    document.add_paragraph(xml_text(f"评审截止日期：{rnd.deadline.isoformat()}　状态：{rnd.state.zh}　"
                                    f"平均得分：{round_score(rnd) or '—'}"))
    table = document.add_table(rows=1, cols=4)
    for cell, text in zip(table.rows[0].cells, ["评分标准", "权重", "平均分", "极差"], strict=True):
        cell.text = xml_text(text)
    for st in criterion_stats(rnd):
        cells = table.add_row().cells
        cells[0].text, cells[1].text = xml_text(st["criterion"].name), str(st["criterion"].weight)
        cells[2].text = "—" if st["mean"] is None else str(st["mean"])
        cells[3].text = "—" if st["spread"] is None else str(st["spread"])
    for a in rnd.submitted_assignments:
        document.add_heading(xml_text(f"{a.reviewer.display_name}（{a.side.zh}）合计 {a.total}"), level=2)
        for c in rnd.rubric.criteria:
            s = a.score_for(c.id)
            document.add_paragraph(xml_text(f"{c.name}（{c.weight}分）：{s.score if s else '—'}　{s.justification if s else ''}"))
        for cm in a.comments:
            where = "　".join(x for x in (cm.criterion.name if cm.criterion else "",
                                          f"[{cm.location}]" if cm.location else "") if x)
            document.add_paragraph(xml_text(f"{cm.kind.zh}：{where}　{cm.text}"))
        if a.summary:
            document.add_paragraph(xml_text(a.summary))
    if rnd.opinion:
        document.add_heading(xml_text("合议意见"), level=2)
        for line in rnd.opinion.splitlines():
            document.add_paragraph(xml_text(line))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
