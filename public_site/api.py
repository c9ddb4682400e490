"""Read-only JSON API of published snapshots: /api/v1/public/… (paging, documented schema).

The query and response models below are the contract: every query string is validated against
them (a refused value is a JSON 400, never a 500), and /api/v1/public/openapi.json is generated
from them (portal.core.schemas)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, render_template, request, url_for
from pydantic import Field

from portal.core import schemas
from portal.core.api import api_error, json_error_handlers, json_errors_under, page_body
from portal.core.schemas import LocalDateTime, Page, PageQuery, Schema, Text, Year, choice
from portal.publishing.models import PublicationKind, Snapshot, SnapshotState
from public_site import queries

bp = Blueprint("api_public", __name__, url_prefix="/api/v1/public")
ROUTES: list[dict] = []


def init_app(app):
    from portal.core import ratelimit

    app.register_blueprint(bp)
    app.before_request(json_errors_under("/api/"))  # unknown path or method: JSON 404/405
    ratelimit.init_app(app, bp, "PUBLIC_API_RATE_LIMIT")  # 429 per client address (docs/api.md)


@bp.errorhandler(schemas.InvalidInput)
def _invalid(error: schemas.InvalidInput):
    return api_error(error.status, error.code, error.message, fields=error.fields)


json_error_handlers(bp)


def public_route(rule: str, *, summary: str, query: type[schemas.Query] | None = None, response=None,
                 path: dict[str, str] | None = None, errors=(404,)):
    """A GET endpoint of the public API: the query validated into `query=`, the result as JSON."""
    def decorator(fn):
        def view(**kwargs):
            if not schemas.path_ids_in_range(kwargs):
                abort(404)
            if query is not None:
                kwargs["query"] = schemas.parse_query(query, request.args)
            return jsonify(fn(**kwargs))
        view.__name__ = fn.__name__
        bp.add_url_rule(rule, fn.__name__, view, methods=["GET"])
        ROUTES.append({"rule": rule, "summary": summary, "query": query, "response": response, "path": path or {},
                       "errors": errors, "name": fn.__name__})
        return fn
    return decorator


KindValue = choice(PublicationKind)
FacetValue = Text(100)


class FacetQuery(PageQuery):
    """分面筛选（与公开网站列表相同） · the public listing's facet filters"""
    year: Year | None = Field(None, description="年度 · year")
    department: int | None = Field(None, ge=1, le=schemas.ID_MAX, description="主管部门编号 · department ref")
    unit: FacetValue | None = Field(None, description="实施单位名称 · budget unit name")
    project_kind: FacetValue | None = Field(None, description="项目类型 · project kind")
    budget_type: FacetValue | None = Field(None, description="预算类型 · budget type")
    amount_band: FacetValue | None = Field(None, description="金额区间 · amount band")
    grade: FacetValue | None = Field(None, description="评价等级 · grade")
    rectification: FacetValue | None = Field(None, description="整改情况 · rectification state")

    def filters(self) -> dict:
        return {k: str(v) for k, v in self.model_dump(include=set(queries.FACET_COLUMNS), exclude_none=True).items()}


class SnapshotsQuery(FacetQuery):
    """公开快照列表参数 · snapshot list parameters"""
    kind: list[KindValue] = Field(default_factory=list, description="公开内容类别（可多选，缺省为全部） · kinds, any of")
    sort: choice(("newest", "amount", "score", "name")) = Field("newest", description="排序 · sort order")


class SearchQuery(FacetQuery):
    """全文检索参数 · search parameters"""
    per_page: int = Field(50, ge=1, le=100, description="每页条数 · items per page")
    q: Text(1000) = Field("", description="检索词：空格＝都要有，OR/或＝任一，-词＝不含，\"…\"＝整句 · search: space = all, OR = either, -word = without, \"…\" = phrase")
    sort: choice(("relevance", "newest", "score", "amount")) = Field("relevance", description="排序 · sort order")


