"""A 2,000-row ledger import in a real browser: the upload goes to the job's page, whose progress
bar (htmx polling) moves while the job runs on a worker thread, then the result appears."""
from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from openpyxl import Workbook
from playwright.sync_api import expect

from portal.ledger.excel_io import IMPORT_COLUMNS
from tests.factories import browser_sign_in

pytestmark = pytest.mark.browser

ROWS = 2000


def _workbook(path) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("问题台账")
    sheet.append([h for _k, h, _r in IMPORT_COLUMNS])
    for n in range(ROWS):
        sheet.append(["审计发现", f"临审报〔2026〕{n % 90 + 1}号", 2026, None, "测试市教育局" if n % 2 else "D101",
                      "资金管理", f"专项资金未按规定用途使用（第{n + 1}项）", "1200.00", "", "", "", "限期整改",
                      date(2099, 12, 31), "张三"])
    workbook.save(path)


@pytest.fixture()
def worker_thread(app, monkeypatch):
    """Jobs run on a thread of their own (as on the worker), not inside the request that started them."""
    from portal.core import background, jobs

    threads = []

    def run_later(job_id):
        def work():
            with app.app_context():
                background.execute(job_id)
        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        threads.append(thread)
    monkeypatch.setattr(jobs, "run_background_job", run_later)
    yield threads
    for thread in threads:
        thread.join(120)


def test_a_2000_row_import_shows_a_moving_progress_bar(page, world, db, worker_thread, tmp_path, database_url):
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer: the job page's request waits for the import's write lock, so the "
                    "bar is first seen at 100 % (the moving bar is watched on PostgreSQL)")
    path = tmp_path / "台账.xlsx"
    _workbook(path)
    db.session.commit()
    browser_sign_in(page, "t_finance")
    page.goto("/portal/ledger/import")
    page.set_input_files("input[type=file]", str(path))
    page.get_by_role("button", name="校验并导入").click()
    page.wait_for_url("**/portal/jobs/*")
    seen = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        bar = page.locator("#job-progress progress")
        if bar.count():
            seen.add(int(bar.get_attribute("value") or 0))
        if page.get_by_text("已导入 2000 个问题").count():
            break
        time.sleep(0.2)
    expect(page.get_by_text("已导入 2000 个问题：ZG-2026-0001 至 ZG-2026-2000。")).to_be_visible()
    assert any(0 < value < 100 for value in seen), sorted(seen)  # the bar moved before the end
    expect(page.locator("#job-progress")).to_contain_text("已完成")
    expect(page.get_by_role("link", name="查看结果")).to_have_attribute("href", "/portal/ledger/")  # under the development app's /portal
