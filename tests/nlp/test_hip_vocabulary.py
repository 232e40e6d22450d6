"""Hip OA and stenosis phrasings added to the vocabulary in the heldout3 and heldout4 rounds."""

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


# --- heldout4 round: phrasings the fresh held-out set found missing ------------------------

def test_comparison_with_the_prior_study_is_not_history() -> None:
    assert _hip("Compared with the prior study, the right hip osteoarthritis has progressed "
                "and is now severe.") == {"side": "right", "kellgren_lawrence": 4}
    assert read_report("Previous left hip osteoarthritis.").evidence[0].historical


@pytest.mark.parametrize(("text", "expected"), [
    ("Normal radiographic appearance of both hips.", {"side": "bilateral", "kellgren_lawrence": 0}),
    ("Findings: the hip joints are normal.", {"side": "bilateral", "kellgren_lawrence": 0}),
    ("Bilateral hip joints: mild degenerative narrowing, right greater than left.",
     {"side": "bilateral", "kellgren_lawrence": 2}),
])
def test_normal_both_hips_and_degenerative_narrowing(text: str, expected: dict[str, object]
                                                     ) -> None:
    assert _hip(text) == expected


def test_hyphenated_range_takes_lower_step() -> None:
    assert _stenosis("Mild-to-moderate central stenosis at L2-L3.") == {
        "severity": "mild", "levels": ["L2-L3"], "type": "central"}


def test_degenerative_narrowing_of_a_disc_space_is_not_hip_oa() -> None:
    assert _hip("Degenerative narrowing of the L5-S1 disc space.") is None


def test_a_finding_does_not_borrow_the_severity_of_the_finding_before_it() -> None:
    """heldout5: the lateral recess narrowing has no severity of its own here."""
    assert _stenosis("At L4-L5 there is moderate to severe central canal stenosis with "
                     "bilateral lateral recess narrowing.") == {
        "severity": "moderate", "levels": ["L4-L5"], "type": "central"}


# --- heldout6 round: an independently written set -----------------------------------------

def test_a_comparison_line_covers_its_own_sentence_only() -> None:
    assert _hip("Comparison: 14/03/2021. There has been progression of left hip "
                "osteoarthritis, with now marked joint space narrowing.") == {
        "side": "left", "kellgren_lawrence": 4}


def test_a_new_labelled_line_ends_the_clinical_information_section() -> None:
    text = ("Clinical information: back and hip pain, ?spinal stenosis.\n"
            "MRI lumbar spine: Moderate bilateral lateral recess stenosis at L4/L5.")
    assert _stenosis(text) == {"severity": "moderate", "levels": ["L4-L5"],
                               "type": "lateral_recess"}
    assert _stenosis("Clinical information: severe stenosis at L4-5 on the outside MRI, "
                     "please review.") is None


@pytest.mark.parametrize("text", ["Query early degenerative change of the left hip.",
                                  "Query mild left lateral recess narrowing at L4-5."])
def test_the_radiologists_query_is_a_hedge(text: str) -> None:
    assert _hip(text) is None and _stenosis(text) is None


def test_a_queried_fracture_still_raises_the_fracture_alarm() -> None:
    assert read_report("Query undisplaced fracture of the left femoral neck.").imaging.fracture


@pytest.mark.parametrize(("text", "expected"), [
    ("Hip radiographs: Tönnis grade 2 on the right.", {"side": "right"}),
    ("Tonnis 1 both hips.", {"side": "bilateral"}),
    ("Tönnis grade 2 right hip. Moderate OA left hip.", {"side": "bilateral",
                                                        "kellgren_lawrence": 3}),
])
def test_tonnis_1_to_3_gives_the_side_not_a_kellgren_lawrence_grade(
        text: str, expected: dict[str, object]) -> None:
    assert _hip(text) == expected
