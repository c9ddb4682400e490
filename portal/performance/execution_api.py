"""POST /api/v1/execution: one period's budget-execution figures for many projects at once, from
the budget system (all or nothing; idempotent per project and period)."""
from __future__ import annotations

from pydantic import Field

from portal.core.api import api_error, api_route, api_write
from portal.core.schemas import Amount, Body, Schema, Text, Year
from portal.performance import execution


class ExecutionItem(Body):
    """一个项目的累计支出数 · one project's spending so far"""
    code: Text(40, 1) = Field(description="项目编码（预算系统） · project code in the budget system")
    executed: Amount = Field(description="1月至截至月份的累计支出数（元） · spent from January to the month, yuan")
    unit_code: Text(40) | None = Field(None, description="责任单位编码（填写时核对） · unit code, checked when given")


class ExecutionBody(Body):
    """一个期间的预算执行数 · one period's execution figures"""
    year: Year = Field(description="年度 · fiscal year")
    month: int = Field(ge=1, le=12, description="截至月份 · the period's last month")
    items: list[ExecutionItem] = Field(min_length=1, max_length=20000,
                                       description="项目（1–20000 项） · 1–20,000 projects")


class ExecutionResult(Schema):
    """导入结果 · what was imported"""
    year: int = Field(description="年度 · fiscal year")
    month: int = Field(description="截至月份 · month")
    projects: int = Field(description="项目数 · projects in the request")
    changed: int = Field(description="有变化的项目数 · projects whose figures changed")
    unchanged: int = Field(description="与已有数据相同的项目数 · projects already up to date")


@api_route("/execution", methods=("POST",), tags=["performance"], body=ExecutionBody, response=ExecutionResult,
           summary="导入一个期间的预算执行数（全部成功或全部不保存） · one period's execution figures, all or nothing",
           description="每项为项目1月至截至月份的累计支出数，写入该月运行监控的执行数并重新计算预警。再次提交相同数据不产生"
                       "变化（按项目和期间幂等）。任何一项有误时整个请求以 422 拒绝，details[] 含 index、field、message。 · "
                       "Each item is a project's spending from January to the month; it becomes that month's "
                       "monitoring execution and the lights are recomputed. The same figures again change nothing "
                       "(idempotent per project and period). One bad item refuses the request: 422, details[] "
                       "with index, field, message.",
           errors=(403, 409))
def import_execution(user, body: ExecutionBody):
    if not execution.may_import(user):
        return api_error(403, "forbidden", "只有财政绩效管理人员可以导入预算执行数。")
    items = [item.model_dump(exclude_none=True) for item in body.items]
    report = api_write(execution.import_items, body.year, body.month, items, actor=user)
    return {"year": body.year, "month": body.month, "projects": len(report.figures), "changed": report.changed,
            "unchanged": report.unchanged}
