"""Public pages: home, browse goals/results with facets, project, department, report, search,
notices, glossary, charts, downloads, feeds, sitemap and robots.txt. Snapshot tables only."""
from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.core import parsing
from portal.core.excel import content_disposition
from portal.core.pagination import page_arg, paginate
from portal.publishing.models import RESULT_KINDS, PublicationKind, Snapshot
from public_site import charts, queries
from public_site.downloads import MONEY, SCORE, download
from public_site.glossary import GLOSSARY

bp = Blueprint("public", __name__)

PER_PAGE = 20


def init_app(app):
    from public_site import figures, pages  # noqa: F401  (trends, table downloads, the language switch, figures)

    app.register_blueprint(bp)
    from portal.publishing import tables

    tables.register(app)

    @app.context_processor
    def public_context():  # (`lang` comes from core.locale, with this face's cookie)
        return {"facet_titles": queries.FACET_TITLES, "kind_enum": PublicationKind}


def _query_url(endpoint, args: dict, **changes) -> str:
    merged = {k: v for k, v in {**args, **changes}.items() if v not in (None, "")}
    return url_for(endpoint, **merged)


# ---- home, glossary, notices ------------------------------------------------------------------

@bp.get("/")
def home():
    return render_template("public_site/home.html", search_url=url_for("public.search"),
                           latest=queries.latest(12), figures=queries.headline(),
                           grade_chart=charts.bar_chart(queries.chart_data("grades"), title=_("评价等级分布")))


@bp.get("/glossary")
def glossary():
    return render_template("public_site/glossary.html", glossary=GLOSSARY)


@bp.get("/notices")
def notices():
    page = paginate(queries.notices(), per_page=PER_PAGE)
    return render_template("public_site/notices.html", page=page)


@bp.get("/notices/<int:snapshot_id>")
def notice(snapshot_id: int):
    row = queries.notice(snapshot_id)
    if row is None:
        abort(404)
    return render_template("public_site/notice.html", row=row)


# ---- browse -----------------------------------------------------------------------------------

LISTING_TITLES = {"goals": _l("绩效目标公开"), "results": _l("绩效评价结果公开")}
EXPORT_HEADERS = ["年度", "项目编码", "项目名称", "主管部门", "实施单位", "项目类型", "预算类型", "全年预算数（元）",
                  "公开内容", "版本", "得分", "评价等级", "整改状态", "公开时间", "链接"]


def _export_row(s: Snapshot) -> list:
    return [s.year, s.project_code, s.project_name, s.department_name, s.unit_name,
            queries.value_label("project_kind", s.project_kind), queries.value_label("budget_type", s.budget_type),
            _two_places(s.amount), s.kind.label, s.version, None if s.score is None else _two_places(s.score),
            queries.value_label("grade", s.grade) if s.grade else "",
            queries.value_label("rectification", s.rectification) if s.rectification else "",
            s.published_at, url_for("public.project", ref=s.project_ref, _external=True)]


EXPORT_FORMATS = [None] * 7 + [MONEY, None, None, SCORE]


def listing_download(fmt: str, name: str, rows):
    """A list of snapshots (browse, a department, the home page's 最新公开) as a download."""
    return download(fmt, name, rows, EXPORT_HEADERS, _export_row, _export_json, formats=EXPORT_FORMATS)


def _two_places(value) -> Decimal:
    """Amounts and scores as numbers (a number cell in Excel, digits in CSV), two decimals."""
    return Decimal(value).quantize(Decimal("0.01"))


def _export_json(s: Snapshot) -> dict:
    return {"project_ref": s.project_ref, "kind": s.kind.value, "version": s.version, "year": s.year,
            "project_code": s.project_code, "project_name": s.project_name, "department": s.department_name,
            "unit": s.unit_name, "project_kind": s.project_kind, "budget_type": s.budget_type,
            "annual_budget": f"{s.amount:.2f}", "score": None if s.score is None else f"{s.score:.2f}",
            "grade": s.grade, "rectification": s.rectification,
            "published_at": s.published_at.isoformat(timespec="seconds"),
            "url": url_for("public.project", ref=s.project_ref, _external=True)}


def _browse(listing: str):
    kinds = queries.LISTINGS[listing]
    filters = queries.filters_from_args()
    sort = request.args.get("sort", "newest")
    fmt = request.args.get("format")
    if fmt:
        from portal.extensions import db

        rows = db.session.scalars(queries.listing(kinds, filters, sort).limit(100_000))
        return listing_download(fmt, f"{LISTING_TITLES[listing]}", rows)
    page = queries.browse_page(kinds, filters, sort, page_arg(), PER_PAGE)
    departments = queries.department_names()
    facets = queries.facet_counts(kinds, filters)
    args = {**filters, "sort": sort if sort != "newest" else None}
    return render_template("public_site/browse.html", listing=listing, title=LISTING_TITLES[listing], page=page,
                           facets=facets, filters=filters, sort=sort, departments=departments, args=args,
                           label=lambda f, v: queries.value_label(f, v, departments),
                           url=lambda **changes: _query_url(f"public.{listing}", args, **changes))


