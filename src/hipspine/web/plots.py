"""Small server-side SVG plots (no JavaScript, prints well, works offline).

`prom_trajectory` draws one instrument's scores over time with the MCID line: the baseline
score moved by the instrument's default minimal important change, in the better direction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from html import escape


@dataclass(frozen=True)
class Point:
    day: dt.date
    score: float


def prom_trajectory(title: str, points: list[Point], lo: float, hi: float,
                    mcid: float | None, higher_is_better: bool, mcid_label: str = "MCID",
                    width: int = 640, height: int = 240) -> str:
    """An accessible SVG line plot of scores with an optional MCID target line."""
    pad_l, pad_r, pad_t, pad_b = 48, 16, 28, 36
    pts = sorted(points, key=lambda p: p.day)
    if not pts:
        return ""
    first, last = pts[0].day, pts[-1].day
    span = max((last - first).days, 1)
    inner_w, inner_h = width - pad_l - pad_r, height - pad_t - pad_b
    rng = (hi - lo) or 1.0

    def x(day: dt.date) -> float:
        return pad_l + inner_w * ((day - first).days / span if len(pts) > 1 else 0.5)

    def y(score: float) -> float:
        return pad_t + inner_h * (1 - (min(max(score, lo), hi) - lo) / rng)

    desc = "; ".join(f"{p.day.isoformat()}: {p.score:g}" for p in pts)
    parts = [
        f'<svg class="plot" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}: {escape(desc)}">',
        f'<text x="{pad_l}" y="18" font-size="14" font-weight="700">{escape(title)}</text>',
        f'<line x1="{pad_l}" y1="{pad_t}" x2="{pad_l}" y2="{pad_t + inner_h}" stroke="#333"/>',
        f'<line x1="{pad_l}" y1="{pad_t + inner_h}" x2="{pad_l + inner_w}" '
        f'y2="{pad_t + inner_h}" stroke="#333"/>',
    ]
    for value in (lo, (lo + hi) / 2, hi):
        parts.append(f'<text x="{pad_l - 6}" y="{y(value) + 4:.1f}" font-size="11" '
                     f'text-anchor="end">{value:g}</text>')
    if mcid is not None:
        target = pts[0].score + (mcid if higher_is_better else -mcid)
        if lo <= target <= hi:
            parts.append(f'<line class="mcid" x1="{pad_l}" x2="{pad_l + inner_w}" '
                         f'y1="{y(target):.1f}" y2="{y(target):.1f}" stroke="#1e6b2e" '
                         f'stroke-dasharray="6 4" stroke-width="2"/>')
            parts.append(f'<text x="{pad_l + inner_w - 4}" y="{y(target) - 4:.1f}" '
                         f'font-size="11" text-anchor="end" fill="#1e6b2e">'
                         f'{escape(mcid_label)} ({target:g})</text>')
    path = " ".join(f"{x(p.day):.1f},{y(p.score):.1f}" for p in pts)
    parts.append(f'<polyline points="{path}" fill="none" stroke="#0b5394" stroke-width="2.5"/>')
    for p in pts:
        parts.append(f'<circle cx="{x(p.day):.1f}" cy="{y(p.score):.1f}" r="4" fill="#0b5394">'
                     f'<title>{p.day.isoformat()}: {p.score:g}</title></circle>')
    parts.append(f'<text x="{pad_l}" y="{height - 10}" font-size="11">{first.isoformat()}</text>')
    if len(pts) > 1:
        parts.append(f'<text x="{pad_l + inner_w}" y="{height - 10}" font-size="11" '
                     f'text-anchor="end">{last.isoformat()}</text>')
    parts.append("</svg>")
    return "".join(parts)


_PALETTE = ("#0b5394", "#8a3b00", "#1e6b2e", "#5b2a86", "#a00000", "#555555")


def step_curves(title: str, curves: list[tuple[str, list[tuple[float, float]]]],
                x_label: str = "days", width: int = 640, height: int = 260) -> str:
    """Kaplan-Meier style step curves (survival 0..1 against time), one colour per group."""
    pad_l, pad_r, pad_t, pad_b = 48, 16, 28, 52
    drawn = [(name, sorted(points)) for name, points in curves if points]
    if not drawn:
        return ""
    t_max = max(p[0] for _, pts in drawn for p in pts) or 1.0
    inner_w, inner_h = width - pad_l - pad_r, height - pad_t - pad_b

    def x(t: float) -> float:
        return pad_l + inner_w * t / t_max

    def y(s: float) -> float:
        return pad_t + inner_h * (1 - max(0.0, min(1.0, s)))

    parts = [f'<svg class="plot" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}">',
             f'<text x="{pad_l}" y="18" font-size="14" font-weight="700">{escape(title)}</text>',
             f'<line x1="{pad_l}" y1="{pad_t}" x2="{pad_l}" y2="{pad_t + inner_h}" '
             f'stroke="#333"/>',
             f'<line x1="{pad_l}" y1="{pad_t + inner_h}" x2="{pad_l + inner_w}" '
             f'y2="{pad_t + inner_h}" stroke="#333"/>']
    for s in (0.0, 0.5, 1.0):
        parts.append(f'<text x="{pad_l - 6}" y="{y(s) + 4:.1f}" font-size="11" '
                     f'text-anchor="end">{s:g}</text>')
    parts.append(f'<text x="{pad_l + inner_w}" y="{pad_t + inner_h + 16}" font-size="11" '
                 f'text-anchor="end">{t_max:.0f} {escape(x_label)}</text>')
    for i, (name, pts) in enumerate(drawn):
        colour = _PALETTE[i % len(_PALETTE)]
        path = [f"M{x(0):.1f},{y(1.0):.1f}"]
        last_s = 1.0
        for t, s in pts:
            path.append(f"H{x(t):.1f}V{y(s):.1f}")
            last_s = s
        path.append(f"H{x(t_max):.1f}V{y(last_s):.1f}")
        parts.append(f'<path d="{"".join(path)}" fill="none" stroke="{colour}" '
                     f'stroke-width="2.2"/>')
        parts.append(f'<rect x="{pad_l + 8 + 150 * i}" y="{height - 20}" width="12" '
                     f'height="12" fill="{colour}"/><text x="{pad_l + 24 + 150 * i}" '
                     f'y="{height - 10}" font-size="12">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)
