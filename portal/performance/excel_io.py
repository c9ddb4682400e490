"""Excel in and out in the standard goal-table layout (绩效目标申报表): one row per indicator, the
project columns filled on the first row of each project (later rows may repeat them or leave them
blank). Import is all-or-nothing: every row is checked first, and nothing is written unless the
whole file is clean."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.accounts.models import Organisation, OrgKind
from portal.core import audit, parsing
from portal.core.audit import record_change
from portal.core.errors import DomainError
from portal.core.excel import read_rows
from portal.core.permissions import can, org_subtree_ids
from portal.core.writes import lock
from portal.extensions import db
from portal.performance import operations
from portal.performance.models import (
    BudgetType,
    GoalState,
    Indicator,
    Level1,
    Level2,
    Operator,
    PerformanceGoal,
    Project,
    ProjectKind,
)

GOAL_COLUMNS = ["项目编码", "项目名称", "年度", "项目类型", "预算类型", "责任单位编码", "年初预算数（元）",
                "全年预算数（元）", "总体目标", "一级指标", "二级指标", "三级指标", "运算符号", "指标值",
                "度量单位", "分值"]
PROJECT_COLS = 9  # the first nine columns describe the project

SELF_EVAL_COLUMNS = ["项目编码", "项目名称", "年初预算数（元）", "全年预算数（元）", "全年执行数（元）", "执行率",
                     "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分",
                     "偏差原因分析及改进措施"]


def _by_label(enum_cls) -> dict[str, object]:
    out = {}
    for m in enum_cls:
        out[m.zh] = m
        out[m.value] = m
        out[m.zh.removesuffix("指标")] = m
    return out


KINDS, BUDGET_TYPES = _by_label(ProjectKind), _by_label(BudgetType)
LEVEL1S, LEVEL2S, OPERATORS = _by_label(Level1), _by_label(Level2), _by_label(Operator)
OPERATORS.update({">=": Operator.GE, "<=": Operator.LE, "≧": Operator.GE, "≦": Operator.LE})


def goal_rows(goal: PerformanceGoal):
    p = goal.project
    for n, ind in enumerate(goal.indicators):
        head = [p.code, p.name, p.year, p.kind.zh, p.budget_type.zh, p.unit.code or "", p.initial_budget,
                p.annual_budget, goal.overall_goal] if n == 0 else [p.code] + [None] * (PROJECT_COLS - 1)
        yield head + [ind.level1.zh, ind.level2.zh, ind.name, ind.operator.zh,
                      ind.target_text if ind.is_qualitative else ind.target_value, ind.unit, ind.weight]


def self_evaluation_rows(evaluation):
    p = evaluation.project
    rate = p.execution_rate
    for ln in evaluation.lines:
        ind = ln.indicator
        if ln.part == "execution":
            actual = f"{(rate * 100).quantize(Decimal('0.01'))}%" if rate is not None else ""
            yield [p.code, p.name, p.initial_budget, p.annual_budget, p.executed, actual, "预算执行率", "", "",
                   "100%", actual, ln.weight, ln.score, ln.reason]
            continue
        actual = ln.tier.zh if ln.tier else ln.actual
        yield [p.code, p.name, None, None, None, None, ind.level1.zh if ind else "", ind.level2.zh if ind else "",
               ln.label, ln.target_text, actual if ln.applicable else "不适用", ln.weight,
               ln.score if ln.score is not None else "不适用", ln.reason]


def template_rows():
    yield ["2026001", "义务教育薄弱环节改善项目（示例）", 2026, "项目支出", "一般公共预算", "LZ101", 5000000,
           5000000, "改善 12 所学校办学条件，惠及学生 8000 人。", "产出指标", "数量指标", "改造学校数量", "≥",
           12, "所", 30]
    yield ["2026001", None, None, None, None, None, None, None, None, "产出指标", "质量指标", "工程验收合格率", "≥",
           100, "%", 20]
    yield ["2026001", None, None, None, None, None, None, None, None, "效益指标", "社会效益指标", "受益学生人数", "≥",
           8000, "人", 30]
    yield ["2026001", None, None, None, None, None, None, None, None, "满意度指标", "服务对象满意度指标",
           "师生满意度", "≥", 90, "%", 10]


@dataclass
class ParsedProject:
    row: int
    data: dict
    overall_goal: str
    indicators: list = field(default_factory=list)  # (row number, row dict)


@dataclass
class ImportReport:
    errors: list = field(default_factory=list)  # (row, column, message)
    projects: list = field(default_factory=list)
    created: int = 0
    updated: int = 0
    indicators: int = 0

    @property
    def clean(self) -> bool:
        return not self.errors


def _text_column_limits() -> dict[int, int]:
    """Column → the form's limit for the same text (project form, overall goal, indicator row)."""
    from portal.core.forms import TEXT_LIMITS
    from portal.performance.forms import IndicatorRowForm, OverallGoalForm, ProjectForm

    limit = parsing.text_limit
    return {0: limit(ProjectForm, "code"), 1: limit(ProjectForm, "name"), 3: TEXT_LIMITS["short"],
            4: TEXT_LIMITS["short"], 5: TEXT_LIMITS["short"], 8: limit(OverallGoalForm, "overall_goal"),
            9: TEXT_LIMITS["short"], 10: TEXT_LIMITS["short"], 11: limit(IndicatorRowForm, "name"),
            12: TEXT_LIMITS["short"], 13: limit(IndicatorRowForm, "target_text"),
            14: limit(IndicatorRowForm, "unit")}


