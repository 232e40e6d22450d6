"""Draw the landmarks with the measured angles, so a surgeon can check them at a glance.

SVG is written by hand (no dependency); PNG goes through matplotlib, imported only when a
PNG is asked for. One panel per view, all views at one scale (computed from every view's
extent), so standing and sitting can be compared by eye; labels are nudged apart so that
none overlaps another or a landmark.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from html import escape

from hipspine.models.landmarks import Landmarks, SpinopelvicResult, View, ViewParameters
from hipspine.spinopelvic.geometry import midpoint

_COLOURS = {"s1": "#d62728", "l1": "#1f77b4", "hip": "#2ca02c", "c7": "#9467bd"}


def _views(landmarks: Landmarks, result: SpinopelvicResult
           ) -> list[tuple[str, View, ViewParameters]]:
    out = [("standing", landmarks.standing, result.standing)]
    if landmarks.sitting is not None and result.sitting is not None:
        out.append(("sitting", landmarks.sitting, result.sitting))
    if landmarks.flexed_seated is not None and result.flexed_seated is not None:
        out.append(("flexed_seated", landmarks.flexed_seated, result.flexed_seated))
    return out


def _segments(view: View) -> list[tuple[tuple[float, float], tuple[float, float], str]]:
    """The lines the definitions use: endplates, S1-midpoint->hip axis, plumb lines."""
    s1_mid = midpoint(view.s1_posterior, view.s1_anterior)
    hip = midpoint(view.femoral_head_1, view.femoral_head_2)
    endplate = math.dist(view.s1_posterior, view.s1_anterior)
    # Perpendicular to the S1 endplate at its midpoint, on the caudal side (the PI arm).
    ex, ey = view.s1_anterior[0] - view.s1_posterior[0], view.s1_anterior[1] - view.s1_posterior[1]
    norm = math.hypot(ex, ey) or 1.0
    reach = math.dist(s1_mid, hip)
    # In image coordinates (y down) the caudal normal is the endplate turned towards +y.
    nx, ny = -ey / norm, ex / norm
    if ny < 0:
        nx, ny = -nx, -ny
    segs = [
        (s1_mid, (s1_mid[0] + nx * reach, s1_mid[1] + ny * reach), "#ff7f0e"),
        (view.s1_posterior, view.s1_anterior, _COLOURS["s1"]),
        (s1_mid, hip, _COLOURS["hip"]),
        (view.femoral_head_1, view.femoral_head_2, _COLOURS["hip"]),
        (s1_mid, (s1_mid[0], s1_mid[1] + 1.5 * endplate), "#888888"),  # vertical for PT
        ((view.s1_posterior[0] - endplate * 0.3, view.s1_posterior[1]),
         (view.s1_anterior[0] + endplate * 0.3, view.s1_posterior[1]), "#888888"),  # horizontal
    ]
    if view.l1_anterior is not None and view.l1_posterior is not None:
        segs.append((view.l1_posterior, view.l1_anterior, _COLOURS["l1"]))
    if view.c7_centroid is not None:
        segs.append((view.c7_centroid, (view.c7_centroid[0], view.s1_posterior[1]),
                     _COLOURS["c7"]))
    if view.femoral_shaft is not None:
        segs.append((hip, view.femoral_shaft, "#8c564b"))
    return segs


def _angle_labels(view: View, params: ViewParameters
                  ) -> list[tuple[str, tuple[float, float]]]:
    """Each angle's value beside the vertex it is measured at."""
    s1_mid = midpoint(view.s1_posterior, view.s1_anterior)
    hip = midpoint(view.femoral_head_1, view.femoral_head_2)
    out = []
    if params.ss is not None:
        out.append((f"SS {params.ss:g}°", view.s1_anterior))
    if params.pt is not None and params.pi is not None:
        near_s1 = (s1_mid[0] + 0.3 * (hip[0] - s1_mid[0]), s1_mid[1] + 0.3 * (hip[1] - s1_mid[1]))
        out.append((f"PT {params.pt:g}° / PI {params.pi:g}°", near_s1))
    if params.ll is not None and view.l1_anterior is not None:
        out.append((f"LL {params.ll:g}°", view.l1_anterior))
    if params.sva_mm is not None and view.c7_centroid is not None:
        out.append((f"SVA {params.sva_mm:g} mm", view.c7_centroid))
    return out


def _label(params: ViewParameters) -> list[str]:
    def fmt(v: float | None, unit: str = "°") -> str:
        return "n/c" if v is None else f"{v:g}{unit}"
    return [f"PI {fmt(params.pi)}  PT {fmt(params.pt)}  SS {fmt(params.ss)}",
            f"LL {fmt(params.ll)}  PI-LL {fmt(params.pi_ll)}  SVA {fmt(params.sva_mm, ' mm')}"]


def _bounds(view: View) -> tuple[float, float, float, float]:
    pts = [p for _, p in _present(view)]
    for a, b, _ in _segments(view):
        pts += [a, b]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    pad = 0.15 * max(max(xs) - min(xs), max(ys) - min(ys), 1.0)
    return min(xs) - pad, min(ys) - pad, max(xs) + pad, max(ys) + pad


