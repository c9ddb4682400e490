"""Request-level wiring of the two faces, put together from the pieces beside it: formatting,
templates compiled once per process, security headers, fingerprinted static files, error pages,
the locale in templates and the GC freeze for both; the login gate, the private cache rule, the
menu and breadcrumbs for the portal."""
from __future__ import annotations

from portal.core import formatting, static_assets
from portal.core.error_pages import register_error_pages
from portal.core.gc_freeze import freeze_after_first_request
from portal.core.locale import locale_context
from portal.core.login_gate import login_required_everywhere
from portal.core.navigation import breadcrumb_trail, navigation_context
from portal.core.security_headers import private_cache, security_headers
from portal.core.template_cache import share_compiled_templates


def init_common(app, error_template: str) -> None:
    formatting.register(app)
    share_compiled_templates(app)
    app.after_request(security_headers)
    static_assets.register(app)
    register_error_pages(app, error_template)
    app.context_processor(locale_context)
    if app.config.get("GC_FREEZE_AFTER_WARM_UP") and not app.testing:
        freeze_after_first_request(app)


def init_portal(app) -> None:
    init_common(app, "portal/error.html")
    app.before_request(login_required_everywhere)
    app.after_request(private_cache)
    app.context_processor(navigation_context)
    app.add_template_global(breadcrumb_trail)
