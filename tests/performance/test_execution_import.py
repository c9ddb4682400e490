"""Budget execution from the budget system: a whole period by Excel (a job) or by the API; all
or nothing with row errors; idempotent per project and period; feeding the monitoring lights."""
from __future__ import annotations

import io
from decimal import Decimal

import sqlalchemy as sa
from openpyxl import Workbook

from portal.core.audit import AuditEntry
from portal.core.background import BackgroundJob, JobState
from portal.core.tokens import create_token
from portal.performance.execution import COLUMNS
from portal.performance.models import GoalState, MonitoringReport
from tests.factories import make_project
from tests.performance.factories import make_goal


def _xlsx(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(COLUMNS)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _projects(world, n=3):
    world.department.code = "EX1"
    projects = []
    for i in range(n):
        p = make_project(world.department, code=f"EXP{i}", budget="1000000", executed=Decimal(0))
        make_goal(p, state=GoalState.APPROVED)
        projects.append(p)
    return projects


def _row(p, executed, month=7, unit="EX1"):
    return [2026, month, unit, "测试市教育局", p.code, p.name, 1000000, executed]


def _upload(client, data):
    response = client.post("/monitoring/execution-import", data={"file": (io.BytesIO(data), "执行.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def test_a_clean_file_sets_every_projects_execution_and_the_lights(db, world, client, login):
    projects = _projects(world)
    db.session.commit()
    login(world.finance)
    job_id = _upload(client, _xlsx([_row(projects[0], 100000), _row(projects[1], 600000), _row(projects[2], "550000.5")]))
    db.session.expire_all()
    job = db.session.get(BackgroundJob, job_id)
    assert job.status == JobState.DONE, (job.message, job.errors)
    reports = {r.project_id: r for r in db.session.scalars(sa.select(MonitoringReport))}
    assert reports[projects[0].id].executed == Decimal("100000.00")
    assert reports[projects[0].id].lag_warning  # 10 % against a schedule of 58 %: the warning lights up
    assert not reports[projects[1].id].lag_warning
    assert projects[2].executed == Decimal("550000.50")
    # the same file again: nothing changes, nothing is logged
    entries = db.session.scalar(sa.select(sa.func.count(AuditEntry.id)))
    job_id = _upload(client, _xlsx([_row(projects[0], 100000), _row(projects[1], 600000), _row(projects[2], "550000.5")]))
    db.session.expire_all()
    job = db.session.get(BackgroundJob, job_id)
    assert job.status == JobState.DONE and "有变化 0 个" in job.message
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == entries


def test_row_errors_write_nothing(db, world, client, login):
    projects = _projects(world)
    db.session.commit()
    login(world.finance)
    rows = [_row(projects[0], 100000), _row(projects[1], -5), _row(projects[2], 1, unit="WRONG"),
            [2026, 13, "EX1", "", "EXP0", "", 0, 1], [2026, 7, "EX1", "", "NOPE", "", 0, 1], _row(projects[0], 2)]
    job_id = _upload(client, _xlsx(rows))
    db.session.expire_all()
    job = db.session.get(BackgroundJob, job_id)
    assert job.status == JobState.FAILED
    rows_with_errors = sorted({row for row, _message in job.error_rows})
    assert rows_with_errors == [3, 4, 5, 6, 7]
    assert db.session.scalar(sa.select(sa.func.count(MonitoringReport.id))) == 0
    assert all(p.executed == 0 for p in projects)
    assert client.get(f"/jobs/{job_id}").status_code == 200


def test_the_api_is_all_or_nothing_and_idempotent(db, world, client):
    projects = _projects(world)
    _token, raw = create_token(world.finance, "budget-system")
    db.session.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    body = {"year": 2026, "month": 7, "items": [{"code": p.code, "executed": "300000"} for p in projects]}
    bad = {**body, "items": body["items"] + [{"code": "NOPE", "executed": "1"}]}
    refused = client.post("/api/v1/execution", json=bad, headers=headers)
    assert refused.status_code == 422 and refused.get_json()["error"]["details"][0]["index"] == 3
    assert db.session.scalar(sa.select(sa.func.count(MonitoringReport.id))) == 0
    first = client.post("/api/v1/execution", json=body, headers=headers)
    assert first.status_code == 200 and first.get_json()["changed"] == 3
    again = client.post("/api/v1/execution", json=body, headers=headers)
    assert again.status_code == 200 and again.get_json() == {**first.get_json(), "changed": 0, "unchanged": 3}
    assert db.session.scalar(sa.select(sa.func.count(MonitoringReport.id))) == 3
    _token, unit_raw = create_token(world.unit, "unit")
    db.session.commit()
    assert client.post("/api/v1/execution", json=body,
                       headers={"Authorization": f"Bearer {unit_raw}"}).status_code == 403
