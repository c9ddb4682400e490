"""Everything in the portal needs a login, except signing in, the language switch, health checks
and the token-authenticated API."""
from __future__ import annotations

from flask import request
from flask_login import current_user

from portal.extensions import login_manager

OPEN_ENDPOINTS = ("auth.login", "static", "core.set_language")
OPEN_PREFIXES = ("api.", "health.")


def login_required_everywhere():
    endpoint = request.endpoint or ""
    if endpoint in OPEN_ENDPOINTS or endpoint.startswith(OPEN_PREFIXES):
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None
