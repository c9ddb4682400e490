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


def neutralise(text: str) -> str:
    """Text that a spreadsheet would read as a formula (= + - @ tab CR first, whatever follows)
    gets a leading apostrophe: shown as typed, never evaluated. The one escape of every CSV and
    XLSX cell, portal and public site alike; numbers stay numbers because they are not text."""
    return "'" + text if text.startswith(DANGEROUS_PREFIXES) else text


def csv_cell(value) -> str:
    """A CSV field: numbers as numbers, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal):
        return str(value)
    return neutralise(str(value))


def xml_text(text: str) -> str:
    """Text that an XML document (xlsx, docx) can hold: the control characters XML 1.0 forbids
    (and lone surrogates) are dropped, so a value stored before input was cleaned never breaks
    an export (openpyxl's IllegalCharacterError, python-docx's "must be XML compatible")."""
    from portal.core.parsing import clean_text

    return clean_text(text)


def safe_cell(value):
    """Neutralise spreadsheet formulas in text; keep numbers and dates as they are."""
    if isinstance(value, str):
        return neutralise(xml_text(value))
    if isinstance(value, Decimal):
        return float(value) if value.as_tuple().exponent < -2 else value
    if hasattr(value, "label") and hasattr(value, "value"):  # labelled enum
        return value.label
    return value


def safe_sheet_title(title: str) -> str:
    """A worksheet name Excel accepts: no []:*?/\\, no control characters, 1–31 characters."""
    name = "".join(c for c in xml_text(str(title)) if c not in "[]:*?/\\" and c >= " ").strip("' ")
    return name[:31] or "Sheet1"


def _formatted(sheet, value, number_format: str | None):
    """A number cell with its number format (e.g. #,##0.00 for 元, 0.0% for a rate)."""
    if not number_format or isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = number_format
    return cell


def write_xlsx(headers: list[str], rows: Iterable[Iterable], sheet_title: str = "Sheet1",
               formats: Iterable[str | None] | None = None) -> str:
    """Write to a temporary file (write-only mode: rows are not kept in memory); returns its path.
    `formats`: one number format (or None) per column, applied to that column's numbers."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=safe_sheet_title(sheet_title))
    bold = Font(bold=True)
    header_cells = []
    for text in headers:
        cell = WriteOnlyCell(sheet, value=xml_text(str(text)))
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    formats = list(formats or [])
    for row in rows:
        cells = [safe_cell(v) for v in row]
        if formats:
            cells = [_formatted(sheet, v, formats[i] if i < len(formats) else None) for i, v in enumerate(cells)]
        sheet.append(cells)
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    workbook.save(path)
    return path


def safe_filename(filename: str, default: str = "download") -> str:
    """A download name fit for a header: no control characters (CR/LF would split it), no path
    separators or quotes, at most 150 characters (the ending kept)."""
    from portal.core.parsing import clean_text

    name = clean_text(str(filename or "")).replace("\r", " ").replace("\n", " ").replace("\t", " ")
    name = "".join("_" if c in '/\\"' else c for c in name).strip() or default
    if len(name) > 150:
        stem, dot, ending = name.rpartition(".")
        name = (stem[: 140] + dot + ending[:9]) if dot and len(ending) <= 9 else name[:150]
    return name


def content_disposition(filename: str) -> str:
    filename = safe_filename(filename)
    ascii_name = "".join(c if c.isascii() and c.isalnum() or c in "._-" else "_" for c in filename)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def xlsx_response(filename: str, headers: list[str], rows: Iterable[Iterable], sheet_title: str = "Sheet1",
                  formats: Iterable[str | None] | None = None) -> Response:
    path = write_xlsx(headers, rows, sheet_title, formats)

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


__all__ = ["safe_cell", "safe_filename", "xml_text", "write_xlsx", "xlsx_response", "read_rows", "content_disposition", "date"]


def uploaded_xlsx(upload) -> tuple[bytes, str | None]:
    """An import page's file: its bytes, or why it is refused (none chosen, not an .xlsx)."""
    data = upload.read() if upload is not None and upload.filename else b""
    if not data:
        return b"", _("请选择要导入的 Excel 文件。")
    if not upload.filename.lower().endswith(".xlsx") or not data.startswith(b"PK\x03\x04"):
        return b"", _("请上传 .xlsx 格式的 Excel 文件。")
    return data, None
