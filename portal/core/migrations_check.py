"""Do the models and the Alembic migrations describe the same schema?"""
from __future__ import annotations

import tempfile
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

from portal.config import PROJECT_ROOT


def alembic_config(url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "migrations" / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def diff(url: str) -> list:
    from portal.extensions import db
    from portal.models import import_all

    import_all()
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
            return compare_metadata(context, db.metadata)
    finally:
        engine.dispose()


def diff_against_fresh_database(app=None, url: str | None = None) -> list:
    if url is None:
        tmp = tempfile.mkdtemp()
        url = f"sqlite:///{Path(tmp) / 'check.db'}"
    upgrade(url)
    return diff(url)
