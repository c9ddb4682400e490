"""Co-review of third-party evaluation reports (同审) and the agencies behind them."""
from flask_babel import lazy_gettext as _l


def init_app(app):
    from portal.core.registry import (
        register_dashboard,
        register_nav,
        register_overview_section,
        register_reminder_check,
        register_seeder,
    )
    from portal.reviews import api, demo, panels, policies, reminders  # noqa: F401  (registers policies and API routes)
    from portal.reviews.views import bp

    app.config.setdefault("REVIEW_MAX_ROUNDS", 3)
    app.register_blueprint(bp)
    from portal.reviews.models import Report

    register_nav(_l("报告同审"), "reviews.index", order=400, needs=(Report, "view"), group="collaboration")
    register_dashboard(panels.dashboard_panel, order=400)
    register_overview_section(panels.overview_section, order=400)
    register_reminder_check("reviews", reminders.check)
    register_seeder("reviews", demo.seed, order=400)
