"""Build landmark sets from chosen angles, so tests know the true answer in advance."""

from __future__ import annotations

import math
from typing import Any

Point = tuple[float, float]


def build_view(pi: float, pt: float, ll: float | None = None, sva_mm: float | None = None,
               *, pfa: float | None = None, facing: str = "right", row_mm: float = 0.2,
               col_mm: float = 0.2, origin: Point = (1500.0, 2500.0)) -> dict[str, list[float]]:
    """Landmarks (image pixels) of one lateral view with the given PI, PT, LL and SVA."""
    ss = pi - pt
    rad = math.radians
    mid = (0.0, 0.0)  # S1 endplate midpoint, anatomical mm (X anterior, Y up)
    hip = (mid[0] + 100 * math.sin(rad(pt)), mid[1] - 100 * math.cos(rad(pt)))
    half = (20 * math.cos(rad(ss)), -20 * math.sin(rad(ss)))
    s1a = (mid[0] + half[0], mid[1] + half[1])
    s1p = (mid[0] - half[0], mid[1] - half[1])
    pts: dict[str, Point] = {
        "femoral_head_1": (hip[0] + 3, hip[1] + 2),
        "femoral_head_2": (hip[0] - 3, hip[1] - 2),
        "s1_anterior": s1a,
        "s1_posterior": s1p,
    }
    if ll is not None:
        slope = rad(ll - ss)  # L1 endplate against the horizontal, anterior up
        l1p = (-20.0, 150.0)
        pts["l1_posterior"] = l1p
        pts["l1_anterior"] = (l1p[0] + 38 * math.cos(slope), l1p[1] + 38 * math.sin(slope))
    if sva_mm is not None:
        pts["c7_centroid"] = (s1p[0] + sva_mm, 450.0)
    if pfa is not None:
        # The femoral shaft: the hip-to-S1 direction turned clockwise (towards anterior) by PFA.
        ux, uy = (mid[0] - hip[0]), (mid[1] - hip[1])
        norm = math.hypot(ux, uy)
        ux, uy = ux / norm, uy / norm
        c, s = math.cos(rad(-pfa)), math.sin(rad(-pfa))
        pts["femoral_shaft"] = (hip[0] + 200 * (c * ux - s * uy), hip[1] + 200 * (s * ux + c * uy))
    sign = 1.0 if facing == "right" else -1.0
    return {name: [origin[0] + sign * p[0] / col_mm, origin[1] - p[1] / row_mm]
            for name, p in pts.items()}


def build_landmarks(standing: dict[str, Any], sitting: dict[str, Any] | None = None,
                    *, facing: str = "right", spacing: Any = 0.2) -> dict[str, Any]:
    doc: dict[str, Any] = {"format": "hipspine.landmarks/1", "pixel_spacing_mm": spacing,
                           "facing": facing, "standing": standing}
    if sitting is not None:
        doc["sitting"] = sitting
    return doc


def transform(doc: dict[str, Any], fn: Any) -> dict[str, Any]:
    """Apply `fn(x, y) -> (x, y)` to every landmark of every view."""
    out = dict(doc)
    for view in ("standing", "sitting", "flexed_seated"):
        if view in doc:
            out[view] = {k: list(fn(*v)) for k, v in doc[view].items()}
    return out