def _present(view: View) -> list[tuple[str, tuple[float, float]]]:
    return [(n, getattr(view, n)) for n in View.model_fields if getattr(view, n) is not None]


PANEL_SIZE = 500.0  # the largest view's larger extent, in picture px
MARGIN = 20.0  # picture px round each view's drawing
TOP = 60.0  # the panel's header (view name and parameter lines) sits above this
Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in picture px


@dataclass(frozen=True)
class Label:
    """One text in a panel: where it is drawn (baseline start) and the point it names."""

    text: str
    x: float
    y: float
    size: float
    anchor: tuple[float, float]
    bold: bool = False

    @property
    def box(self) -> Box:
        return text_box(self.text, self.x, self.y, self.size)


@dataclass(frozen=True)
class Panel:
    name: str
    view: View
    params: ViewParameters
    scale: float  # picture px per image px, the same for every view
    x0: float  # image coordinates at the panel's left and top edge
    y0: float
    offset: float  # the panel's left edge in the picture
    width: float
    height: float
    labels: list[Label] = field(default_factory=list)

    def tx(self, p: tuple[float, float]) -> tuple[float, float]:
        return self.offset + (p[0] - self.x0) * self.scale, TOP + (p[1] - self.y0) * self.scale


def text_box(text: str, x: float, y: float, size: float) -> Box:
    """A generous estimate of a sans-serif text's box (start-anchored at baseline y)."""
    return x, y - size, x + 0.62 * size * len(text), y + 0.3 * size


def _overlaps(a: Box, b: Box, gap: float = 1.0) -> bool:
    return a[0] < b[2] + gap and b[0] < a[2] + gap and a[1] < b[3] + gap and b[1] < a[3] + gap


def _place(wanted: list[Label], obstacles: list[Box]) -> list[Label]:
    """Nudge labels apart, deterministically: each label in turn takes the first position
    (its own, then small steps down, up, right and left, growing) that meets nothing placed."""
    placed: list[Box] = list(obstacles)
    out = []
    for label in wanted:
        step = label.size + 2
        candidates = [(0.0, 0.0)]
        for k in range(1, 40):
            candidates += [(0.0, k * step), (0.0, -k * step),
                           (k * step, 0.0), (k * step, k * step), (k * step, -k * step)]
        chosen = None
        for dx, dy in candidates:
            box = text_box(label.text, label.x + dx, label.y + dy, label.size)
            if box[1] < TOP - 4:  # never into the header lines
                continue
            if not any(_overlaps(box, other) for other in placed):
                chosen = replace(label, x=label.x + dx, y=label.y + dy)
                break
        if chosen is None:  # below everything placed: free by construction
            bottom = max((b[3] for b in placed), default=label.y)
            chosen = replace(label, y=bottom + label.size + 2)
        placed.append(chosen.box)
        out.append(chosen)
    return out


def layout(landmarks: Landmarks, result: SpinopelvicResult) -> list[Panel]:
    """The panels with one common scale for all views (so standing and sitting compare at a
    glance) and their labels placed so that no two overlap."""
    views = _views(landmarks, result)
    bounds = [_bounds(view) for _, view, _ in views]
    extent = max(max(x1 - x0, y1 - y0) for x0, y0, x1, y1 in bounds)
    scale = PANEL_SIZE / max(extent, 1.0)
    panels = []
    offset = 0.0
    margin = MARGIN / scale  # room for labels round a small view, in image px
    for (name, view, params), (x0, y0, x1, y1) in zip(views, bounds, strict=True):
        x0, y0, x1, y1 = x0 - margin, y0 - margin, x1 + margin, y1 + margin
        w, h = x1 - x0, y1 - y0
        pw, ph = max(w * scale, 320.0), h * scale + 70
        x0 -= (pw - w * scale) / 2 / scale  # centre a narrow view in its panel
        panel = Panel(name, view, params, scale, x0, y0, offset, pw, ph)
        dots: list[Box] = []
        wanted = []
        for text, anchor in _angle_labels(view, params):
            ax, ay = panel.tx(anchor)
            wanted.append(Label(text, ax + 8, ay + 4, 12.0, (ax, ay), bold=True))
        for label, point in _present(view):
            px, py = panel.tx(point)
            dots.append((px - 4, py - 4, px + 4, py + 4))
            wanted.append(Label(label, px + 6, py - 6, 11.0, (px, py)))
        panels.append(replace(panel, labels=_place(wanted, dots)))
        offset += pw + 30
    return panels


