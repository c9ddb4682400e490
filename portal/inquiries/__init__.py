"""Letter inquiries (函询) between the finance and audit bureaus."""


def init_app(app):
    import click
    from flask_babel import lazy_gettext as _l

    from portal.core.registry import register_module, register_nav
    from portal.inquiries import api, panels, policies, reminders, workdays  # noqa: F401  (registers policies, API)
    from portal.inquiries.demo import seed
    from portal.inquiries.models import Letter
    from portal.inquiries.views import bp

    register_module(app, bp, dashboard=(panels.dashboard_panel, 200), overview=(panels.overview_section, 200),
                    reminders={"inquiries": reminders.check, "holidays": reminders.holiday_schedule},
                    seeder=(seed, 300))
    register_nav(_l("函询"), "inquiries.index", order=200, needs=(Letter, "view"), group="collaboration")
    app.add_template_global(workdays.deadline_notice, "deadline_notice")

    @app.cli.group("inquiries")
    def group():
        """函询：节假日表等。"""

    @group.command("load-holidays")
    @click.option("--year", type=int, multiple=True, help="Only these years (default: every year chinese-calendar knows).")
    def load_holidays(year):
        """Load the official holiday schedules from chinese-calendar into the holiday table
        (rows already there, e.g. an administrator's edits, are kept)."""
        from portal.extensions import db
        from portal.inquiries import workdays


        added = workdays.load_holidays(list(year) or None)
        db.session.commit()
        known = workdays.official_years()
        click.echo(f"added {added} holiday rows (chinese-calendar knows {known[0]}–{known[-1]})")
