"""The click tool's guide covers exactly the landmarks of a view, each with a description."""

from __future__ import annotations

from hipspine.models.landmarks import LANDMARK_GUIDE, OPTIONAL_LANDMARKS, View


def test_guide_names_every_landmark_of_a_view() -> None:
    assert list(LANDMARK_GUIDE) == list(View.model_fields)
    for name, where in LANDMARK_GUIDE.values():
        assert name and len(where) > 10


def test_optional_landmarks_are_the_optional_fields() -> None:
    optional = {k for k, f in View.model_fields.items() if not f.is_required()}
    assert optional == OPTIONAL_LANDMARKS

