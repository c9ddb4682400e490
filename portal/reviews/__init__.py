"""Co-review of third-party evaluation reports (同审) and the agencies behind them."""
from flask_babel import lazy_gettext as _l


def init_app(app):
    from portal.core.registry import register_module, register_nav
    from portal.reviews import api, demo, panels, policies, reminders  # noqa: F401  (registers policies and API routes)
    from portal.reviews.models import Report
    from portal.reviews.views import bp

    app.config.setdefault("REVIEW_MAX_ROUNDS", 3)
    register_module(app, bp, dashboard=(panels.dashboard_panel, 400), overview=(panels.overview_section, 400),
                    reminders={"reviews": reminders.check}, seeder=(demo.seed, 400))
    register_nav(_l("报告同审"), "reviews.index", order=400, needs=(Report, "view"), group="collaboration")
