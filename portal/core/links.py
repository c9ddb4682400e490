"""One way to build a portal link, inside a request or outside one (the CLI, the worker, the
reminders, the demo seeder): url_for at the portal's public address (PORTAL_BASE_URL), so a link
always carries the portal's prefix and `notifications.absolute()` can make it an email address."""
from __future__ import annotations

import contextlib

from flask import current_app, has_request_context, url_for


def link_context():
    """Outside a request (CLI, cron, seeding) operations still build links with url_for:
    give them a request context at the portal's public address (PORTAL_BASE_URL)."""
    if has_request_context():
        return contextlib.nullcontext()
    # POST: this context writes (SQLite begins IMMEDIATE; the GET-never-writes guard lets it).
    return current_app.test_request_context("/", base_url=current_app.config["PORTAL_BASE_URL"], method="POST")


def page_link(endpoint: str, **values) -> str:
    """The path of a portal page (with the portal's prefix), in or out of a request."""
    with link_context():
        return url_for(endpoint, **values)
