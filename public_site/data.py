"""The public site's database (snapshot tables only) and HTTP caching.

The public app binds `db` to PUBLIC_DATABASE_URL when set (a separate database that receives
snapshots through `flask --app portal publishing sync`), else to the portal's database.
Anonymous GET responses carry an ETag from the latest snapshot id and Last-Modified from the
latest publication time, answer If-None-Match / If-Modified-Since with 304, and are public."""
from __future__ import annotations

import hashlib

import sqlalchemy as sa
from flask import g, request

from portal.extensions import db

CACHE_SECONDS = 300


def init_app(app):
    if app.config.get("PUBLIC_DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = app.config["PUBLIC_DATABASE_URL"]
    db.init_app(app)
    import portal.publishing.models  # noqa: F401  (the snapshot tables)

    app.before_request(_conditional)
    app.after_request(_cache_headers)


def publication_state():
    """(latest snapshot id, latest publication time): one indexed query per request."""
    if "_pub_state" not in g:
        from portal.publishing.models import Snapshot

        g._pub_state = db.session.execute(
            sa.select(sa.func.max(Snapshot.id), sa.func.max(Snapshot.published_at))).one()
    return g._pub_state


def _etag() -> str:
    last_id, _at = publication_state()
    from portal.core.web import select_locale

    key = f"{last_id or 0}|{request.full_path}|{select_locale()}"
    return "W/\"" + hashlib.sha1(key.encode()).hexdigest()[:20] + "\""


def _cacheable() -> bool:
    return request.method in ("GET", "HEAD") and request.endpoint not in (None, "static")


def _conditional():
    if not _cacheable():
        return None
    etag = _etag()
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        from flask import Response

        response = Response(status=304)
        response.headers["ETag"] = etag
        response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
        return response
    return None


def _cache_headers(response):
    if not _cacheable() or response.status_code != 200:
        return response
    _id, at = publication_state()
    response.headers["ETag"] = _etag()
    if at is not None:
        response.last_modified = at
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    response.vary.add("Cookie")
    if response.last_modified and request.if_modified_since and not request.headers.get("If-None-Match"):
        if response.last_modified.replace(microsecond=0, tzinfo=None) <= request.if_modified_since.replace(tzinfo=None):
            response.status_code = 304
            response.set_data(b"")
    return response
