"""Read-side helpers: the agency quality record, the report timeline, dashboard figures."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
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


def chart_svg(by_year: list[dict], width: int = 560, height: int = 220) -> str:
    """A server-rendered bar chart of the mean final score per year (no JavaScript)."""
    from markupsafe import escape

    pad, base = 40, height - 30
    n = max(1, len(by_year))
    slot = (width - pad - 10) / n
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'class="quality-chart" width="100%" aria-labelledby="chart-title">',
             '<title id="chart-title">各年度评价报告平均得分</title>',
             f'<line x1="{pad}" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#555"/>']
    for tick in (0, 60, 80, 90, 100):
        y = base - tick * (base - 20) / 100
        parts.append(f'<text x="{pad - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{tick}</text>')
        if tick:
            parts.append(f'<line x1="{pad}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="#ddd"/>')
    for i, row in enumerate(by_year):
        x = pad + i * slot + slot * 0.2
        w = slot * 0.6
        score = float(row["mean_score"] or 0)
        h = score * (base - 20) / 100
        colour = "#2e7d32" if score >= 90 else "#1565c0" if score >= 80 else "#f9a825" if score >= 60 else "#c62828"
        label = "—" if row["mean_score"] is None else str(row["mean_score"])
        parts.append(f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{colour}">'
                     f'<title>{escape(row["year"])}: {escape(label)}</title></rect>')
        parts.append(f'<text x="{x + w / 2:.1f}" y="{base - h - 4:.1f}" font-size="11" '
                     f'text-anchor="middle">{escape(label)}</text>')
        parts.append(f'<text x="{x + w / 2:.1f}" y="{base + 16}" font-size="11" '
                     f'text-anchor="middle">{escape(row["year"])}</text>')
    parts.append("</svg>")
    return "".join(parts)


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
    from flask_babel import gettext as _

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
