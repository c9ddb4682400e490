"""Long jobs: all-or-nothing with their completion, progress visible while they run, results only
for who started them, a lost wake-up recovered by the sweep."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.accounts.models import Organisation
from portal.core import background, clock, jobs
from portal.core.background import BackgroundJob, JobState, RowErrors
from portal.core.writes import perform
from portal.extensions import db as _db


@pytest.fixture()
def renamer(monkeypatch):
    """A job kind that renames organisations (rows in the payload), failing on a bad row."""
    def run(job, payload, progress):
        rows = payload["rows"]
        errors = []
        for n, (org_id, name) in enumerate(rows, start=1):
            if not name:
                errors.append((n, "名称不能为空"))
                continue
            _db.session.get(Organisation, org_id).name = name
            progress(n, total=len(rows), errors=len(errors))
        if errors:
            raise RowErrors(errors)
        if payload.get("export"):
            path = background.jobs_dir() / f"out-{job.id}.csv"
            path.write_text("name\n" + "\n".join(name for _id, name in rows), encoding="utf-8")
            return background.Outcome(f"已改名 {len(rows)} 个", result_file=path, result_name="名单.csv")
        return background.Outcome(f"已改名 {len(rows)} 个", link="/admin/organisations")
    monkeypatch.setitem(background.RUNNERS, "test.rename", background.Runner("test.rename", run, "改名"))


def _start(world, rows, **payload):
    return perform(lambda: background.start("test.rename", actor=world.admin, payload={"rows": rows, **payload})).id


def test_a_job_and_its_writes_commit_together(db, world, renamer):
    job_id = _start(world, [[world.department.id, "新名称甲"], [world.subunit.id, "新名称乙"]])
    db.session.expire_all()
    job = db.session.get(BackgroundJob, job_id)
    assert job.status == JobState.DONE and job.message == "已改名 2 个" and job.done == 2
    assert db.session.get(Organisation, world.department.id).name == "新名称甲"


def test_row_errors_write_nothing_and_are_kept_for_the_page(db, world, renamer, client, login):
    job_id = _start(world, [[world.department.id, "新名称甲"], [world.subunit.id, ""]])
    db.session.expire_all()
    job = db.session.get(BackgroundJob, job_id)
    assert job.status == JobState.FAILED and job.error_rows == [[2, "名称不能为空"]]
    assert db.session.get(Organisation, world.department.id).name == "测试市教育局"  # all or nothing
    login(world.admin)
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "名称不能为空" in page and "未导入任何内容" in page


def test_only_who_started_a_job_sees_it_and_its_download(db, world, renamer, client, login):
    job_id = _start(world, [[world.department.id, "甲"]], export=True)
    login(world.finance)
    assert client.get(f"/jobs/{job_id}").status_code == 403
    assert client.get(f"/jobs/{job_id}/download").status_code == 403
    client.post("/logout")
    login(world.admin)
    response = client.get(f"/jobs/{job_id}/download")
    assert response.status_code == 200 and response.get_data(as_text=True) == "name\n甲"
    assert response.headers["Cache-Control"] == "private, no-store"


@pytest.mark.commits  # a worker thread with its own connection
def test_progress_is_visible_while_the_import_holds_its_transaction(db, world, app, monkeypatch, client, login):
    """The runner waits half-way; meanwhile the progress partial shows rows done."""
    halfway, release = threading.Event(), threading.Event()

    def run(job, payload, progress):
        progress(500, total=1000)
        halfway.set()
        assert release.wait(30)
        progress(1000, total=1000)
        return background.Outcome("完成")
    monkeypatch.setitem(background.RUNNERS, "test.slow", background.Runner("test.slow", run, "慢任务"))
    monkeypatch.setattr(jobs, "run_background_job", lambda job_id: None)  # the worker runs it below
    job_id = perform(lambda: background.start("test.slow", actor=world.admin).id)
    login(world.admin)  # before the job runs: on SQLite a running import holds the write lock
    db.session.rollback()  # hold no transaction (on SQLite: no lock) while the worker runs

    def worker():
        with app.app_context():
            background.execute(job_id)
    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert halfway.wait(30)
        partial = client.get(f"/jobs/{job_id}/progress").get_data(as_text=True)
        assert "500 / 1000" in partial and 'value="50"' in partial and "every 1s" in partial
    finally:
        release.set()
        thread.join(30)
    db.session.rollback()  # the test's session (shared with its requests) saw the job running
    done = client.get(f"/jobs/{job_id}/progress")
    assert done.headers.get("HX-Refresh") == "true"
    assert "完成" in client.get(f"/jobs/{job_id}").get_data(as_text=True)


def test_a_lost_wake_up_is_recovered_by_the_sweep(db, world, renamer, monkeypatch):
    with monkeypatch.context() as lost:
        lost.setattr(jobs, "run_background_job", lambda job_id: None)  # the queue lost it
        job_id = _start(world, [[world.department.id, "新名称丙"]])
    assert db.session.get(BackgroundJob, job_id).status == JobState.QUEUED
    with clock.frozen(clock.now() + timedelta(minutes=2)):
        assert background.sweep() == 1
    db.session.expire_all()
    assert db.session.get(BackgroundJob, job_id).status == JobState.DONE


def test_a_rolled_back_start_runs_nothing(db, world, renamer):
    from portal.core.errors import DomainError

    def start_then_refuse():
        background.start("test.rename", actor=world.admin, payload={"rows": [[world.department.id, "不该改"]]})
        raise DomainError("不行")
    with pytest.raises(DomainError):
        perform(start_then_refuse)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BackgroundJob)) == 0
    assert "jobs_to_run" not in db.session.info
