"""Budget execution from the budget system (预算管理一体化系统), for all projects of a period at
once: the Excel the budget system exports (项目支出执行情况表, one row per project) or the API
(`POST /api/v1/execution`). Each figure is the amount spent from January to the period's month
(累计支出数); it becomes that month's monitoring checkpoint's execution (and the project's 全年执行数
when it is the latest month), and the monitoring lights are recomputed. All or nothing: every
row is checked first, and one bad row writes nothing. Idempotent per project and period: the
same figures again change nothing and log nothing."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.core import audit
from portal.core.audit import record_change
from portal.core.errors import DomainError, ItemsRefused, NotPermitted
from portal.core.excel import read_rows
from portal.core.parsing import InvalidValue, parse_amount, parse_month, parse_year
from portal.core.permissions import can
from portal.core.writes import lock
from portal.extensions import db
from portal.performance import operations as performance_ops
from portal.performance import settings
from portal.performance.models import GoalState, MonitoringReport, MonitoringValue, PerformanceGoal, Project

COLUMNS = ["年度", "截至月份", "单位编码", "单位名称", "项目编码", "项目名称", "全年预算数（元）", "累计支出数（元）"]
PROGRESS_EVERY = 500


@dataclass
class Figure:
    row: int  # the Excel row, or the API item's index
    year: int
    month: int
    code: str
    executed: Decimal
    unit_code: str = ""
    project: Project | None = None


@dataclass
class ExecutionReport:
    errors: list = field(default_factory=list)  # (row, column, message)
    figures: list = field(default_factory=list)
    changed: int = 0
    unchanged: int = 0

    @property
    def clean(self) -> bool:
        return not self.errors


class ExecutionRefused(ItemsRefused):
    """Errors in the figures (a workbook's rows, or the API's items): nothing was imported."""

    def __init__(self, report: ExecutionReport):
        details = [{"index": row, "field": column, "message": message} for row, column, message in report.errors]
        super().__init__(_("有 %(n)s 处错误，未导入任何执行数。", n=len(report.errors)), details, collection="items")
        self.report = report


def may_import(actor) -> bool:
    return can(actor, "import_execution", Project)  # finance performance officers (the project policy)


def _s(value) -> str:
    return "" if value is None else str(value).strip()


def parse_workbook(data: bytes, progress=None) -> ExecutionReport:
    report = ExecutionReport()
    rows = read_rows(data)
    header = next(rows, None)
    if header is None or [_s(v) for v in header[1][:len(COLUMNS)]] != COLUMNS:
        raise DomainError(_("表头与预算执行情况表不一致（应为：%(c)s）。", c="、".join(COLUMNS)))
    for number, values in rows:
        values = tuple(values) + (None,) * (len(COLUMNS) - len(values))
        if all(v is None for v in values[:len(COLUMNS)]):
            continue
        if progress is not None and number % PROGRESS_EVERY == 0:
            progress(number, len(report.errors))
        _check(report, number, {"year": values[0], "month": values[1], "unit_code": _s(values[2]),
                                "code": _s(values[4]), "executed": values[7]}, COLUMNS)
    return report


def parse_items(year, month, items: list) -> ExecutionReport:
    """The API's body: one period, items [{"code", "executed", "unit_code"?}]; errors by index."""
    report = ExecutionReport()
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            report.errors.append((index, "item", _("每一项应为对象。")))
            continue
        _check(report, index, {"year": year, "month": month, **item}, None)
    return report


def _check(report: ExecutionReport, row: int, raw: dict, columns) -> None:
    def err(col: int, key: str, message: str) -> None:
        report.errors.append((row, columns[col] if columns else key, message))

    before = len(report.errors)
    try:
        year = parse_year(raw.get("year"))
    except InvalidValue as e:
        err(0, "year", e.message)
        year = None
    try:
        month = parse_month(raw.get("month"))
    except InvalidValue as e:
        err(1, "month", e.message)
        month = None
    code = _s(raw.get("code"))
    if not code:
        err(4, "code", _("请填写项目编码。"))
    try:
        executed = parse_amount(raw.get("executed"), label=_("累计支出数"), lo=Decimal(0), required=True)
    except InvalidValue as e:
        err(7, "executed", e.message)
        executed = None
    if len(report.errors) == before:
        report.figures.append(Figure(row, year, month, code, executed, _s(raw.get("unit_code"))))


def resolve(report: ExecutionReport, columns=COLUMNS) -> None:
    """Find every row's project (by code and year, in chunks) and check what needs the database."""
    col = (lambda i, key: columns[i]) if columns else (lambda i, key: key)
    keys = {(f.code, f.year) for f in report.figures}
    found: dict[tuple, Project] = {}
    codes = sorted({k[0] for k in keys})
    for start in range(0, len(codes), 500):
        stmt = sa.select(Project).where(Project.code.in_(codes[start:start + 500])).options(
            sa.orm.joinedload(Project.unit))
        for project in db.session.scalars(stmt):
            found[(project.code, project.year)] = project
    seen: dict[tuple, int] = {}
    for f in report.figures:
        project = found.get((f.code, f.year))
        if project is None:
            report.errors.append((f.row, col(4, "code"), _("找不到 %(y)s 年度的项目 %(c)s。", y=f.year, c=f.code)))
            continue
        if f.unit_code and project.unit.code and f.unit_code != project.unit.code:
            report.errors.append((f.row, col(2, "unit_code"), _("单位编码 %(u)s 与项目 %(c)s 的责任单位（%(p)s）不符。",
                                                                u=f.unit_code, c=f.code, p=project.unit.code)))
        key = (project.id, f.month)
        if key in seen:
            report.errors.append((f.row, col(4, "code"), _("项目 %(c)s 的 %(m)s 月执行数重复（第 %(r)s 行已有）。",
                                                           c=f.code, m=f.month, r=seen[key])))
        seen[key] = f.row
        f.project = project
    report.errors.sort(key=lambda e: (e[0] if isinstance(e[0], int) else 0))