class SnapshotSummary(Schema):
    """公开快照（摘要） · a published snapshot, summary"""
    id: int = Field(description="快照编号 · snapshot id")
    project_ref: int = Field(description="项目编号（永久链接 /projects/{project_ref}） · project ref (permalink)")
    kind: KindValue = Field(description="公开内容类别 · kind of publication")
    version: int = Field(description="版本号，更正后递增 · version, raised by each correction")
    state: choice(SnapshotState) = Field(description="公开状态 · state")
    year: int = Field(description="年度 · year")
    project_code: str = Field(description="项目编码 · project code")
    project_name: str = Field(description="项目名称 · project name")
    department_ref: int = Field(description="主管部门编号 · department ref")
    department: str = Field(description="主管部门 · department")
    unit: str = Field(description="实施单位 · budget unit")
    project_kind: str = Field(description="项目类型 · project kind")
    budget_type: str = Field(description="预算类型 · budget type")
    annual_budget: str = Field(description="全年预算数（元，两位小数） · annual budget, yuan")
    amount_band: str = Field(description="金额区间 · amount band")
    score: str | None = Field(description="评价得分 · score")
    grade: str | None = Field(description="评价等级（excellent/good/fair/poor） · grade")
    rectification: str | None = Field(description="整改情况 · rectification state")
    note: str = Field(description="更正或撤回说明 · correction or withdrawal note")
    published_at: LocalDateTime = Field(description="公开时间 · published at")
    url: str = Field(description="公开网站上的页面地址 · page on the public site")


class SnapshotFull(SnapshotSummary):
    """公开快照（含公开字段） · a published snapshot with its public fields"""
    data: Any = Field(description="公开字段（按类别不同） · the public fields, by kind")


class WithdrawalNotice(Schema):
    """撤回公告 · a withdrawal notice"""
    id: int = Field(description="快照编号 · snapshot id")
    project_ref: int = Field(description="项目编号 · project ref")
    kind: KindValue = Field(description="公开内容类别 · kind")
    state: choice(SnapshotState) = Field(description="公开状态 · state")
    project_name: str = Field(description="项目名称 · project name")
    withdrawn_at: LocalDateTime = Field(description="撤回时间 · withdrawn at")
    note: str = Field(description="撤回说明 · withdrawal note")


class PublicProject(Schema):
    """一个项目的当前公开内容与撤回公告 · a project's current publications and withdrawal notices"""
    project_ref: int = Field(description="项目编号 · project ref")
    current: list[SnapshotFull] = Field(description="当前公开的内容 · current publications")
    withdrawn: list[WithdrawalNotice] = Field(description="撤回公告 · withdrawal notices")


class SearchHit(Schema):
    """检索命中 · a search hit"""
    project_ref: int = Field(description="项目编号 · project ref")
    title: str = Field(description="标题 · title")
    department: str | None = Field(description="主管部门 · department")
    year: int | str | None = Field(description="年度 · year")
    grade: str | None = Field(description="评价等级 · grade")
    highlight: Any = Field(description="高亮片段 · highlighted fragments")
    url: str = Field(description="公开网站上的页面地址 · page on the public site")


class SearchResults(Schema):
    """检索结果 · search results"""
    page: int = Field(description="页码 · page number")
    per_page: int = Field(description="每页条数 · items per page")
    total: int = Field(description="命中总数 · number of hits")
    needs_word: bool = Field(description="检索词里没有可查的词（只有标点或常用字） · the query has no searchable word")
    searched: str = Field(description="实际检索的内容（过长时只取前面的词） · what was searched (a long query is cut)")
    truncated: bool = Field(description="检索词过长，只检索了前面的词 · the query was cut to its first words")
    approximate: bool = Field(description="短语命中过多，总数为估计值 · the total is an estimate (a phrase matched many)")
    suggestion: str | None = Field(description="“您是不是要找”的建议 · did-you-mean suggestion")
    corrected: bool = Field(description="原词无结果，以下为建议词的结果 · hits are for the suggestion")
    facets: dict[str, dict[str, int]] = Field(description="分面计数 · facet counts")
    items: list[SearchHit] = Field(description="本页命中 · hits of this page")


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
    return {**_summary(s), "data": s.payload}


