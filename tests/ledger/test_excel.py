"""Import (template, row-by-row errors, all or nothing) and export (formula-injection safe)."""
import io
from datetime import date

import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from portal.ledger.excel_io import IMPORT_COLUMNS
from portal.ledger.models import Problem
from tests.ledger.conftest import make_problem

HEADERS = [h for _k, h, _r in IMPORT_COLUMNS]


def _xlsx(rows, headers=HEADERS):
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _row(unit="测试市教育局", amount="120000", deadline=date(2026, 12, 31), source="审计发现", rect="限期整改",
         description="专项资金未按规定用途使用"):
    return [source, "临审报〔2026〕5号", 2026, None, unit, "资金管理", description, amount, "", "", "", rect, deadline,
            "张三"]


def test_template_downloads_with_the_import_headers(db, world, client, login):
    login(world.finance)
    response = client.get("/ledger/import/template.xlsx")
    ws = load_workbook(io.BytesIO(response.data)).active
    assert [c.value for c in ws[1]] == HEADERS


def test_import_reports_every_bad_row_and_imports_nothing(db, world, client, login, frozen_today):
    login(world.finance)
    data = _xlsx([_row(), _row(unit="不存在的单位"), _row(amount="-5"), _row(deadline="明年"),
                  _row(source="道听途说", rect="慢慢改"), _row(amount="1e20"), [None] * 14, _row(description=None)])
    response = client.post("/ledger/import", data={"file": (io.BytesIO(data), "台账.xlsx")},
                           content_type="multipart/form-data", follow_redirects=True)  # to the job's page
    page = response.get_data(as_text=True)
    assert "未导入任何问题" in page
    for row, col, text in [(3, "E", "不存在的单位"), (4, "H", "不能为负数"), (5, "M", "日期"), (6, "A", "问题来源应为"),
                           (6, "L", "整改类型应为"), (7, "H", "1000亿元"), (9, "G", "必填项为空")]:
        assert f"<td>{row}</td><td>{col}列" in page and text in page, (row, col, text)
    assert db.session.scalar(sa.select(sa.func.count(Problem.id))) == 0


def test_import_rejects_a_deadline_before_listing_and_wrong_headers(db, world, client, login, frozen_today):
    login(world.finance)
    bad = _xlsx([_row(), _row(deadline=date(2026, 1, 1))])
    page = client.post("/ledger/import", data={"file": (io.BytesIO(bad), "a.xlsx")},
                       content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert "不能早于挂账日期" in page
    assert db.session.scalar(sa.select(sa.func.count(Problem.id))) == 0
    page = client.post("/ledger/import", data={"file": (io.BytesIO(_xlsx([_row()], headers=["x"])), "a.xlsx")},
                       content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert "表头与模板不一致" in page
    page = client.post("/ledger/import", data={"file": (io.BytesIO(b"%PDF-1.4"), "a.xlsx")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert ".xlsx" in page


def test_clean_import_lists_every_row(db, world, client, login, frozen_today):
    login(world.audit)
    data = _xlsx([_row(), _row(unit="D101", amount=None), _row(unit="测试市卫生健康委员会")])
    response = client.post("/ledger/import", data={"file": (io.BytesIO(data), "a.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    problems = db.session.execute(sa.select(Problem).order_by(Problem.seq)).scalars().all()
    assert [p.number for p in problems] == ["ZG-2026-0001", "ZG-2026-0002", "ZG-2026-0003"]
    assert problems[1].unit_id == world.subunit.id and problems[1].department_id == world.department.id


def test_export_neutralises_formulas(db, world, client, login, frozen_today):
    make_problem(world, category="+cmd", description="=HYPERLINK(\"http://evil\",\"点我\")")
    p = make_problem(world, description="@SUM(A1:A9)")
    p.person_responsible = "-1+1"
    db.session.commit()
    login(world.finance)
    response = client.get("/ledger/export.xlsx?sort=number")
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.data)).active
    rows = list(ws.iter_rows(min_row=2))
    cells = [c for row in rows for c in row]
    assert all(c.data_type != "f" for c in cells)
    values = [c.value for c in cells if isinstance(c.value, str)]
    assert "'=HYPERLINK(\"http://evil\",\"点我\")" in values and "'+cmd" in values
    assert "'@SUM(A1:A9)" in values and "'-1+1" in values
    assert [c.value for c in ws[1]][0] == "台账编号"
