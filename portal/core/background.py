"""Long work as jobs with progress: imports, whole-table exports, anything that outlives a request.

A view starts a job with `start(kind, actor=…, payload=…, upload=…)` through `perform()`: the job
row (and the uploaded file, kept under instance/jobs/) is written in the request's transaction,
and the worker is asked to run it once that commits. The user is sent to `/jobs/<id>`, whose
progress bar (htmx polling, a plain refresh without JavaScript) shows rows done, errors found
and time left, then the result: a link, a download, or the row errors.

A module registers what a kind does:

    @background.runner("ledger.import", label=_l("问题台账导入"))
    def run(job, payload, progress) -> background.Outcome: ...

The runner works in ONE transaction with the job's completion, so an import is all-or-nothing:
`raise background.RowErrors(errors)` (or any DomainError) rolls back every row and keeps the
errors for the page. Progress goes through the job runner's key-value store (huey's storage: a
SQLite file by default, Redis in production), never through the database transaction the
import holds open.
"""
from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from portal.core import clock
from portal.core.enums import LabelledEnum
from portal.core.errors import DomainError
from portal.extensions import db

log = logging.getLogger(__name__)


class JobState(LabelledEnum):
    QUEUED = "queued", "排队中", "Queued", "tag-grey"
    RUNNING = "running", "进行中", "Running", "tag-blue"
    DONE = "done", "已完成", "Done", "tag-green"
    FAILED = "failed", "未完成", "Failed", "tag-red"


class BackgroundJob(db.Model):
    __tablename__ = "background_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(60))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    state: Mapped[str] = mapped_column(sa.String(20), default=JobState.QUEUED.value)
    payload: Mapped[str] = mapped_column(sa.Text, default="{}")
    input_file: Mapped[str] = mapped_column(sa.String(200), default="")  # name under instance/jobs/
    created_at: Mapped[datetime] = mapped_column(default=clock.now, index=True)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    message: Mapped[str] = mapped_column(sa.Text, default="")
    errors: Mapped[str] = mapped_column(sa.Text, default="[]")  # [[row, message], …]
    link: Mapped[str] = mapped_column(sa.String(500), default="")
    result_file: Mapped[str] = mapped_column(sa.String(200), default="")
    result_name: Mapped[str] = mapped_column(sa.String(200), default="")

    @property
    def status(self) -> JobState:
        return JobState(self.state)

    @property
    def error_rows(self) -> list:
        return json.loads(self.errors or "[]")

    @property
    def label(self) -> str:
        spec = RUNNERS.get(self.kind)
        return str(spec.label) if spec else self.kind


@dataclass
class Outcome:
    message: str
    link: str = ""
    result_file: Path | None = None  # a file the runner wrote (an export); offered for download
    result_name: str = ""


class RowErrors(DomainError):
    """The input has errors: nothing is written; the rows and messages are shown."""

    def __init__(self, errors: list[tuple[int, str]], message: str | None = None):
        super().__init__(message or str(_l("文件有错误，未导入任何内容。请按下列行号修改后重新上传。")))
        self.errors = [list(e) for e in errors]


@dataclass
class Runner:
    kind: str
    run: Callable
    label: object
    may_view: Callable = field(default=lambda user, job: job.user_id == user.id)


RUNNERS: dict[str, Runner] = {}


def runner(kind: str, *, label):
    def register(fn):
        RUNNERS[kind] = Runner(kind, fn, label)
        return fn
    return register


def jobs_dir() -> Path:
    path = Path(current_app.config["INSTANCE_DIR"]) / "jobs"
    path.mkdir(parents=True, exist_ok=True)
    return path


# ---- starting --------------------------------------------------------------------------------

def start(kind: str, *, actor, payload: dict | None = None, upload: bytes | None = None,
          suffix: str = ".xlsx") -> BackgroundJob:
    """An operation: the job row (and its input file), run by the worker after the commit."""
    if kind not in RUNNERS:
        raise LookupError(f"no runner for {kind!r}")
    name = ""
    if upload is not None:
        name = f"in-{uuid.uuid4().hex}{suffix}"
        (jobs_dir() / name).write_bytes(upload)
    job = BackgroundJob(kind=kind, user_id=getattr(actor, "id", None), payload=json.dumps(payload or {}),
                        input_file=name, created_at=clock.now())
    db.session.add(job)
    db.session.flush()
    db.session.info.setdefault("jobs_to_run", []).append(job.id)
    return job


def run_started() -> None:
    """After the commit that started jobs: queue them on the worker."""
    from portal.core import jobs

    for job_id in db.session.info.pop("jobs_to_run", []):
        try:
            jobs.run_background_job(job_id)
        except Exception:  # noqa: BLE001  the minute's sweep starts a job whose wake-up was lost
            log.warning("could not queue job #%s", job_id, exc_info=True)


# ---- progress ----------------------------------------------------------------------------------