@bp.get("/goals")
def goals():
    return _browse("goals")


@bp.get("/results")
def results():
    return _browse("results")


# ---- project, versions, reports ---------------------------------------------------------------

@bp.get("/projects/<int:ref>")
def project(ref: int):
    rows = queries.project_rows(ref)  # current versions only
    if not rows:
        abort(404)
    sections = queries.sections_of(rows)
    published = [s for s in rows if not s.withdrawn]
    # the header comes from published content only: a withdrawn project shows its name and notices
    head = max(published or rows, key=lambda s: s.id)
    header = head.payload.get("project", {}) if published else {"name": head.project_name}
    return render_template("public_site/project.html", ref=ref, sections=sections, header=header, head=head,
                           withdrawn=not published)


@bp.get("/projects/<int:ref>/<kind>/v<int:version>")
def version(ref: int, kind: str, version: int):
    """A permalink to one version: only the current, published one is served (no older version)."""
    row = next((s for s in queries.project_rows(ref) if s.kind.value == kind and s.version == version), None)
    if row is None or row.withdrawn:
        abort(404)
    return render_template("public_site/version.html", row=row, header=row.payload.get("project", {}))


@bp.get("/reports/<sha256>")
def report(sha256: str):
    meta = queries.file_meta(sha256)
    if meta is None or queries.published_file(sha256) is None:
        abort(404)
    return render_template("public_site/report.html", meta=meta)


