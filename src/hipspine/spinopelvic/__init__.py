"""Spinopelvic parameters and the Hip-Spine Classification from radiograph landmarks.

    from hipspine.spinopelvic import measure_landmarks
    result = measure_landmarks(open("landmarks.json").read())
    print(result.standing.pi, result.hip_spine_class)
"""

from __future__ import annotations

from typing import Any

from hipspine.models.landmarks import Landmarks, SpinopelvicResult
from hipspine.models.validation import parse_model
from hipspine.spinopelvic.knowledge import SpinopelvicKnowledge, load_spinopelvic_knowledge
from hipspine.spinopelvic.measure import measure


def parse_landmarks(data: Any) -> Landmarks:
    """Validate a `hipspine.landmarks/1` document (dict or JSON), naming any bad landmark."""
    return parse_model(Landmarks, data, what="landmarks")


def measure_landmarks(data: Any, kb: SpinopelvicKnowledge | None = None) -> SpinopelvicResult:
    """Parse and measure in one call, with the packaged knowledge unless `kb` is given."""
    landmarks = data if isinstance(data, Landmarks) else parse_landmarks(data)
    return measure(landmarks, kb or load_spinopelvic_knowledge())


__all__ = [
    "Landmarks",
    "SpinopelvicKnowledge",
    "SpinopelvicResult",
    "load_spinopelvic_knowledge",
    "measure",
    "measure_landmarks",
    "parse_landmarks",
]
