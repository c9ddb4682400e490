"""The goal-table import and the project list's whole export as background jobs, through HTTP: a
clean file writes its projects and goals (one audit entry per project and per goal, the chain
intact), a file with errors writes nothing and the job page lists the rows; the export's file
is for who started it only."""
from __future__ import annotations

import io

import sqlalchemy as sa
from openpyxl import load_workbook

from portal.core import audit
from portal.core.audit import AuditEntry
from portal.core.background import BackgroundJob, JobState
from portal.performance.models import Indicator, PerformanceGoal, Project
from tests.factories import make_project
from tests.performance.factories import make_goal
from tests.performance.test_write_path import _goal_rows, _xlsx


def _post(client, data, name="目标表.xlsx"):
    return client.post("/projects/import", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def _job(db, response) -> BackgroundJob:
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    assert "/jobs/" in response.headers["Location"]
    db.session.expire_all()
    return db.session.get(BackgroundJob, int(response.headers["Location"].rstrip("/").split("/")[-1]))


def test_a_clean_goal_file_is_imported_by_a_job(db, world, client, login):
    world.department.code = "IMP1"
    existing = make_project(world.department, code="I-0", name="已有项目", year=2026)
    make_goal(existing)
    db.session.commit()
    login(world.finance)
    rows = _goal_rows("I-0", "已有项目（更名）", "IMP1", "新目标")
    for n in range(1, 120):
        rows += _goal_rows(f"I-{n}", f"新项目{n}", "IMP1", f"目标{n}")
    job = _job(db, _post(client, _xlsx(rows)))
    assert job.status == JobState.DONE, (job.message, job.errors[:500])
    assert job.message == "导入成功：新增项目 119 个，更新 1 个，指标 360 条。" and job.link == "/projects"
    assert job.done == job.total == 360
    assert db.session.scalar(sa.select(sa.func.count(Project.id))) == 120
    assert db.session.scalar(sa.select(sa.func.count(Indicator.id))) == 360
    goal = db.session.scalars(sa.select(PerformanceGoal).join(Project).where(Project.code == "I-7")).one()
    assert goal.overall_goal == "目标7" and [i.name for i in goal.indicators] == ["学校数", "受益人数", "满意度"]
    projects = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "project.import")
                                  .order_by(AuditEntry.id)).all()
    goals = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "goal.import")).all()
    assert len(projects) == 120 and len(goals) == 120
    assert projects[0].record_id == str(existing.id) and projects[0].after_dict["name"] == "已有项目（更名）"
    assert "code" not in projects[0].after_dict  # an update records the changed fields only
    assert projects[1].after_dict["code"] == "I-1" and projects[1].after_dict["description"] == ""
    assert audit.verify().ok
    assert "导入成功" in client.get(f"/jobs/{job.id}").get_data(as_text=True)


def test_goal_row_errors_write_nothing_and_the_job_page_lists_them(db, world, client, login):
    world.department.code = "D1X"
    db.session.commit()
    login(world.finance)
    rows = _goal_rows("G1", "义务教育项目", "D1X")
    rows[1][13] = "很多"
    rows += _goal_rows("G2", "另一项目", "NOPE")
    job = _job(db, _post(client, _xlsx(rows)))
    assert job.status == JobState.FAILED and "未导入任何数据" in job.message
    assert [row for row, _m in job.error_rows] == [3, 5]
    assert db.session.scalar(sa.select(sa.func.count(Project.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))
                             .where(AuditEntry.action.in_(["project.import", "goal.import"]))) == 0
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "<td>5</td><td>责任单位编码：找不到单位编码“NOPE”。</td>" in page and "<td>3</td><td>指标值：" in page
    # not an Excel file: refused at once, no job
    response = _post(client, b"hello", "x.xlsx")
    assert response.status_code == 422 and ".xlsx" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(BackgroundJob.id))) == 1


def test_the_project_list_export_is_a_download_for_who_started_it(db, world, client, login):
    for n in range(3):
        make_goal(make_project(world.department, code=f"E-{n}", year=2026))
    make_goal(make_project(world.department, code="E-old", year=2025))
    db.session.commit()
    login(world.finance)
    assert "导出全部（后台生成）" in client.get("/projects?year=2026").get_data(as_text=True)
    job = _job(db, client.post("/projects/export-all", data={"year": "2026"}))
    assert job.status == JobState.DONE and job.result_file and job.total == 3, job.message
    response = client.get(f"/jobs/{job.id}/download")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    direct = list(load_workbook(io.BytesIO(client.get("/projects/export?year=2026").data)).active
                  .iter_rows(values_only=True))
    assert rows == direct and len(rows) > 3 and {r[0] for r in rows[1:]} == {"E-0", "E-1", "E-2"}
    client.post("/logout")
    login(world.other_unit)
    assert client.get(f"/jobs/{job.id}/download").status_code == 403


def test_the_project_list_export_refuses_tampered_filters(db, world, client, login):
    login(world.finance)
    for bad in ({"year": "10" * 20}, {"department": str(10**26)}, {"unit": "-2"}, {"kind": "nope"},
                {"band": "1e999"}, {"warning": "2"}, {"dir": "sideways"}, {"q": "项" * 201}):
        response = client.post("/projects/export-all", data=bad)
        assert response.status_code == 400, bad
        assert db.session.scalar(sa.select(sa.func.count(BackgroundJob.id))) == 0, bad
