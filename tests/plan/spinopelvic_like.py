"""A landmark set with severe sagittal deformity and high pelvic retroversion."""

from __future__ import annotations

import math
from typing import Any


def view(pi: float, pt: float, ll: float) -> dict[str, list[float]]:
    """One lateral view with these angles, in pixels at 0.2 mm."""
    ss = pi - pt
    r = math.radians
    hip = (100 * math.sin(r(pt)), -100 * math.cos(r(pt)))
    half = (20 * math.cos(r(ss)), -20 * math.sin(r(ss)))
    l1p = (-20.0, 150.0)
    slope = r(ll - ss)
    pts = {"femoral_head_1": hip, "femoral_head_2": hip,
           "s1_anterior": half, "s1_posterior": (-half[0], -half[1]),
           "l1_posterior": l1p,
           "l1_anterior": (l1p[0] + 38 * math.cos(slope), l1p[1] + 38 * math.sin(slope))}
    return {k: [1500 + x / 0.2, 2500 - y / 0.2] for k, (x, y) in pts.items()}


def deformity_landmarks() -> dict[str, Any]:
    """PI 60, PT 35, LL 20: PI-LL 40 with high pelvic retroversion (Schwab PT ++, PI-LL ++)."""
    return {"format": "hipspine.landmarks/1", "pixel_spacing_mm": 0.2,
            "standing": view(60, 35, 20)}


def stiff_flatback_landmarks() -> dict[str, Any]:
    """Flatback (PI-LL 25) and stiff (sacral slope changes 5 degrees on sitting): class 2B."""
    return {"format": "hipspine.landmarks/1", "pixel_spacing_mm": 0.2,
            "standing": view(55, 20, 30), "sitting": view(55, 25, 30)}
