"""The portal's side of the public host's logical replication: publish the public tables only.

`flask --app portal publishing replication-setup` on the portal's database (it needs
`wal_level=logical`); the public host subscribes with `flask --app public_site replica init`
(portal/publishing/replica.py). The tables hold nothing but published snapshots, report files and published year figures."""
from __future__ import annotations

import click
import sqlalchemy as sa

PUBLIC_TABLES = ("pub_snapshots", "pub_files", "pub_year_figures")
PUBLICATION = "portal_public"


def create_publication(engine) -> None:
    with engine.begin() as conn:
        level = conn.execute(sa.text("SHOW wal_level")).scalar()
        if level != "logical":
            raise click.ClickException(f"wal_level is {level}; logical replication needs wal_level=logical")
        exists = conn.execute(sa.text("SELECT 1 FROM pg_publication WHERE pubname = :n"), {"n": PUBLICATION}).first()
        if not exists:
            conn.execute(sa.text(f"CREATE PUBLICATION {PUBLICATION} FOR TABLE {', '.join(PUBLIC_TABLES)}"))
            return
        published = set(conn.scalars(sa.text("SELECT tablename FROM pg_publication_tables WHERE pubname = :n"),
                                     {"n": PUBLICATION}))
        for name in PUBLIC_TABLES:  # a table added since the publication was made (pub_year_figures)
            if name not in published:
                conn.execute(sa.text(f"ALTER PUBLICATION {PUBLICATION} ADD TABLE {name}"))


def register(app) -> None:
    @app.cli.command("replication-setup")
    def replication_setup():
        """Publish the public tables for the public host's subscription (PostgreSQL)."""
        from portal.extensions import db

        if db.engine.dialect.name != "postgresql":
            raise click.ClickException("logical replication needs PostgreSQL (SQLite: `publishing sync`)")
        create_publication(db.engine)
        click.echo(f"publication {PUBLICATION}: {', '.join(PUBLIC_TABLES)}")
