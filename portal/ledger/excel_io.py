"""The ledger in Excel: export of any filtered view (officials' columns, streamed, safe against
formula injection) and import with a row-by-row error report (all or nothing)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.accounts.models import Organisation, OrgKind
from portal.core import parsing
from portal.core.errors import DomainError
from portal.core.excel import read_rows
from portal.core.forms import TEXT_LIMITS
from portal.extensions import db
from portal.ledger.models import (
    MONEY_CATEGORIES,
    MONEY_FIELDS,
    OPEN_STATES,
    Problem,
    ProblemSource,
    ProblemState,
    RectificationType,
)
from portal.ledger.queries import BUCKETS

WAN = Decimal(10000)


def export_headers() -> list[str]:
    return [_("台账编号"), _("问题来源"), _("来源依据"), _("年度"), _("项目"), _("责任单位"), _("主管部门"),
            _("问题类别"), _("问题描述"), _("问题金额（万元）"), _("法规政策依据"), _("整改要求"), _("整改完成标准"),
            _("整改类型"), _("挂账日期"), _("整改时限"), _("整改责任人"), _("已采取措施"),
            _("整改金额合计（万元，不超过问题金额）"),
            *[_("%(c)s（万元）", c=_(zh)) for _k, zh, _en in MONEY_CATEGORIES],
            _("追责情况"), _("完善制度情况"), _("未完成原因及下一步措施"), _("整改状态"), _("时限分类"),
            _("销号日期"), _("屡查屡犯")]


def _wan(value) -> Decimal:
    return (Decimal(value or 0) / WAN).quantize(Decimal("0.0001"))


def export_rows(stmt, today=None):
    """Rows of the filtered statement as plain tuples, fetched 1,000 at a time (constant memory:
    no ORM objects, no identity map)."""
    from portal.core import clock
    from portal.performance.models import Project

    today = today or clock.today()
    names = dict(db.session.execute(sa.select(Organisation.id, Organisation.name)).all())
    buckets = {k: str(v) for k, v in BUCKETS.items()}
    yes = _("是")
    cols = [Problem.number, Problem.source, Problem.source_ref, Problem.year, Project.name, Problem.unit_id,
            Problem.department_id, Problem.category, Problem.description, Problem.amount, Problem.policy_basis,
            Problem.requirement, Problem.completion_standard, Problem.rect_type, Problem.listed_on,
            Problem.deadline, Problem.person_responsible, Problem.measures,
            *[getattr(Problem, f) for f in MONEY_FIELDS], Problem.accountability, Problem.rules_improved,
            Problem.not_done_reason, Problem.state, Problem.closed_on, Problem.recurrence_of_id]
    stmt = stmt.with_only_columns(*cols).outerjoin(Project, Problem.project_id == Project.id)
    source_labels = {m: m.label for m in ProblemSource}
    type_labels = {m: m.label for m in RectificationType}
    state_labels = {m: m.label for m in ProblemState}
    for row in db.session.execute(stmt.execution_options(yield_per=1000)):
        (number, source, ref, year, project_name, unit_id, dept_id, category, description, amount, basis,
         requirement, standard, rect_type, listed_on, deadline, person, measures, *rest) = row
        money, (accountability, rules, not_done, state, closed_on, recurrence) = rest[:6], rest[6:]
        bucket = None
        if state in OPEN_STATES:
            days = (deadline - today).days
            bucket = "overdue" if days < 0 else "d10" if days <= 10 else "d20" if days <= 20 else "later"
        yield [number, source_labels[source], ref or None, year, project_name, names.get(unit_id),
               names.get(dept_id), category, description, _wan_float(amount), basis or None, requirement or None,
               standard or None, type_labels[rect_type], listed_on, deadline, person or None, measures or None,
               _wan_float(min(sum(money, Decimal(0)), amount or Decimal(0))), *[_wan_float(m) for m in money],
               accountability or None,
               rules or None, not_done or None, state_labels[state], buckets[bucket] if bucket else None, closed_on,
               yes if recurrence else None]


def _wan_float(value):
    """万元 for display in the spreadsheet (empty cells stay empty: they cost nothing to write)."""
    return round(float(value) / 10000, 4) if value else None


# ---- import ----------------------------------------------------------------------------

IMPORT_COLUMNS = [
    # key, header, required
    ("source", "问题来源", True),
    ("source_ref", "来源依据", False),
    ("year", "年度", False),
    ("project_code", "项目编码", False),
    ("unit", "责任单位（名称或编码）", True),
    ("category", "问题类别", True),
    ("description", "问题描述", True),
    ("amount", "问题金额（元）", False),
    ("policy_basis", "法规政策依据", False),
    ("requirement", "整改要求", False),
    ("completion_standard", "整改完成标准", False),
    ("rect_type", "整改类型", True),
    ("deadline", "整改时限", True),
    ("person_responsible", "整改责任人", False),
]


def template_headers() -> list[str]:
    return [_(h) for _k, h, _r in IMPORT_COLUMNS]


def template_example() -> list:
    return [ProblemSource.AUDIT.zh, "临审报〔2026〕5号", 2026, "", "临州市教育局", "资金管理",
            "专项资金未按规定用途使用", "120000.00", "《预算法》第五十七条", "收回违规资金，完善审批流程",
            "资金已归还原渠道并提供凭证", RectificationType.DEADLINE.zh, date(2026, 12, 31), "张三"]


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _text_column_limits() -> dict[str, int]:
    """The form's limit for every text column of the import (the same column, the same rule)."""
    from portal.ledger.forms import ProblemForm

    return {key: parsing.text_limit(ProblemForm, key) for key in (
        "source_ref", "project_code", "category", "description", "policy_basis", "requirement",
        "completion_standard", "person_responsible")}


