"""The performance module's long work as background jobs (portal/core/background.py): the import
of projects and goal tables (all or nothing, row errors kept for the job page) and the export of
every goal table of the project list, written under instance/jobs/ and offered for download."""
from __future__ import annotations

import os
import shutil

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.accounts.queries import job_actor
from portal.core import background
from portal.core.errors import NotPermitted
from portal.core.excel import write_xlsx
from portal.core.permissions import can
from portal.extensions import db
from portal.performance import excel_io, queries
from portal.performance.models import PerformanceGoal, Project

IMPORT, EXPORT = "performance.import_goals", "performance.export_goals"


@background.runner(IMPORT, label=_l("项目与绩效目标导入"))
def run_import(job, payload, progress) -> background.Outcome:
    actor = job_actor(job)
    if not can(actor, "create", Project):
        raise NotPermitted(_("您无权新建项目。"))
    report = excel_io.import_goal_workbook(background.input_bytes(job), actor=actor, progress=progress)
    if not report.clean:
        raise background.RowErrors([(row, f"{column}：{message}") for row, column, message in report.errors],
                                   message=_("文件有错误，未导入任何数据。"))
    return background.Outcome(_("导入成功：新增项目 %(c)s 个，更新 %(u)s 个，指标 %(i)s 条。", c=report.created,
                                u=report.updated, i=report.indicators), link=url_for("performance.projects"))


def export_statement(actor, args: dict):
    return queries.project_list_stmt(actor, args).options(
        sa.orm.selectinload(Project.unit), sa.orm.selectinload(Project.goals).selectinload(PerformanceGoal.indicators))


@background.runner(EXPORT, label=_l("绩效目标表导出"))
def run_export(job, payload, progress) -> background.Outcome:
    actor = job_actor(job)
    args = payload.get("filters") or {}
    stmt = export_statement(actor, args)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(
        queries.project_list_stmt(actor, args).order_by(None).subquery())) or 0
    progress(0, total=total)
    counted = {"projects": 0, "rows": 0}

    def rows():
        for start in range(0, total, 500):  # 500 projects at a time (the identity map holds them weakly)
            batch = db.session.scalars(stmt.limit(500).offset(start)).all()
            for project in batch:
                if project.current_goal is not None:
                    for row in excel_io.goal_rows(project.current_goal):
                        counted["rows"] += 1
                        yield row
            counted["projects"] += len(batch)
            progress(counted["projects"], total=total)
    temporary = write_xlsx(excel_io.GOAL_COLUMNS, rows(), sheet_title="绩效目标表")
    path = background.jobs_dir() / f"out-{job.id}.xlsx"
    shutil.move(temporary, path)
    os.chmod(path, 0o600)
    return background.Outcome(_("已导出 %(p)s 个项目的绩效目标表，共 %(n)s 行。", p=counted["projects"], n=counted["rows"]),
                              result_file=path, result_name="绩效目标表.xlsx")


EXECUTION = "performance.import_execution"


@background.runner(EXECUTION, label=_l("预算执行数导入"))
def run_execution_import(job, payload, progress) -> background.Outcome:
    from portal.performance import execution

    actor = job_actor(job)
    try:
        report = execution.import_workbook(background.input_bytes(job), actor=actor, progress=progress)
    except execution.ExecutionRefused as refused:
        raise background.RowErrors([(row, f"{column}：{message}") for row, column, message in refused.report.errors],
                                   message=refused.message) from None
    return background.Outcome(_("导入成功：%(n)s 个项目的执行数，其中有变化 %(c)s 个、与已有数据相同 %(u)s 个。",
                                n=len(report.figures), c=report.changed, u=report.unchanged),
                              link=url_for("performance.warnings"))
