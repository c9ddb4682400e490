"""After-commit effects through the outbox, tested the way they break: a mail server that refuses
connections, one that accepts and never answers, two drains at once, a drain that died holding
its messages, and the real worker process. What a user loses when this is wrong: their emails."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from portal.core import clock, jobs, outbox
from portal.core.notifications import notify
from portal.core.outbox import OutboxMessage
from portal.core.writes import perform
from tests.concurrency import in_parallel

pytestmark = pytest.mark.commits  # drains in threads and a worker process read what the test committed


class Inbox:
    """aiosmtpd handler: what a real SMTP server accepted."""

    def __init__(self):
        self.messages: list[bytes] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802  aiosmtpd's hook name
        with self.lock:
            self.messages.append(envelope.content)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def mail_to(app, monkeypatch):
    """Point the app at an SMTP port; the worker is not woken (the test drains when it wants)."""
    def configure(port: int, timeout: float = 2.0):
        monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
        monkeypatch.setitem(app.config, "MAIL_PORT", port)
        monkeypatch.setitem(app.config, "MAIL_TIMEOUT", timeout)
    monkeypatch.setattr(jobs, "drain_soon", lambda: None)
    return configure


@contextmanager
def smtp_server(port: int | None = None):
    """A local SMTP server (on `port`, else a free one) for the block: yields it and its Inbox."""
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port or free_port())
    server.start()
    try:
        yield server, inbox
    finally:
        server.stop()


def _notify_everyone(world, n: int) -> None:
    users = list(world.users().values())
    for user in users:
        user.email = f"{user.username}@example.gov.cn"
    perform(lambda: [notify(users, f"通知 {i}", link=f"/ledger/{i}") for i in range(n)])


def _pending(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None)))


def test_mail_server_refusing_connections_loses_nothing_and_sends_everything_later(db, world, mail_to):
    port = free_port()  # nothing listens here: connections are refused
    mail_to(port)
    _notify_everyone(world, 3)
    total = _pending(db)
    assert total == 3 * len(world.users())
    counts = outbox.drain()
    assert counts["sent"] == 0 and counts["deferred"] == total
    assert _pending(db) == total  # nothing marked sent

    with smtp_server(port) as (_server, inbox), clock.frozen(clock.now() + timedelta(hours=2)):  # past the backoff
        assert outbox.drain()["sent"] == total
        assert outbox.drain() == {"sent": 0, "retried": 0, "failed": 0, "deferred": 0}
    assert len(inbox.messages) == total and _pending(db) == 0
    assert b"http://127.0.0.1:5000/ledger/0" in b"".join(inbox.messages)  # links are absolute


def test_a_mail_server_that_never_answers_bounds_the_run(db, world, mail_to):
    """313 reminders once took ~50 minutes against such a server; now one timeout ends the run."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(100)  # accepts connections (the kernel does), never says a word
    try:
        mail_to(listener.getsockname()[1], timeout=1.0)
        _notify_everyone(world, 5)
        total = _pending(db)
        started = time.monotonic()
        counts = outbox.drain()
        elapsed = time.monotonic() - started
    finally:
        listener.close()
    assert counts["deferred"] == total and counts["sent"] == 0
    # One 1 s timeout per message would take `total` seconds (65 here); a loaded machine needs
    # a few seconds for the run itself.
    assert elapsed < min(15.0, total / 3), f"{total} messages against a silent server took {elapsed:.1f} s"
    assert _pending(db) == total


def test_two_drains_at_once_send_each_message_once(db, world, app, mail_to):
    with smtp_server() as (server, inbox):
        mail_to(server.port)
        _notify_everyone(world, 4)
        total = _pending(db)

        def drain():
            with app.app_context():
                return outbox.drain()["sent"]
        sent = in_parallel([drain, drain, drain])
    assert sum(sent) == total and len(inbox.messages) == total


def test_a_drain_that_died_gives_its_messages_back_after_the_lease(db, world, mail_to):
    with smtp_server() as (server, inbox):
        mail_to(server.port)
        _notify_everyone(world, 1)
        total = _pending(db)
        outbox._claim("deadbeef" * 4, limit=1000)  # claimed by a worker that was then killed
        assert outbox.drain()["sent"] == 0  # still leased to the dead worker
        with clock.frozen(clock.now() + outbox.LEASE + timedelta(seconds=1)):
            assert outbox.drain()["sent"] == total
    assert len(inbox.messages) == total


def test_a_handler_that_keeps_failing_is_kept_as_failed_for_the_operator(db, world, monkeypatch):
    monkeypatch.setattr(jobs, "drain_soon", lambda: None)
    calls = []

    def broken(data, run):
        calls.append(data)
        raise ValueError("no such index")
    monkeypatch.setitem(outbox.HANDLERS, "test.broken", broken)
    perform(lambda: outbox.enqueue("test.broken", {"n": 1}))
    moment = clock.now()
    for _ in range(outbox.MAX_ATTEMPTS):
        moment += timedelta(hours=2)
        with clock.frozen(moment):
            outbox.drain()
    message = db.session.scalar(sa.select(OutboxMessage))
    assert len(calls) == outbox.MAX_ATTEMPTS and message.failed_at is not None and message.sent_at is None
    assert "no such index" in message.last_error


