"""Every list the same: columns that sort, filters kept in the URL, paging, a count, and an
Excel/CSV export of exactly what is shown (same filters, same sort, same columns, same values).

A module describes its list once:

    LETTERS = Listing("letters", columns=[
        Column("number", _l("发文字号"), lambda l: l.doc_number, sort=(Letter.number_year, Letter.number_seq),
               link=lambda l: url_for("inquiries.detail", letter_id=l.id)),
        Column("state", _l("状态"), lambda l: l.state, kind="badge", sort=(Letter.state,)), ...],
        filters=[Filter("state", _l("状态"), apply=lambda stmt, v: stmt.where(...), choices=...), ...])

and its view reads `state = LETTERS.read(request.args)`, starts from the permission scope
(`visible(user, Letter)`), then `state.apply(stmt)`, and answers `state.export(stmt, name)` when
`?export=xlsx|csv` was asked, else renders `state.page(stmt)` with the one table macro
(templates/macros/listing.html). Paging is portal/core/pagination.py's, everywhere.
A module with a filter class of its own (the ledger's saved filters) passes a `filters` callable
returning an object with `.args()` and `.apply(stmt)`."""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import Response, stream_with_context

from portal.core.excel import content_disposition, csv_cell, xlsx_response
from portal.core.pagination import Page, paginate
from portal.extensions import db

EXPORTS = ("xlsx", "csv")
EXPORT_LIMIT = 200_000  # rows in one export (the ledger's streamed whole-table export goes beyond)


@dataclass
class Column:
    key: str
    label: Any
    value: Callable[[Any], Any]  # the value shown and exported
    sort: tuple | None = None  # SQL expressions; None: not sortable
    kind: str = "text"  # text | date | datetime | money | number | percent | badge
    link: Callable[[Any], str] | None = None
    css: str = ""
    # shown only, after the value (a badge: 屡查屡犯, 10天内到期): (text, css class) or None
    note: Callable[[Any], tuple[str, str] | None] | None = None
    truncate: int = 0  # shown at most this many characters (the export keeps the whole text)

    def cell(self, row):
        return self.value(row)

    def exported(self, row):
        value = self.value(row)
        if hasattr(value, "label") and hasattr(value, "value"):  # labelled enum: as shown
            return str(value.label)
        if self.kind == "money" and value is not None:
            return Decimal(value)
        if self.kind == "percent" and value is not None:
            return Decimal(value).quantize(Decimal("0.001"))  # as shown: 87.3 % → 0.873
        if isinstance(value, datetime):
            return value.replace(tzinfo=None, microsecond=0)
        return "" if value is None else value


@dataclass
class Filter:
    key: str
    label: Any
    # (stmt, value) → stmt, only called with a value; None: the module's query takes the value
    # itself (e.g. inquiries.queries.letter_list, shared with the API)
    apply: Callable | None = None
    choices: Callable[[], list[tuple[Any, Any]]] | None = None  # a select; None: a text box
    kind: str = "search"  # search | select | check | hidden
    parse: Callable[[str], Any] | None = None

    def read(self, args) -> Any:
        raw = args.get(self.key, "")
        if self.parse is not None:
            return self.parse(raw)
        if self.kind == "check":
            return "1" if raw == "1" else ""
        text = (raw or "").strip()[:100]
        if self.kind == "select" and self.choices is not None and text:
            allowed = {str(v) for v, _label in self.choices()}
            return text if text in allowed else ""
        return text


class FilterValues:
    """The generic filters' values read from the query string."""

    def __init__(self, filters: list[Filter], args):
        self.filters = filters
        self.values = {f.key: f.read(args) for f in filters}

    def args(self) -> dict:
        return {k: v for k, v in self.values.items() if v not in (None, "")}

    def apply(self, stmt):
        for f in self.filters:
            value = self.values.get(f.key)
            if value not in (None, "") and f.apply is not None:
                stmt = f.apply(stmt, value)
        return stmt

    def get(self, key, default=None):
        return self.values.get(key, default)

    def __getitem__(self, key):
        return self.values[key]


