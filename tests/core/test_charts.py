"""The one chart component (portal/core/charts.py + templates/macros/chart.html): geometry in
proportion, text escaped, no script or inline style (the CSP), and every chart of both faces
drawn by it (issue 20's rule: one mechanism, in core)."""
import re
from decimal import Decimal
from pathlib import Path

from portal.config import PROJECT_ROOT
from portal.core import charts


def _chart(**kw):
    return charts.Chart(title="各部门<整改率>", categories=["教育局", "卫健委<script>"],
                        series=[charts.Series("按数量", [Decimal("0.5"), Decimal(1)]),
                                charts.Series("按金额", [None, Decimal("0.25")])],
                        fmt=lambda v: "—" if v is None else f"{float(v):.0%}", scale_max=1.0, **kw)


def test_bars_are_in_proportion_and_missing_values_draw_nothing(app):
    layout = _chart().layout()
    by_title = {m["title"]: m for m in layout["marks"]}
    full = by_title["卫健委<script> · 按数量：100%"]["w"]
    assert by_title["教育局 · 按数量：50%"]["w"] == full / 2
    assert by_title["卫健委<script> · 按金额：25%"]["w"] == full / 4
    assert by_title["教育局 · 按金额：—"]["w"] == 0
    assert [item["text"] for item in layout["legend"]] == ["按数量", "按金额"]
    columns = _chart(orientation="columns", ticks=(0, 0.5, 1)).layout()
    heights = {m["title"]: m["h"] for m in columns["marks"]}
    assert heights["教育局 · 按数量：50%"] * 2 == heights["卫健委<script> · 按数量：100%"]


def test_the_svg_is_escaped_and_has_no_script_or_inline_style(app):
    with app.test_request_context():
        svg = str(charts.render(_chart()))
        standalone = str(charts.render(_chart(), standalone=True))
    assert svg.startswith("<svg") and 'role="img"' in svg and "<title>各部门&lt;整改率&gt;</title>" in svg
    assert "<script" not in svg and "style=" not in svg and "卫健委&lt;script&gt;" in svg
    assert standalone.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<svg')
    assert svg.count("<rect") == 1 + 4 + 2  # background, four bars, two legend keys


def test_every_chart_of_both_faces_is_drawn_by_the_component():
    """No module or template builds an <svg> of its own: only the component's macro does."""
    own = []
    for root in ("portal", "public_site", "templates"):
        for path in Path(PROJECT_ROOT, root).rglob("*"):
            if path.suffix in (".py", ".html") and path.name != "chart.html" and "<svg" in path.read_text():
                own.append(str(path.relative_to(PROJECT_ROOT)))
    assert own == [], own
    users = [p for p in ("portal/ledger/charts.py", "portal/reviews/queries.py", "portal/conference/queries.py",
                         "public_site/charts.py") if re.search(r"charts\.Chart\(", (PROJECT_ROOT / p).read_text())]
    assert len(users) == 4, users
