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
    from portal.ledger import api, panels, policies, reminders, seed  # noqa: F401  (registers policies, API)
    from portal.ledger.views import bp

    app.register_blueprint(bp)
    register_nav(_l("问题台账"), "ledger.index", order=400, org_kinds={"finance_bureau", "audit_bureau", "congress",
                                                                        "budget_unit"})
    register_nav(_l("整改统计"), "ledger.stats", order=410, org_kinds={"finance_bureau", "audit_bureau", "congress"})
    register_dashboard(panels.dashboard_panel, order=400)
    register_overview_section(panels.overview_section, order=400)
    register_reminder_check("ledger", reminders.check)
    register_public_provider("problems", panels.public_problems)
    register_seeder("ledger", seed.seed_ledger, order=500)
