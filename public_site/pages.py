"""More public pages on the public blueprint: trends (历年趋势) for the city and per department,
downloads beside every table (最新公开, a department's list, a project's tables), and the public
site's own language switch."""
from __future__ import annotations

from flask import abort, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from portal.core.locale import LOCALES
from portal.core.redirects import safe_next
from portal.publishing.models import PublicationKind
from portal.publishing.tables import TABLES, section_table
from public_site import charts, queries, trends
from public_site.downloads import download
from public_site.views import bp, listing_download

# The public site's language cookie: its own name, so it never changes the portal's language
# (the portal reads `lang`, served under /portal/), and the portal's never changes this site's.
LANG_COOKIE = "site_lang"
LATEST = 12  # rows of the home page's 最新公开


@bp.get("/lang/<code>")
def set_language(code: str):
    if code not in LOCALES:
        abort(404)
    target = safe_next(request.args.get("next"), url_for("public.home"))
    if target.startswith("/portal"):  # the portal keeps its own language
        target = url_for("public.home")
    response = make_response(redirect(target))
    response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, samesite="Lax", httponly=True)
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- downloads beside tables ------------------------------------------------------------------

@bp.get("/latest.<fmt>")
def latest_file(fmt: str):
    return listing_download(fmt, _("最新公开"), queries.latest(LATEST))


@bp.get("/departments/<int:ref>.<fmt>")
def department_file(ref: int, fmt: str):
    names = queries.department_names()
    if ref not in names:
        abort(404)
    from portal.extensions import db

    kinds = queries.LISTINGS["goals"] + queries.LISTINGS["results"]
    rows = db.session.scalars(queries.listing(kinds, {"department": str(ref)}).limit(100_000))
    return listing_download(fmt, _("%(name)s 公开信息", name=names[ref]), rows)


@bp.get("/projects/<int:ref>/<table>.<fmt>")
def project_table(ref: int, table: str, fmt: str):
    """One table of a project's current published content (never a withdrawn one)."""
    definition = TABLES.get(table)
    row = next((s for s in queries.project_rows(ref) if not s.withdrawn and s.kind == (
        definition.kind if definition else PublicationKind.RECTIFICATION)), None)
    if row is not None and definition is None and table in row.payload.get("sections", {}):
        definition = section_table(table)  # another public provider's section
    rows = definition.rows(row.payload) if row is not None and definition is not None else []
    if not rows:
        abort(404)
    columns = definition.columns_for(rows)
    return download(fmt, f"{row.project_name}_{definition.title}", rows, [c.header for c in columns],
                    lambda r: definition.typed(r, columns), formats=[c.number_format for c in columns])


# ---- trends -----------------------------------------------------------------------------------

def _trend_page(department: int | None, name: str | None):
    rows = trends.year_trends(department)
    return render_template("public_site/trends.html", trends=rows, charts=charts.trend_charts(rows),
                           department=department, name=name, headers=trends.table_headers(download=False),
                           table=[trends.table_row(t) for t in rows])


def _trend_file(fmt: str, department: int | None, name: str):
    return download(fmt, name, trends.year_trends(department), trends.table_headers(), trends.table_row,
                    formats=trends.table_formats())


@bp.get("/trends")
def trends_page():
    return _trend_page(None, None)


@bp.get("/trends.<fmt>")
def trends_file(fmt: str):
    return _trend_file(fmt, None, _("历年趋势"))


def _department(ref: int) -> str:
    names = queries.department_names()
    if ref not in names:
        abort(404)
    return names[ref]


@bp.get("/departments/<int:ref>/trends")
def department_trends(ref: int):
    return _trend_page(ref, _department(ref))


@bp.get("/departments/<int:ref>/trends.<fmt>")
def department_trends_file(ref: int, fmt: str):
    return _trend_file(fmt, ref, _("%(name)s 历年趋势", name=_department(ref)))
