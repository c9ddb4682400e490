"""The tables of a public project page (indicators, self-evaluation lines, problems): one
definition per table gives the page its headers and cells (元/万元, dates, labels) and the
downloads their typed values (numbers as numbers, dates as dates)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from portal.core import formatting
from portal.publishing.models import PublicationKind

MONEY_FORMAT = "#,##0.00"
NUMBER_FORMAT = "0.00"


@dataclass(frozen=True)
class Column:
    key: str
    title: object  # lazy text
    kind: str = "text"  # text | money (元) | number | date | label (a Chinese label kept in the snapshot)
    enum: str = ""  # for labels: which enum's English to show

    @property
    def header(self) -> str:
        """The download's header: amounts say their unit (元)."""
        if self.kind != "money":
            return str(self.title)
        unit = _l("元")  # outside the f-string, where pybabel's extractor sees it
        return f"{self.title}（{unit}）"

    @property
    def number_format(self) -> str | None:
        return MONEY_FORMAT if self.kind == "money" else None


@dataclass(frozen=True)
class Table:
    name: str
    title: object
    kind: PublicationKind
    columns: tuple[Column, ...]

    def rows(self, payload: dict) -> list[dict]:
        if self.kind == PublicationKind.RECTIFICATION:
            return list(payload.get("sections", {}).get(self.name, []))
        return list(payload.get(self.source, []))

    @property
    def source(self) -> str:
        return {"indicators": "indicators", "self_evaluation": "lines"}[self.name]

    def columns_for(self, rows: list[dict]) -> tuple[Column, ...]:
        """The known columns the rows carry, then any other field a provider added, as is
        (a module registering a public provider names its own fields in Chinese)."""
        if self.kind != PublicationKind.RECTIFICATION:
            return self.columns
        keys = list(dict.fromkeys(k for row in rows for k in row))
        known = tuple(c for c in self.columns if c.key in keys) or self.columns
        return known + tuple(Column(k, k) for k in keys if k not in {c.key for c in self.columns})

    def typed(self, row: dict, columns=None) -> list:
        return [typed_value(c, row.get(c.key)) for c in columns or self.columns]


TABLES = {t.name: t for t in (
    Table("indicators", _l("绩效指标表"), PublicationKind.GOALS, (
        Column("level1", _l("一级指标")), Column("level2", _l("二级指标")), Column("name", _l("三级指标")),
        Column("target", _l("指标值")), Column("weight", _l("分值"), "number"))),
    Table("self_evaluation", _l("自评指标完成情况"), PublicationKind.SELF_EVALUATION, (
        Column("label", _l("绩效指标")), Column("target", _l("年度指标值")),
        Column("target_value", _l("指标值（数值）"), "number"), Column("actual_value", _l("实际完成值"), "number"),
        Column("tier", _l("完成情况"), "label", "tier"), Column("unit", _l("度量单位")),
        Column("weight", _l("分值"), "number"), Column("score", _l("得分"), "number"))),
    Table("problems", _l("问题与整改进展"), PublicationKind.RECTIFICATION, (
        Column("number", _l("问题编号")), Column("category", _l("问题类别")), Column("description", _l("问题描述")),
        Column("amount", _l("涉及金额"), "money"), Column("rect_type", _l("整改类型"), "label", "rect_type"),
        Column("state", _l("整改状态"), "label", "state"), Column("measures", _l("整改措施")),
        Column("amount_rectified", _l("已整改金额"), "money"), Column("deadline", _l("整改期限"), "date"),
        Column("closed_on", _l("销号日期"), "date"))),
)}



def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _date(value) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def label(enum: str, zh) -> str:
    """A state kept in the snapshot as its Chinese label, in the reader's language."""
    if not zh:
        return ""
    from portal.ledger.models import ProblemState, RectificationType
    from portal.performance.models import QualitativeTier

    source = {"state": ProblemState, "rect_type": RectificationType, "tier": QualitativeTier}.get(enum)
    for member in source or ():
        if member.zh == zh or member.value == zh:
            return member.label
    return str(zh)


def typed_value(column: Column, value):
    """The value a spreadsheet cell holds: a number, a date or text."""
    if column.kind in ("money", "number"):
        return _decimal(value)
    if column.kind == "date":
        return _date(value)
    if column.kind == "label":
        return label(column.enum, value)
    return "" if value is None else str(value)


def shown(column: Column, value) -> str:
    """The value as officials write it on the page."""
    if column.kind == "money":
        return formatting.wan(value) if _decimal(value) is not None else "—"
    if column.kind == "number":
        number = _decimal(value)
        return "—" if number is None else f"{number.normalize():f}"
    if column.kind == "date":
        day = _date(value)
        return formatting.cn_date(day) if day else "—"
    if column.kind == "label":
        return label(column.enum, value)
    return "" if value is None else str(value)


def actual_shown(row: dict) -> str:
    """A self-evaluation line's achievement: the tier of a qualitative one, else value and unit."""
    if row.get("tier"):
        return label("tier", row["tier"])
    value = _decimal(row.get("actual_value"))
    return "—" if value is None else f"{value.normalize():f}{row.get('unit') or ''}"


def project_rates(snapshot):
    """整改率 and 到期整改率 of one published problem list (the ledger's rule)."""
    from portal.ledger.queries import RateRow

    row = RateRow(snapshot.project_ref, "")
    problem_rates(snapshot.payload, row, snapshot.published_at.date())
    return row if row.total else None


def section_table(name: str) -> Table:
    """The table of one section of a rectification disclosure: the ledger's problems, or the
    section of another public provider with its own field names."""
    return TABLES.get(name) if name in TABLES else Table(name, name, PublicationKind.RECTIFICATION, ())


def register(app) -> None:
    """Template globals of the project page's body (the public site and the portal's preview)."""
    app.add_template_global(TABLES, "public_tables")
    app.add_template_global(section_table, "section_table")
    app.add_template_global(shown, "table_cell")
    app.add_template_global(actual_shown, "actual_shown")
    app.add_template_global(project_rates, "project_rates")


def problem_rates(payload: dict, row, as_of) -> None:
    """Count one published problem list into `row` (portal.ledger.queries.RateRow), due as of
    the publication: the snapshot says what was closed then, so "due" is judged on the same day."""
    from datetime import date

    from portal.ledger.models import OPEN_STATES, ProblemState

    open_labels = {s.zh for s in OPEN_STATES}
    for p in payload.get("sections", {}).get("problems", []):
        try:
            deadline = date.fromisoformat(str(p.get("deadline") or "")[:10])
        except ValueError:
            deadline = None
        state = str(p.get("state", ""))
        row.count(closed=state == ProblemState.CLOSED.zh, open_=state in open_labels, deadline=deadline,
                  amount=p.get("amount") or 0, rectified=p.get("amount_rectified") or 0, today=as_of)