TEXT_COLUMN_LIMITS = _text_column_limits()


def _by_label(enum_cls, value):
    for member in enum_cls:
        if value in (member.value, member.zh, member.en):
            return member
    return None


PROGRESS_EVERY = 200  # rows between two progress reports


def parse_import(data: bytes, progress=None):
    """Validate every row; returns (rows, errors) where errors are (row, column, header, message).
    `progress(rows_read, errors_found)` is called every few hundred rows."""
    from portal.ledger.operations import parse_amount
    from portal.performance.models import Project

    units = db.session.execute(sa.select(Organisation).where(Organisation.kind == OrgKind.BUDGET_UNIT)).scalars().all()
    unit_by_key = {}
    for org in units:
        for key in (org.name, org.short_name, org.code):
            if key:
                unit_by_key.setdefault(key, org)
    projects: dict[tuple, object] = {}  # (code, year or None) → project, looked up once per code
    rows, errors = [], []
    header_seen = False
    for number, values in read_rows(data):
        if progress is not None and number % PROGRESS_EVERY == 0:
            progress(number - 1, len(errors))
        if not header_seen:
            header_seen = True
            if [v or "" for v in values[:len(IMPORT_COLUMNS)]] != [h for _k, h, _r in IMPORT_COLUMNS]:
                errors.append((number, "A", "", _("表头与模板不一致，请下载最新模板。")))
                break
            continue
        if not any(v is not None for v in values):
            continue
        values = list(values) + [None] * (len(IMPORT_COLUMNS) - len(values))
        row = {}

        def fail(index, message, _number=number):
            errors.append((_number, _column_letter(index), _(IMPORT_COLUMNS[index][1]), message))

        for index, (key, _header, required) in enumerate(IMPORT_COLUMNS):
            value = values[index]
            if required and value is None:
                fail(index, _("必填项为空。"))
                continue
            if isinstance(value, str) or key in TEXT_COLUMN_LIMITS:
                value = parsing.cell_text(value) if value is not None else None
                message = parsing.too_long(value or "", TEXT_COLUMN_LIMITS.get(key, TEXT_LIMITS["short"]))
                if message:
                    fail(index, message)
                    continue
            row[key] = value
        if any(e[0] == number for e in errors):
            continue
        source = _by_label(ProblemSource, str(row["source"]))
        if source is None:
            fail(0, _("问题来源应为：%(v)s。", v="、".join(m.zh for m in ProblemSource)))
        rect_type = _by_label(RectificationType, str(row["rect_type"]))
        if rect_type is None:
            fail(11, _("整改类型应为：立行立改、限期整改或长期整改。"))
        unit = unit_by_key.get(str(row["unit"]))
        if unit is None:
            fail(4, _("找不到预算单位“%(u)s”。", u=row["unit"]))
        year = row.get("year")
        if year is not None:
            try:
                year = int(year)
                if not 2000 <= year <= 2100:
                    raise ValueError
            except (TypeError, ValueError):
                fail(2, _("年度应为四位数字。"))
                year = None
        deadline = row["deadline"]
        if isinstance(deadline, datetime):
            deadline = deadline.date()
        if isinstance(deadline, str):
            try:
                deadline = date.fromisoformat(deadline.replace("/", "-"))
            except ValueError:
                deadline = None
        if not isinstance(deadline, date):
            fail(12, _("整改时限应为日期（年-月-日）。"))
            deadline = None
        try:
            amount = parse_amount(row.get("amount"), "amount", _("问题金额"))
        except DomainError as error:
            fail(7, error.message)
            amount = None
        project = None
        if row.get("project_code"):
            key = (str(row["project_code"]), year or None)
            if key not in projects:
                stmt = sa.select(Project).where(Project.code == key[0])
                if year:
                    stmt = stmt.where(Project.year == year)
                projects[key] = db.session.execute(stmt.limit(1)).scalar_one_or_none()
            project = projects[key]
            if project is None:
                fail(3, _("找不到项目编码“%(c)s”。", c=row["project_code"]))
        if any(e[0] == number for e in errors):
            continue
        rows.append({"number": number, "source": source, "source_ref": str(row.get("source_ref") or ""),
                     "year": year, "project": project, "unit": unit, "category": str(row["category"]),
                     "description": str(row["description"]), "amount": amount,
                     "policy_basis": str(row.get("policy_basis") or ""),
                     "requirement": str(row.get("requirement") or ""),
                     "completion_standard": str(row.get("completion_standard") or ""),
                     "rect_type": rect_type, "deadline": deadline,
                     "person_responsible": str(row.get("person_responsible") or "")})
    if not header_seen:
        errors.append((1, "A", "", _("文件是空的。")))
    elif not rows and not errors:
        errors.append((2, "A", "", _("文件中没有数据行。")))
    return rows, errors


