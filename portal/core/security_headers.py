"""The headers every answer carries: the content security policy (no inline script or style),
framing, sniffing, referrer and permissions policies, HSTS over HTTPS; and the portal's
`private, no-store` cache rule."""
from __future__ import annotations

from flask import current_app, request

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")


def security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config.get("SESSION_COOKIE_SECURE"):  # served over HTTPS only: tell browsers so
        response.headers.setdefault("Strict-Transport-Security",
                                    f"max-age={current_app.config.get('HSTS_MAX_AGE', 31_536_000)}; includeSubDomains")
    response.vary.add("HX-Request")
    return response


def private_cache(response):
    """Nothing of the portal is kept by a browser or proxy cache: downloads included
    (send_file's own `no-cache` still lets a proxy store the file)."""
    if request.endpoint != "static" and "no-store" not in response.headers.get("Cache-Control", ""):
        response.headers["Cache-Control"] = "private, no-store"
    return response
