"""`flask search apply|reindex` (on either app: they share the snapshot tables' database)."""
from __future__ import annotations

import click
from flask.cli import AppGroup


def init_app(app):
    from portal.publishing.search import health

    app.cli.add_command(make_group())
    if not app.testing:
        health.heal_on_first_request(app)


def make_group() -> AppGroup:
    group = AppGroup("search", help="Search index (Whoosh) of published snapshots.")

    @group.command("apply")
    def apply_command():
        """Apply the queued index updates (single writer)."""
        from portal.publishing import search

        click.echo(f"applied {search.apply_queue()} queued updates")

    @group.command("reindex")
    def reindex_command():
        """Rebuild the whole index from the current snapshots, with a progress bar."""
        import sqlalchemy as sa

        from portal.extensions import db
        from portal.publishing import search
        from portal.publishing.models import Snapshot

        total = db.session.scalar(sa.select(sa.func.count(sa.distinct(Snapshot.project_ref)))) or 0
        with click.progressbar(length=total, label="重建索引 reindexing") as bar:
            count = search.reindex(progress=bar.update)
        click.echo(f"indexed {count} projects")

    return group
