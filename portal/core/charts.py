"""The one chart mechanism of both faces: server-rendered SVG bar and column charts.

A `Chart` holds what is drawn (categories × series of numbers) and how a value reads
(`fmt`, e.g. 万元 or a percentage); `layout()` turns it into geometry and
`templates/macros/chart.html` draws it, beside a data table of the same numbers. No script and
no inline style (colours are SVG presentation attributes or classes), so it renders under the
Content-Security-Policy, in a downloaded .svg and in print. Ledger, reviews, conference and the
public site all build their charts here."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup

PALETTE = ("#1d5fa8", "#c8102e", "#1a7f37", "#9a6700", "#6f42c1", "#57606a")
INK = "#1f2328"


def _number(value) -> float:
    try:
        return float(value) if value is not None else 0.0
    except (TypeError, ValueError):
        return 0.0


def plain(value) -> str:
    return "—" if value is None else f"{value}"


@dataclass
class Series:
    name: str
    values: Sequence
    colour: str = ""
    colours: Sequence[str] | None = None  # one colour per category (e.g. by score band)
    classes: Sequence[str] | None = None  # one CSS class per category (a stylesheet may recolour)


@dataclass
class Chart:
    title: str
    categories: Sequence[str]
    series: list[Series]
    orientation: str = "bars"  # "bars": horizontal, a row per category; "columns": vertical, e.g. per year
    fmt: Callable = plain  # how a value reads on the chart and in its table
    scale_max: float | None = None  # the value a full bar stands for (e.g. 1.0 for rates, 100 for scores)
    ticks: Sequence[float] = ()  # grid lines of a column chart (values)
    tick_fmt: Callable | None = None  # how a grid line reads (default: fmt)
    width: int = 560
    css: str = "chart"
    label_chars: int = 14
    headers: Sequence[str] = field(default_factory=list)  # table headers: category, then each series

    def __post_init__(self):
        for i, s in enumerate(self.series):
            s.colour = s.colour or PALETTE[i % len(PALETTE)]

    @property
    def top(self) -> float:
        values = [_number(v) for s in self.series for v in s.values]
        return float(self.scale_max) if self.scale_max else max(values + [0.0]) or 1.0

    def rows(self) -> list[tuple[str, list]]:
        """(category, [value of each series]) — the chart's data table."""
        return [(c, [s.values[i] if i < len(s.values) else None for s in self.series])
                for i, c in enumerate(self.categories)]

    def layout(self) -> dict:
        return _bars(self) if self.orientation == "bars" else _columns(self)


def _label(chart: Chart, text) -> str:
    text = str(text)
    return text if len(text) <= chart.label_chars else text[: chart.label_chars - 1] + "…"


def _mark(chart, s: Series, i: int, x, y, w, h, value) -> dict:
    colour = s.colours[i] if s.colours and i < len(s.colours) else s.colour
    css = s.classes[i] if s.classes and i < len(s.classes) else ""
    name = f"{chart.categories[i]}" + (f" · {s.name}" if len(chart.series) > 1 else "")
    return {"x": round(x, 1), "y": round(y, 1), "w": round(max(w, 0.0), 1), "h": round(max(h, 0.0), 1),
            "fill": colour, "css": css, "title": f"{name}：{chart.fmt(value)}"}


def _legend(chart: Chart, y: int) -> list[dict]:
    if len(chart.series) < 2:
        return []
    x, out = 8, []
    for s in chart.series:
        out.append({"x": x, "y": y, "fill": s.colour, "text": s.name})
        x += 24 + 14 * len(s.name) + 16
    return out


def _bars(chart: Chart) -> dict:
    n_series = len(chart.series) or 1
    label_w, value_w = 190, 90
    bar_h = 24 if n_series == 1 else 13
    legend_h = 24 if n_series > 1 else 0
    row_h = bar_h * n_series + 10
    top, span = chart.top, chart.width - label_w - value_w
    marks, texts = [], []
    for i, category in enumerate(chart.categories):
        y0 = legend_h + 5 + i * row_h
        texts.append({"x": label_w - 8, "y": y0 + (bar_h * n_series) / 2 + 5, "text": _label(chart, category),
                      "anchor": "end", "size": 14 if n_series == 1 else 13})
        for j, s in enumerate(chart.series):
            value = s.values[i] if i < len(s.values) else None
            w = span * min(max(_number(value) / top, 0.0), 1.0)
            y = y0 + j * bar_h
            marks.append(_mark(chart, s, i, label_w, y, max(w, 1.0 if value else 0.0), bar_h - (1 if n_series > 1 else 0), value))
            texts.append({"x": label_w + w + 6, "y": y + bar_h - (7 if n_series == 1 else 2), "text": chart.fmt(value),
                          "anchor": "start", "size": 14 if n_series == 1 else 11})
    height = legend_h + max(len(chart.categories), 1) * row_h + 10
    return {"width": chart.width, "height": height, "marks": marks, "texts": texts, "lines": [],
            "legend": _legend(chart, 6)}


def _columns(chart: Chart) -> dict:
    n_series = len(chart.series) or 1
    height = 240
    legend_h = 24 if n_series > 1 else 0
    pad, base, ceiling = 48, height - 30, legend_h + 20
    top = chart.top
    slot = (chart.width - pad - 10) / max(len(chart.categories), 1)
    group_w = slot * 0.7
    bar_w = group_w / n_series
    lines, marks, texts = [{"x1": pad, "y1": base, "x2": chart.width - 10, "y2": base, "stroke": "#555"}], [], []
    for tick in chart.ticks:
        y = base - (base - ceiling) * _number(tick) / top
        texts.append({"x": pad - 6, "y": round(y + 4, 1), "text": (chart.tick_fmt or chart.fmt)(tick), "anchor": "end",
                      "size": 11})
        if tick:
            lines.append({"x1": pad, "y1": round(y, 1), "x2": chart.width - 10, "y2": round(y, 1), "stroke": "#ddd"})
    for i, category in enumerate(chart.categories):
        x0 = pad + i * slot + (slot - group_w) / 2
        for j, s in enumerate(chart.series):
            value = s.values[i] if i < len(s.values) else None
            h = (base - ceiling) * min(max(_number(value) / top, 0.0), 1.0)
            x = x0 + j * bar_w
            marks.append(_mark(chart, s, i, x, base - h, bar_w - (2 if n_series > 1 else 0), h, value))
            texts.append({"x": round(x + bar_w / 2, 1), "y": round(base - h - 4, 1), "text": chart.fmt(value),
                          "anchor": "middle", "size": 11 if n_series < 3 else 9})
        texts.append({"x": round(x0 + group_w / 2, 1), "y": base + 16, "text": _label(chart, category),
                      "anchor": "middle", "size": 12})
    return {"width": chart.width, "height": height, "marks": marks, "texts": texts, "lines": lines,
            "legend": _legend(chart, 6)}


def render(chart: Chart, *, standalone: bool = False) -> Markup:
    """The SVG as markup (the same macro the templates call); `standalone` for an .svg download."""
    from flask import current_app

    macros = current_app.jinja_env.get_template("macros/chart.html").module
    svg = str(macros.svg(chart)).strip()
    if standalone:
        svg = '<?xml version="1.0" encoding="UTF-8"?>\n' + svg
    return Markup(svg)
