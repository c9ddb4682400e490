"""The public disclosure site (绩效信息公开): no login, no portal routes; it reads published
snapshots only. `create_app(config=None)` builds it."""
from __future__ import annotations

import importlib

from flask import Flask

from portal.config import PROJECT_ROOT, load_config

# Blueprint modules of the public site, each with init_app(app).
MODULES = ("public_site.data", "public_site.views", "public_site.api", "portal.publishing.search.cli", "portal.publishing.replica")


def create_app(config: dict | None = None) -> Flask:
    settings = load_config(config)
    app = Flask(__name__, template_folder=str(PROJECT_ROOT / "templates"),
                static_folder=str(PROJECT_ROOT / "static"), instance_path=settings["INSTANCE_DIR"])
    app.config.update(settings)
    app.config["WTF_CSRF_ENABLED"] = False  # the public site has no forms that change anything
    from portal.core import app_wiring, converters, locale
    from portal.extensions import babel

    converters.init_app(app)
    from portal.core import telemetry

    telemetry.init_app(app, "public")
    from public_site.pages import LANG_COOKIE

    app.config["LANG_COOKIE"] = LANG_COOKIE
    babel.init_app(app, locale_selector=locale.select_locale,
                   default_translation_directories=locale.translation_directories())
    app_wiring.init_common(app, "public_site/error.html")
    for name in MODULES:
        importlib.import_module(name).init_app(app)
    from portal.publishing import replica
    from portal.publishing.search import health

    if app.config.get("PUBLIC_REPLICA"):
        telemetry.add_readiness_check(app, replica.readiness_check)
    telemetry.add_readiness_check(app, health.readiness_check)
    return app
