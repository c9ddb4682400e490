"""The job runner (huey): after-commit effects and long jobs (imports, exports: core/background.py).

Storage follows `JOBS_URL`: a SQLite file under instance/ by default (`make run`), Redis in
production (`redis://127.0.0.1:6379/0`). The worker is `flask --app portal worker`; it drains
the outbox whenever a commit wrote to it (`drain_soon()`), and every minute in any case (so a
message whose wake-up was lost, or whose retry is due, is delivered without a command), writes
an audit checkpoint each minute, and runs the deadline reminders every ten minutes.
With `JOBS_IMMEDIATE` (the tests' default) a task runs at once in the calling process.
"""
from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from flask import current_app, has_app_context
from huey import Huey, crontab
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

log = logging.getLogger(__name__)

huey = Huey("portal", results=False, storage_class=MemoryStorage)
_app = None  # the Flask app the worker's tasks run in


def init_app(app) -> None:
    global _app
    _app = app
    url = app.config["JOBS_URL"]
    if app.config.get("JOBS_IMMEDIATE"):
        huey.immediate = True
        return
    huey.immediate = False
    if url.startswith(("redis://", "rediss://", "unix://")):
        huey.storage = RedisStorage(name="portal", url=url)
    else:
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        huey.storage = SqliteStorage(name="portal", filename=str(path))


def _context():
    if has_app_context():
        return contextlib.nullcontext()
    if _app is None:
        raise RuntimeError("jobs.init_app(app) was not called in this process")
    return _app.app_context()


@huey.task()
def drain_outbox_task():
    from portal.core import outbox

    with _context():
        counts = outbox.drain(budget_seconds=current_app.config.get("OUTBOX_RUN_SECONDS", 120))
    if any(counts.values()):
        log.info("outbox drained: %s", counts)


def drain_soon() -> None:
    """Queue a drain; if the queue itself is unreachable the minute's drain still comes."""
    try:
        drain_outbox_task()
    except Exception:  # noqa: BLE001  the message is safe in the outbox table either way
        log.warning("could not queue an outbox drain", exc_info=True)


@huey.task()
def run_background_job(job_id: int):
    """A long job (import, export …) with progress: portal/core/background.py."""
    from portal.core import background

    with _context():
        background.execute(job_id)


@huey.periodic_task(crontab(minute="*"))
def every_minute():
    from portal.core import audit, background, outbox

    with _context():
        outbox.drain(budget_seconds=current_app.config.get("OUTBOX_RUN_SECONDS", 120))
        audit.write_checkpoint()
        background.sweep()


@huey.periodic_task(crontab(minute="*/10"))
def reminders_task():
    from portal.core.notifications import run_reminders

    with _context():
        run_reminders()


def run_worker(workers: int = 2) -> None:
    """The worker process: `flask --app portal worker`."""
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=True,
                                    check_worker_health=True)
    consumer.run()
