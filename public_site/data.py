"""The public site's database (snapshot tables only) and HTTP caching.

The public app binds `db` to PUBLIC_DATABASE_URL when set (a separate database that receives
snapshots through `flask --app portal publishing sync`), else to the portal's database.
Anonymous GET responses carry an ETag from the latest snapshot id and Last-Modified from the
latest publication time, answer If-None-Match / If-Modified-Since with 304, and are public."""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Response, g, request

from portal.core.clock import CHINA
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
    """((latest snapshot id, latest year-figures id), latest publication time of either): one
    indexed query per request."""
    if "_pub_state" not in g:
        from portal.publishing.models import PublishedFigures, Snapshot

        # scalar subqueries: SQLite answers a lone max() from an index, two in one SELECT by a scan
        snap_id, snap_at, fig_id, fig_at = db.session.execute(sa.select(
            sa.select(sa.func.max(Snapshot.id)).scalar_subquery(),
            sa.select(sa.func.max(Snapshot.published_at)).scalar_subquery(),
            sa.select(sa.func.max(PublishedFigures.id)).scalar_subquery(),
            sa.select(sa.func.max(PublishedFigures.published_at)).scalar_subquery())).one()
        at = max((t for t in (snap_at, fig_at) if t is not None), default=None)
        g._pub_state = ((snap_id, fig_id) if fig_id is not None else snap_id, at)
    return g._pub_state


def http_time(at: datetime) -> datetime:
    """A publication time (China local time, stored naive) as the UTC instant HTTP dates name."""
    return at.replace(tzinfo=CHINA).astimezone(UTC).replace(microsecond=0)


def _etag() -> str:
    last_id, at = publication_state()
    from flask import current_app

    from portal.core.locale import select_locale

    key = f"{last_id or 0}|{at}|{request.full_path}|{select_locale()}|{current_app.config['SQLALCHEMY_DATABASE_URI']}"
    return "W/\"" + hashlib.sha1(key.encode()).hexdigest()[:20] + "\""


def _cacheable() -> bool:
    return request.method in ("GET", "HEAD") and request.endpoint not in (None, "static")


# Rendered pages, keyed by the ETag (so any new publication invalidates them): a page is rendered
# once per publication state, language and URL, then served from memory (per worker process).
RENDERED: OrderedDict = OrderedDict()
RENDERED_MAX = 2000
RENDERED_MAX_BYTES = 512 * 1024
_rendered_lock = threading.Lock()
# Search pages depend on the index too, which is applied just after a publication commits.
SEARCH_ENDPOINTS = frozenset({"public.search", "public.feed_search", "api_public.search"})


def _conditional():
    if not _cacheable():
        return None
    etag = _etag()
    g._etag = etag
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        response = Response(status=304)
        response.headers["ETag"] = etag
        response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
        return response
    hit = RENDERED.get(etag) if request.endpoint not in SEARCH_ENDPOINTS else None
    if hit is not None and request.method == "GET":
        body, mimetype, headers = hit
        response = Response(body, mimetype=mimetype)
        response.headers.extend(headers)
        g._from_cache = True
        return response
    return None


def _remember(response) -> None:
    if (request.method != "GET" or request.endpoint in SEARCH_ENDPOINTS or response.is_streamed or response.direct_passthrough
            or getattr(g, "_from_cache", False)):
        return
    body = response.get_data()
    if len(body) > RENDERED_MAX_BYTES:
        return
    headers = [(k, v) for k, v in response.headers.items() if k.lower() == "content-disposition"]
    with _rendered_lock:
        RENDERED[g._etag] = (body, response.mimetype, headers)
        while len(RENDERED) > RENDERED_MAX:
            RENDERED.popitem(last=False)


def _cache_headers(response):
    if not _cacheable() or response.status_code != 200:
        return response
    _id, at = publication_state()
    if "_etag" in g:
        _remember(response)
    response.headers["ETag"] = g.get("_etag") or _etag()
    if at is not None:
        response.last_modified = http_time(at)
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    response.vary.add("Cookie")
    if response.last_modified and request.if_modified_since and not request.headers.get("If-None-Match"):
        if response.last_modified.replace(microsecond=0) <= request.if_modified_since:
            response.status_code = 304
            response.set_data(b"")
    return response
