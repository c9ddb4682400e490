"""The ledger's 整改率 chart, drawn by the one chart component (portal.core.charts)."""
from __future__ import annotations

from flask_babel import gettext as _
from markupsafe import Markup

from portal.core import charts
from portal.core.formatting import percent


def rate_chart_of(rows, *, title: str = "", width: int = 640) -> charts.Chart:
    """Two bars per row: 整改率 by count (dark) and by amount (light), 0–100 %."""
    return charts.Chart(
        title=title, categories=[row.label for row in rows], width=width, css="chart ledger-chart",
        series=[charts.Series(_("按数量"), [row.count_rate for row in rows], colour="#c8102e"),
                charts.Series(_("按金额"), [row.amount_rate for row in rows], colour="#f4a3a8")],
        fmt=lambda v: percent(v) if v is not None else "—", scale_max=1.0)


def rate_chart(rows, *, title: str = "", width: int = 640, standalone: bool = False) -> Markup:
    return charts.render(rate_chart_of(rows, title=title, width=width), standalone=standalone)
