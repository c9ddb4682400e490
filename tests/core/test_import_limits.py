"""Imports hold every text cell to the limit the form gives the same field (parsing.text_limit):
an over-long cell is an error on its row and column, never cut short or let in; control
characters are removed as from a form. Ledger, goal-table and indicator-library imports."""
from __future__ import annotations

import pytest

from portal.core import parsing
from portal.ledger.excel_io import parse_import
from portal.ledger.forms import ProblemForm
from portal.performance.forms import IndicatorRowForm, LibraryItemForm, OverallGoalForm, ProjectForm
from tests.ledger.conftest import frozen_today  # noqa: F401  (the ledger's fixture, used below)
from tests.ledger.test_excel import _row, _xlsx
from tests.performance.test_write_path import _goal_rows
from tests.performance.test_write_path import _xlsx as _goal_xlsx


def test_the_import_limits_are_the_forms():
    assert parsing.text_limit(ProblemForm, "description") == 5000
    assert parsing.text_limit(ProblemForm, "category") == 60
    assert parsing.text_limit(ProjectForm, "name") == 200
    assert parsing.text_limit(OverallGoalForm, "overall_goal") == 5000
    assert parsing.text_limit(IndicatorRowForm, "unit") == 20
    assert parsing.text_limit(LibraryItemForm, "direction") == 100


@pytest.mark.usefixtures("frozen_today")
def test_an_over_long_ledger_cell_is_a_row_error_with_its_column(db, world):
    long_description = "问" * 5001
    rows, errors = parse_import(_xlsx([_row(), _row(description=long_description),
                                       _row()[:13] + ["张" * 61]]))
    assert [(r, col, header) for r, col, header, _m in errors] == [(3, "G", "问题描述"), (4, "N", "整改责任人")]
    assert "最多 5000 个字（此处 5001 个字）" in errors[0][3] and "最多 60 个字" in errors[1][3]
    assert [r["number"] for r in rows] == [2]  # the import writes nothing while any row is refused
    # at the limit it is accepted, and control characters are removed
    rows, errors = parse_import(_xlsx([_row(description="问" * 4999 + "\x7f")]))
    assert not errors and rows[0]["description"] == "问" * 4999


@pytest.mark.parametrize("column, value, limit", [
    (1, "名" * 201, 200),  # 项目名称
    (8, "目" * 5001, 5000),  # 总体目标
    (11, "指" * 201, 200),  # 三级指标
    (14, "单" * 21, 20),  # 度量单位
])
def test_an_over_long_goal_table_cell_is_a_row_error(db, world, column, value, limit):
    from portal.performance.excel_io import GOAL_COLUMNS, parse_goal_workbook

    world.department.code = "IMP1"
    rows = _goal_rows("L-1", "项目", "IMP1")
    rows[0][column] = value
    report = parse_goal_workbook(_goal_xlsx(rows), actor=world.finance)
    assert (2, GOAL_COLUMNS[column]) in [(r, c) for r, c, _m in report.errors]
    message = next(m for r, c, m in report.errors if c == GOAL_COLUMNS[column])
    assert f"最多 {limit} 个字" in message


def test_an_over_long_library_cell_is_refused_not_cut(db, world):
    from openpyxl import Workbook

    from portal.performance.library import LIBRARY_COLUMNS, import_library

    def workbook(name):
        import io

        wb = Workbook()
        wb.active.append(LIBRARY_COLUMNS)
        wb.active.append(["教育", "义务教育", "产出指标", "数量指标", name, "≥", "100", "所", "计划标准"])
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()

    result = import_library(workbook("校" * 201), actor=world.finance)
    assert [(r, c) for r, c, _m in result.errors] == [(2, "三级指标")]
    assert "最多 200 个字" in result.errors[0][2]
    result = import_library(workbook("新建\x85校舍"), actor=world.finance)
    assert not result.errors and result.rows[0]["name"] == "新建校舍"
