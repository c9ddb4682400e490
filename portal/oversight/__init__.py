"""Joint oversight (联合监督): joint evaluation teams (联合评价组), the assessment of the
departments' performance-management work (绩效管理工作考核) and the packages for the People's
Congress (报送人大). docs/joint-work.md."""


def init_app(app):
    from flask_babel import lazy_gettext as _l

    from portal.core.registry import register_module, register_nav
    from portal.oversight import api, demo, packages, panels, policies  # noqa: F401  (policies, API, job runner)
    from portal.oversight.models import CongressPackage, JointTeam, WorkAssessment
    from portal.oversight.views import bp

    app.config.setdefault("ASSESSMENT_CIRCULAR_PREFIX", "临财绩通")  # 通报文号: 临财绩通〔2026〕1号
    app.config.setdefault("ASSESSMENT_ISSUER", "临州市财政局")
    register_module(app, bp, dashboard=(panels.dashboard_panel, 350), overview=(panels.overview_section, 150),
                    seeder=(demo.seed, 950))
    register_nav(_l("联合评价组"), "oversight.teams", order=650, needs=(JointTeam, "view"), group="oversight")
    register_nav(_l("工作考核"), "oversight.assessments", order=660, needs=(WorkAssessment, "view"), group="oversight")
    register_nav(_l("报送人大"), "oversight.package_list", order=670, needs=(CongressPackage, "view"), group="oversight")
