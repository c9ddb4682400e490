"""Real concurrency for tests: N threads, each with its own connection, released at once.

    clients = [signed_in(app, user) for _ in range(10)]
    responses = in_parallel([lambda c=c: c.post(url, data=form) for c in clients])

Each thread's requests push their own application context, so each has its own SQLAlchemy
session and database connection (PostgreSQL: real concurrent transactions; SQLite: writers
queue on the database lock, as gunicorn workers would)."""
from __future__ import annotations

import threading
from collections.abc import Callable

from tests import factories, transactions


def in_parallel(calls: list[Callable], timeout: float = 120) -> list:
    """Run every call in its own thread, all released by one barrier; returns their results in
    order and re-raises the first exception a thread met. Only in a test that commits for real
    (tests/transactions.py): threads have connections of their own."""
    transactions.require_commits("in_parallel")
    _end_callers_transaction()
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i: int, call: Callable) -> None:
        try:
            barrier.wait(timeout)
            results[i] = call()
        except BaseException as error:  # noqa: BLE001  reported to the test below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i, call), daemon=True) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    if any(t.is_alive() for t in threads):
        raise TimeoutError(f"{sum(t.is_alive() for t in threads)} of {len(threads)} calls still running")
    if errors:
        raise errors[0]
    return results


def _end_callers_transaction() -> None:
    """The test's own session must not hold a transaction while the threads run (on SQLite it
    would hold the write lock every thread waits for)."""
    from flask import has_app_context

    if has_app_context():
        from portal.extensions import db

        db.session.rollback()


def signed_in(app, user, password: str = factories.PASSWORD):
    """A test client of its own, signed in as `user` through the real login form."""
    client = app.test_client()
    response = factories.sign_in(client, user.username, password)  # with the TOTP step when asked
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client