def _write(figure: Figure, actor, latest_month: dict, reports: dict, goals: dict, thresholds) -> bool:
    """One project's figure for one period; True when something changed. `reports` and `goals`
    are the period's existing checkpoints and the approved goals, read beforehand in chunks."""
    project = figure.project
    report = reports.get((project.id, figure.month))
    changed = False
    if report is None:
        report = MonitoringReport(project=project, month=figure.month, goal_id=goals.get(project.id),
                                  executed=figure.executed, reported_by_id=actor.id, values=[])
        db.session.add(report)
        performance_ops.recompute_report(report, thresholds)
        record_change(actor, "monitoring.execution_import", report,
                      after={"month": figure.month, "executed": format(figure.executed, "f"),
                             "warning": report.warning})
        changed = True
    elif report.executed != figure.executed:
        lock(report)
        before = {"executed": format(report.executed, "f"), "warning": report.warning}
        report.executed = figure.executed
        performance_ops.recompute_report(report, thresholds)
        record_change(actor, "monitoring.execution_import", report, before=before,
                      after={"executed": format(figure.executed, "f"), "warning": report.warning})
        changed = True
    if figure.month >= latest_month.get(project.id, 0) and project.executed != figure.executed:
        lock(project)
        before = format(project.executed, "f")
        project.executed = figure.executed
        record_change(actor, "project.execution_import", project, before={"executed": before},
                      after={"executed": format(figure.executed, "f")}, comment=f"{figure.month}月")
        changed = True
    return changed


def write(report: ExecutionReport, actor, progress=None, batch: int = 500) -> ExecutionReport:
    """Write the checked figures `batch` projects at a time: the existing checkpoints, the approved
    goals and the latest months read per batch, one flush per batch, the audit entries chained
    once at the end (audit.deferred)."""
    thresholds = settings.thresholds()
    latest: dict[int, int] = {}
    for f in report.figures:  # several months of one project in one file: the latest is the year's
        latest[f.project.id] = max(latest.get(f.project.id, 0), f.month)
    with audit.deferred():
        for start in range(0, len(report.figures), batch):
            chunk = report.figures[start:start + batch]
            ids = sorted({f.project.id for f in chunk})
            reports = {(r.project_id, r.month): r for r in db.session.scalars(
                sa.select(MonitoringReport).where(MonitoringReport.project_id.in_(ids)).options(
                    sa.orm.selectinload(MonitoringReport.values).selectinload(MonitoringValue.indicator)))}
            for r in reports.values():
                latest[r.project_id] = max(latest.get(r.project_id, 0), r.month)
            goals = dict(db.session.execute(sa.select(PerformanceGoal.project_id, PerformanceGoal.id).where(
                PerformanceGoal.project_id.in_(ids), PerformanceGoal.state == GoalState.APPROVED)).all())
            for f in chunk:
                if _write(f, actor, latest, reports, goals, thresholds):
                    report.changed += 1
                else:
                    report.unchanged += 1
            db.session.flush()
            if progress is not None:
                progress(start + len(chunk))
    return report


def import_workbook(data: bytes, *, actor, progress=None) -> ExecutionReport:
    """The job's work: check every row, write only a clean file (ExecutionRefused otherwise)."""
    if not may_import(actor):
        raise NotPermitted(_("只有财政绩效管理人员可以导入预算执行数。"))
    from portal.performance.excel_io import estimated_rows

    total = estimated_rows(data) if progress is not None else 0
    report = parse_workbook(data, progress=(lambda n, e: progress(n // 2, total=total, errors=e)) if progress else None)
    resolve(report)
    if not report.clean:
        raise ExecutionRefused(report)
    count = max(len(report.figures), 1)
    done = write(report, actor, progress=(
        lambda n: progress(total // 2 + n * (total - total // 2) // count, total=total)) if progress else None)
    if progress is not None:
        progress(total, total=total)
    return done


def import_items(year, month, items: list, *, actor) -> ExecutionReport:
    """The API's operation: one period's figures, all or nothing."""
    if not may_import(actor):
        raise NotPermitted(_("只有财政绩效管理人员可以导入预算执行数。"))
    report = parse_items(year, month, items)
    resolve(report, columns=None)
    if not report.clean:
        raise ExecutionRefused(report)
    return write(report, actor)


def template_rows():
    yield [2026, 7, "LZ101", "临州市教育局", "2026LZ1010001", "（示例）义务教育薄弱环节改善项目", 5000000, 2875000.5]
