"""The public site's charts, drawn by the one chart component (portal.core.charts): each sits
beside its data table and has its downloads."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _

from portal.core import charts, formatting
from portal.performance.models import Grade

GRADE_COLOURS = {"excellent": "#1a7f37", "good": "#1d5fa8", "fair": "#9a6700", "poor": "#b4232a"}


def _fmt(kind: str):
    if kind == "money":
        return lambda v: "—" if v is None else formatting.wan(v)
    if kind in ("rectification", "due_rectification", "rate"):
        return lambda v: formatting.percent(v)
    if kind == "score":
        return lambda v: "—" if v is None else f"{Decimal(v):.2f}" if v else "0"
    return lambda v: "—" if v is None else f"{v}"


def bar_chart(data, *, title: str, kind: str = "grades") -> charts.Chart:
    """A one-series bar chart of (label, value) rows (the /charts page, home and departments)."""
    rows = list(data)
    return charts.Chart(title=title, categories=[label for label, _v in rows],
                        series=[charts.Series(_("数值"), [v for _l, v in rows])], fmt=_fmt(kind),
                        scale_max=1.0 if kind in ("rectification", "due_rectification") else None,
                        headers=[_("类别")])


def bar_svg(data, *, title: str, kind: str = "grades", standalone: bool = False):
    return charts.render(bar_chart(data, title=title, kind=kind), standalone=standalone)


def trend_charts(trends) -> list[tuple[str, charts.Chart]]:
    """(name, chart) for grades, scores, money and 整改率 over the published years."""
    years = [str(t.year) for t in trends]
    year_header = [_("年度")]
    grades = charts.Chart(
        title=_("历年评价等级分布（评价结果数）"), categories=years, orientation="columns", headers=year_header,
        series=[charts.Series(g.label, [t.grades[g.value] for t in trends], colour=GRADE_COLOURS[g.value]) for g in Grade],
        fmt=_fmt("count"))
    scores = charts.Chart(
        title=_("历年平均得分"), categories=years, orientation="columns", headers=year_header, scale_max=100,
        ticks=(0, 60, 80, 90, 100), tick_fmt=str, fmt=_fmt("score"),
        series=[charts.Series(_("单位自评"), [t.self_score for t in trends]),
                charts.Series(_("财政评价"), [t.finance_score for t in trends])])
    money = charts.Chart(
        title=_("历年预算与评价覆盖资金"), categories=years, orientation="columns", headers=year_header, fmt=_fmt("money"),
        series=[charts.Series(_("公开目标的项目预算"), [t.budget for t in trends]),
                charts.Series(_("财政评价覆盖资金"), [t.evaluated for t in trends])])
    with_problems = [t for t in trends if t.rates is not None]
    rates = charts.Chart(
        title=_("历年整改率"), categories=[str(t.year) for t in with_problems], orientation="columns",
        headers=year_header, scale_max=1.0, ticks=(0, 0.5, 1), tick_fmt=lambda v: f"{v:.0%}", fmt=_fmt("rate"),
        series=[charts.Series(_("整改率（按数量）"), [t.rates.count_rate for t in with_problems], colour="#c8102e"),
                charts.Series(_("整改率（按金额）"), [t.rates.amount_rate for t in with_problems], colour="#f4a3a8")])
    return [("grades", grades), ("scores", scores), ("money", money), ("rectification", rates)]
