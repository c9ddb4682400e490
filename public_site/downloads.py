"""Downloads of every public table: CSV (UTF-8 with a byte-order mark, for Excel/WPS), Excel and
JSON. Numbers stay numbers (number cells with a number format in Excel, digits in CSV), dates
stay dates."""
from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from decimal import Decimal

from flask import Response, abort
from flask_babel import gettext as _

from portal.core.excel import content_disposition, csv_cell, xlsx_response

MONEY = "#,##0.00"  # 元, two decimals
SCORE = "0.00"
RATE = "0.0%"


def _json_value(value):
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def download(fmt: str, name: str, rows, headers, to_row, to_json=None, formats=None):
    """`to_row(row)` gives the typed cells; JSON uses `to_json(row)` or the headers as keys."""
    if fmt == "xlsx":
        return xlsx_response(f"{name}.xlsx", [str(h) for h in headers], (to_row(r) for r in rows),
                             sheet_title=name[:30], formats=formats)
    if fmt == "json":
        to_json = to_json or (lambda r: {str(h): _json_value(v) for h, v in zip(headers, to_row(r), strict=True)})
        body = json.dumps({"items": [to_json(r) for r in rows]}, ensure_ascii=False, indent=1)
        response = Response(body, mimetype="application/json")
        response.headers["Content-Disposition"] = content_disposition(f"{name}.json")
        return response
    if fmt == "csv":
        buffer = io.StringIO()
        buffer.write("\ufeff")
        writer = csv.writer(buffer)
        writer.writerow([str(h) for h in headers])
        for r in rows:
            writer.writerow([csv_cell(v) for v in to_row(r)])
        # text/csv: the charset is added once, by the response class
        response = Response(buffer.getvalue().encode("utf-8"), mimetype="text/csv")
        response.headers["Content-Disposition"] = content_disposition(f"{name}.csv")
        return response
    abort(400, description=_("不支持的下载格式，请选择 CSV、Excel（xlsx）或 JSON。"))
