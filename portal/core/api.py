"""The integration API under /api/v1/: bearer tokens created by users in the portal
(revocable, stored hashed), JSON errors, and an OpenAPI document that modules add to.

    @api_route("/projects", summary="项目列表 · projects", query=ProjectQuery, response=Page[ProjectOut])
    def list_projects(user, query): return paged(...)

Inputs are validated against the endpoint's pydantic models (portal.core.schemas) before the view
runs, and the OpenAPI document is generated from the same models.

Every endpoint receives the token's user and must apply the same permission checks
(`visible`, `can`) as the pages do."""
from __future__ import annotations

import logging
from datetime import timedelta
from functools import wraps

import sqlalchemy as sa
from flask import Blueprint, abort, after_this_request, jsonify, request
from werkzeug.exceptions import HTTPException

from portal.core import clock, schemas
from portal.core.tokens import ApiToken, create_token, hash_token, revoke_token  # noqa: F401  (the API's tokens)
from portal.extensions import csrf, db

log = logging.getLogger(__name__)

api_bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)


def token_user():
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    token = db.session.execute(
        sa.select(ApiToken).where(ApiToken.token_hash == hash_token(header[7:].strip()),
                                  ApiToken.revoked_at.is_(None))
    ).scalar_one_or_none()
    if token is None or not token.user.is_active:
        return None
    _note_use(token)
    return token.user


USE_RESOLUTION = timedelta(minutes=5)


def _note_use(token: ApiToken) -> None:
    """Record when a token was last used without writing in the request's transaction (a GET
    never writes): after the response, in a short transaction of its own, at most once per
    USE_RESOLUTION, so concurrent API clients do not queue on it."""
    now = clock.now()
    if token.last_used_at is not None and now - token.last_used_at < USE_RESOLUTION:
        return
    engine, token_id = db.engine, token.id

    @after_this_request
    def schedule(response):
        def write():
            try:
                with engine.begin() as conn:
                    conn.execute(sa.update(ApiToken.__table__).where(
                        ApiToken.__table__.c.id == token_id,
                        sa.or_(ApiToken.__table__.c.last_used_at.is_(None),
                               ApiToken.__table__.c.last_used_at < now - USE_RESOLUTION))
                        .values(last_used_at=now))
            except sa.exc.SQLAlchemyError:  # a busy database: the next use records it
                log.warning("could not record the use of API token #%s", token_id, exc_info=True)
        response.call_on_close(write)
        return response


ROUTES: list[dict] = []  # every endpoint's models, in registration order (the OpenAPI document's source)


def api_route(rule: str, methods=("GET",), *, summary: str = "", description: str = "", tags=(),
              query: type[schemas.Query] | None = None, body: type[schemas.Body] | None = None, response=None,
              path: dict[str, str] | None = None, errors=(404,), schema: dict | None = None):
    """Register an API endpoint. The view gets the token's user first, then the path values, and
    `query=` / `body=` (validated models) when the endpoint declares them; a dict or list result is
    answered as JSON. `summary`/`description` (Chinese · English), the models and `path` (descriptions
    of the path parameters) are the endpoint's entry in /api/v1/openapi.json. (`schema=` takes a
    hand-written OpenAPI operation; the documentation test refuses one without descriptions.)"""
    def decorator(fn):
        @wraps(fn)
        def view(*args, **kwargs):
            user = token_user()
            if user is None:
                return api_error(401, "unauthorized", "需要有效的 API 令牌（Authorization: Bearer …）。")
            if not schemas.path_ids_in_range(kwargs):
                return api_error(404, "not_found", "记录不存在。 · Not found.")
            if query is not None:
                kwargs["query"] = schemas.parse_query(query, request.args)
            if body is not None:
                kwargs["body"] = schemas.parse_body(body, request)
            result = fn(user, *args, **kwargs)  # writes go through api_write (one commit, in perform)
            return result if not isinstance(result, dict | list) else jsonify(result)
        api_bp.add_url_rule(rule, fn.__name__, view, methods=list(methods))
        ROUTES.append({"rule": rule, "methods": tuple(methods), "summary": summary, "description": description,
                       "tags": tuple(tags), "query": query, "body": body, "response": response, "path": path or {},
                       "errors": tuple(errors), "schema": schema, "name": fn.__name__})
        return view
    return decorator