def test_the_worker_process_delivers_what_a_commit_queued(db, world, app, tmp_path, mail_to):
    """`flask worker` as operators run it: a real process, its own huey queue (SQLite), woken by
    the commit; then killed with SIGKILL, and a new one delivers what was queued meanwhile."""
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=free_port())
    server.start()
    mail_to(server.port)
    jobs_url = f"sqlite:///{tmp_path / 'jobs.db'}"
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "JOBS_URL": jobs_url,
           "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(server.port), "INSTANCE_DIR": str(tmp_path / "instance"),
           "SECRET_KEY": "test-secret", "JOBS_IMMEDIATE": "0"}
    flask = [sys.executable, "-m", "flask", "--app", "portal", "worker", "--workers", "1"]
    root = Path(__file__).resolve().parents[2]

    def start():
        return subprocess.Popen(flask, env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def wait_for(n: int, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while len(inbox.messages) < n and time.monotonic() < deadline:
            time.sleep(0.2)

    worker = start()
    try:
        from huey.storage import SqliteStorage

        monkey_storage = SqliteStorage(name="portal", filename=str(tmp_path / "jobs.db"))
        previous = jobs.huey.storage, jobs.huey.immediate
        jobs.huey.immediate = False
        jobs.huey.storage = monkey_storage
        try:
            world.unit.email = "unit@example.gov.cn"
            perform(lambda: notify([world.unit], "整改提醒", link="/ledger/1"))
            jobs.drain_outbox_task()  # what perform() does after a commit with effects
            wait_for(1)
            assert len(inbox.messages) == 1, worker.stderr.read1().decode() if worker.poll() is not None else ""
            worker.kill()
            worker.wait(10)
            perform(lambda: notify([world.unit], "第二次提醒", link="/ledger/1"))
            jobs.drain_outbox_task()  # queued while no worker runs: waits in the queue
            worker = start()
            wait_for(2)
            # the worker marks a message sent just after the mail server took it: wait for that
            # before killing it (killed in between, it would send the message again: at least once)
            deadline = time.monotonic() + 30
            while _pending(db) and time.monotonic() < deadline:
                db.session.rollback()
                time.sleep(0.2)
        finally:
            jobs.huey.storage, jobs.huey.immediate = previous[0], previous[1]
    finally:
        worker.kill()
        worker.wait(10)
        server.stop()
    assert len(inbox.messages) == 2
    assert _pending(db) == 0


def test_the_job_queue_runs_on_redis_in_production(app, db, monkeypatch):
    """JOBS_URL=redis://… (production): a commit's drain is queued in Redis, and a worker's
    dequeue runs it there."""
    import redis
    from huey.storage import RedisStorage

    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI"):
            raise
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    previous = jobs.huey.storage, jobs.huey.immediate
    monkeypatch.setitem(app.config, "JOBS_IMMEDIATE", False)
    monkeypatch.setitem(app.config, "JOBS_URL", url)
    try:
        jobs.init_app(app)
        assert isinstance(jobs.huey.storage, RedisStorage)
        jobs.huey.flush()
        perform(lambda: outbox.enqueue("email", {"to": "a@example.gov.cn", "subject": "s", "text": "t"}))
        assert jobs.huey.pending_count() == 1  # the wake-up waits in Redis for a worker
        jobs.huey.execute(jobs.huey.dequeue())  # what the worker does
        assert _pending(db) == 0
    finally:
        jobs.huey.flush()
        jobs.huey.storage, jobs.huey.immediate = previous[0], previous[1]


def test_reminders_with_the_mail_server_down_lose_no_email(db, world, mail_to, monkeypatch):
    """Before: `reminders run` with SMTP down marked 313 reminders sent and lost every email."""
    from portal.core.notifications import Reminder, run_reminders
    from portal.core.registry import REMINDER_CHECKS

    users = [world.unit, world.finance, world.audit]
    for user in users:
        user.email = f"{user.username}@example.gov.cn"
    db.session.commit()
    monkeypatch.setitem(REMINDER_CHECKS, "test.deadlines", lambda now: [
        Reminder(key=f"test:{i}", users=users, title=f"整改期限提醒 {i}", link=f"/ledger/{i}") for i in range(3)])
    port = free_port()
    mail_to(port)  # refused
    assert run_reminders()["test.deadlines"] == 3
    assert outbox.drain()["sent"] == 0 and _pending(db) == 9
    assert run_reminders()["test.deadlines"] == 0  # each reminder once
    with smtp_server(port) as (_server, inbox), clock.frozen(clock.now() + timedelta(hours=2)):
        assert outbox.drain()["sent"] == 9
    assert len(inbox.messages) == 9 and _pending(db) == 0


def test_a_handler_runs_outside_any_database_transaction(app, db, monkeypatch):
    """A handler that waits on another lock (the search index writer's) must not hold the database
    meanwhile: on SQLite the drain's transaction is IMMEDIATE, and a rebuild holding the index lock
    while it reads the database would wait on it, both stalled for the busy timeout (30 s)."""
    seen = []
    monkeypatch.setitem(outbox.HANDLERS, "probe", lambda data, run: seen.append(
        (data, db.session().in_transaction())))
    with app.test_request_context("/", method="POST"):  # a POST: SQLite transactions start IMMEDIATE
        outbox.enqueue("probe", {"n": 1})
        db.session.commit()
        outbox.drain()  # (the commit may already have delivered it: either way, once)
    assert seen == [({"n": 1}, False)]
