"""Declarative base with a naming convention, common column helpers, SQLite tuning."""
from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from portal.core import clock

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Money: yuan with two decimals, up to a trillion-yuan province budget.
Money = sa.Numeric(16, 2)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)


def enum_column(enum_cls, **kwargs) -> sa.Enum:
    """A labelled enum stored as its code (VARCHAR + CHECK), named after the class."""
    name = re.sub(r"(?<!^)(?=[A-Z])", "_", enum_cls.__name__).lower()
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
        **kwargs,
    )


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """Foreign keys on, WAL for concurrent readers, a busy timeout for writers."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    """SQLite: a transaction that may write starts IMMEDIATE, so read-then-write sequences
    (document numbers, the audit chain) cannot interleave; safe HTTP reads stay DEFERRED."""
    if conn.dialect.name != "sqlite":
        return
    conn.exec_driver_sql("BEGIN IMMEDIATE" if _may_write() else "BEGIN")


def _may_write() -> bool:
    from flask import has_request_context, request

    if has_request_context():
        return request.method not in ("GET", "HEAD", "OPTIONS")
    return True
