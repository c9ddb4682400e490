"""Excel in and out, safely.

Out: `xlsx_response(filename, headers, rows)` streams a write-only workbook (constant memory
for 50,000+ rows); every text cell goes through `safe_cell`, so a value starting with
= + - @ (or a tab/CR) is stored as text, never as a formula (CSV/formula injection).
In: `read_rows(data)` opens an uploaded workbook read-only with cached values only (formulas
are never evaluated), within a size limit, and yields (row number, values)."""
from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import quote

from flask import Response
from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from portal.core.errors import DomainError

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Neutralise spreadsheet formulas in text; keep numbers and dates as they are."""
    if isinstance(value, str) and value.startswith(DANGEROUS_PREFIXES):
        return "'" + value
    if isinstance(value, Decimal):
        return float(value) if value.as_tuple().exponent < -2 else value
    if hasattr(value, "label") and hasattr(value, "value"):  # labelled enum
        return value.label
    return value


def write_xlsx(headers: list[str], rows: Iterable[Iterable], sheet_title: str = "Sheet1") -> str:
    """Write to a temporary file (write-only mode: rows are not kept in memory); returns its path."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31])
    bold = Font(bold=True)
    header_cells = []
    for text in headers:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        sheet.append([safe_cell(v) for v in row])
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    workbook.save(path)
    return path


def content_disposition(filename: str) -> str:
    ascii_name = "".join(c if c.isascii() and c.isalnum() or c in "._-" else "_" for c in filename)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def xlsx_response(filename: str, headers: list[str], rows: Iterable[Iterable], sheet_title: str = "Sheet1") -> Response:
    path = write_xlsx(headers, rows, sheet_title)

    def stream():
        try:
            with open(path, "rb") as handle:
                while chunk := handle.read(64 * 1024):
                    yield chunk
        finally:
            os.unlink(path)

    response = Response(stream(), mimetype=XLSX_MIME)
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["Content-Length"] = str(os.path.getsize(path))
    return response


def read_rows(data: bytes, *, max_mb: int = 10, max_rows: int = 200_000, sheet: int = 0):
    """Yield (excel row number, tuple of cell values) from an uploaded .xlsx."""
    if len(data) > max_mb * 1024 * 1024:
        raise DomainError(_("Excel 文件超过 %(mb)s MB。", mb=max_mb))
    if not data.startswith(b"PK\x03\x04"):
        raise DomainError(_("请上传 .xlsx 格式的 Excel 文件。"))
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        worksheet = workbook.worksheets[sheet]
    except Exception as error:
        raise DomainError(_("无法读取该 Excel 文件，请确认文件未损坏。")) from error
    for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
        if number > max_rows + 1:
            raise DomainError(_("Excel 文件行数过多（上限 %(n)s 行）。", n=max_rows))
        yield number, tuple(_clean(v) for v in values)
    workbook.close()


def _clean(value):
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        return value.date()
    return value


__all__ = ["safe_cell", "write_xlsx", "xlsx_response", "read_rows", "content_disposition", "date"]
