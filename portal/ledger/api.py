"""GET /api/v1/problems: the ledger, read-only, with the ledger page's filters."""
from __future__ import annotations

from datetime import date

from flask import abort
from pydantic import Field

from portal.core.api import api_route, paged
from portal.core.permissions import visible
from portal.core.schemas import DbId, Page, PageQuery, Schema, Text, Year, choice
from portal.extensions import db
from portal.ledger.models import MONEY_CATEGORIES, ProblemSource, ProblemState, RectificationType
from portal.ledger.models import Problem as ProblemRecord
from portal.ledger.queries import BUCKETS, SORTS, LedgerFilters, bucket_of

BucketValue = choice(BUCKETS)


class ProblemQuery(PageQuery):
    """问题台账筛选（与台账页面相同） · the ledger page's filters"""
    year: Year | None = Field(None, description="年度 · year")
    unit: DbId | None = Field(None, description="责任单位 id · responsible unit id")
    department: DbId | None = Field(None, description="主管部门 id · supervising department id")
    source: choice(ProblemSource) | None = Field(None, description="问题来源 · source")
    category: Text(60) = Field("", description="问题类别 · category")
    state: choice(ProblemState) | None = Field(None, description="整改状态 · state")
    bucket: BucketValue | None = Field(None, description="到期分组 · deadline bucket")
    q: Text(100) = Field("", description="编号或描述包含 · number or description contains")
    sort: choice([*SORTS, *(f"-{k}" for k in SORTS)]) = Field("number", description=(
        "排序字段，前加 - 为降序 · sort key, prefix - for descending"))


class Problem(Schema):
    """台账中的一个问题 · a problem of the rectification ledger"""
    id: int = Field(description="问题 id · problem id")
    number: str = Field(description="台账编号（如 ZG-2026-0001） · ledger number", examples=["ZG-2026-0001"])
    year: int = Field(description="年度 · year")
    source: choice(ProblemSource) = Field(description="问题来源 · source")
    source_ref: str = Field(description="来源依据（如 临审报〔2026〕5号） · source reference")
    project_id: int | None = Field(description="关联项目 id · project id")
    unit_id: int = Field(description="责任单位 id · responsible unit id")
    unit: str = Field(description="责任单位 · responsible unit")
    department_id: int = Field(description="主管部门 id · supervising department id")
    department: str = Field(description="主管部门 · supervising department")
    category: str = Field(description="问题类别 · category")
    description: str = Field(description="问题描述 · description")
    amount: str = Field(description="问题金额（元，精确小数） · amount in yuan, exact decimal")
    rectified: dict[str, str] = Field(description=(
        "各类整改金额（元），键：" + "、".join(f"{k} {zh}" for k, zh, _en in MONEY_CATEGORIES)
        + " · yuan rectified per category"))
    rectified_counted: str = Field(description="整改金额合计，不超过问题金额 · total rectified, at most the amount")
    rect_type: choice(RectificationType) = Field(description="整改类型 · rectification type")
    listed_on: date = Field(description="列入台账日期 · listed on")
    deadline: date = Field(description="整改期限 · deadline")
    state: choice(ProblemState) = Field(description="整改状态 · state")
    bucket: BucketValue | None = Field(description="到期分组（已销号为空） · deadline bucket, empty once closed")
    closed_on: date | None = Field(description="销号日期 · closed on")
    recurrence_of: str | None = Field(description="屡查屡犯：此前问题的编号 · number of the earlier problem it repeats")


def serialise(p: ProblemRecord) -> dict:
    from portal.ledger.models import MONEY_FIELDS

    return {"id": p.id, "number": p.number, "year": p.year, "source": p.source.value, "source_ref": p.source_ref,
            "project_id": p.project_id, "unit_id": p.unit_id, "unit": p.unit.name, "department_id": p.department_id,
            "department": p.department.name, "category": p.category, "description": p.description,
            "amount": str(p.amount), "rectified": {f[5:]: str(getattr(p, f)) for f in MONEY_FIELDS},
            "rectified_counted": str(p.rectified_counted),
            "rect_type": p.rect_type.value, "listed_on": p.listed_on.isoformat(), "deadline": p.deadline.isoformat(),
            "state": p.state.value, "bucket": bucket_of(p),
            "closed_on": p.closed_on.isoformat() if p.closed_on else None,
            "recurrence_of": p.recurrence_of.number if p.recurrence_of_id else None}


@api_route("/problems", summary="问题台账（只读） · the rectification ledger (read-only)", tags=["ledger"],
           query=ProblemQuery, response=Page[Problem], errors=())
def list_problems(user, query: ProblemQuery):
    from sqlalchemy.orm import joinedload

    filters = LedgerFilters.from_args(query.filter_args())
    stmt = filters.order(filters.apply(visible(user, ProblemRecord)))
    stmt = stmt.options(joinedload(ProblemRecord.unit), joinedload(ProblemRecord.department))
    return paged(stmt, serialise, query)


@api_route("/problems/<int:problem_id>", summary="一个问题 · one problem", tags=["ledger"], response=Problem,
           path={"problem_id": "问题 id · problem id"})
def get_problem(user, problem_id):
    record = db.session.execute(visible(user, ProblemRecord).where(ProblemRecord.id == problem_id)).scalar_one_or_none()
    if record is None:
        abort(404, "没有该问题或无权查看。")
    return serialise(record)
