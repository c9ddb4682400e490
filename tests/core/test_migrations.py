"""The Alembic migrations build exactly the schema the models describe, on both databases,
and downgrade cleanly."""
from portal.core.migrations_check import downgrade, upgrade
from portal.models import diff


def test_models_and_migrations_agree(database_url):
    assert diff(database_url) == []


def test_downgrade_to_base_and_back(database_url, app):
    downgrade(database_url, "base")
    upgrade(database_url, "head")
    assert diff(database_url) == []