class Listing:
    def __init__(self, name: str, columns: list[Column], *, filters: list[Filter] | Callable = (),
                 default_sort: str = "", tiebreak: Callable[[], tuple] | None = None,
                 row_class: Callable[[Any], str] | None = None,
                 decorate: Callable[[list], None] | None = None, css: str = "", endpoint: str = ""):
        self.name = name
        # the list's own page, for its links when a form's POST shows the list again ("": this request's)
        self.endpoint = endpoint
        self.columns = columns
        self.filters = filters
        self.default_sort = default_sort  # e.g. "-deadline"; "": the query's own order
        self.tiebreak = tiebreak  # extra ORDER BY after a chosen sort (e.g. the id), for stable pages
        self.by_key = {c.key: c for c in columns}
        self.row_class = row_class  # e.g. "overdue" for a late row
        # per-page extras in a few queries (no N+1), for the page and each export batch alike
        self.decorate = decorate
        self.css = css  # the table's own class (e.g. "ledger")

    def read(self, args, extra: dict | None = None) -> ListState:
        """`extra`: arguments every link of the list keeps (e.g. the letters' direction tab)."""
        raw = (args.get("sort") or self.default_sort).strip()
        descending = raw.startswith("-")
        key = raw.lstrip("-")
        column = self.by_key.get(key)
        if column is None or column.sort is None:
            key, descending = "", False
        values = self.filters(args) if callable(self.filters) else FilterValues(list(self.filters), args)
        export = args.get("export", "")
        return ListState(self, values, key, descending, export if export in EXPORTS else "", dict(extra or {}))


@dataclass
class ListState:
    listing: Listing
    filters: Any
    sort: str
    descending: bool
    export_format: str = ""
    extra: dict = field(default_factory=dict)  # arguments kept in every link (e.g. a tab)

    @property
    def endpoint(self) -> str:
        from flask import request

        return self.listing.endpoint or request.endpoint

    @property
    def columns(self) -> list[Column]:
        return self.listing.columns

    @property
    def filter_defs(self) -> list[Filter]:
        return [] if callable(self.listing.filters) else list(self.listing.filters)

    def args(self, **override) -> dict:
        """The query arguments of this view of the list (links: paging, sorting, exporting)."""
        values = {**self.extra, **self.filters.args()}
        sort = ("-" if self.descending else "") + self.sort if self.sort else ""
        values["sort"] = sort if sort != self.listing.default_sort else ""
        values.update(override)
        return {k: v for k, v in values.items() if v not in (None, "")}

    def sort_link(self, key: str) -> str:
        """The sort value of a column header's link: ascending first, then descending."""
        if self.sort == key and not self.descending:
            return "-" + key
        return key

    def aria_sort(self, key: str) -> str:
        if self.sort != key:
            return ""
        return "descending" if self.descending else "ascending"

    def order(self, stmt):
        if not self.sort:
            return stmt
        column = self.listing.by_key[self.sort]
        order = [c.desc() if self.descending else c.asc() for c in column.sort]
        if self.listing.tiebreak is not None:
            order += list(self.listing.tiebreak())
        return stmt.order_by(None).order_by(*order)

    def apply(self, stmt):
        return self.order(self.filters.apply(stmt))

    def page(self, stmt) -> Page:
        page = paginate(stmt)
        if self.listing.decorate is not None:
            self.listing.decorate(page.items)
        return page

    # ---- export: the columns shown, the rows in the order shown, on every page ---------------

    def rows(self, stmt, batch: int = 500) -> Iterable[list]:
        """Every row under the filters, in the order shown, read in pages of `batch`."""
        for offset in range(0, EXPORT_LIMIT, batch):
            items = list(db.session.execute(stmt.limit(batch).offset(offset)).unique().scalars())
            if self.listing.decorate is not None:
                self.listing.decorate(items)
            for row in items:
                yield [c.exported(row) for c in self.columns]
            if len(items) < batch:
                return

    def headers(self) -> list[str]:
        return [str(c.label) for c in self.columns]

    def export(self, stmt, title: str) -> Response:
        from portal.core import clock

        name = f"{title}_{clock.today():%Y%m%d}.{self.export_format}"
        if self.export_format == "csv":
            return csv_response(name, self.headers(), self.rows(stmt))
        return xlsx_response(name, self.headers(), self.rows(stmt), sheet_title=title)


def _csv_value(value) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return csv_cell(value)


def csv_response(filename: str, headers: list[str], rows: Iterable[list]) -> Response:
    """UTF-8 with a BOM (Excel opens it as UTF-8), formulas neutralised (core/excel.py), streamed."""
    def stream():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")
        writer.writerow([csv_cell(h) for h in headers])
        for n, row in enumerate(rows, start=1):
            writer.writerow([_csv_value(v) for v in row])
            if n % 500 == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    response = Response(stream_with_context(stream()), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = content_disposition(filename)
    return response


def id_arg(raw) -> int | None:
    """A filter's id or year value: junk, zero, negative or beyond INTEGER is no filter."""
    try:
        value = int(str(raw or "").strip())
    except ValueError:
        return None
    return value if 0 < value < 2**31 else None
