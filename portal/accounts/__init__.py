"""Organisations, users, roles, login."""


def init_app(app):
    from flask_babel import lazy_gettext as _l

    from portal.accounts import policies  # noqa: F401  (registers permission policies)
    from portal.accounts.views import admin_bp, auth_bp
    from portal.core.registry import register_nav

    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp)
    register_nav(_l("系统管理"), "admin.users", order=900, roles={"admin"})
