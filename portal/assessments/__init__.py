"""Ex-ante performance assessment (事前绩效评估): applications, assessment rounds, conclusions,
the 先评估后入库 check and the year's figures."""
from flask_babel import lazy_gettext as _l


def init_app(app):
    from portal.assessments import api, demo, gate, policies, queries  # noqa: F401  (registers policies and API routes)
    from portal.assessments.models import Assessment
    from portal.assessments.panels import overview_section
    from portal.assessments.views import bp
    from portal.core.registry import register_gate, register_module, register_nav, register_year_figures
    from portal.performance.models import PerformanceSetting

    register_module(app, bp, overview=(overview_section, 90), seeder=(demo.seed, 150))
    register_nav(_l("事前评估"), "assessments.index", order=90, needs=(Assessment, "view"), group="performance")
    register_nav(_l("事前评估规则"), "assessments.settings", order=945, needs=(PerformanceSetting, "edit"), group="admin")
    register_gate("goal.proceed", gate.refusal)  # 先评估后入库, asked by the performance operations
    register_year_figures("ex_ante", _l("事前绩效评估情况"), queries.publication)  # 公开 through portal/publishing