class ImportRefused(DomainError):
    """The file has errors: nothing was imported. `errors` are (row, column, header, message)."""

    def __init__(self, errors: list):
        super().__init__(_("发现 %(n)s 处错误，未导入任何问题", n=len(errors)), field="file")
        self.errors = errors


def import_problems(data: bytes, *, actor, progress=None) -> list:
    """All or nothing: the listed problems, or `ImportRefused` with every row's error (the
    caller's transaction is then rolled back, with every ledger number it took).

    `progress(done, total=, errors=)` (a job's progress) is called every few hundred rows: the
    first half of the bar is reading and checking, the second half writing."""
    from portal.core import clock
    from portal.ledger.operations import check_listing, list_imported
    from portal.performance.excel_io import ImportBar

    bar = ImportBar(data, progress)
    rows, errors = parse_import(data, progress=lambda n, e: bar(n // 2, e))
    if errors:
        raise ImportRefused(errors)
    bar.total = len(rows)
    today = clock.today()
    for n, row in enumerate(rows, start=1):  # every row checked before the first ledger number is taken
        try:
            row["amount"] = check_listing(actor=actor, unit=row["unit"], category=row["category"],
                                          description=row["description"], amount=row["amount"],
                                          rect_type=row["rect_type"], deadline=row["deadline"], listed_on=today)
        except DomainError as error:
            errors.append((row["number"], "", "", error.message))
        if n % PROGRESS_EVERY == 0:
            bar(bar.total // 2, len(errors))
    if errors:
        raise ImportRefused(errors)
    bar(bar.total // 2)
    return list_imported(actor=actor, rows=[{k: v for k, v in row.items() if k != "number"} for row in rows],
                         listed_on=today, progress=bar.written)
