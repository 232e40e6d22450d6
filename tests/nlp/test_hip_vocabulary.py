"""Hip OA and stenosis phrasings added to the vocabulary in the heldout3 round."""

from __future__ import annotations

import pytest

from hipspine.nlp import read_report


def _hip(text: str) -> dict[str, object] | None:
    found = read_report(text).imaging.hip_oa
    return None if found is None else found.model_dump(exclude_none=True)


def _stenosis(text: str) -> dict[str, object] | None:
    found = read_report(text).imaging.lumbar_stenosis
    return None if found is None else found.model_dump(exclude_none=True)


def test_elliptical_range_takes_lower_step() -> None:
    assert _hip("Hip osteoarthritis, mild to moderate on the right and mild on the left.") == {
        "side": "bilateral", "kellgren_lawrence": 2}


@pytest.mark.parametrize("text", ["Right hip unremarkable.", "Right hip: Tonnis grade 0."])
def test_verbless_normal_and_tonnis_zero(text: str) -> None:
    assert _hip(text) == {"side": "right", "kellgren_lawrence": 0}


def test_severity_after_progression() -> None:
    assert _hip("Right hip arthrosis has worsened and is now moderate.") == {
        "side": "right", "kellgren_lawrence": 3}


def test_thecal_sac_adverb_and_patent_canal() -> None:
    assert _stenosis("At L3-4 the thecal sac is moderately compressed.") == {
        "severity": "moderate", "levels": ["L3-L4"], "type": "central"}
    assert _stenosis("Widely patent spinal canal.") == {"severity": "none"}
