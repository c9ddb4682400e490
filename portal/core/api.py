"""The integration API under /api/v1/: bearer tokens created by users in the portal
(revocable, stored hashed), JSON errors, and an OpenAPI document that modules add to.

    @api_route("/projects", schema={...OpenAPI operation...})
    def list_projects(user): return {...}

Every endpoint receives the token's user and must apply the same permission checks
(`visible`, `can`) as the pages do."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from functools import wraps

import sqlalchemy as sa
from flask import Blueprint, abort, jsonify, request
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.exceptions import HTTPException

from portal.core import clock
from portal.extensions import csrf, db

api_bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)

OPENAPI_PATHS: dict[str, dict] = {}
OPENAPI_SCHEMAS: dict[str, dict] = {}


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(12))  # shown so users can tell tokens apart
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user = relationship("User")


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(user, name: str) -> tuple[ApiToken, str]:
    """Returns the token row and the raw secret (shown once, never stored)."""
    raw = "jx_" + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name.strip()[:100] or "API", token_hash=hash_token(raw),
                     prefix=raw[:10])
    db.session.add(token)
    from portal.core.audit import record_change

    record_change(user, "api_token.create", token, after={"name": token.name, "prefix": token.prefix})
    return token, raw


def revoke_token(token: ApiToken, *, actor) -> None:
    token.revoked_at = clock.now()
    from portal.core.audit import record_change

    record_change(actor, "api_token.revoke", token, after={"prefix": token.prefix})


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
    token.last_used_at = clock.now()
    return token.user


def api_route(rule: str, methods=("GET",), schema: dict | None = None):
    """Register an API endpoint; the view gets the authenticated user as first argument."""
    def decorator(fn):
        @wraps(fn)
        def view(*args, **kwargs):
            user = token_user()
            if user is None:
                return api_error(401, "unauthorized", "需要有效的 API 令牌（Authorization: Bearer …）。")
            result = fn(user, *args, **kwargs)
            db.session.commit()
            return result if not isinstance(result, dict | list) else jsonify(result)
        api_bp.add_url_rule(rule, fn.__name__, view, methods=list(methods))
        if schema:
            path = "/api/v1" + rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
            for method in methods:
                OPENAPI_PATHS.setdefault(path, {})[method.lower()] = schema
        return view
    return decorator


def api_error(status: int, code: str, message: str, details=None):
    body = {"error": {"code": code, "message": message}}
    if details:
        body["error"]["details"] = details
    return jsonify(body), status


@api_bp.errorhandler(HTTPException)
def _http_error(error):
    return api_error(error.code or 500, error.name.lower().replace(" ", "_"), error.description)


def page_params(max_per_page: int = 200) -> tuple[int, int]:
    try:
        page = max(1, int(request.args.get("page", 1)))
        per_page = min(max(1, int(request.args.get("per_page", 50))), max_per_page)
    except ValueError:
        abort(400, "page 与 per_page 必须是正整数。")
    return page, per_page


def paged(stmt, serialise, page: int, per_page: int) -> dict:
    total = db.session.execute(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    rows = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).scalars()
    return {"page": page, "per_page": per_page, "total": total, "items": [serialise(r) for r in rows]}


PAGE_PARAMETERS = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}},
]


@api_bp.get("/openapi.json")
def openapi():
    return jsonify({
        "openapi": "3.0.3",
        "info": {"title": "财审协同绩效监督平台 API", "version": "1.0",
                 "description": "Bearer-token API. Every response honours the token user's permissions."},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": OPENAPI_SCHEMAS,
        },
        "security": [{"bearer": []}],
        "paths": OPENAPI_PATHS,
    })
