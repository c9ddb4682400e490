"""The budget-execution import page (预算执行数导入): the file is checked here, then read, checked
and written by a job with progress (portal/core/background.py); the template is the budget
system's export layout."""
from __future__ import annotations

from flask import render_template, request
from flask_login import current_user

from portal.core.permissions import require
from portal.core.writes import DOMAIN_ERROR_STATUS
from portal.performance import execution
from portal.performance.models import Project
from portal.performance.views import bp, start_import


@bp.route("/monitoring/execution-import", methods=["GET", "POST"])
def execution_import():
    from portal.core.excel import xlsx_response
    from portal.performance.jobs import EXECUTION

    require(current_user, "import_execution", Project)
    if request.args.get("template"):
        return xlsx_response("预算执行情况表模板.xlsx", execution.COLUMNS, execution.template_rows(),
                             sheet_title="项目支出执行情况表")
    error = None
    if request.method == "POST":
        started, error = start_import(EXECUTION)
        if started is not None:
            return started
    return render_template("portal/performance/execution_import.html", error=error, columns=execution.COLUMNS), \
        (DOMAIN_ERROR_STATUS if error else 200)