def render_svg(landmarks: Landmarks, result: SpinopelvicResult) -> str:
    """One SVG with a panel per view: landmarks, the lines behind each angle, the values.
    All views share one scale; labels are nudged apart and tied to their point by a thin
    line when they had to move."""
    panels = []
    x_offset = 0.0
    height = 0.0
    stroke = 2.0
    for panel in layout(landmarks, result):
        x_offset = panel.offset
        parts = [f'<g id="{panel.name}" data-scale="{panel.scale:.6f}">',
                 f'<text x="{x_offset + 8:.1f}" y="20" font-size="16" font-weight="bold">'
                 f'{escape(panel.name.replace("_", " "))} (facing {landmarks.facing})</text>']
        for i, line in enumerate(_label(panel.params)):
            parts.append(f'<text x="{x_offset + 8:.1f}" y="{38 + 16 * i}" font-size="13">'
                         f'{escape(line)}</text>')
        for a, b, colour in _segments(panel.view):
            (ax, ay), (bx, by) = panel.tx(a), panel.tx(b)
            dash = ' stroke-dasharray="6,4"' if colour in ("#888888", "#ff7f0e") else ""
            parts.append(f'<line x1="{ax:.1f}" y1="{ay:.1f}" x2="{bx:.1f}" y2="{by:.1f}" '
                         f'stroke="{colour}" stroke-width="{stroke}"{dash}/>')
        for _, point in _present(panel.view):
            px, py = panel.tx(point)
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4" fill="black"/>')
        for label in panel.labels:
            bx0, by0, _, by1 = label.box
            ax, ay = label.anchor
            if math.dist((bx0, (by0 + by1) / 2), (ax, ay)) > 3 * label.size:
                parts.append(f'<line x1="{ax:.1f}" y1="{ay:.1f}" x2="{bx0:.1f}" '
                             f'y2="{(by0 + by1) / 2:.1f}" stroke="#999" stroke-width="0.7"/>')
            weight = ' font-weight="bold" fill="#333"' if label.bold else ""
            parts.append(f'<text x="{label.x:.1f}" y="{label.y:.1f}" '
                         f'font-size="{label.size:g}"{weight}>{escape(label.text)}</text>')
        parts.append("</g>")
        panels.append("\n".join(parts))
        x_offset += panel.width + 30
        height = max(height, panel.height,
                     max((lb.box[3] + 10 for lb in panel.labels), default=0.0))
    caption = (f"Hip-Spine class: {result.hip_spine_class or 'not computable'}"
               f"  delta SS: {result.delta_ss if result.delta_ss is not None else 'n/c'}")
    total_h = height + 30
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{x_offset:.0f}" '
            f'height="{total_h:.0f}" viewBox="0 0 {x_offset:.0f} {total_h:.0f}" '
            f'font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n'
            + "\n".join(panels)
            + f'\n<text x="8" y="{total_h - 8:.0f}" font-size="13">{escape(caption)}</text>'
            + f'\n<text x="{x_offset - 8:.0f}" y="{total_h - 8:.0f}" font-size="10" '
              f'text-anchor="end">hipspine {escape(result.engine_version)}</text>\n</svg>\n')


def render_png(landmarks: Landmarks, result: SpinopelvicResult, path: str) -> None:
    """The same picture as a PNG (matplotlib, headless backend), drawn from the same
    `layout` as the SVG: one scale for every view and the same collision-free labels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = layout(landmarks, result)
    dpi = 100.0
    width = sum(p.width + 30 for p in panels)  # as the SVG: a 30 px gap after each view
    height = max(max(p.height, max((lb.box[3] + 10 for lb in p.labels), default=0.0))
                 for p in panels) + 30
    points = 72.0 / dpi  # font sizes are in px, as in the SVG
    fig = plt.figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)  # y down, as in the image and the SVG
    ax.axis("off")
    for panel in panels:
        x = panel.offset
        ax.text(x + 8, 20, f"{panel.name.replace('_', ' ')} (facing {landmarks.facing})",
                fontsize=16 * points, fontweight="bold", va="baseline")
        for i, line in enumerate(_label(panel.params)):
            ax.text(x + 8, 38 + 16 * i, line, fontsize=13 * points, va="baseline")
        for a, b, colour in _segments(panel.view):
            (ax_, ay), (bx, by) = panel.tx(a), panel.tx(b)
            ax.plot([ax_, bx], [ay, by], color=colour, linewidth=2 * points,
                    linestyle="--" if colour in ("#888888", "#ff7f0e") else "-")
        for _, point in _present(panel.view):
            px, py = panel.tx(point)
            ax.plot(px, py, "ko", markersize=8 * points)
        for label in panel.labels:
            bx0, by0, _, by1 = label.box
            lx, ly = label.anchor
            if math.dist((bx0, (by0 + by1) / 2), (lx, ly)) > 3 * label.size:
                ax.plot([lx, bx0], [ly, (by0 + by1) / 2], color="#999999",
                        linewidth=0.7 * points)
            ax.text(label.x, label.y, label.text, fontsize=label.size * points,
                    va="baseline", fontweight="bold" if label.bold else "normal",
                    color="#333333" if label.bold else "black")
    caption = (f"Hip-Spine class: {result.hip_spine_class or 'not computable'}"
               f"  delta SS: {result.delta_ss if result.delta_ss is not None else 'n/c'}")
    ax.text(8, height - 8, caption, fontsize=13 * points, va="baseline")
    ax.text(width - 8, height - 8, f"hipspine {result.engine_version}", fontsize=10 * points,
            va="baseline", ha="right")
    fig.savefig(path, dpi=dpi, facecolor="white")
    plt.close(fig)
