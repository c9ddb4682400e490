"""Performance data: projects, goals and indicator tables, goal review, monitoring, evaluations."""
from flask_babel import lazy_gettext as _l


def init_app(app):
    from portal.core.registry import register_module, register_nav
    from portal.performance import api, demo, execution_api, execution_views, jobs, panels, policies  # noqa: F401  (registers)
    from portal.performance.models import Evaluation, LibraryIndicator, PerformanceSetting, Project
    from portal.performance.views import bp

    register_module(app, bp, dashboard=(panels.attention_panel, 100), overview=(panels.grade_mix_section, 100),
                    seeder=(demo.seed, 100))

    register_nav(_l("项目与绩效"), "performance.projects", order=100, needs=(Project, "view"), group="performance")
    register_nav(_l("监控预警"), "performance.warnings", order=110, needs=(Project, "view_all"), group="performance")
    register_nav(_l("结果应用"), "performance.results", order=120, needs=(Evaluation, "manage"), group="performance")
    register_nav(_l("指标库"), "performance.library", order=130, needs=(LibraryIndicator, "view"), group="performance")
    register_nav(_l("绩效规则设置"), "performance.performance_settings", order=940,
                 needs=(PerformanceSetting, "edit"), group="admin")
