"""The public disclosure site (绩效信息公开): no login, no portal routes; it reads published
snapshots only. `create_app(config=None)` builds it."""
from __future__ import annotations

import importlib

from flask import Flask

from portal.config import PROJECT_ROOT, load_config

# Blueprint modules of the public site, each with init_app(app).
MODULES = ("public_site.data", "public_site.views", "public_site.api", "public_site.search.cli")


def create_app(config: dict | None = None) -> Flask:
    settings = load_config(config)
    app = Flask(__name__, template_folder=str(PROJECT_ROOT / "templates"),
                static_folder=str(PROJECT_ROOT / "static"), instance_path=settings["INSTANCE_DIR"])
    app.config.update(settings)
    app.config["WTF_CSRF_ENABLED"] = False  # the public site has no forms that change anything
    from portal.core import web
    from portal.extensions import babel

    babel.init_app(app, locale_selector=web.select_locale,
                   default_translation_directories=web.translation_directories())
    web.init_common(app, "public_site/error.html")
    for name in MODULES:
        importlib.import_module(name).init_app(app)
    return app
