"""Small SVG charts rendered on the server: no script, no CDN, the same markup in the web
page and in the PDF."""

from __future__ import annotations

from html import escape


def bar_chart(rows: list[tuple[str, float]], *, width: int = 480, unit: str = "") -> str:
    """Horizontal bars, one per (label, value); returns an ``<svg>`` element."""
    if not rows:
        return ""
    bar_h, gap, label_w = 18, 8, 110
    top = max(value for _, value in rows) or 1
    height = len(rows) * (bar_h + gap) + gap
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img">'
    ]
    for i, (label, value) in enumerate(rows):
        y = gap + i * (bar_h + gap)
        length = (width - label_w - 70) * (value / top)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + bar_h - 5}" text-anchor="end" '
            f'font-size="12">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{length:.1f}" height="{bar_h}" '
            f'fill="#0b69a3"></rect>'
            f'<text x="{label_w + length + 6:.1f}" y="{y + bar_h - 5}" font-size="12">'
            f"{value:g}{escape(unit)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