def api_write(operation, /, *args, **kwargs):
    """`perform()` for an API endpoint: the operation's result, or the JSON error a client can act
    on — 409 for a stale `lock_version` or a repeated Idempotency-Key, 422 for a refused rule;
    an all-or-nothing bulk body's refused items (`ItemsRefused`) as `details[]` (index, field,
    message) with each field's dotted path in `fields`."""
    from portal.core.errors import DomainError, ItemsRefused, StaleRecord
    from portal.core.writes import DuplicateSubmission, perform

    try:
        return perform(operation, *args, **kwargs)
    except DuplicateSubmission as duplicate:
        raise ApiError(409, "duplicate", duplicate.message) from None
    except StaleRecord as stale:
        raise ApiError(409, "stale", stale.message) from None
    except ItemsRefused as refused:
        raise ApiError(409 if refused.stale else 422, "stale" if refused.stale else "validation_failed",
                       refused.message, refused.details, refused.fields()) from None
    except DomainError as error:
        raise ApiError(422, "refused", error.message, {"field": error.field} if error.field else None) from None


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details=None, fields: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details, self.fields = (
            status, code, message, details, fields or (details if isinstance(details, dict) else {}))


def api_error(status: int, code: str, message: str, details=None, fields: dict | None = None):
    """The one error shape of both APIs: {"error": {"code", "message", "fields"[, "details"]}}."""
    if fields is None:
        fields = details if isinstance(details, dict) else {}
    body = {"error": {"code": code, "message": message, "fields": {str(k): str(v) for k, v in fields.items()}}}
    if isinstance(details, list):
        body["error"]["details"] = details
    response = jsonify(body)
    response.status_code = status
    return response


def http_error_json(error: HTTPException):
    """A werkzeug HTTP error (abort(), 404/405 routing, 413) as the API's JSON error."""
    code = error.code or 500
    if code == 429:  # Flask-Limiter's description is the limit ("120 per 1 minute")
        response = api_error(429, "too_many_requests", f"请求过于频繁，请在 Retry-After 所示秒数后重试（限额 {error.description}）。"
                             f" · Too many requests: retry after the seconds in Retry-After (limit {error.description}).")
        return response
    response = api_error(code, error.name.lower().replace(" ", "_"), error.description or error.name)
    if code == 405 and getattr(error, "valid_methods", None):
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


@api_bp.errorhandler(ApiError)
def _api_error(error: ApiError):
    return api_error(error.status, error.code, error.message, error.details, error.fields)


@api_bp.errorhandler(schemas.InvalidInput)
def _invalid_input(error: schemas.InvalidInput):
    return api_error(error.status, error.code, error.message, fields=error.fields)


# By code as well as by class: the app's HTML error pages are registered by code, and Flask looks
# up code handlers (blueprint, then app) before class handlers.
JSON_ERROR_CODES = (400, 401, 403, 404, 405, 409, 413, 415, 422, 429)


def json_error_handlers(blueprint) -> None:
    for code in JSON_ERROR_CODES:
        blueprint.register_error_handler(code, http_error_json)
    blueprint.register_error_handler(HTTPException, http_error_json)


json_error_handlers(api_bp)


@api_bp.errorhandler(Exception)
def _unexpected(error):
    """Never an HTML page for an API client, even for a bug (logged, answered 500 JSON)."""
    if isinstance(error, HTTPException):
        return http_error_json(error)
    # No rollback here (views never touch the session): the request's session is removed, and its
    # transaction rolled back, when the request's application context ends.
    log.exception("unhandled error in the API")
    return api_error(500, "internal_error", "服务器处理时出现错误，已记录。 · Internal error (logged).")


