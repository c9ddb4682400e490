"""Joint conference (联席会议): meetings and minutes, resolutions tracked as actions, the shared
library (共享资料), the shared plans (计划共商) and the joint overview."""


def init_app(app):
    from flask_babel import lazy_gettext as _l

    from portal.conference import api, demo, panels, policies, reminders  # noqa: F401  (registers policies, API)
    from portal.conference.models import Action, Meeting, PlanItem, SharedDocument
    from portal.conference.views import bp
    from portal.core.registry import register_module, register_nav

    register_module(app, bp, dashboard=(panels.dashboard_panel, 300), overview=(panels.overview_section, 100),
                    reminders={"conference_actions": reminders.check}, seeder=(demo.seed, 600))
    register_nav(_l("联席会议"), "conference.meetings", order=600, needs=(Meeting, "view"), group="conference")
    register_nav(_l("议定事项"), "conference.actions", order=610, needs=(Action, "view"), group="conference")
    register_nav(_l("共享资料"), "conference.library", order=620, needs=(SharedDocument, "view"), group="conference")
    register_nav(_l("计划共商"), "conference.plans", order=630, needs=(PlanItem, "view"), group="conference")
    register_nav(_l("联合监督总览"), "conference.overview", order=640, needs=(Meeting, "view"), group="conference")
