"""Problem ledger and rectification (问题台账, 整改)."""


def init_app(app):
    from flask_babel import lazy_gettext as _l

    from portal.core.registry import (
        register_dashboard,
        register_nav,
        register_overview_section,
        register_public_provider,
        register_reminder_check,
        register_seeder,
    )
    from portal.ledger import api, demo, jobs, panels, policies, reminders  # noqa: F401  (registers policies, API, jobs)
    from portal.ledger.views import bp

    app.register_blueprint(bp)
    from portal.ledger.models import Problem

    register_nav(_l("问题台账"), "ledger.index", order=400, needs=(Problem, "view"), group="collaboration")
    register_nav(_l("整改统计"), "ledger.stats", order=410, needs=(Problem, "stats"), group="collaboration")
    register_dashboard(panels.dashboard_panel, order=400)
    register_overview_section(panels.overview_section, order=400)
    register_reminder_check("ledger", reminders.check)
    register_public_provider("problems", panels.public_problems)
    register_seeder("ledger", demo.seed, order=500)
    from portal.ledger.queries import RATE_DEFINITIONS

    app.add_template_global(RATE_DEFINITIONS, "rate_definitions")  # beside every rate shown
