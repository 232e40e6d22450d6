"""Pure plane geometry for lateral radiographs, in an anatomical frame.

Image pixels (x right, y down) are turned into millimetres in a frame where +X is anterior
and +Y is up, so every angle below reads the way PRODUCT.md section 5 defines it whatever
way the patient faced. Angles are degrees; signs follow the clinical conventions
(SS, PT, PI and LL positive in the usual standing adult).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hipspine.models.landmarks import Facing, Point


@dataclass(frozen=True)
class Frame:
    """How to map image pixels to anatomical millimetres."""

    facing: Facing = "right"
    row_mm: float = 1.0  # vertical mm per pixel (DICOM PixelSpacing[0])
    col_mm: float = 1.0  # horizontal mm per pixel (DICOM PixelSpacing[1])

    def to_anatomical(self, p: Point) -> Point:
        x = p[0] * self.col_mm
        return (x if self.facing == "right" else -x, -p[1] * self.row_mm)


def midpoint(a: Point, b: Point) -> Point:
    return ((a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0)


def length(a: Point, b: Point) -> float:
    return math.hypot(b[0] - a[0], b[1] - a[1])


def _wrap(deg: float) -> float:
    """Angle into (-180, 180]."""
    out = (deg + 180.0) % 360.0 - 180.0
    return 180.0 if out == -180.0 else out


def endplate_slope(posterior: Point, anterior: Point) -> float:
    """Angle of an endplate to the horizontal, positive when its anterior corner is higher."""
    return math.degrees(math.atan2(anterior[1] - posterior[1], anterior[0] - posterior[0]))


def tilt_from_vertical(top: Point, bottom: Point) -> float:
    """Angle between the downward vertical and the line top->bottom, positive anterior."""
    dx, dy = bottom[0] - top[0], bottom[1] - top[1]
    return math.degrees(math.atan2(dx, -dy))


def sacral_slope(s1_posterior: Point, s1_anterior: Point) -> float:
    """SS: the S1 superior endplate against the horizontal (sloping down anteriorly > 0)."""
    return -endplate_slope(s1_posterior, s1_anterior)


def pelvic_tilt(s1_posterior: Point, s1_anterior: Point, hip_axis: Point) -> float:
    """PT: vertical against S1-midpoint->hip-axis, positive when the hip axis is anterior."""
    return tilt_from_vertical(midpoint(s1_posterior, s1_anterior), hip_axis)


def pelvic_incidence(s1_posterior: Point, s1_anterior: Point, hip_axis: Point) -> float:
    """PI: the caudal perpendicular to the S1 endplate at its midpoint against the line from
    that midpoint to the hip axis. Measured as a signed angle, so PI = PT + SS exactly."""
    ex, ey = s1_anterior[0] - s1_posterior[0], s1_anterior[1] - s1_posterior[1]
    normal = (ey, -ex)  # the endplate direction turned 90 degrees clockwise: caudal side
    mid = midpoint(s1_posterior, s1_anterior)
    to_hip = (hip_axis[0] - mid[0], hip_axis[1] - mid[1])
    phi_normal = math.degrees(math.atan2(normal[0], -normal[1]))
    phi_hip = math.degrees(math.atan2(to_hip[0], -to_hip[1]))
    return _wrap(phi_hip - phi_normal)


def lumbar_lordosis(l1_posterior: Point, l1_anterior: Point,
                    s1_posterior: Point, s1_anterior: Point) -> float:
    """LL: the angle between the L1 and S1 superior endplates, positive for lordosis."""
    return _wrap(endplate_slope(l1_posterior, l1_anterior)
                 - endplate_slope(s1_posterior, s1_anterior))


def sagittal_vertical_axis(c7_centroid: Point, s1_posterior: Point) -> float:
    """SVA: horizontal distance of the C7 plumb line from the posterior-superior corner of
    S1, positive when C7 lies anterior (same units as the points)."""
    return c7_centroid[0] - s1_posterior[0]


def pelvic_femoral_angle(s1_posterior: Point, s1_anterior: Point, hip_axis: Point,
                         femoral_shaft: Point) -> float:
    """PFA: at the hip axis, the angle between the line to the S1 endplate midpoint and the
    femoral shaft axis (about 180 degrees standing; it falls as the hip flexes)."""
    mid = midpoint(s1_posterior, s1_anterior)
    a = math.atan2(mid[1] - hip_axis[1], mid[0] - hip_axis[0])
    b = math.atan2(femoral_shaft[1] - hip_axis[1], femoral_shaft[0] - hip_axis[0])
    return abs(_wrap(math.degrees(a - b)))
