"""Server-rendered SVG bar charts (no JavaScript); every chart sits beside its data table."""
from __future__ import annotations

from decimal import Decimal

from markupsafe import Markup, escape

WAN = Decimal(10_000)


def _value(kind: str, value) -> float:
    if kind == "money":
        return float(Decimal(value or 0) / WAN)
    if kind == "rectification":
        return float(value or 0) * 100
    return float(value or 0)


def display(kind: str, value) -> str:
    if kind == "money":
        return f"{_value(kind, value):,.2f}"
    if kind == "rectification":
        return f"{_value(kind, value):.1f}%"
    return f"{value}"


def bar_svg(data, *, title: str, kind: str = "grades", standalone: bool = False) -> Markup:
    rows = list(data)
    width, bar_h, gap, label_w = 560, 24, 10, 190
    height = max(1, len(rows)) * (bar_h + gap) + 10
    top = max([_value(kind, v) for _l, v in rows] + [1.0])
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}" class="chart">', f"<title>{escape(title)}</title>"]
    for i, (label, value) in enumerate(rows):
        y = 5 + i * (bar_h + gap)
        w = int((width - label_w - 90) * _value(kind, value) / top)
        parts.append(f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end" font-size="14" fill="#1a1a1a">'
                     f"{escape(str(label)[:14])}</text>")
        parts.append(f'<rect x="{label_w}" y="{y}" width="{max(w, 1)}" height="{bar_h}" fill="#1d5fa8"/>')
        parts.append(f'<text x="{label_w + max(w, 1) + 6}" y="{y + 17}" font-size="14" fill="#1a1a1a">'
                     f"{escape(display(kind, value))}</text>")
    parts.append("</svg>")
    svg = "".join(parts)
    if standalone:
        return Markup('<?xml version="1.0" encoding="UTF-8"?>\n' + svg)
    return Markup(svg)
