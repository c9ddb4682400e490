"""Import every module's models so that `db.metadata` is complete, and compare them with the
migrations (`flask check-migrations`, tests/core/test_migrations.py)."""
import importlib
import importlib.util
import tempfile
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal.core.migrations_check import upgrade


def import_all() -> None:
    from portal import MODULES

    for name in ("portal.accounts.models", "portal.core.audit", "portal.core.attachments",
                 "portal.core.notifications", "portal.core.api", "portal.core.outbox",
                 "portal.core.counters", "portal.core.writes", "portal.core.background"):
        importlib.import_module(name)
    for module in MODULES:
        package = importlib.import_module(module)
        if hasattr(package, "__path__") and importlib.util.find_spec(f"{module}.models") is not None:
            importlib.import_module(f"{module}.models")


def diff(url: str) -> list:
    from portal.extensions import db

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
