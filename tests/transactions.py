"""How a test's writes are undone, on SQLite and on PostgreSQL.

Rolled back (the default): the test runs inside one transaction on one connection that is
rolled back at its end. Everything the test thread does goes through that connection: the
test's `db.session`, every request of the test clients (portal and public site), and
`db.engine.begin()` / `db.engine.connect()` (each a savepoint on it). A `commit()` — in
`portal.core.writes.perform`, a command, a test — releases a savepoint (the session joins the
connection with join_transaction_mode="create_savepoint"), a `rollback()` returns to it, so the
application sees the same commit and rollback semantics as in production. The outer
transaction starts as the app starts its writes (SQLite: BEGIN IMMEDIATE, portal/core/db.py).
PostgreSQL sequences are reset to 1 at the start, as the truncate did (RESTART IDENTITY).

Committed (`@pytest.mark.commits`, implied by the `live_server` and `page` fixtures and by
using tests/concurrency.py): commits are real, other connections and threads see them, and
every table is emptied after the test. Needed by real threads, servers, subprocesses, the
outbox's concurrent drains, replication and backups. A rolled-back test that reaches another
connection (another thread on the same database) would not see its data and, on SQLite, would
wait for its write lock: `in_parallel` and `live_server` refuse to run in it.
"""
from __future__ import annotations

import contextlib
import threading

import sqlalchemy as sa
from flask_sqlalchemy.extension import SQLAlchemy
from flask_sqlalchemy.session import Session

_active: RolledBack | None = None
RESET_SEQUENCES = ("SELECT setval(c.oid, 1, false) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                   "WHERE c.relkind = 'S' AND n.nspname = current_schema()")


def active() -> RolledBack | None:
    return _active


class _SavepointEngine:
    """The database's engine as the test thread sees it: its connection, each `begin()` and
    `connect()` block a savepoint on it. Everything else (dialect, url …) is the engine's."""

    def __init__(self, engine: sa.Engine, connection: sa.Connection):
        self._engine, self._connection = engine, connection

    def __getattr__(self, name):
        return getattr(self._engine, name)

    @contextlib.contextmanager
    def begin(self):
        with self._connection.begin_nested():
            yield self._connection

    @contextlib.contextmanager
    def connect(self):
        savepoint = self._connection.begin_nested()
        try:
            yield self._connection
        finally:
            if savepoint.is_active:
                savepoint.commit()

    def dispose(self, *args, **kwargs) -> None:
        """The connection stays checked out until the test ends."""


class RolledBack:
    """One test's transaction: `with RolledBack(engine): ...` (see the module docstring)."""

    def __init__(self, engine: sa.Engine, *, reset_sequences: bool = True):
        self.engine = engine
        self.thread = threading.get_ident()
        self.reset_sequences = reset_sequences  # not over a seeded database (its ids are taken)

    def __enter__(self) -> RolledBack:
        global _active
        if _active is not None:
            raise RuntimeError("a rolled-back test transaction is already open")
        self.connection = self.engine.connect()
        self.outer = self.connection.begin()
        if self.engine.dialect.name == "postgresql" and self.reset_sequences:
            self.connection.exec_driver_sql(RESET_SEQUENCES)
        self.proxy = _SavepointEngine(self.engine, self.connection)
        self.foreign: list[str] = []  # other threads that connected to this database
        _active = self
        return self

    def __exit__(self, *exc) -> None:
        global _active
        _active = None
        try:
            if self.outer.is_active:
                self.outer.rollback()
        finally:
            self.connection.close()

    def covers(self, engine) -> bool:
        """Whether `engine` (any app's: the public site's has its own) reaches this database
        from the test's thread."""
        return (threading.get_ident() == self.thread and isinstance(engine, sa.Engine)
                and _where(engine.url) == _where(self.engine.url))


def _where(url) -> tuple:
    return url.get_backend_name(), url.host, url.port, url.database


def install() -> None:
    """Route the test thread's engines and sessions through the open `RolledBack` (once per
    test session; a no-op while none is open). Sessions join the test's connection through a
    savepoint of their own (commit releases it, rollback returns to it); bound to an engine,
    as in production, that changes nothing."""
    from portal.extensions import db

    if getattr(SQLAlchemy, "_tests_rolled_back", False):
        return
    db.session.session_factory.configure(join_transaction_mode="create_savepoint")
    engines_of = SQLAlchemy.engines.fget
    get_bind = Session.get_bind

    def engines(self):
        mapping = engines_of(self)
        current = _active
        if current is None:
            return mapping
        return {key: current.proxy if current.covers(engine) else engine for key, engine in mapping.items()}

    def session_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        found = get_bind(self, mapper=mapper, clause=clause, bind=bind, **kwargs)
        current = _active
        if current is not None and isinstance(found, _SavepointEngine) and found is current.proxy:
            return current.connection
        return found

    @sa.event.listens_for(sa.Engine, "engine_connect")
    def refuse_other_connections(connection):
        current = _active
        if current is None or _where(connection.engine.url) != _where(current.engine.url):
            return
        current.foreign.append(threading.current_thread().name)
        raise RuntimeError("a second connection to the database of a rolled-back test (another thread, or an "
                           "engine of its own): it would not see the test's data and would wait for its locks. "
                           "Mark the test @pytest.mark.commits (tests/transactions.py)")

    SQLAlchemy.engines = property(engines, doc=SQLAlchemy.engines.__doc__)
    Session.get_bind = session_bind
    SQLAlchemy._tests_rolled_back = True


# ---- the committed path ------------------------------------------------------------------------

def empty_all_tables(database) -> None:
    """Empty every table after a committed test, and restart the ids. PostgreSQL: DELETE with
    the triggers off (the foreign keys' and the audit log's append-only one), about 5 ms over
    the few rows a test leaves, where a TRUNCATE of the 81 tables takes 300–600 ms (it replaces
    every table's files); TRUNCATE where the role may not turn triggers off (not a superuser)."""
    tables = [t.name for t in reversed(database.metadata.sorted_tables)]
    engine = database.engine
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            if conn.exec_driver_sql("SELECT current_setting('is_superuser')").scalar() == "on":
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
                conn.exec_driver_sql("; ".join(f'DELETE FROM "{t}"' for t in tables))
                conn.exec_driver_sql(RESET_SEQUENCES)
            else:
                conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
            for table in tables:
                conn.exec_driver_sql(f'DELETE FROM "{table}"')
            if conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'").first():
                conn.exec_driver_sql("DELETE FROM sqlite_sequence")


def require_commits(what: str) -> None:
    """Refuse `what` (threads, a server) inside a rolled-back test: it would not see the
    test's data, and on SQLite it would wait for the test's write lock."""
    if _active is not None:
        raise RuntimeError(f"{what} needs real commits: mark the test @pytest.mark.commits "
                           "(tests/transactions.py)")
