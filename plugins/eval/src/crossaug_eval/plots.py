"""Small, dependency-free SVG charts for the report (no JavaScript, no CDN).

Example:
    >>> svg = line_chart({"none": [(1, 0.5, 0.4, 0.6), (5, 0.7, 0.6, 0.8)]}, "k", "accuracy")
    >>> svg.startswith("<svg") and svg.count("<circle") == 2
    True
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

PALETTE = ["#444444", "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
           "#bcbd22"]


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:  # one value: centre it
        lo, hi = lo - 0.5, hi + 0.5
    step = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(step))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= step), default=step)
    start = math.floor(lo / step) * step
    out, v = [], start
    while True:
        out.append(round(v, 10))
        if v >= hi - 1e-12:
            return out
        v += step


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def _frame(width: int, height: int, title: str, xlabel: str, ylabel: str, pad: tuple[int, int, int, int]) -> list[str]:
    left, right, top, bottom = pad
    return [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(title or ylabel)}" '
            'font-family="system-ui,sans-serif" font-size="11">',
            f'<rect x="0" y="0" width="{width}" height="{height}" fill="white"/>',
            f'<text x="{width / 2}" y="14" text-anchor="middle" font-size="13">{html.escape(title)}</text>',
            f'<text x="{left + (width - left - right) / 2}" y="{height - 4}" text-anchor="middle">'
            f'{html.escape(xlabel)}</text>',
            f'<text x="12" y="{top + (height - top - bottom) / 2}" text-anchor="middle" '
            f'transform="rotate(-90 12 {top + (height - top - bottom) / 2})">{html.escape(ylabel)}</text>']


def line_chart(series: dict[str, Sequence[tuple[float, float, float, float]]], xlabel: str, ylabel: str,
               title: str = "", width: int = 560, height: int = 340) -> str:
    """Lines with 95% interval error bars: ``{name: [(x, y, low, high), ...]}``; x on a categorical axis."""
    xs = sorted({p[0] for pts in series.values() for p in pts})
    ys = [v for pts in series.values() for p in pts for v in p[1:] if v is not None and not math.isnan(v)]
    if not xs or not ys:
        return ""
    pad = (52, 150, 30, 40)
    left, right, top, bottom = pad
    ticks = _ticks(min(ys), max(ys))
    lo, hi = ticks[0], ticks[-1]
    pw, ph = width - left - right, height - top - bottom
    xpos = {x: left + (i + 0.5) * pw / len(xs) for i, x in enumerate(xs)}
    ypos = lambda v: top + ph - (v - lo) / (hi - lo or 1) * ph
    out = _frame(width, height, title, xlabel, ylabel, pad)
    for t in ticks:
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{ypos(t):.1f}" y2="{ypos(t):.1f}" stroke="#e5e5e5"/>'
                   f'<text x="{left - 4}" y="{ypos(t) + 4:.1f}" text-anchor="end">{_fmt(t)}</text>')
    for x in xs:
        out.append(f'<text x="{xpos[x]:.1f}" y="{top + ph + 16}" text-anchor="middle">{_fmt(x)}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>')
    n = max(1, len(series))
    for si, (name, pts) in enumerate(series.items()):
        color = PALETTE[si % len(PALETTE)]
        off = (si - (n - 1) / 2) * min(6.0, pw / len(xs) / (n + 1))
        pts = sorted(pts)
        path = " ".join(f"{'M' if i == 0 else 'L'}{xpos[p[0]] + off:.1f},{ypos(p[1]):.1f}" for i, p in enumerate(pts))
        out.append(f'<g class="series" data-name="{html.escape(name)}"><path d="{path}" fill="none" '
                   f'stroke="{color}" stroke-width="1.8"/>')
        for x, y, lo, h in pts:
            cx = xpos[x] + off
            if lo is not None and h is not None and not (math.isnan(lo) or math.isnan(h)):
                out.append(f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{ypos(lo):.1f}" y2="{ypos(h):.1f}" '
                           f'stroke="{color}" stroke-width="1"/>')
            out.append(f'<circle cx="{cx:.1f}" cy="{ypos(y):.1f}" r="3" fill="{color}">'
                       f'<title>{html.escape(name)} k={_fmt(x)}: {y:.3f} [{_fmt(lo)}, {_fmt(h)}]</title></circle>')
        out.append("</g>")
        ly = top + 10 + si * 16
        out.append(f'<line x1="{left + pw + 10}" x2="{left + pw + 28}" y1="{ly}" y2="{ly}" stroke="{color}" '
                   f'stroke-width="2"/><text x="{left + pw + 32}" y="{ly + 4}">{html.escape(name)}</text>')
    out.append("</svg>")
    return "".join(out)


def scatter(points: Sequence[tuple[str, float, float]], xlabel: str, ylabel: str, title: str = "",
            width: int = 560, height: int = 340) -> str:
    """Labelled points ``[(name, x, y), ...]`` (e.g. affinity vs diversity per method)."""
    pts = [(n, x, y) for n, x, y in points if x is not None and y is not None
           and not (math.isnan(x) or math.isnan(y))]
    if not pts:
        return ""
    pad = (52, 110, 30, 40)
    left, right, top, bottom = pad
    xt = _ticks(min(p[1] for p in pts), max(p[1] for p in pts))
    yt = _ticks(min(p[2] for p in pts), max(p[2] for p in pts))
    pw, ph = width - left - right, height - top - bottom
    xpos = lambda v: left + (v - xt[0]) / (xt[-1] - xt[0] or 1) * pw
    ypos = lambda v: top + ph - (v - yt[0]) / (yt[-1] - yt[0] or 1) * ph
    out = _frame(width, height, title, xlabel, ylabel, pad)
    for t in yt:
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{ypos(t):.1f}" y2="{ypos(t):.1f}" stroke="#e5e5e5"/>'
                   f'<text x="{left - 4}" y="{ypos(t) + 4:.1f}" text-anchor="end">{_fmt(t)}</text>')
    for t in xt:
        out.append(f'<text x="{xpos(t):.1f}" y="{top + ph + 16}" text-anchor="middle">{_fmt(t)}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>')
    for i, (name, x, y) in enumerate(pts):
        color = PALETTE[i % len(PALETTE)]
        out.append(f'<circle cx="{xpos(x):.1f}" cy="{ypos(y):.1f}" r="4" fill="{color}"><title>{html.escape(name)}: '
                   f'{xlabel} {x:.3f}, {ylabel} {y:.3f}</title></circle><text x="{xpos(x) + 6:.1f}" '
                   f'y="{ypos(y) - 6:.1f}" fill="{color}">{html.escape(name)}</text>')
    out.append("</svg>")
    return "".join(out)


def eval_plots(ev: dict) -> dict[str, str]:
    """The report's two charts for an evaluation (``eval.json`` contents): accuracy vs k, diversity vs affinity.

    Example:
        >>> ev = {"table": [{"method": "none", "k": 1, "mean": 0.5, "ci_low": 0.4, "ci_high": 0.6}]}
        >>> sorted(eval_plots(ev)), eval_plots(ev)["quality"]
        (['accuracy', 'quality'], '')
    """
    series: dict[str, list[tuple[float, float, float, float]]] = {}
    for r in ev.get("table") or []:
        series.setdefault(r["method"], []).append((r["k"], r["mean"], r["ci_low"], r["ci_high"]))
    points = [(name, q.get("affinity"), q.get("diversity")) for name, q in (ev.get("quality") or {}).items()]
    return {"accuracy": line_chart(series, "examples per class (k)", "test accuracy", "Accuracy vs k (95% intervals)"),
            "quality": scatter(points, "affinity", "diversity", "Diversity vs affinity")}


__all__ = ["line_chart", "scatter", "eval_plots"]
