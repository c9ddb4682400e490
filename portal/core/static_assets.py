"""Static files (styles, scripts, htmx) under fingerprinted URLs, kept by the browser.

`url_for("static", filename=…)` adds `v=`, the first 12 hex digits of the file's SHA-256
(computed once per file version: path, size and modification time). An answer to a URL whose `v`
is the file's current fingerprint may be kept by any cache for a year (`immutable`): a browser
loads each file once instead of asking again on every page, and a changed file gets a new URL,
so nobody is served yesterday's script with today's page. A URL without `v`, or with an old one,
is answered as Flask does (`no-cache`: asked again each time)."""
from __future__ import annotations

import hashlib
import os

from flask import current_app, request
from werkzeug.security import safe_join

YEAR = 365 * 24 * 3600
_fingerprints: dict[tuple[str, int, int], str] = {}


def fingerprint(filename: str) -> str | None:
    """The current fingerprint of `static/<filename>`; None for a file that is not there."""
    path = safe_join(current_app.static_folder or "", filename)
    try:
        stat = os.stat(path) if path else None
    except OSError:
        return None
    if stat is None or not os.path.isfile(path):
        return None
    key = (path, stat.st_size, stat.st_mtime_ns)
    if key not in _fingerprints:
        with open(path, "rb") as file:
            _fingerprints[key] = hashlib.file_digest(file, "sha256").hexdigest()[:12]
    return _fingerprints[key]


def add_fingerprint(endpoint: str | None, values: dict) -> None:
    if endpoint == "static" and "v" not in values and values.get("filename"):
        version = fingerprint(values["filename"])
        if version:
            values["v"] = version


def keep_fingerprinted(response):
    if (request.endpoint == "static" and response.status_code in (200, 304)
            and request.args.get("v") and request.args["v"] == fingerprint(request.view_args.get("filename", ""))):
        response.cache_control.no_cache = None
        response.cache_control.public = True
        response.cache_control.max_age = YEAR
        response.cache_control.immutable = True
    return response


def register(app) -> None:
    app.url_defaults(add_fingerprint)
    app.after_request(keep_fingerprinted)
