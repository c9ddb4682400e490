import io

from openpyxl import load_workbook

from portal.core.excel import read_rows, safe_cell, write_xlsx


def test_formula_like_text_is_neutralised_but_numbers_stay():
    assert safe_cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert safe_cell("+1") == "'+1" and safe_cell("-2") == "'-2" and safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("整改中") == "整改中" and safe_cell(-2) == -2


def test_written_workbook_has_no_formulas_and_reads_back(tmp_path):
    path = write_xlsx(["问题描述", "金额"], [["=1+1", 10], ["正常文本", 2.5]])
    with open(path, "rb") as handle:
        data = handle.read()
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet["A2"].data_type != "f" and sheet["A2"].value == "'=1+1"
    rows = list(read_rows(data))
    assert rows[0] == (1, ("问题描述", "金额")) and rows[2] == (3, ("正常文本", 2.5))


FORMULAS = ["=1+HYPERLINK(\"http://evil.example\")", "=1+1", "+1+cmd|' /C calc'!A0", "-1+1", "-2", "@SUM(A1)",
            "\t=1+1", "\r=1+1", "=A1"]


def test_every_formula_prefix_is_neutralised_whatever_follows():
    from portal.core.excel import csv_cell, neutralise

    for text in FORMULAS:
        assert neutralise(text) == "'" + text and safe_cell(text) == "'" + text and csv_cell(text) == "'" + text
    assert csv_cell(-2) == "-2" and csv_cell(None) == "" and csv_cell("整改中") == "整改中"
