"""The ledger's long work as background jobs (portal/core/background.py): the Excel import of
problems (all or nothing, row errors kept for the job page) and the export of the whole ledger
as the user may see it, written under instance/jobs/ and offered for download."""
from __future__ import annotations

import os
import shutil

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.accounts.queries import job_actor
from portal.core import background, clock
from portal.core.errors import NotPermitted
from portal.core.excel import write_xlsx
from portal.core.permissions import can, visible
from portal.extensions import db
from portal.ledger import excel_io
from portal.ledger.models import Problem
from portal.ledger.queries import LedgerFilters

IMPORT, EXPORT = "ledger.import", "ledger.export"


def error_rows(errors: list) -> list[tuple[int, str]]:
    """The import's (row, column, header, message) as the job page's (row, message)."""
    out = []
    for row, column, header, message in errors:
        where = _("%(c)s列（%(h)s）", c=column, h=header) if column and header else (
            _("%(c)s列", c=column) if column else "")
        out.append((row, f"{where}：{message}" if where else message))
    return out


@background.runner(IMPORT, label=_l("问题台账导入"))
def run_import(job, payload, progress) -> background.Outcome:
    actor = job_actor(job)
    if not can(actor, "import", Problem):
        raise NotPermitted(_("只有财政、审计工作人员可以导入问题。"))
    try:
        problems = excel_io.import_problems(background.input_bytes(job), actor=actor, progress=progress)
    except excel_io.ImportRefused as refused:
        raise background.RowErrors(error_rows(refused.errors), message=refused.message) from None
    return background.Outcome(_("已导入 %(n)s 个问题：%(a)s 至 %(b)s。", n=len(problems), a=problems[0].number,
                                b=problems[-1].number), link=url_for("ledger.index"))


def export_statement(actor, args: dict):
    filters = LedgerFilters.from_args(args)
    return filters.order(filters.apply(visible(actor, Problem)))


@background.runner(EXPORT, label=_l("问题台账导出"))
def run_export(job, payload, progress) -> background.Outcome:
    actor = job_actor(job)
    stmt = export_statement(actor, payload.get("filters") or {})
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())) or 0
    progress(0, total=total)

    def rows():
        for n, row in enumerate(excel_io.export_rows(stmt), start=1):
            if n % 500 == 0:
                progress(n, total=total)
            yield row
        progress(total, total=total)
    temporary = write_xlsx(excel_io.export_headers(), rows(), sheet_title=_("问题台账"))
    path = background.jobs_dir() / f"out-{job.id}.xlsx"
    shutil.move(temporary, path)
    os.chmod(path, 0o600)
    return background.Outcome(_("已导出 %(n)s 个问题。", n=total), result_file=path,
                              result_name=_("问题台账") + f"_{clock.today():%Y%m%d}.xlsx")
