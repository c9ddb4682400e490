"""The ledger's import and whole-ledger export as background jobs, through HTTP: the upload starts
a job and goes to its page; a clean file lists every row (one audit entry each, numbers gapless,
recurrences found as `find_recurrence` finds them), a file with errors writes nothing and the
job page lists the rows; the export's file is for who started it only."""
from __future__ import annotations

import io
from datetime import date

import sqlalchemy as sa
from openpyxl import load_workbook

from portal.core import audit, background
from portal.core.audit import AuditEntry
from portal.core.background import BackgroundJob, JobState
from portal.ledger.models import Problem
from tests.ledger.conftest import make_problem
from tests.ledger.test_excel import _row, _xlsx


def _post(client, data, name="台账.xlsx"):
    return client.post("/ledger/import", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def _job(db, response) -> BackgroundJob:
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    location = response.headers["Location"]
    assert "/jobs/" in location
    db.session.expire_all()
    return db.session.get(BackgroundJob, int(location.rstrip("/").split("/")[-1]))


def test_a_clean_file_is_imported_by_a_job(db, world, client, login, frozen_today):
    login(world.finance)
    rows = [_row(description=f"专项资金未按规定用途使用第{n}项") for n in range(450)] + [_row(unit="D101")]
    job = _job(db, _post(client, _xlsx(rows)))
    assert job.status == JobState.DONE and job.kind == "ledger.import", (job.message, job.errors[:500])
    assert job.done == job.total == 451 and job.link == "/ledger/"
    numbers = db.session.scalars(sa.select(Problem.number).order_by(Problem.seq)).all()
    assert numbers == [f"ZG-2026-{n:04d}" for n in range(1, 452)]
    entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "problem.list")).all()
    assert len(entries) == 451 and len({e.record_id for e in entries}) == 451
    assert audit.verify().ok  # the batched appends chain as one-by-one appends would
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "已导入 451 个问题：ZG-2026-0001 至 ZG-2026-0451" in page and "已完成" in page
    assert not (background.jobs_dir() / job.input_file).exists()  # the upload is not kept once done


def test_numbers_follow_earlier_problems_and_recurrences_are_found(db, world, client, login, frozen_today):
    earlier = make_problem(world, year=2025, description="专项资金未按规定用途使用，挤占挪用")
    make_problem(world)  # ZG-2026-0001
    login(world.finance)
    job = _job(db, _post(client, _xlsx([_row(description="专项资金未按规定用途使用，挤占挪用项目资金"),
                                        _row(description="会议费超标准列支")])))
    assert job.status == JobState.DONE, job.errors
    imported = db.session.scalars(sa.select(Problem).where(Problem.id != earlier.id, Problem.seq > 1)
                                  .order_by(Problem.seq)).all()
    assert [p.number for p in imported] == ["ZG-2026-0002", "ZG-2026-0003"]
    assert imported[0].recurrence_of_id == earlier.id and imported[1].recurrence_of_id is None


def test_row_errors_write_nothing_and_the_job_page_lists_them(db, world, client, login, frozen_today):
    login(world.finance)
    data = _xlsx([_row(), _row(unit="不存在的单位"), _row(amount="-5"), _row(deadline=date(2026, 1, 1))])
    job = _job(db, _post(client, data))
    assert job.status == JobState.FAILED
    assert [row for row, _message in job.error_rows] == [3, 4]
    assert db.session.scalar(sa.select(sa.func.count(Problem.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(AuditEntry.action == "problem.list")) == 0
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "未导入任何问题" in page
    assert "<td>3</td><td>E列（责任单位（名称或编码））：找不到预算单位“不存在的单位”。</td>" in page
    assert "<td>4</td><td>H列（问题金额（元））：问题金额不能为负数。</td>" in page
    # a deadline before the listing date is found in the second pass, before any number is taken
    job = _job(db, _post(client, _xlsx([_row(), _row(deadline=date(2026, 1, 1))])))
    assert job.status == JobState.FAILED and job.error_rows[0][0] == 3 and "不能早于挂账日期" in job.error_rows[0][1]
    assert db.session.scalar(sa.select(sa.func.count(Problem.id))) == 0


def test_the_upload_is_checked_before_any_job(db, world, client, login):
    login(world.finance)
    for data, name, message in ((b"%PDF-1.4", "a.xlsx", ".xlsx"), (_xlsx([_row()]), "a.csv", ".xlsx"),
                                (b"", "a.xlsx", "请选择要导入的 Excel 文件")):
        response = _post(client, data, name)
        assert response.status_code == 422 and message in response.get_data(as_text=True), name
    assert db.session.scalar(sa.select(sa.func.count(BackgroundJob.id))) == 0
    # a wrong header is the job's refusal, shown on its page
    job = _job(db, _post(client, _xlsx([_row()], headers=["x"])))
    assert job.status == JobState.FAILED and "表头与模板不一致" in client.get(f"/jobs/{job.id}").get_data(as_text=True)
    client.post("/logout")
    login(world.unit)
    assert _post(client, _xlsx([_row()])).status_code == 403


def test_the_whole_ledger_export_is_a_download_for_who_started_it(db, world, client, login, frozen_today):
    for n in range(3):
        make_problem(world, description=f"问题{n}")
    make_problem(world, unit=world.other_department, description="另一部门的问题")
    login(world.finance)
    page = client.get("/ledger/").get_data(as_text=True)
    assert "导出全部（后台生成）" in page
    job = _job(db, client.post("/ledger/export-all", data={"department": str(world.department.id)}))
    assert job.status == JobState.DONE and job.result_file and job.total == 3, job.message
    response = client.get(f"/jobs/{job.id}/download")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-store"
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert len(rows) == 4 and sorted(r[8] for r in rows[1:]) == ["问题0", "问题1", "问题2"]
    assert "问题台账" in response.headers["Content-Disposition"] or "filename*" in response.headers["Content-Disposition"]
    client.post("/logout")
    login(world.audit)
    assert client.get(f"/jobs/{job.id}/download").status_code == 403
    assert client.get(f"/jobs/{job.id}").status_code == 403
