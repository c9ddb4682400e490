"""Read-only API: /api/v1/assessments (ex-ante assessments with their conclusions; never the
assessors' identities) and /api/v1/assessments/figures (the year's figures and paragraph)."""
from __future__ import annotations

from pydantic import Field

from portal.assessments import queries
from portal.assessments.models import Assessment, AssessmentState, Conclusion
from portal.core.api import api_error, api_route, exact, paged
from portal.core.permissions import can, load_or_404
from portal.core.schemas import Page, PageQuery, Query, Schema, Year, choice


class AssessmentQuery(PageQuery):
    """事前评估筛选 · assessment filters"""
    state: choice(AssessmentState) | None = Field(None, description="状态 · state")
    year: Year | None = Field(None, description="预算年度 · budget year")


class AssessmentOut(Schema):
    """一项事前绩效评估 · one ex-ante assessment"""
    id: int = Field(description="评估 id · assessment id")
    project_id: int = Field(description="项目 id · project id")
    project_code: str = Field(description="项目编码 · project code")
    project: str = Field(description="项目名称 · project name")
    year: int = Field(description="预算年度 · budget year")
    unit: str = Field(description="申报单位 · applying unit")
    state: choice(AssessmentState) = Field(description="状态 · state")
    requested_amount: str = Field(description="申请金额（元） · amount requested, yuan")
    score: str | None = Field(description="最近一次评估得分 · latest score")
    conclusion: choice(Conclusion) | None = Field(description="最近一次评估结论 · latest conclusion")
    recommended_amount: str | None = Field(description="建议安排金额（元） · amount recommended, yuan")
    rounds: int = Field(description="评估次数 · rounds held")


def serialise(a: Assessment) -> dict:
    return {"id": a.id, "project_id": a.project_id, "project_code": a.project.code, "project": a.project.name,
            "year": a.year, "unit": a.unit.name, "state": a.state.value, "requested_amount": exact(a.requested_amount),
            "score": exact(a.score), "conclusion": a.conclusion.value if a.conclusion else None,
            "recommended_amount": exact(a.recommended_amount), "rounds": len(a.rounds)}


@api_route("/assessments", summary="事前绩效评估（只读） · ex-ante assessments (read-only)", tags=["assessments"],
           query=AssessmentQuery, response=Page[AssessmentOut], errors=())
def list_assessments(user, query: AssessmentQuery):
    stmt = queries.list_stmt(user, year=query.year, state=query.state)
    return paged(stmt.order_by(None).order_by(Assessment.id), serialise, query)


@api_route("/assessments/<int:assessment_id>", summary="一项事前绩效评估 · one ex-ante assessment",
           tags=["assessments"], response=AssessmentOut, path={"assessment_id": "评估 id · assessment id"})
def get_assessment(user, assessment_id):
    return serialise(load_or_404(Assessment, assessment_id, "view", user=user))


class FiguresQuery(Query):
    """统计年度 · the budget year"""
    year: Year = Field(description="预算年度 · budget year")


class FigureRow(Schema):
    """一个主管部门的评估情况 · one department's figures"""
    department: str = Field(description="主管部门 · department")
    assessed: int = Field(description="已评估 · assessed")
    supported: int = Field(description="予以支持 · supported")
    adjusted: int = Field(description="调整后支持 · supported after changes")
    rejected: int = Field(description="不予支持（建议取消） · not supported")
    requested: str = Field(description="申请金额（元） · requested, yuan")
    recommended: str = Field(description="建议安排金额（元） · recommended, yuan")
    cut: str = Field(description="核减金额（元） · cut, yuan")


class FiguresOut(Schema):
    """一个预算年度的事前评估情况 · a budget year's figures"""
    year: int = Field(description="预算年度 · budget year")
    paragraph: str = Field(description="情况说明 · the generated paragraph")
    departments: list[FigureRow] = Field(description="分部门 · per department")
    total: FigureRow = Field(description="合计 · total")


def _row(f: queries.Figures) -> dict:
    return {"department": f.department, "assessed": f.assessed, "supported": f.supported, "adjusted": f.adjusted,
            "rejected": f.rejected, "requested": exact(f.requested), "recommended": exact(f.recommended),
            "cut": exact(f.cut)}


@api_route("/assessments/figures", summary="事前评估情况统计 · ex-ante assessment figures", tags=["assessments"],
           query=FiguresQuery, response=FiguresOut, errors=(403,))
def assessment_figures(user, query: FiguresQuery):
    if not can(user, "overview", Assessment):
        return api_error(403, "forbidden", "无权查看。 · Forbidden.")
    rows, total = queries.figures(user, query.year)
    return {"year": query.year, "paragraph": queries.paragraph(query.year, total),
            "departments": [_row(r) for r in rows], "total": _row(total)}
