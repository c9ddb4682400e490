"""Rate limits of both APIs (Flask-Limiter): per API token, or per client address for a request
without one (the public API, a client that lost its token). A client over its limit gets the
API's JSON error with status 429 and `Retry-After` (seconds), never an HTML page.

    API_RATE_LIMIT          "120 per minute"   the portal API, per token
    PUBLIC_API_RATE_LIMIT   "60 per minute"    the public API, per client address
    RATELIMIT_STORAGE_URI   "memory://"        counts per process; redis://127.0.0.1:6379/1 in
                                               production, so every gunicorn worker shares them
    RATELIMIT_ENABLED       1                  0 turns the limits off (the test suite's default)

Limits use Flask-Limiter's notation ("120 per minute", "10/second;1000/hour"). Pages of the
portal and of the public site are not limited here (sign-in has its own throttle,
docs/security.md)."""
from __future__ import annotations

import hashlib

from flask import current_app, request
from flask_limiter import Limiter

BEARER = "Bearer "


def client_key() -> str:
    """The bucket a request counts in: its token (hashed, never stored as sent), else its address."""
    header = request.headers.get("Authorization", "")
    if header.startswith(BEARER) and header[len(BEARER):].strip():
        return "token:" + hashlib.sha256(header[len(BEARER):].strip().encode()).hexdigest()[:32]
    return "address:" + (request.remote_addr or "unknown")


def init_app(app, blueprint, setting: str) -> Limiter:
    """Limit every endpoint of `blueprint` by the limit in config[`setting`]. One Limiter per
    application (tests build several applications in one process)."""
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)  # Retry-After and X-RateLimit-* headers
    limiter = Limiter(key_func=client_key, app=app, default_limits=[], storage_uri=app.config.get(
        "RATELIMIT_STORAGE_URI", "memory://"), strategy="moving-window")
    # shared: one count per client over every endpoint of the API, not one per endpoint
    limiter.shared_limit(lambda: current_app.config[setting], scope=setting, key_func=client_key)(blueprint)
    # Counted before any other hook can answer (the public site serves rendered answers from
    # memory in its own before_request): a cached answer is still a request.
    hooks = app.before_request_funcs.setdefault(None, [])
    check = next((f for f in hooks if getattr(f, "__self__", None) is limiter), None)
    if check is not None:  # none when RATELIMIT_ENABLED is off
        hooks.remove(check)
        hooks.insert(0, check)
    return limiter

