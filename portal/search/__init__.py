"""Search across the portal (letters, problems, projects and goals, meetings, actions, library
documents, co-reviews, ex-ante assessments, joint evaluation teams, work-assessment scorecards,
packages for the People's Congress): one box in the header, results the user may see, grouped by kind.

    index.py     the Whoosh adapter (schema, update, rebuild, health, candidates)
    kinds.py     what is indexed per record type, and whose scope decides who sees it
    service.py   a query → visible hits, grouped
    tracking.py  after-commit updates through the outbox; self-healing rebuild job
    views.py     /search
    `flask --app portal search-portal rebuild`"""
from __future__ import annotations

import click


def init_app(app) -> None:
    from portal.search import tracking
    from portal.search.views import bp

    app.register_blueprint(bp)
    tracking.init_app(app)

    @app.cli.group("search-portal", help="The portal's own search index (letters, problems, projects …).")
    def group():
        pass

    @group.command("rebuild")
    def rebuild_command():
        """Rebuild the portal index from the database (a new folder swapped in at the end)."""
        from portal.search import index

        count = index.rebuild()
        click.echo(f"indexed {count} records into {index.index_dir()}")

    @group.command("status")
    def status_command():
        """ok | missing | corrupt | foreign"""
        from portal.search import index

        click.echo(index.health())