TEXT_COLUMN_LIMITS = _text_column_limits()


def _s(value) -> str:
    """A cell as text, without control characters (as a form's text)."""
    return parsing.cell_text(value)


PROGRESS_EVERY = 200  # rows between two progress reports


def estimated_rows(data: bytes) -> int:
    """The data rows the first sheet says it has (its <dimension ref="A1:P10001">), read from the
    start of the sheet's XML without parsing the workbook; 0 if unknown (the bar then waits)."""
    import io
    import re
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            sheets = sorted(n for n in archive.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n))
            with archive.open(sheets[0]) as sheet:
                head = sheet.read(4096).decode("utf-8", "replace")
    except (zipfile.BadZipFile, IndexError, KeyError, OSError):
        return 0
    found = re.search(r'<(?:\w+:)?dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"', head)
    return max(int(found.group(1)) - 1, 0) if found else 0


class ImportBar:
    """A job's progress bar over an all-or-nothing import, `progress(done, total=, errors=)`: the
    first half is reading and checking (against the sheet's estimated rows), the second half
    writing (against `total`, set to the rows found). Without `progress` it shows nothing."""

    def __init__(self, data: bytes, progress=None):
        self.progress = progress
        self.total = estimated_rows(data) if progress is not None else 0

    def __call__(self, done: int, errors: int = 0) -> None:
        if self.progress is not None:
            self.progress(min(done, self.total) if self.total else done, total=self.total, errors=errors)

    def written(self, done: int) -> None:
        """`done` of the `total` rows written."""
        self(self.total // 2 + done * (self.total - self.total // 2) // max(self.total, 1))


def parse_goal_workbook(data: bytes, *, actor, progress=None) -> ImportReport:
    """Read and check every row; returns the report (errors listed by row and column).
    `progress(rows_read, errors_found)` is called every few hundred rows."""
    report = ImportReport()
    orgs = {o.code: o for o in db.session.scalars(sa.select(Organisation).where(
        Organisation.kind == OrgKind.BUDGET_UNIT, Organisation.code.is_not(None)))}
    reach = None if operations.is_finance_officer(actor) else org_subtree_ids(actor.organisation_id)
    current: ParsedProject | None = None
    by_key: dict[tuple, ParsedProject] = {}
    rows = read_rows(data)
    header = next(rows, None)
    if header is None or [_s(v) for v in header[1][:len(GOAL_COLUMNS)]] != GOAL_COLUMNS:
        raise DomainError(_("表头与标准绩效目标表不一致，请下载模板后填写。"))
    for number, values in rows:
        if progress is not None and number % PROGRESS_EVERY == 0:
            progress(number - 1, len(report.errors))
        values = tuple(values) + (None,) * (len(GOAL_COLUMNS) - len(values))
        if all(v is None for v in values[:len(GOAL_COLUMNS)]):
            continue

        def err(col: int, message: str, number=number):
            report.errors.append((number, GOAL_COLUMNS[col], message))

        long_cells = [(col, parsing.too_long(_s(values[col]), limit)) for col, limit in TEXT_COLUMN_LIMITS.items()]
        for col, message in long_cells:
            if message:
                err(col, message)
        if any(message for _col, message in long_cells):
            continue
        code = _s(values[0])
        if not code:
            err(0, _("请填写项目编码。"))
            continue
        if any(v is not None for v in values[1:PROJECT_COLS]):  # a project header row
            raw = {"code": code, "name": _s(values[1]), "year": values[2], "description": ""}
            kind, btype = KINDS.get(_s(values[3])), BUDGET_TYPES.get(_s(values[4]))
            if not raw["name"]:
                err(1, _("请填写项目名称。"))
            try:
                raw["year"] = int(values[2])
                if not 2000 <= raw["year"] <= 2100:
                    raise ValueError
            except (TypeError, ValueError):
                err(2, _("年度必须是四位数字。"))
            if kind is None:
                err(3, _("项目类型应为：项目支出、政策、部门整体支出。"))
            if btype is None:
                err(4, _("预算类型应为四本预算之一（如“一般公共预算”）。"))
            unit = orgs.get(_s(values[5]))
            if unit is None:
                err(5, _("找不到单位编码“%(c)s”。", c=_s(values[5])))
            elif reach is not None and unit.id not in reach:
                err(5, _("只能导入本单位及下属单位的项目。"))
            for col, key in ((6, "initial_budget"), (7, "annual_budget")):
                try:
                    raw[key] = operations.parse_decimal(values[col], field_name=key, label=GOAL_COLUMNS[col], minimum=0) \
                        or Decimal(0)
                except DomainError as e:
                    err(col, e.message)
            raw.update(kind=kind, budget_type=btype, unit_id=unit.id if unit else None, executed=Decimal(0))
            key = (code, raw["year"])
            if key in by_key:
                err(0, _("项目 %(c)s 在文件中出现了两次。", c=code))
            current = ParsedProject(number, raw, _s(values[8]))
            by_key[key] = current
            report.projects.append(current)
        elif current is None or current.data["code"] != code:
            err(0, _("该行之前没有项目 %(c)s 的表头行（项目名称、年度等）。", c=code))
            continue
        row = {"level1": LEVEL1S.get(_s(values[9])), "level2": LEVEL2S.get(_s(values[10])),
               "name": _s(values[11]), "operator": OPERATORS.get(_s(values[12])), "unit": _s(values[14]),
               "weight": values[15]}
        if row["operator"] == Operator.QUALITATIVE.value:
            row["target_text"], row["target_value"] = _s(values[13]), None
        else:
            row["target_text"], row["target_value"] = "", values[13]
        columns = {"level1": 9, "level2": 10, "name": 11, "operator": 12, "target_value": 13, "weight": 15}
        for fld, message in operations.row_errors(row).items():
            err(columns[fld], message)
        current.indicators.append((number, row))
    for parsed in report.projects:
        found = operations.validate_goal_rows([r for _n, r in parsed.indicators], parsed.overall_goal)
        for message in found.general:
            report.errors.append((parsed.row, GOAL_COLUMNS[8] if "总体目标" in message else GOAL_COLUMNS[15], message))
    if not report.projects and not report.errors:
        raise DomainError(_("文件中没有数据行。"))
    _check_existing(report)
    report.errors.sort(key=lambda e: e[0])
    return report


def _check_existing(report: ImportReport) -> None:
    keys = [(p.data["code"], p.data["year"]) for p in report.projects if isinstance(p.data.get("year"), int)]
    if not keys:
        return
    existing = {}
    codes = {k[0] for k in keys}
    for chunk in _chunks(sorted(codes), 500):
        for proj in db.session.scalars(sa.select(Project).where(Project.code.in_(chunk))):
            existing[(proj.code, proj.year)] = proj
    for parsed in report.projects:
        proj = existing.get((parsed.data["code"], parsed.data.get("year")))
        parsed.data["existing"] = proj
        if proj is not None:
            goal = proj.current_goal
            if goal is not None and goal.state not in (GoalState.DRAFT, GoalState.RETURNED):
                report.errors.append((parsed.row, GOAL_COLUMNS[0], _(
                    "项目 %(c)s 的绩效目标处于“%(s)s”状态，不能通过导入修改。", c=proj.code, s=goal.state.label)))


def _chunks(items, n):
    for i in range(0, len(items), n):
        yield items[i:i + n]


class ImportRefused(DomainError):
    """The file has errors: nothing was imported; `report` lists them by row and column."""

    def __init__(self, report: ImportReport):
        super().__init__(_("文件有错误，未导入任何数据。"))
        self.report = report


def import_goals(upload, *, actor) -> ImportReport:
    """The import page's operation: read the uploaded file, check every row, write only a clean
    file (ImportRefused otherwise, so nothing is kept)."""
    if not can(actor, "create", Project):
        raise DomainError(_("您无权新建项目。"))
    if not upload or not getattr(upload, "filename", ""):
        raise DomainError(_("请选择要导入的 Excel 文件。"), field="file")
    report = import_goal_workbook(upload.read(), actor=actor)
    if not report.clean:
        raise ImportRefused(report)
    return report


def import_goal_workbook(data: bytes, *, actor, progress=None) -> ImportReport:
    """Check everything; write only if the whole file is clean. The caller commits. One audit
    entry per project and per goal written (with the changed values of an updated one); an
    existing project and goal are locked and the goal's state re-checked under the lock.

    `progress(done, total=, errors=)` (a job's progress) is called every few hundred rows: the
    first half of the bar is reading and checking, the second half writing."""
    bar = ImportBar(data, progress)
    report = parse_goal_workbook(data, actor=actor, progress=lambda n, e: bar(n // 2, e))
    if not report.clean:
        return report
    bar.total = sum(len(p.indicators) for p in report.projects)
    bar(bar.total // 2)
    with audit.deferred():  # one entry per project and goal as before, chained in one write
        _write_projects(report, actor, bar.written if progress is not None else None)
    bar(bar.total)
    return report


def _write_projects(report: ImportReport, actor, progress, batch: int = 200) -> None:
    """New projects (and their new goals) are inserted `batch` at a time, one flush each; an
    existing project is locked and updated on its own. Audit entries in file order, as before:
    the project's (after the flush, with its defaults), then its goal's."""
    written = 0
    pending: list[tuple] = []  # new (project, goal) inserted at the next flush

    def flush_new() -> None:
        db.session.flush()
        for proj, goal in pending:
            record_change(actor, "project.import", proj, after=operations._project_snapshot(proj))
            record_change(actor, "goal.import", goal, after=operations.goal_table_audit(goal))
        pending.clear()

    for parsed in report.projects:
        d = parsed.data
        proj = d.pop("existing", None)
        values = dict(code=d["code"], name=d["name"][:200], year=d["year"], kind=d["kind"],
                      budget_type=d["budget_type"], unit_id=d["unit_id"], initial_budget=d["initial_budget"],
                      annual_budget=d["annual_budget"])
        unit = db.session.get(Organisation, d["unit_id"])
        rows = [r for _n, r in parsed.indicators]
        report.indicators += len(rows)
        if proj is None:  # what replace_goal_table(new=True) does, without a flush per project
            proj = Project(**values, department_id=unit.department.id, executed=Decimal(0))
            goal = PerformanceGoal(project=proj, version=1, state=GoalState.DRAFT,
                                   overall_goal=(parsed.overall_goal or "").strip())
            for pos, row in enumerate(rows):
                ind = Indicator(position=pos)
                operations._fill_indicator(ind, row)
                goal.indicators.append(ind)
            db.session.add_all([proj, goal])
            pending.append((proj, goal))
            report.created += 1
            if len(pending) >= batch:
                flush_new()
        else:
            flush_new()
            _update_project(proj, values, unit, parsed, rows, actor)
            report.updated += 1
        if report.indicators - written >= PROGRESS_EVERY:
            written = report.indicators
            progress(written)
    flush_new()


def _update_project(proj, values, unit, parsed, rows, actor) -> None:
    lock(proj)
    project_before = operations._project_snapshot(proj)
    for k, v in values.items():
        if getattr(proj, k) != v:
            setattr(proj, k, v)
    if proj.department_id != unit.department.id:
        proj.department_id = unit.department.id
    goal = proj.current_goal
    db.session.flush()
    old, new = operations.changes(project_before, operations._project_snapshot(proj))
    if new:
        record_change(actor, "project.import", proj, before=old, after=new)
    if goal is None:
        goal = PerformanceGoal(project=proj, version=1, state=GoalState.DRAFT)
        db.session.add(goal)
        operations.replace_goal_table(goal, parsed.overall_goal, rows, actor=actor, action="goal.import", new=True)
    else:
        operations.replace_goal_table(goal, parsed.overall_goal, rows, actor=actor, action="goal.import")
