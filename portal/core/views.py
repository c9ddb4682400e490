"""The portal shell's own pages, one file each, on the `core` blueprint (portal/core/blueprint.py):
dashboard, notifications, file downloads, audit log, Markdown preview, language switch, API tokens."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.core import (  # noqa: F401  (importing a file registers its routes on bp)
    audit_views,
    dashboard_views,
    download_views,
    language_views,
    markdown_views,
    notification_views,
    token_views,
)
from portal.core.audit import AuditEntry
from portal.core.blueprint import bp
from portal.core.events import describe
from portal.core.registry import register_nav, register_nav_group


def init_app(app):
    app.register_blueprint(bp)
    # api_bp is registered by create_app, after every module's init_app has added its routes.
    app.add_template_global(describe, "describe_event")
    # the main menu's groups (a module names one in its register_nav(group=…))
    register_nav_group("performance", _l("绩效管理"), order=100)
    register_nav_group("collaboration", _l("协同监督"), order=200)
    register_nav_group("conference", _l("联合监督"), order=600)
    register_nav_group("oversight", _l("考核报送"), order=650)
    register_nav_group("publishing", _l("信息公开"), order=800)
    register_nav_group("admin", _l("系统管理"), order=900)
    register_nav(_l("工作台"), "core.dashboard", order=0)
    register_nav(_l("操作日志"), "core.audit_log", order=950, needs=(AuditEntry, "view"), group="admin")
