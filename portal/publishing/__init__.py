"""Publication (信息公开): finance officers choose, preview and publish snapshots for the public site."""
from flask_babel import lazy_gettext as _l


def init_app(app):
    from portal.accounts.models import Role
    from portal.core.registry import register_nav, register_seeder
    from portal.publishing import (
        cli,
        demo,
        policies,  # noqa: F401  (registers permission policies)
        views,
    )

    app.register_blueprint(views.bp)
    register_nav(_l("信息公开"), "publishing.index", order=800, roles={Role.FINANCE_OFFICER, Role.ADMIN},
                 org_kinds={"finance_bureau"})
    register_seeder("publishing", demo.seed, order=900)
    cli.init_app(app)
