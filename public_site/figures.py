"""A year's figures that finance published (公开的年度统计): the ex-ante assessments' 事前绩效评估情况
per budget year and department with the generated paragraph, and their downloads. Read from
pub_year_figures only: what was never published, or was withdrawn, is not shown."""
from __future__ import annotations

from decimal import Decimal

from flask import abort, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from public_site import queries
from public_site.downloads import MONEY, download
from public_site.views import bp

# the kinds this site shows (the portal's providers register the same names)
TITLES = {"ex_ante": _l("事前绩效评估情况")}


def _kind(kind: str) -> str:
    if kind not in TITLES:
        abort(404)
    return kind


@bp.get("/figures/<kind>/")
def figures_index(kind: str):
    rows = queries.figures_years(_kind(kind))
    return render_template("public_site/figures_index.html", kind=kind, title=TITLES[kind], rows=rows)


def _published(kind: str, year: int):
    row = queries.figures_of(_kind(kind), year)
    if row is None:
        abort(404)
    return row


@bp.get("/figures/<kind>/<int:year>")
def figures_year(kind: str, year: int):
    row = _published(kind, year)
    return render_template("public_site/figures.html", kind=kind, title=TITLES[kind], row=row, data=row.payload)


COLUMNS = (("department", _l("主管部门")), ("assessed", _l("评估项目数")), ("supported", _l("予以支持")),
           ("adjusted", _l("调整后支持")), ("rejected", _l("不予支持")), ("requested", _l("申请金额（元）")),
           ("recommended", _l("建议安排金额（元）")), ("cut", _l("核减金额（元）")))
MONEY_COLUMNS = {"requested", "recommended", "cut"}


@bp.get("/figures/<kind>/<int:year>.<fmt>")
def figures_file(kind: str, year: int, fmt: str):
    row = _published(kind, year)
    if row.withdrawn:
        abort(404)
    data = row.payload
    lines = [*data["departments"], data["total"]]

    def cells(line):
        return [Decimal(line[k]) if k in MONEY_COLUMNS else line[k] for k, _label in COLUMNS]

    return download(fmt, _("%(year)s年度%(title)s", year=year, title=TITLES[kind]), lines,
                    [label for _k, label in COLUMNS], cells,
                    lambda line: {k: line[k] for k, _label in COLUMNS},
                    formats=[MONEY if k in MONEY_COLUMNS else None for k, _label in COLUMNS])
