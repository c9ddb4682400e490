"""A public host fed by PostgreSQL logical replication.

The portal's database publishes only the public tables (`PUBLIC_TABLES`, publication
`portal_public`: `flask --app portal publishing replication-setup`). The public host's database
subscribes (`flask --app public_site replica init --publisher DSN`), so it never holds anything
unpublished. On the subscriber a trigger (enabled ALWAYS, so the apply worker fires it) appends
every changed project to `pub_index_log`; the apply worker applies transactions one at a time in
the publisher's commit order, so that log's ids are in commit order too. Every public node keeps
its own index and its own position in the log (in the index's manifest) and applies what follows
it (`flask --app public_site replica follow`): several nodes can serve behind a load balancer,
each catching up on its own, none missing a change committed "late" with a lower id.
"""
from __future__ import annotations

import logging
import time

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from portal.publishing.replication import PUBLIC_TABLES, PUBLICATION, create_publication  # noqa: F401

log = logging.getLogger("portal.publishing.replica")
SUBSCRIPTION = "portal_public_sub"

index_log = sa.Table(
    "pub_index_log", sa.MetaData(),
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("project_ref", sa.Integer, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
)

TRIGGER = """
CREATE OR REPLACE FUNCTION pub_index_log_append() RETURNS trigger AS $$
BEGIN
    INSERT INTO public.pub_index_log (project_ref) VALUES (NEW.project_ref);  -- the apply worker runs with an empty search_path
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS pub_index_log_append ON pub_snapshots;
CREATE TRIGGER pub_index_log_append AFTER INSERT OR UPDATE ON pub_snapshots
    FOR EACH ROW EXECUTE FUNCTION pub_index_log_append();
ALTER TABLE pub_snapshots ENABLE ALWAYS TRIGGER pub_index_log_append;
"""


def init_subscriber(engine, publisher_dsn: str) -> None:
    """On the public host's (empty) database: the public tables, the index log and its trigger,
    then the subscription (which copies what is published already, then follows)."""
    import portal.publishing.models  # noqa: F401  (the public tables' definitions)
    from portal.extensions import db

    tables = [db.metadata.tables[name] for name in PUBLIC_TABLES]
    with engine.begin() as conn:
        db.metadata.create_all(conn, tables=tables)
        index_log.create(conn, checkfirst=True)
        conn.exec_driver_sql(TRIGGER)
    # CREATE SUBSCRIPTION cannot run inside a transaction block.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        exists = conn.execute(sa.text("SELECT 1 FROM pg_subscription WHERE subname = :n"), {"n": SUBSCRIPTION}).first()
        if not exists:
            dsn = publisher_dsn.replace("'", "''")
            conn.exec_driver_sql(f"CREATE SUBSCRIPTION {SUBSCRIPTION} CONNECTION '{dsn}' PUBLICATION {PUBLICATION}")


def drop_subscriber(engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if conn.execute(sa.text("SELECT 1 FROM pg_subscription WHERE subname = :n"), {"n": SUBSCRIPTION}).first():
            conn.exec_driver_sql(f"DROP SUBSCRIPTION {SUBSCRIPTION}")


def replication_ready() -> bool:
    """The subscription exists, is enabled and its apply worker runs."""
    from portal.extensions import db

    row = db.session.execute(sa.text(
        "SELECT s.subenabled, st.pid FROM pg_subscription s LEFT JOIN pg_stat_subscription st "
        "ON st.subid = s.oid AND st.relid IS NULL WHERE s.subname = :n"), {"n": SUBSCRIPTION}).first()
    db.session.commit()
    return row is not None and bool(row.subenabled) and row.pid is not None


def log_top() -> int:
    """The index log's last entry (0 when empty)."""
    from portal.extensions import db

    return db.session.scalar(sa.select(sa.func.max(index_log.c.id))) or 0


def pending() -> int:
    """Log entries this node's index has not applied yet."""
    from portal.extensions import db
    from portal.publishing import search
    from portal.publishing.search import health

    manifest = health.read_manifest(search.index_dir()) or {}
    count = db.session.scalar(sa.select(sa.func.count()).select_from(index_log)
                              .where(index_log.c.id > manifest.get("position", 0)))
    db.session.commit()
    return count or 0


def follow_once(batch: int = 500) -> int:
    """Apply the log entries after this node's position to its index. Returns entries applied."""
    from portal.extensions import db
    from portal.publishing import search
    from portal.publishing.search import health

    path = search.index_dir()
    if not (path.exists() and health.read_manifest(path) and health.files_intact(path)):
        search.reindex()  # records the log's last entry as this node's position
        return 0
    applied = 0
    with search.writer_lock():
        position = health.read_manifest(path).get("position", 0)
        ix = search.open_index()
        while True:
            rows = db.session.execute(sa.select(index_log.c.id, index_log.c.project_ref)
                                      .where(index_log.c.id > position).order_by(index_log.c.id).limit(batch)).all()
            docs = search.documents_for({ref for _id, ref in rows}) if rows else {}
            db.session.commit()
            if not rows:
                break
            writer = ix.writer()
            try:
                search._write_documents(writer, docs)
            except BaseException:
                writer.cancel()
                raise
            writer.commit()
            position = rows[-1][0]
            health.write_manifest(path, ix.doc_count(), position=position)
            applied += len(rows)
    return applied


def init_app(app) -> None:
    group = AppGroup("replica", help="This public host as a logical-replication subscriber.")

    @group.command("init")
    @click.option("--publisher", required=True, help="libpq DSN of the portal's database, e.g. 'host=db dbname=portal'.")
    def init_command(publisher):
        """Create the public tables, the index log and the subscription on this (empty) database."""
        from portal.extensions import db

        init_subscriber(db.engine, publisher)
        click.echo(f"subscribed to {PUBLICATION}; run `flask --app public_site replica follow` on each public node")

    @group.command("follow")
    @click.option("--once", is_flag=True, help="Apply what is there and stop.")
    @click.option("--interval", default=2.0, show_default=True, help="Seconds between polls.")
    def follow_command(once, interval):
        """Keep this node's search index up with the replicated publications."""
        while True:
            applied = follow_once()
            if applied:
                log.info("index follows the replica: %s changes applied", applied)
            if once:
                click.echo(f"applied {applied} changes")
                return
            time.sleep(interval)

    app.cli.add_command(group)


def readiness_check():
    """/readyz on a replica host: the subscription is there and streaming."""
    from portal.core.telemetry import Check

    return Check("replication", replication_ready(), "")
