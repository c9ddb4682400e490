"""`flask --app portal publishing sync` copies snapshots to a SQLite public copy (PostgreSQL
installations use logical replication instead: portal/publishing/replication.py);
`flask --app portal search apply|reindex` maintain the index (same commands on the public app).

A separate public database (PUBLIC_DATABASE_URL) is created with the same migrations
(`DATABASE_URL=$PUBLIC_DATABASE_URL flask --app portal db upgrade`); it only ever holds the
snapshot tables' rows. `sync` appends the snapshots it lacks (ids are kept), moves the
`current` flag, copies report files and queues the touched projects for indexing; run
`flask --app public_site search apply` on the public host afterwards (or from cron)."""
from __future__ import annotations

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from portal.extensions import db


def init_app(app):
    from portal.publishing.search.cli import make_group

    group = AppGroup("publishing", help="Publication snapshots.")

    @group.command("sync")
    @click.option("--to", "target_url", default=None, help="Target database URL (default: PUBLIC_DATABASE_URL).")
    def sync_command(target_url):
        """Copy new snapshots and report files into the public database."""
        url = target_url or current_app.config.get("PUBLIC_DATABASE_URL")
        if not url:
            raise click.UsageError("PUBLIC_DATABASE_URL is not set (or pass --to URL).")
        copied = sync(sa.create_engine(url))
        click.echo(f"copied {copied} snapshots")

    app.cli.add_command(group)
    app.cli.add_command(make_group())


def sync(target) -> int:
    from portal.publishing.models import PublishedFile, SearchQueueItem, Snapshot

    if db.engine.dialect.name == "postgresql":
        raise click.ClickException("the portal runs on PostgreSQL: feed the public host by logical replication "
                                   "(README: a public host fed by logical replication)")
    snaps, files, queue = Snapshot.__table__, PublishedFile.__table__, SearchQueueItem.__table__
    with target.begin() as conn:
        # Which ids the target lacks, not "above its highest": safe whatever order ids committed in.
        have_ids = set(conn.execute(sa.select(snaps.c.id)).scalars())
        rows = [dict(r._mapping) for r in db.session.execute(sa.select(snaps).order_by(snaps.c.id))
                if r.id not in have_ids]
        have = set(conn.execute(sa.select(files.c.sha256)).scalars())
        for f in db.session.execute(sa.select(files)):
            if f.sha256 not in have:
                conn.execute(files.insert().values(**dict(f._mapping)))
        for row in rows:
            conn.execute(snaps.update().where(snaps.c.project_ref == row["project_ref"], snaps.c.kind == row["kind"])
                         .values(current=False))
            conn.execute(snaps.insert().values(**row))
        for ref in sorted({r["project_ref"] for r in rows}):
            conn.execute(queue.insert().values(project_ref=ref, created_at=sa.func.now()))
        if conn.dialect.name == "postgresql" and rows:
            conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('pub_snapshots', 'id'), :v)"), {"v": rows[-1]["id"]})
        _sync_figures(conn)
    return len(rows)


def _sync_figures(conn) -> None:
    """The year figures (pub_year_figures) the target lacks, the newest of each year current."""
    from portal.publishing.models import PublishedFigures

    table = PublishedFigures.__table__
    have = set(conn.execute(sa.select(table.c.id)).scalars())
    for row in db.session.execute(sa.select(table).order_by(table.c.id)):
        if row.id in have:
            continue
        conn.execute(table.update().where(table.c.kind == row.kind, table.c.year == row.year).values(current=False))
        conn.execute(table.insert().values(**dict(row._mapping)))
