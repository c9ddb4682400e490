"""Alembic environment: used by `flask db …` (Flask-Migrate) and by the tests/checks, which
pass the database URL in `config.attributes["database_url"]`."""
from alembic import context
from sqlalchemy import create_engine

from portal.extensions import db
from portal.models import import_all

import_all()
config = context.config
target_metadata = db.metadata


def database_url() -> str:
    url = config.attributes.get("database_url")
    if url:
        return url
    from flask import current_app

    return current_app.config["SQLALCHEMY_DATABASE_URI"]


def run_offline():
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online():
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(database_url())
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


def _run(connection):
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
