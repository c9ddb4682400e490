"""The portal (内部门户): `create_app(config=None)` builds it; there is no module-level app."""
from __future__ import annotations

import importlib

from flask import Flask

from portal.config import PROJECT_ROOT, load_config

# Workflow modules, each with init_app(app). Order decides nothing but import order.
MODULES = (
    "portal.accounts",
    "portal.core.views",
    "portal.core.job_views",
    "portal.performance",
    "portal.assessments",
    "portal.reviews",
    "portal.inquiries",
    "portal.ledger",
    "portal.conference",
    "portal.publishing",
    "portal.oversight",
    "portal.search",
)


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(load_config(config)["INSTANCE_DIR"]),
    )
    app.config.update(load_config(config))
    from portal.core import app_wiring, converters, locale

    converters.init_app(app)
    from portal.core import telemetry

    telemetry.init_app(app, "portal")
    from portal.extensions import babel, csrf, db, htmx, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    htmx.init_app(app)
    babel.init_app(app, locale_selector=locale.select_locale,
                   default_translation_directories=locale.translation_directories())
    login_manager.init_app(app)
    from portal.core import jobs, mail, writes  # noqa: F401  (mail registers the outbox's email handler)

    writes.init_app(app)
    jobs.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录。"
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "strong"

    for name in MODULES:
        importlib.import_module(name).init_app(app)
    # The API blueprint is registered after every module has added its endpoints (api_route).
    from portal.core.api import api_bp

    app.register_blueprint(api_bp)
    app_wiring.init_portal(app)

    from portal import cli

    cli.register(app)
    return app
