"""Reading a list page as a user sees it, and its export as the spreadsheet shows it."""
from __future__ import annotations

import csv
import io
import re

from lxml import html as lxml_html
from openpyxl import load_workbook


def table(page: str) -> tuple[list[str], list[list[str]]]:
    """(headers, rows) of the page's list table, without the tick-box column."""
    doc = lxml_html.fromstring(page)
    [grid] = doc.xpath("//table[@data-listing]")
    headers = [" ".join(th.text_content().replace("▲", "").replace("▼", "").split())
               for th in grid.xpath("./thead/tr/th")]
    rows = []
    for tr in grid.xpath("./tbody/tr"):
        cells = tr.xpath("./td")
        if len(cells) == 1 and cells[0].get("colspan"):
            continue  # the "nothing found" row
        rows.append([" ".join(td.text_content().split()) for td in cells])
    if headers and headers[0] in ("选择", "全选选择", ""):
        headers, rows = headers[1:], [r[1:] for r in rows]
    return headers, rows


def count(page: str) -> int:
    return int(re.search(r"共 (\d+) 条", page).group(1))


def xlsx(data: bytes) -> tuple[list[str], list[list]]:
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    return [str(h) for h in values[0]], values[1:]


def csv_rows(data: bytes) -> tuple[list[str], list[list[str]]]:
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


def column(headers, rows, name) -> list:
    i = headers.index(name)
    return [r[i] for r in rows]


def assert_export_is_what_is_shown(client, url: str, key: str, *, text_columns=()):
    """The export of `url` (same filters, same sort) has the page's columns and rows, in order."""
    page = client.get(url).get_data(as_text=True)
    headers, rows = table(page)
    joiner = "&" if "?" in url else "?"
    exported_headers, exported = xlsx(client.get(f"{url}{joiner}export=xlsx").data)
    assert exported_headers == headers[:len(exported_headers)]
    assert len(exported) == count(page) == len(rows)  # one page here: every row shown is exported
    assert [str(v) for v in column(exported_headers, exported, key)] == column(headers, rows, key)
    for name in text_columns:
        assert [str(v or "") for v in column(exported_headers, exported, name)] == column(headers, rows, name)
    csv_headers, csv_data = csv_rows(client.get(f"{url}{joiner}export=csv").data)
    assert csv_headers == exported_headers and column(csv_headers, csv_data, key) == column(headers, rows, key)
    return headers, rows
