"""Spinopelvic formats: `hipspine.landmarks/1` in, `hipspine.spinopelvic/1` out (PRODUCT.md 5).

Landmarks are image pixel coordinates (x to the right, y down) on lateral radiographs. The
input model is strict: an unknown landmark name is an error (a misspelt `s1_anterior` would
silently make a parameter "not computable"). Geometry checks that need more than one point
(coincident points, zero-length endplates, points outside the image) live in
`hipspine.spinopelvic`, which names the landmark in its error.
"""

from __future__ import annotations

import math
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

LANDMARKS_FORMAT: Final = "hipspine.landmarks/1"
SPINOPELVIC_FORMAT: Final = "hipspine.spinopelvic/1"

Point = tuple[float, float]
Facing = Literal["right", "left"]
SchwabGrade = Literal["0", "+", "++"]
HipSpineClass = Literal["1A", "1B", "2A", "2B"]
Mobility = Literal["stiff", "normal", "hypermobile"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _finite(value: Point | None) -> Point | None:
    if value is not None and not all(math.isfinite(v) for v in value):
        raise ValueError("coordinates must be finite numbers [x, y] in pixels")
    return value


class View(_Strict):
    """One lateral radiograph. The femoral heads and the S1 endplate are required; L1 and C7
    are optional (without them LL, PI-LL and SVA are reported as not computable)."""

    femoral_head_1: Point = Field(description="centre of one femoral head [x, y] px")
    femoral_head_2: Point = Field(description="centre of the other femoral head [x, y] px")
    s1_anterior: Point = Field(description="anterior-superior corner of S1 [x, y] px")
    s1_posterior: Point = Field(description="posterior-superior corner of S1 [x, y] px")
    l1_anterior: Point | None = Field(None, description="anterior-superior corner of L1")
    l1_posterior: Point | None = Field(None, description="posterior-superior corner of L1")
    c7_centroid: Point | None = Field(None, description="centre of the C7 vertebral body")
    femoral_shaft: Point | None = Field(
        None, description="a point on the femoral shaft axis well below the head, for the "
                          "pelvic-femoral angle (PFA)")

    @field_validator("*")
    @classmethod
    def _check_finite(cls, value: Point | None) -> Point | None:
        return _finite(value)


# Where each landmark goes, for the click tool's guide (in the order it asks for them).
# Keys are exactly the fields of `View`; a test keeps the two in step.
LANDMARK_GUIDE: Final[dict[str, tuple[str, str]]] = {
    "femoral_head_1": ("Femoral head 1 centre",
                       "the centre of one femoral head (the ball of the hip joint)"),
    "femoral_head_2": ("Femoral head 2 centre",
                       "the centre of the other femoral head; on a true lateral it lies "
                       "close to the first"),
    "s1_anterior": ("S1 endplate anterior corner",
                    "the front edge of the top of the sacrum"),
    "s1_posterior": ("S1 endplate posterior corner",
                     "the back edge of the top of the sacrum"),
    "l1_anterior": ("L1 endplate anterior corner",
                    "the front edge of the top of the first lumbar vertebra (optional)"),
    "l1_posterior": ("L1 endplate posterior corner",
                     "the back edge of the top of the first lumbar vertebra (optional)"),
    "c7_centroid": ("C7 body centre",
                    "the middle of the seventh cervical vertebral body (optional, for SVA)"),
    "femoral_shaft": ("Femoral shaft point",
                      "a point on the axis of the thigh bone well below the head "
                      "(optional, for the pelvic-femoral angle)"),
}
OPTIONAL_LANDMARKS: Final = frozenset({"l1_anterior", "l1_posterior", "c7_centroid",
                                       "femoral_shaft"})


PixelSpacing = (
    Annotated[float, Field(gt=0, le=10, description="mm per pixel, square pixels")]
    | tuple[Annotated[float, Field(gt=0, le=10)], Annotated[float, Field(gt=0, le=10)]]
)


class Landmarks(_Strict):
    """`hipspine.landmarks/1`: standing view required; sitting and flexed-seated optional.

    `pixel_spacing_mm` is one number (square pixels) or DICOM order [row, column] spacing,
    i.e. [vertical, horizontal] mm per pixel. `image_size_px` [width, height] lets the
    reader reject a landmark placed outside the image.
    """

    format: Literal["hipspine.landmarks/1"]
    id: str | None = None
    pixel_spacing_mm: PixelSpacing | None = None
    facing: Facing = "right"
    image_size_px: tuple[Annotated[int, Field(gt=0)], Annotated[int, Field(gt=0)]] | None = None
    standing: View
    sitting: View | None = None
    flexed_seated: View | None = Field(
        None, description="optional flexed-seated view (Sharma 2023): lumbar flexion")


class ViewParameters(_Strict):
    """Parameters of one view, in degrees and mm. None means not computable (see why)."""

    pi: float | None = None
    pt: float | None = None
    ss: float | None = None
    ll: float | None = None
    pi_ll: float | None = None
    sva_mm: float | None = None
    pfa: float | None = Field(None, description="pelvic-femoral angle, degrees")
    not_computable: dict[str, str] = Field(default_factory=dict)


class SchwabModifiers(_Strict):
    pi_ll: SchwabGrade | None = None
    pt: SchwabGrade | None = None
    sva: SchwabGrade | None = None


class Recommendation(_Strict):
    id: str
    text: str
    citation: str
    verified: Literal["primary", "secondary", "unverified"]


class Flag(_Strict):
    id: str
    text: str
    citation: str
    verified: Literal["primary", "secondary", "unverified"]


class SpinopelvicResult(_Strict):
    """`hipspine.spinopelvic/1`. Deltas are standing minus sitting for SS and sitting minus
    standing for PT, so both are positive for the usual posterior pelvic tilt on sitting."""

    format: Literal["hipspine.spinopelvic/1"] = SPINOPELVIC_FORMAT
    engine_version: str
    knowledge_version: str
    id: str | None = None
    facing: Facing
    pixel_spacing_mm: PixelSpacing | None = None
    standing: ViewParameters
    sitting: ViewParameters | None = None
    flexed_seated: ViewParameters | None = None
    delta_ss: float | None = None
    delta_pt: float | None = None
    lumbar_flexion: float | None = Field(
        None, description="standing LL minus flexed-seated LL (degrees)")
    hip_flexion: float | None = Field(
        None, description="standing PFA minus flexed-seated PFA (degrees)")
    hip_user_index: float | None = Field(
        None, description="hip flexion / (hip flexion + lumbar flexion) x 100 (percent)")
    hip_spine_class: HipSpineClass | None = None
    hip_spine_class_why: str = ""
    mobility: Mobility | None = None
    schwab_modifiers: SchwabModifiers
    recommendations: list[Recommendation] = Field(default_factory=list)
    flags: list[Flag] = Field(default_factory=list)
    rules_fired: list[str] = Field(default_factory=list)
    unverified: list[str] = Field(default_factory=list)
