"""Inline SVG charts: bars (grouped or stacked) and lines. Small, dependency-free, escaped."""

from __future__ import annotations

import html
from collections.abc import Sequence

PALETTE = ["#3e7bfa", "#d64545", "#2f9e44", "#f08c00", "#7048e8", "#0c8599", "#868e96", "#e64980"]


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    import math

    exp = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * exp:
            return m * exp
    return 10 * exp


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 10 or float(v).is_integer() else f"{v:.2g}"


def bar_chart(labels: Sequence[str], series: dict[str, Sequence[float]], *, title: str = "",
              stacked: bool = False, width: int = 640, height: int = 260) -> str:
    e = html.escape
    n = max(len(labels), 1)
    names = list(series)
    totals = [sum(series[s][i] for s in names) for i in range(len(labels))] if stacked else \
        [max((series[s][i] for s in names), default=0) for i in range(len(labels))]
    top = _nice_max(max(totals, default=0))
    left, bottom, right, top_pad = 48, 40, 12, 24
    pw, ph = width - left - right, height - bottom - top_pad
    slot = pw / n
    bar_w = slot * 0.7 / (1 if stacked else max(len(names), 1))
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
             f"<title>{e(title)}</title>"]
    for k in range(5):
        y = top_pad + ph - ph * k / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e9ecef"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#495057">'
                     f"{_fmt(top * k / 4)}</text>")
    for i, label in enumerate(labels):
        x0 = left + slot * i + slot * 0.15
        base = 0.0
        for j, name in enumerate(names):
            v = float(series[name][i])
            h = ph * v / top
            if stacked:
                x, y = x0, top_pad + ph - ph * (base + v) / top
                base += v
            else:
                x, y = x0 + j * bar_w, top_pad + ph - h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{max(h, 0):.1f}" '
                         f'fill="{PALETTE[j % len(PALETTE)]}"><title>{e(str(label))} · {e(name)}: {_fmt(v)}</title></rect>')
        if n <= 16 or i % max(1, n // 12) == 0:
            parts.append(f'<text x="{left + slot * (i + 0.5):.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                         f'font-size="11" fill="#495057">{e(str(label))[:14]}</text>')
    parts.append(_legend(names, left, height - 8))
    parts.append("</svg>")
    return "".join(parts)


def line_chart(labels: Sequence[str], series: dict[str, Sequence[float]], *, title: str = "",
               width: int = 640, height: int = 260, y_max: float | None = None, percent: bool = False) -> str:
    e = html.escape
    names = list(series)
    top = y_max if y_max is not None else _nice_max(max((max(v, default=0) for v in series.values()), default=0))
    left, bottom, right, top_pad = 48, 40, 12, 24
    pw, ph = width - left - right, height - bottom - top_pad
    n = max(len(labels) - 1, 1)
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
             f"<title>{e(title)}</title>"]
    for k in range(5):
        y = top_pad + ph - ph * k / 4
        val = top * k / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e9ecef"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#495057">'
                     f"{f'{100 * val:.0f}%' if percent else _fmt(val)}</text>")
    for j, name in enumerate(names):
        pts = " ".join(f"{left + pw * i / n:.1f},{top_pad + ph - ph * float(v) / (top or 1):.1f}"
                       for i, v in enumerate(series[name]))
        parts.append(f'<polyline fill="none" stroke="{PALETTE[j % len(PALETTE)]}" stroke-width="2" points="{pts}">'
                     f"<title>{e(name)}</title></polyline>")
    step = max(1, len(labels) // 8)
    for i, label in enumerate(labels):
        if i % step == 0 or i == len(labels) - 1:
            parts.append(f'<text x="{left + pw * i / n:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                         f'font-size="11" fill="#495057">{e(str(label))[:14]}</text>')
    parts.append(_legend(names, left, height - 8))
    parts.append("</svg>")
    return "".join(parts)


def _legend(names: list[str], x: float, y: float) -> str:
    out = []
    for j, name in enumerate(names):
        xx = x + j * 130
        out.append(f'<rect x="{xx}" y="{y - 9}" width="10" height="10" fill="{PALETTE[j % len(PALETTE)]}"/>'
                   f'<text x="{xx + 14}" y="{y}" font-size="11" fill="#212529">{html.escape(str(name))[:18]}</text>')
    return "".join(out)
