"""Read-only API: /api/v1/reviews (reports with versions and rounds). Never reviewer identities."""
from __future__ import annotations

from datetime import date

from pydantic import Field

from portal.core.api import api_route, filtered, paged
from portal.core.permissions import load_or_404, visible
from portal.core.schemas import LocalDateTime, Page, PageQuery, Schema, Year, choice
from portal.reviews.models import Report, ReportState, RoundState


class ReviewQuery(PageQuery):
    """同审报告筛选 · report filters"""
    state: choice(ReportState) | None = Field(None, description="报告状态 · report state")
    year: Year | None = Field(None, description="评价年度 · evaluation year")


class ReportVersionOut(Schema):
    """报告版本 · a report version"""
    number: int = Field(description="版本号 · version number")
    uploaded_at: LocalDateTime = Field(description="上传时间 · uploaded at")
    late: bool = Field(description="是否逾期上传 · uploaded after the deadline")


class ReviewRoundOut(Schema):
    """一轮同审 · a review round"""
    number: int = Field(description="轮次 · round number")
    version: int = Field(description="所审版本号 · version reviewed")
    state: choice(RoundState) = Field(description="轮次状态 · round state")
    deadline: date = Field(description="评审截止日期 · review deadline")
    decision: str | None = Field(description="合议结论（已决定时） · decision, once decided")
    opinion: str | None = Field(description="合议意见（已决定时） · consolidated opinion, once decided")


class ReviewReport(Schema):
    """评价报告同审情况（不含评审人身份） · a report under co-review (never reviewer identities)"""
    id: int = Field(description="报告 id · report id")
    title: str = Field(description="报告标题 · title")
    year: int = Field(description="评价年度 · evaluation year")
    evaluation_id: int = Field(description="所属评价 id · evaluation id")
    agency: str = Field(description="第三方机构 · evaluation agency")
    state: choice(ReportState) = Field(description="报告状态 · report state")
    final_score: float | None = Field(description="最终得分 · final score")
    versions: list[ReportVersionOut] = Field(description="上传的版本 · uploaded versions")
    rounds: list[ReviewRoundOut] = Field(description="同审轮次 · review rounds")


def serialise(report: Report) -> dict:
    return {
        "id": report.id, "title": report.title, "year": report.year, "evaluation_id": report.evaluation_id,
        "agency": report.agency.name, "state": report.state.value,
        "final_score": float(report.final_score) if report.final_score is not None else None,
        "versions": [{"number": v.number, "uploaded_at": v.uploaded_at.isoformat(), "late": v.late}
                     for v in report.versions],
        "rounds": [{"number": r.number, "version": r.version.number, "state": r.state.value,
                    "deadline": r.deadline.isoformat(), "decision": r.decision.value if r.decision else None,
                    "opinion": r.opinion if r.state == RoundState.DECIDED else None}
                   for r in report.rounds],
    }


@api_route("/reviews", summary="评价报告同审（只读） · evaluation reports under co-review (read-only)",
           tags=["reviews"], query=ReviewQuery, response=Page[ReviewReport], errors=())
def list_reviews(user, query: ReviewQuery):
    from portal.performance.models import Evaluation

    stmt = filtered(visible(user, Report).join(Evaluation, Evaluation.id == Report.evaluation_id), query,
                    state=Report.state, year=Evaluation.year)
    return paged(stmt.order_by(Report.id), serialise, query)


@api_route("/reviews/<int:report_id>", summary="一份评价报告的同审情况 · one report under co-review",
           tags=["reviews"], response=ReviewReport, path={"report_id": "报告 id · report id"})
def get_review(user, report_id):
    return serialise(load_or_404(Report, report_id, "view", user=user))