def _progress_key(job_id: int) -> str:
    return f"job-progress:{job_id}"


class Progress:
    """What the runner reports; written to the job runner's store at most every 0.3 s."""

    def __init__(self, job: BackgroundJob):
        self.job_id, self.total, self.done, self.errors = job.id, 0, 0, 0
        self.started = time.monotonic()
        self._last = 0.0

    def __call__(self, done: int, total: int | None = None, errors: int | None = None) -> None:
        self.done = done
        self.total = total if total is not None else self.total
        self.errors = errors if errors is not None else self.errors
        now = time.monotonic()
        if now - self._last >= 0.3 or (self.total and done >= self.total):
            self._last = now
            _store_progress(self.job_id, {"done": self.done, "total": self.total, "errors": self.errors,
                                          "elapsed": now - self.started})


def _store_progress(job_id: int, data: dict) -> None:
    from portal.core import jobs

    try:
        jobs.huey.put(_progress_key(job_id), data)
    except Exception:  # noqa: BLE001  progress is a courtesy; the job goes on
        log.debug("progress of job #%s not stored", job_id, exc_info=True)


def progress_of(job: BackgroundJob) -> dict:
    """done, total, errors, percent and seconds left, for the page."""
    data = {"done": job.done, "total": job.total, "errors": len(job.error_rows), "elapsed": 0.0}
    if job.status == JobState.RUNNING:
        from portal.core import jobs

        try:
            stored = jobs.huey.get(_progress_key(job.id), peek=True)
        except Exception:  # noqa: BLE001
            stored = None
        if stored:
            data.update(stored)
    total, done = data["total"], data["done"]
    data["percent"] = 100 if job.status == JobState.DONE else (int(done * 100 / total) if total else 0)
    rate = done / data["elapsed"] if data["elapsed"] and done else 0
    data["seconds_left"] = int((total - done) / rate) if rate and total > done else None
    return data


# ---- running (on the worker) --------------------------------------------------------------------

def execute(job_id: int) -> None:
    """Run a queued job: its work and its completion in one transaction."""
    from portal.core.writes import commit

    job = db.session.get(BackgroundJob, job_id, with_for_update=db.engine.dialect.name == "postgresql")
    if job is None or job.state != JobState.QUEUED.value:
        db.session.rollback()
        return
    job.state, job.started_at = JobState.RUNNING.value, clock.now()
    commit()
    from portal.core.links import link_context

    spec = RUNNERS[job.kind]
    progress = Progress(job)
    try:
        with link_context():  # on the worker, url_for builds the portal's addresses (PORTAL_BASE_URL)
            outcome = spec.run(job, json.loads(job.payload), progress)
    except RowErrors as refused:
        db.session.rollback()
        _finish(job_id, JobState.FAILED, message=refused.message, errors=refused.errors, done=progress.done,
                total=progress.total)
    except DomainError as refused:
        db.session.rollback()
        _finish(job_id, JobState.FAILED, message=refused.message, done=progress.done, total=progress.total)
    except Exception:
        db.session.rollback()
        log.exception("job #%s (%s) failed", job_id, job.kind)
        _finish(job_id, JobState.FAILED, message=str(_l("处理时出现系统错误，未写入任何内容。已记录，请联系系统管理员。")))
    else:
        job = db.session.get(BackgroundJob, job_id)
        job.state, job.finished_at, job.message, job.link = JobState.DONE.value, clock.now(), outcome.message, outcome.link
        job.done, job.total = progress.done or progress.total, progress.total
        if outcome.result_file is not None:
            job.result_file, job.result_name = outcome.result_file.name, outcome.result_name
        commit()  # the runner's writes and the job's "done" together
    _remove_input(job_id)


def _finish(job_id: int, state: JobState, *, message: str, errors=None, done=0, total=0) -> None:
    from portal.core.writes import commit

    job = db.session.get(BackgroundJob, job_id)
    job.state, job.finished_at, job.message = state.value, clock.now(), message
    job.errors, job.done, job.total = json.dumps(errors or [], ensure_ascii=False), done, total
    commit()


def _remove_input(job_id: int) -> None:
    job = db.session.get(BackgroundJob, job_id)
    if job is not None and job.input_file:
        (jobs_dir() / job.input_file).unlink(missing_ok=True)
    db.session.rollback()


def input_bytes(job: BackgroundJob) -> bytes:
    return (jobs_dir() / job.input_file).read_bytes()


def sweep(now: datetime | None = None) -> int:
    """Jobs queued for over a minute (their wake-up was lost): queue them again."""
    from portal.core import jobs

    now = now or clock.now()
    stale = db.session.scalars(sa.select(BackgroundJob.id).where(BackgroundJob.state == JobState.QUEUED.value,
                                                                 BackgroundJob.created_at < now - timedelta(minutes=1)))
    ids = list(stale)
    db.session.rollback()
    for job_id in ids:
        jobs.run_background_job(job_id)
    return len(ids)
