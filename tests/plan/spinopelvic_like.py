"""A landmark set with severe sagittal deformity and high pelvic retroversion."""

from __future__ import annotations

import math
from typing import Any


def deformity_landmarks() -> dict[str, Any]:
    # PI 60, PT 35 (SS 25), LL 20 (PI-LL 40), in anatomical mm then pixels at 0.2 mm.
    pi, pt, ll = 60.0, 35.0, 20.0
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
    return {"format": "hipspine.landmarks/1", "pixel_spacing_mm": 0.2,
            "standing": {k: [1500 + x / 0.2, 2500 - y / 0.2] for k, (x, y) in pts.items()}}
