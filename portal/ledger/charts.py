"""A server-rendered SVG bar chart of rectification rates (no JavaScript library)."""
from __future__ import annotations

from markupsafe import Markup, escape

from portal.core.formatting import percent


def rate_chart(rows, *, title: str = "", width: int = 640) -> Markup:
    """Two bars per row: 整改率 by count (dark) and by amount (light), 0–100 %."""
    label_w, bar_w, row_h = 200, width - 200 - 70, 34
    height = 40 + row_h * max(len(rows), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="ledger-chart" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
             f'<title>{escape(title)}</title>',
             '<rect x="0" y="0" width="100%" height="100%" fill="#ffffff"/>',
             f'<rect x="{label_w}" y="8" width="12" height="10" fill="#c8102e"/>'
             f'<text x="{label_w + 16}" y="17" font-size="12">按数量</text>',
             f'<rect x="{label_w + 80}" y="8" width="12" height="10" fill="#f4a3a8"/>'
             f'<text x="{label_w + 96}" y="17" font-size="12">按金额</text>']
    for i, row in enumerate(rows):
        y = 30 + i * row_h
        label = row.label if len(row.label) <= 14 else row.label[:13] + "…"
        parts.append(f'<text x="{label_w - 6}" y="{y + 16}" font-size="12" text-anchor="end">{escape(label)}</text>')
        for j, (rate, colour) in enumerate(((row.count_rate, "#c8102e"), (row.amount_rate, "#f4a3a8"))):
            value = float(rate or 0)
            w = max(0.0, min(1.0, value)) * bar_w
            parts.append(f'<rect x="{label_w}" y="{y + j * 13}" width="{w:.1f}" height="11" fill="{colour}"/>')
            parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + j * 13 + 10}" font-size="11">'
                         f'{escape(percent(rate) if rate is not None else "—")}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
