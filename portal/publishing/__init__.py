"""Publication (信息公开): finance officers choose, preview and publish snapshots for the public site."""
from flask_babel import lazy_gettext as _l


def init_app(app):
    from portal.core import backup, telemetry
    from portal.core.registry import register_nav, register_seeder
    from portal.publishing import (
        cli,
        demo,
        policies,  # noqa: F401  (registers permission policies)
        views,
    )
    from portal.publishing.models import Snapshot
    from portal.publishing.search import health

    app.register_blueprint(views.bp)
    register_nav(_l("信息公开"), "publishing.index", order=800, needs=(Snapshot, "view"), group="publishing")
    register_seeder("publishing", demo.seed, order=900)
    cli.init_app(app)
    from portal.publishing import tables

    tables.register(app)  # the preview shows the public project page's tables
    telemetry.add_readiness_check(app, health.readiness_check)
    backup.add_verify_check(app, health.verify_against_snapshots)
