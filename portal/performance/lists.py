"""The project list's columns (portal/core/listing.py): what is shown is what is exported. Its
filters stay the module's own query (`queries.project_list_stmt`, shared with the exports and
the API); the sort is the listing's."""
from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l

from portal.core.listing import Column, Listing
from portal.performance import queries
from portal.performance.models import Project

FILTERS = ("year", "department", "unit", "kind", "budget_type", "band", "grade", "warning", "q")


class ProjectFilters:
    """The project filters as the module's query reads them (`project_list_stmt`)."""

    def __init__(self, args):
        self.values = {k: (args.get(k) or "").strip()[:60] for k in FILTERS}

    def args(self) -> dict:
        return {k: v for k, v in self.values.items() if v}

    def get(self, key, default=None):
        return self.values.get(key, default)

    def apply(self, stmt):
        return stmt  # applied by queries.project_list_stmt


def decorate(projects) -> None:
    extras = queries.decorate(projects)
    for project in projects:
        project.list_extra = extras[project.id]


def _name(project) -> str:
    return project.name + (f" （{project.status.label}）" if project.status.value == "stopped" else "")


PROJECTS = Listing("projects", columns=[
    Column("year", _l("年度"), lambda p: p.year, kind="number", sort=(Project.year,)),
    Column("code", _l("项目编码"), lambda p: p.code, sort=(Project.code,)),
    Column("name", _l("项目名称"), _name, sort=(Project.name,),
           link=lambda p: url_for("performance.project", project_id=p.id)),
    Column("unit", _l("责任单位"), lambda p: p.unit.name, sort=(Project.unit_id,)),
    Column("kind", _l("类型"), lambda p: p.kind.label, sort=(Project.kind,)),
    Column("budget", _l("全年预算数"), lambda p: p.annual_budget, kind="money", css="num",
           sort=(Project.annual_budget,)),
    Column("executed", _l("全年执行数"), lambda p: p.executed, kind="money", css="num", sort=(Project.executed,)),
    Column("rate", _l("执行率"), lambda p: p.execution_rate, kind="percent", css="num"),
    Column("goal", _l("绩效目标"), lambda p: p.list_extra["goal"].label if p.list_extra["goal"] else str(_l("未填报"))),
    Column("warning", _l("预警"), lambda p: str(_l("预警")) if p.list_extra["warning"] else ""),
    Column("grade", _l("评价等级"), lambda p: p.list_extra["grade"], kind="badge"),
], filters=ProjectFilters, tiebreak=lambda: (Project.id,), decorate=decorate)