@bp.get("/reports/<sha256>.pdf")
def report_pdf(sha256: str):
    row = queries.published_file(sha256)
    if row is None:
        abort(404)
    response = Response(row.content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(row.filename).replace("attachment", "inline", 1)
    return response


# ---- departments ------------------------------------------------------------------------------

@bp.get("/departments")
def departments():
    counts = queries.facet_counts(queries.LISTINGS["goals"] + queries.LISTINGS["results"], {})["department"]
    names = queries.department_names()
    return render_template("public_site/departments.html", counts=counts, names=names)


@bp.get("/departments/<int:ref>")
def department(ref: int):
    names = queries.department_names()
    if ref not in names:
        abort(404)
    kinds = queries.LISTINGS["goals"] + queries.LISTINGS["results"]
    page = queries.browse_page(kinds, {"department": str(ref)}, "newest", page_arg(), PER_PAGE)
    return render_template("public_site/department.html", ref=ref, name=names[ref], page=page,
                           grade_chart=charts.bar_chart(queries.chart_data("grades", ref), title=_("评价等级分布")),
                           latest=queries.latest(5, ref))


# ---- search -----------------------------------------------------------------------------------

SEARCH_FILTERS = ("year", "department", "project_kind", "budget_type", "amount_band", "grade", "rectification")


def _search_args():
    q = request.args.get("q", "").strip()[:1000]  # the engine keeps the first words and says so
    filters = {k: request.args.get(k, "").strip() for k in SEARCH_FILTERS if request.args.get(k, "").strip()}
    sort = request.args.get("sort", "relevance")
    return q, filters, sort, parsing.arg_page()


@bp.get("/search")
def search():
    from portal.publishing import search as engine

    q, filters, sort, page = _search_args()
    fmt = request.args.get("format")
    if fmt:
        found = engine.search(q, filters=filters, sort=sort, page=1, per_page=1000, highlight=False)
        return download(fmt, "搜索结果", found.hits, ["项目名称", "主管部门", "实施单位", "年度", "评价等级", "链接"],
                        to_row=_hit_row, to_json=lambda h: dict(zip(
                            ["name", "department", "unit", "year", "grade", "url"], _hit_row(h), strict=True)))
    found = engine.search(q, filters=filters, sort=sort, page=page, per_page=PER_PAGE) if (q or filters) else None
    departments = queries.department_names()
    args = {"q": q, **filters, "sort": sort if sort != "relevance" else None}
    return render_template("public_site/search.html", q=q, found=found, filters=filters, sort=sort, args=args,
                           departments=departments, label=lambda f, v: queries.value_label(
                               f, None if v == "none" else v, departments),
                           url=lambda **changes: _query_url("public.search", args, **changes))


def _hit_row(hit) -> list:
    f = hit.fields
    year = f.get("year", "")
    return [f["title"].rsplit(" ", 1)[0], f.get("department_name", ""), f.get("unit", ""),
            int(year) if str(year).isdigit() else year,
            f.get("grade_label", ""), url_for("public.project", ref=hit.ref, _external=True)]


# ---- charts -----------------------------------------------------------------------------------

CHARTS = {"grades": _l("评价等级分布（项目数）"), "money": _l("各等级评价资金（万元）"),
          "rectification": _l("各部门整改率（按数量）"), "due_rectification": _l("各部门到期整改率（按数量）")}


@bp.get("/charts")
def charts_page():
    items = []
    for name, title in CHARTS.items():
        data = queries.chart_data(name)
        items.append((name, charts.bar_chart(data, title=str(title), kind=name)))
    from portal.ledger.queries import RATE_DEFINITIONS

    return render_template("public_site/charts.html", items=items, rates=sorted(queries.rectification_rates().items()),
                           definitions=RATE_DEFINITIONS)


@bp.get("/charts/<name>.<fmt>")
def chart_file(name: str, fmt: str):
    if name not in CHARTS:
        abort(404)
    data = queries.chart_data(name)
    if fmt == "svg":
        return Response(charts.bar_svg(data, title=str(CHARTS[name]), kind=name, standalone=True),
                        mimetype="image/svg+xml")
    return download(fmt, str(CHARTS[name]), data, [_("类别"), _("数值")], lambda r: [r[0], r[1]],
                    lambda r: {"label": r[0], "value": float(r[1])},
                    formats=[None, MONEY if name == "money" else "0.0%" if "rectification" in name else None])


# ---- feeds, sitemap, robots -------------------------------------------------------------------

def _atom(title: str, self_url: str, rows, alternate: str):
    updated = max((r.published_at for r in rows), default=None)
    body = render_template("public_site/feed.xml", title=title, self_url=self_url, rows=rows, updated=updated,
                           alternate=alternate)
    return Response(body, mimetype="application/atom+xml")


@bp.get("/feeds/all.atom")
def feed_all():
    return _atom(_("最新公开"), request.url, queries.latest(50, withdrawals=True), url_for("public.home", _external=True))


@bp.get("/feeds/departments/<int:ref>.atom")
def feed_department(ref: int):
    names = queries.department_names()
    if ref not in names:
        abort(404)
    return _atom(_("%(name)s 最新公开", name=names[ref]), request.url, queries.latest(50, ref, withdrawals=True),
                 url_for("public.department", ref=ref, _external=True))


@bp.get("/feeds/search.atom")
def feed_search():
    from portal.extensions import db
    from portal.publishing import search as engine

    q, filters, _sort, _page = _search_args()
    found = engine.search(q, filters=filters, sort="newest", page=1, per_page=50)
    refs = [h.ref for h in found.hits]
    rows = []
    if refs:
        import sqlalchemy as sa

        rows = list(db.session.scalars(queries.live(sa.select(Snapshot)).where(Snapshot.project_ref.in_(refs))
                                       .order_by(Snapshot.published_at.desc(), Snapshot.id.desc()).limit(50)))
    return _atom(_("搜索“%(q)s”的最新公开", q=q), request.url, rows,
                 url_for("public.search", q=q, _external=True, **filters))


SITEMAP_CHUNK = 40_000


@bp.get("/sitemap.xml")
def sitemap():
    import sqlalchemy as sa

    from portal.extensions import db

    total = db.session.scalar(sa.select(sa.func.count(sa.distinct(Snapshot.project_ref)))
                              .where(Snapshot.current.is_(True))) or 0
    chunks = max(1, (total + SITEMAP_CHUNK - 1) // SITEMAP_CHUNK)
    return Response(render_template("public_site/sitemap_index.xml", chunks=chunks), mimetype="application/xml")


@bp.get("/sitemap-<int:n>.xml")
def sitemap_chunk(n: int):
    import sqlalchemy as sa

    from portal.extensions import db

    refs = db.session.execute(sa.select(Snapshot.project_ref, sa.func.max(Snapshot.published_at))
                              .where(Snapshot.current.is_(True)).group_by(Snapshot.project_ref).order_by(Snapshot.project_ref)
                              .offset(n * SITEMAP_CHUNK).limit(SITEMAP_CHUNK)).all()
    static = ["public.home", "public.goals", "public.results", "public.departments", "public.glossary",
              "public.notices", "public.charts_page", "public.trends_page", "public.search", "api_public.docs"] if n == 0 else []
    return Response(render_template("public_site/sitemap.xml", refs=refs, static=static,
                                    departments=queries.department_names() if n == 0 else {}),
                    mimetype="application/xml")


@bp.get("/robots.txt")
def robots():
    body = f"User-agent: *\nAllow: /\nSitemap: {url_for('public.sitemap', _external=True)}\n"
    return Response(body, mimetype="text/plain")


@bp.app_template_global()
def query_string(**params) -> str:
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


@bp.app_template_global()
def site_config(name):
    return current_app.config.get(name)


@bp.app_template_global()
def rate_definitions():
    from portal.ledger.queries import RATE_DEFINITIONS

    return RATE_DEFINITIONS


@bp.app_template_global()
def listing_kinds():
    return RESULT_KINDS
