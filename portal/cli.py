"""Command line: `flask --app portal <command>`."""
from __future__ import annotations

import sys

import click
import sqlalchemy as sa

from portal.extensions import db


def build_search_indexes() -> None:
    """Both search indexes, complete before `seed-demo` says it is done: the public one (whose
    rebuild the seeding's publications started in the background) and the portal's own (built
    otherwise at its first use), so `make run`'s first searches never answer "being rebuilt"."""
    from portal.publishing.search import health
    from portal.search import index as portal_index

    db.session.commit()  # end this command's transaction: on SQLite it holds the lock the rebuild waits for
    health.wait_for_rebuilds()
    if not health.check().usable:
        health.rebuild_now()
    if portal_index.health() != "ok":
        portal_index.rebuild()


def register(app):
    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Only when the database has no organisations yet.")
    def seed_demo(if_empty):
        """Load the demo city (fictional, labelled as demo data)."""
        from portal.accounts.models import Organisation
        from portal.demo import DEMO_PASSWORD, print_accounts, seed

        if if_empty and db.session.execute(sa.select(Organisation.id).limit(1)).first():
            click.echo("数据库已有数据，跳过演示数据。 Demo data already present.")
        else:
            seed()
            build_search_indexes()
            click.echo("已载入演示数据，搜索索引已建立。 Demo data loaded, search indexes built.")
        print_accounts(click.echo, DEMO_PASSWORD)

    @app.cli.command("create-user")
    @click.argument("username")
    @click.option("--name", required=True, help="Display name (姓名)")
    @click.option("--org", "org_name", required=True, help="Organisation name (机构全称)")
    @click.option("--role", "roles", multiple=True, required=True)
    @click.password_option()
    def create_user(username, name, org_name, roles, password):
        """Create a user (e.g. the first administrator)."""
        from portal.accounts.models import Organisation
        from portal.accounts.operations import create_user as create
        from portal.core.errors import DomainError

        org = db.session.execute(sa.select(Organisation).where(Organisation.name == org_name)).scalar_one_or_none()
        if org is None:
            raise click.ClickException(f"no organisation named {org_name}")
        try:
            create(actor=None, username=username, display_name=name, organisation=org, roles=roles,
                   password=password)
        except (DomainError, ValueError) as error:
            raise click.ClickException(str(error)) from error
        db.session.commit()
        click.echo(f"created {username}")

    audit = click.Group("audit", help="The audit log.")
    app.cli.add_command(audit)

    @audit.command("verify")
    def audit_verify():
        """Check hashes, links, seals and the newest checkpoint; report every break found."""
        from portal.core.audit import verify

        report = verify()
        if report.ok:
            legacy = f" ({report.legacy} written before sealing)" if report.legacy else ""
            click.echo(f"OK: {report.checked} entries{legacy}, chain intact and sealed.")
            return
        for problem in report.problems:
            click.echo(f"TAMPERED: {problem}")
        sys.exit(1)

    @audit.command("purge")
    @click.option("--older-than-days", "days", type=int, required=True,
                  help="Delete entries older than this many days (at least 180).")
    def audit_purge(days):
        """Delete audit entries older than N days (N >= 180), oldest first; audited, and noted in
        the checkpoint file so that `flask audit verify` starts from the first kept entry."""
        from portal.core.audit import purge

        try:
            done = purge(days)
        except ValueError as error:
            raise click.ClickException(str(error)) from error
        click.echo(f"purged {done.deleted} entries older than {days} days; the chain starts at #{done.first_kept_id}")

    @audit.command("checkpoint")
    def audit_checkpoint():
        """Write the chain's count and head to the checkpoint file (the worker does it each minute)."""
        from portal.core.audit import write_checkpoint

        point = write_checkpoint()
        click.echo(f"checkpoint: {point['count']} entries, head #{point['last_id']}")

    @app.cli.command("worker")
    @click.option("--workers", default=2, show_default=True, help="Threads running jobs.")
    def worker(workers):
        """Run the job worker: outbox (email and other after-commit effects), checkpoints, reminders."""
        from portal.core.jobs import run_worker

        run_worker(workers)

    outbox_group = click.Group("outbox", help="After-commit effects (email and the like).")
    app.cli.add_command(outbox_group)

    @outbox_group.command("drain")
    def outbox_drain():
        """Deliver what is due now, once (the worker does this continuously)."""
        from portal.core.outbox import drain

        click.echo(f"outbox: {drain()}")

    reminders = click.Group("reminders", help="Deadline reminders (safe to run from cron).")
    app.cli.add_command(reminders)

    @reminders.command("run")
    def reminders_run():
        from portal.core.notifications import run_reminders

        sent = run_reminders()
        for name, count in sent.items():
            click.echo(f"{name}: {count}")
        click.echo(f"total: {sum(sent.values())}")

    from portal.publishing import replication

    replication.register(app)

    @app.cli.command("check-migrations")
    def check_migrations():
        """Fail when the models and the migrations disagree (on a scratch SQLite database)."""
        from portal.models import diff_against_fresh_database

        diffs = diff_against_fresh_database(app)
        if diffs:
            click.echo("Models and migrations disagree:")
            for diff in diffs:
                click.echo(f"  {diff}")
            sys.exit(1)
        click.echo("Models and migrations agree.")

    from portal.core import backup

    backup.register(app)
