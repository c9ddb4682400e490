"""Problem ledger and rectification (问题台账, 整改)."""


def init_app(app):
    from flask_babel import lazy_gettext as _l

    from portal.core.registry import register_module, register_nav, register_public_provider
    from portal.ledger import api, demo, jobs, panels, policies, reminders  # noqa: F401  (registers policies, API, jobs)
    from portal.ledger.models import Problem
    from portal.ledger.queries import RATE_DEFINITIONS
    from portal.ledger.views import bp

    register_module(app, bp, dashboard=(panels.dashboard_panel, 400), overview=(panels.overview_section, 400),
                    reminders={"ledger": reminders.check}, seeder=(demo.seed, 500))
    register_nav(_l("问题台账"), "ledger.index", order=400, needs=(Problem, "view"), group="collaboration")
    register_nav(_l("整改统计"), "ledger.stats", order=410, needs=(Problem, "stats"), group="collaboration")
    register_public_provider("problems", panels.public_problems)

    app.add_template_global(RATE_DEFINITIONS, "rate_definitions")  # beside every rate shown