def json_errors_under(prefix: str):
    """A before_request hook: a request under `prefix` that matched no route (404) or not with this
    method (405) is answered in JSON here, before a login gate could redirect it to /login."""
    def hook():
        if request.routing_exception is not None and request.path.startswith(prefix):
            error = request.routing_exception
            if isinstance(error, HTTPException):
                return http_error_json(error)
        return None
    return hook


@api_bp.record_once
def _json_errors_before_the_login_gate(state):
    # Registered when the blueprint is, i.e. before app_wiring.init_portal adds the login gate.
    state.app.before_request(json_errors_under("/api/"))
    from portal.core import ratelimit

    ratelimit.init_app(state.app, api_bp, "API_RATE_LIMIT")  # 429 per token (docs/api.md)


def paged(stmt, serialise, query: schemas.PageQuery) -> dict:
    """One page of `stmt` for the query's page and per_page: the API's list shape (schemas.Page)."""
    total = db.session.execute(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    rows = db.session.execute(stmt.limit(query.per_page).offset((query.page - 1) * query.per_page)).scalars()
    return page_body(query, total, [serialise(r) for r in rows])


def page_body(query: schemas.PageQuery, total: int, items: list) -> dict:
    """The list shape of both APIs, for a page found elsewhere (a search, the public snapshots)."""
    return {"page": query.page, "per_page": query.per_page, "total": total, "items": items}


def filtered(stmt, query: schemas.Query, **columns):
    """`stmt` narrowed by the filters the client gave: `filtered(stmt, query, year=Evaluation.year)`
    keeps the rows whose Evaluation.year is query.year when query.year is set (a value for an
    enum column is the enum's value)."""
    for name, column in columns.items():
        value = getattr(query, name)
        if value is None or value == "":
            continue
        enum_class = getattr(column.type, "enum_class", None)
        stmt = stmt.where(column == (enum_class(value) if enum_class is not None else value))
    return stmt


def readable_or_404(model: type, record_id: int, user, message: str):
    """The record the token user may view, or a 404 with `message`: a record of another unit does
    not exist for this user (never a 403 that would confirm it does)."""
    from portal.core.permissions import can

    record = db.session.get(model, record_id)
    if record is None or not can(user, "view", record):
        abort(404, message)
    return record


def exact(value) -> str | None:
    """A Decimal as its exact digits ("1200.50"), never a float; None stays None."""
    return None if value is None else format(value, "f")


def seconds(value) -> str | None:
    """A datetime as ISO 8601 to the second; None stays None."""
    return None if value is None else value.isoformat(timespec="seconds")


@api_bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


def openapi_document() -> dict:
    """The portal API's OpenAPI 3.1 document, generated from the endpoints' models (ROUTES)."""
    components: dict[str, dict] = {}
    paths: dict[str, dict] = {}
    for route in ROUTES:
        path = "/api/v1" + schemas.openapi_path(route["rule"])
        for method in route["methods"]:
            if route["schema"] is not None:
                op = route["schema"]
            else:
                op = schemas.operation(rule=route["rule"], summary=route["summary"], description=route["description"],
                                       tags=route["tags"], query=route["query"], body=route["body"],
                                       response=route["response"], path_descriptions=route["path"],
                                       errors=route["errors"], components=components,
                                       operation_id=route["name"] if len(route["methods"]) == 1
                                       else f"{route['name']}_{method.lower()}")
            paths.setdefault(path, {})[method.lower()] = op
    return schemas.document(
        title="财审协同绩效监督平台 API · budget-performance oversight portal API",
        description=("以门户中创建的 API 令牌（Authorization: Bearer …）访问；每个响应都遵循令牌所属用户的权限。"
                     "错误统一为 JSON：{\"error\": {\"code\", \"message\", \"fields\"}}。 · "
                     "Bearer-token API; every response honours the token user's permissions. Errors are JSON."),
        paths=paths, components=components, secured=True)