def _withdrawal(s: Snapshot) -> dict:
    """A withdrawal notice carries the name, the date and the note only."""
    return {"id": s.id, "project_ref": s.project_ref, "kind": s.kind.value, "state": s.state.value,
            "project_name": s.project_name, "withdrawn_at": s.published_at.isoformat(timespec="seconds"),
            "note": s.note}


@public_route("/snapshots", summary="公开快照列表（可筛选、分页） · published snapshots, filtered and paged",
              query=SnapshotsQuery, response=Page[SnapshotSummary], errors=())
def snapshots(query: SnapshotsQuery):
    kinds = [k for k in PublicationKind if k.value in query.kind] or list(PublicationKind)
    found = queries.browse_page(kinds, query.filters(), query.sort, query.page, query.per_page)
    return page_body(query, found.total, [_summary(r) for r in found.items])


@public_route("/snapshots/<int:snapshot_id>", response=SnapshotFull, path={"snapshot_id": "快照编号 · snapshot id"},
              summary="一个当前公开的快照（含公开字段 data）；历史版本和已撤回的内容不提供 · "
                      "one current snapshot with its public fields; no old versions, nothing withdrawn")
def snapshot(snapshot_id: int):
    row = queries.current_published(snapshot_id)  # no older version, no withdrawn row
    if row is None:
        abort(404)
    return _full(row)


@public_route("/projects/<int:ref>", response=PublicProject, path={"ref": "项目编号 · project ref"},
              summary="一个项目的当前公开内容与撤回公告 · a project's current publications and withdrawals")
def project(ref: int):
    rows = queries.project_rows(ref)
    if not rows:
        abort(404)
    return {"project_ref": ref, "current": [_full(s) for s in rows if not s.withdrawn],
            "withdrawn": [_withdrawal(s) for s in rows if s.withdrawn]}


@public_route("/search", summary="全文检索（命中、分面计数与高亮片段） · full-text search with facets and highlights",
              query=SearchQuery, response=SearchResults, errors=())
def search(query: SearchQuery):
    from portal.publishing import search as engine

    filters = {k: v for k, v in query.filters().items() if k in engine.FACETS}  # the index has no unit facet
    found = engine.search(query.q, filters=filters, sort=query.sort, page=query.page, per_page=query.per_page)
    hits = [{"project_ref": h.ref, "title": h.fields["title"], "department": h.fields.get("department_name"),
             "year": h.fields.get("year"), "grade": h.fields.get("grade"), "highlight": h.highlights,
             "url": url_for("public.project", ref=h.ref, _external=True)} for h in found.hits]
    return {**page_body(query, found.total, hits), "needs_word": found.needs_word, "searched": found.kept,
            "truncated": found.truncated, "approximate": found.approximate, "suggestion": found.suggestion or None,
            "corrected": found.corrected, "facets": {k: dict(v) for k, v in found.facets.items()}}


def openapi_document() -> dict:
    """The public API's OpenAPI 3.1 document, generated from the models above."""
    components: dict[str, dict] = {}
    paths = {"/api/v1/public" + schemas.openapi_path(r["rule"]): {"get": schemas.operation(
        rule=r["rule"], summary=r["summary"], query=r["query"], response=r["response"], path_descriptions=r["path"],
        errors=r["errors"], components=components, secured=False, operation_id=r["name"])} for r in ROUTES}
    return schemas.document(
        title="预算绩效信息公开 API · budget-performance disclosure API",
        description="只读、无需登录。仅包含已公开的快照。 · Read-only, no login; published snapshots only.",
        paths=paths, components=components, secured=False)


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.get("/")
def docs():
    doc = openapi_document()
    return render_template("public_site/api_docs.html", doc=doc, schema=doc["components"]["schemas"]["SnapshotSummary"])
