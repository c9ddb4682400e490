"""Read-only JSON API of published snapshots: /api/v1/public/… (paging, documented schema)."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, render_template, request, url_for

from portal.extensions import db
from portal.publishing.models import PublicationKind, Snapshot
from public_site import queries

bp = Blueprint("api_public", __name__, url_prefix="/api/v1/public")


def init_app(app):
    app.register_blueprint(bp)


def _page_params(max_per_page: int = 200) -> tuple[int, int]:
    try:
        page = max(1, int(request.args.get("page", 1)))
        per_page = min(max(1, int(request.args.get("per_page", 50))), max_per_page)
    except ValueError:
        abort(400)
    return page, per_page


def _summary(s: Snapshot) -> dict:
    return {"id": s.id, "project_ref": s.project_ref, "kind": s.kind.value, "version": s.version,
            "state": s.state.value, "year": s.year, "project_code": s.project_code, "project_name": s.project_name,
            "department_ref": s.department_ref, "department": s.department_name, "unit": s.unit_name,
            "project_kind": s.project_kind, "budget_type": s.budget_type, "annual_budget": f"{s.amount:.2f}",
            "amount_band": s.amount_band, "score": None if s.score is None else f"{s.score:.2f}", "grade": s.grade,
            "rectification": s.rectification, "note": s.note,
            "published_at": s.published_at.isoformat(timespec="seconds"),
            "url": url_for("public.project", ref=s.project_ref, _external=True)}


def _full(s: Snapshot) -> dict:
    return {**_summary(s), "data": None if s.withdrawn else s.payload}


@bp.get("/snapshots")
def snapshots():
    page, per_page = _page_params()
    kinds = [k for k in PublicationKind if k.value in request.args.getlist("kind")] or list(PublicationKind)
    found = queries.browse_page(kinds, queries.filters_from_args(), request.args.get("sort", "newest"), page, per_page)
    return jsonify({"page": page, "per_page": per_page, "total": found.total,
                    "items": [_summary(r) for r in found.items]})


@bp.get("/snapshots/<int:snapshot_id>")
def snapshot(snapshot_id: int):
    row = db.session.get(Snapshot, snapshot_id)
    if row is None:
        abort(404)
    return jsonify(_full(row))


@bp.get("/projects/<int:ref>")
def project(ref: int):
    rows = queries.project_rows(ref)
    if not rows:
        abort(404)
    return jsonify({"project_ref": ref, "current": [_full(s) for s in rows if s.current],
                    "history": [_summary(s) for s in rows if not s.current]})


@bp.get("/search")
def search():
    from public_site import search as engine

    page, per_page = _page_params(100)
    filters = {k: request.args[k] for k in ("year", "department", "grade", "project_kind", "budget_type",
                                            "amount_band", "rectification") if request.args.get(k)}
    found = engine.search(request.args.get("q", "")[:100], filters=filters, sort=request.args.get("sort", "relevance"),
                          page=page, per_page=per_page)
    return jsonify({"page": page, "per_page": per_page, "total": found.total, "facets": {
        k: dict(v) for k, v in found.facets.items()}, "items": [
        {"project_ref": h.ref, "title": h.fields["title"], "department": h.fields.get("department_name"),
         "year": h.fields.get("year"), "grade": h.fields.get("grade"), "highlight": h.highlights,
         "url": url_for("public.project", ref=h.ref, _external=True)} for h in found.hits]})


SUMMARY_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer", "description": "快照编号"},
    "project_ref": {"type": "integer", "description": "项目编号（永久链接 /projects/{project_ref}）"},
    "kind": {"type": "string", "enum": [k.value for k in PublicationKind], "description": "公开内容类别"},
    "version": {"type": "integer", "description": "版本号，更正后递增"},
    "state": {"type": "string", "enum": ["published", "withdrawn"]},
    "year": {"type": "integer"}, "project_code": {"type": "string"}, "project_name": {"type": "string"},
    "department_ref": {"type": "integer"}, "department": {"type": "string"}, "unit": {"type": "string"},
    "project_kind": {"type": "string"}, "budget_type": {"type": "string"},
    "annual_budget": {"type": "string", "description": "全年预算数（元，两位小数）"},
    "amount_band": {"type": "string"}, "score": {"type": "string", "nullable": True},
    "grade": {"type": "string", "nullable": True, "enum": ["excellent", "good", "fair", "poor", None]},
    "rectification": {"type": "string", "nullable": True}, "note": {"type": "string", "description": "更正或撤回说明"},
    "published_at": {"type": "string", "format": "date-time"}, "url": {"type": "string"}}}

PAGING = [{"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
          {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}}]
FILTERS = [{"name": n, "in": "query", "schema": {"type": "string"}} for n in queries.FACET_COLUMNS]


def openapi_document() -> dict:
    page_of = {"type": "object", "properties": {"page": {"type": "integer"}, "per_page": {"type": "integer"},
                                                 "total": {"type": "integer"},
                                                 "items": {"type": "array", "items": {"$ref": "#/components/schemas/Snapshot"}}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "预算绩效信息公开 API", "version": "1.0",
                 "description": "只读、无需登录。仅包含已公开的快照。Read-only, no login; published snapshots only."},
        "components": {"schemas": {"Snapshot": SUMMARY_SCHEMA}},
        "paths": {
            "/api/v1/public/snapshots": {"get": {"summary": "公开快照列表（可筛选、分页）", "parameters": PAGING + FILTERS + [
                {"name": "kind", "in": "query", "schema": {"type": "string", "enum": [k.value for k in PublicationKind]}}],
                "responses": {"200": {"description": "一页快照", "content": {"application/json": {"schema": page_of}}}}}},
            "/api/v1/public/snapshots/{id}": {"get": {"summary": "一个快照（含公开字段 data）", "parameters": [
                {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "快照"}, "404": {"description": "不存在"}}}},
            "/api/v1/public/projects/{project_ref}": {"get": {"summary": "一个项目的当前公开内容与历史版本", "parameters": [
                {"name": "project_ref", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "项目"}, "404": {"description": "不存在"}}}},
            "/api/v1/public/search": {"get": {"summary": "全文检索", "parameters": PAGING + [
                {"name": "q", "in": "query", "schema": {"type": "string"}},
                {"name": "sort", "in": "query", "schema": {"type": "string", "enum": ["relevance", "newest", "score", "amount"]}}],
                "responses": {"200": {"description": "命中、分面计数与高亮片段"}}}},
        },
    }


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.get("/")
def docs():
    return render_template("public_site/api_docs.html", doc=openapi_document(), schema=SUMMARY_SCHEMA)
