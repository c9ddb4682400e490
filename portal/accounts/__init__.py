"""Organisations, users, roles, login."""


def init_app(app):
    from flask_babel import lazy_gettext as _l

    from portal.accounts import policies, sessions  # noqa: F401  (policies registers permission policies)
    from portal.accounts.security_views import security_bp
    from portal.accounts.views import admin_bp, auth_bp, enforce_account_rules
    from portal.core.registry import register_nav

    app.session_interface = sessions.PortalSessionInterface()
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(security_bp)
    app.before_request(enforce_account_rules)
    app.after_request(sessions.after_request)
    from portal.accounts.models import User

    register_nav(_l("用户管理"), "admin.users", order=900, needs=(User, "edit"), group="admin")

    import click

    totp = click.Group("totp", help="Two-factor secrets (encrypted at rest).")
    app.cli.add_command(totp)

    @totp.command("rekey")
    def totp_rekey():
        """Re-encrypt every TOTP secret under the first key of TOTP_KEY (after adding a new key)."""
        from portal.accounts.encryption import rekey_all

        click.echo(f"re-encrypted {rekey_all()} TOTP secrets")
