"""Joint conference (联席会议): meetings and minutes, resolutions tracked as actions, the shared
library (共享资料), the shared plans (计划共商) and the joint overview."""


def init_app(app):
    from flask_babel import lazy_gettext as _l

    from portal.conference import api, policies, seed  # noqa: F401  (register policies, API, seeder)
    from portal.conference.queries import reminders
    from portal.conference.views import bp, dashboard_panel, overview_section
    from portal.core.registry import (
        register_dashboard,
        register_nav,
        register_overview_section,
        register_reminder_check,
    )

    app.register_blueprint(bp)
    readers = {"conference_member", "observer", "admin", "finance_officer", "audit_liaison", "signer"}
    register_nav(_l("联席会议"), "conference.meetings", order=600, roles=readers,
                 org_kinds={"finance_bureau", "audit_bureau", "congress"})
    register_nav(_l("议定事项"), "conference.actions", order=610,
                 roles=readers | {"unit_liaison", "agency_staff"})
    register_nav(_l("共享资料"), "conference.library", order=620, roles=readers,
                 org_kinds={"finance_bureau", "audit_bureau", "congress"})
    register_nav(_l("计划共商"), "conference.plans", order=630, roles=readers,
                 org_kinds={"finance_bureau", "audit_bureau", "congress"})
    register_nav(_l("联合监督总览"), "conference.overview", order=640, roles=readers,
                 org_kinds={"finance_bureau", "audit_bureau", "congress"})
    register_dashboard(dashboard_panel, order=300)
    register_overview_section(overview_section, order=100)
    register_reminder_check("conference_actions", reminders)
