"""Performance data: projects, goals and indicator tables, goal review, monitoring, evaluations."""
from flask_babel import lazy_gettext as _l


def init_app(app):
    from portal.core.registry import (
        register_dashboard,
        register_nav,
        register_overview_section,
        register_seeder,
    )
    from portal.performance import api, panels, policies  # noqa: F401  (registers policies and API routes)
    from portal.performance.demo import seed_performance
    from portal.performance.views import bp

    app.register_blueprint(bp)
    register_nav(_l("项目与绩效"), "performance.projects", order=100,
                 org_kinds={"finance_bureau", "audit_bureau", "budget_unit", "congress", "agency"})
    register_nav(_l("监控预警"), "performance.warnings", order=110, org_kinds={"finance_bureau", "audit_bureau"})
    register_nav(_l("结果应用"), "performance.results", order=120, org_kinds={"finance_bureau"})
    register_nav(_l("指标库"), "performance.library", order=130,
                 org_kinds={"finance_bureau", "budget_unit", "audit_bureau"})
    register_nav(_l("绩效规则设置"), "performance.performance_settings", order=940, roles={"admin"})
    register_dashboard(panels.attention_panel, order=100)
    register_overview_section(panels.grade_mix_section, order=100)
    register_seeder("performance", seed_performance, order=100)
