"""ConText behaviour on the failure patterns other clinical NLP tools are known for."""

from __future__ import annotations

import pytest

from hipspine.nlp import read_report


def _stenosis(text: str) -> dict[str, object] | None:
    found = read_report(text).imaging.lumbar_stenosis
    return None if found is None else found.model_dump(exclude_none=True)


@pytest.mark.parametrize("text", [
    "The study is negative for spinal canal stenosis.",
    "No central or foraminal stenosis.",
    "Spinal stenosis: none.",
    "Central canal stenosis is not seen.",
    "Without significant central canal stenosis.",
])
def test_negations_give_stenosis_none(text: str) -> None:
    assert _stenosis(text) == {"severity": "none"}


@pytest.mark.parametrize("text", [
    "Cannot exclude mild central stenosis at L4-5.",
    "Mild central stenosis at L4-5 cannot be excluded.",
    "R/O spinal stenosis.",
    "Possible moderate foraminal narrowing at L5-S1.",
    "?central canal stenosis at L3-4.",
])
def test_hedged_findings_fill_nothing_but_are_kept_as_uncertain_evidence(text: str) -> None:
    reading = read_report(text)
    assert reading.imaging.lumbar_stenosis is None
    assert any(e.uncertain for e in reading.evidence if e.field == "lumbar_stenosis")


def test_pseudo_negation_no_change_keeps_the_finding() -> None:
    assert _stenosis("No interval change in severe central stenosis at L4-5.") == {
        "severity": "severe", "levels": ["L4-L5"], "type": "central"}


def test_but_ends_the_negation_scope() -> None:
    assert _stenosis("No central stenosis but moderate left foraminal narrowing at L4-5.") == {
        "severity": "moderate", "levels": ["L4-L5"], "type": "foraminal"}


@pytest.mark.parametrize(("written", "normalised"), [
    ("L4-5", ["L4-L5"]), ("L4/5", ["L4-L5"]), ("L4-L5", ["L4-L5"]), ("L5/S1", ["L5-S1"]),
    ("L5-S1", ["L5-S1"]), ("L3-L5", ["L3-L4", "L4-L5"]), ("L2 to L4", ["L2-L3", "L3-L4"]),
])
def test_level_spellings_are_normalised(written: str, normalised: list[str]) -> None:
    assert _stenosis(f"Moderate central stenosis at {written}.") == {
        "severity": "moderate", "levels": normalised, "type": "central"}


def test_replaced_hip_is_not_native_oa_and_is_reported() -> None:
    reading = read_report("Status post right total hip arthroplasty. The left hip is preserved.")
    assert reading.imaging.hip_oa is not None
    assert reading.imaging.hip_oa.model_dump() == {"side": "left", "kellgren_lawrence": 0}
    assert reading.replaced_hips == ["right"]


def test_history_of_is_marked_historical() -> None:
    reading = read_report("History of severe left hip osteoarthritis.")
    assert all(e.historical for e in reading.evidence if e.field == "hip_oa")
    assert reading.imaging.hip_oa is None


def test_sections_and_multiline_reports() -> None:
    report = """MRI LUMBAR SPINE WITHOUT CONTRAST
INDICATION: Back and leg pain, rule out stenosis.
FINDINGS:
L3-4: Mild disc bulge. Mild central canal narrowing.
L4-5: Grade 1 anterolisthesis. Severe central canal stenosis.
Moderate bilateral foraminal narrowing.
L5-S1: No stenosis.
IMPRESSION: Severe L4-5 central canal stenosis."""
    reading = read_report(report)
    assert reading.imaging.lumbar_stenosis is not None
    assert reading.imaging.lumbar_stenosis.model_dump(exclude_none=True) == {
        "severity": "severe", "levels": ["L3-L4", "L4-L5"], "type": "central"}
    assert reading.imaging.spondylolisthesis is not None
    assert reading.imaging.spondylolisthesis.model_dump() == {"level": "L4-L5", "grade": 1}


def test_indication_and_history_sections_never_fill_fields() -> None:
    report = ("CLINICAL HISTORY: Right hip osteoarthritis. Severe lumbar stenosis at L4-5.\n"
              "TECHNIQUE: AP pelvis.\n"
              "FINDINGS: Mild joint space narrowing of the left hip.")
    reading = read_report(report)
    assert reading.imaging.hip_oa is not None
    assert reading.imaging.hip_oa.model_dump() == {"side": "left", "kellgren_lawrence": 2}
    assert reading.imaging.lumbar_stenosis is None
    assert any(e.value.get("section") for e in reading.evidence)


def test_sections_on_one_line() -> None:
    reading = read_report("INDICATION: evaluate for hip OA. FINDINGS: Severe left hip OA.")
    assert reading.imaging.hip_oa is not None
    assert reading.imaging.hip_oa.model_dump() == {"side": "left", "kellgren_lawrence": 4}


def test_unanchored_degeneration_counts_for_the_hip_only_in_hip_reports() -> None:
    lumbar = ("MRI lumbar spine. L4-5: disc bulge. L5-S1: facet arthropathy. "
              "Mild degenerative change. The visualised pelvis is unremarkable.")
    assert read_report(lumbar).imaging.hip_oa is None
    pelvis = "AP pelvis and lateral left hip. Mild degenerative change."
    found = read_report(pelvis).imaging.hip_oa
    assert found is not None and found.kellgren_lawrence == 2


@pytest.mark.parametrize("text", ["Bilateral hip OA, R>L.", "Moderate hip OA, worse on the left.",
                                  "Hip osteoarthritis, left greater than right."])
def test_side_comparisons_mean_both_hips(text: str) -> None:
    found = read_report(text).imaging.hip_oa
    assert found is not None and found.side == "bilateral"


def test_meyerding_grade_without_the_word_grade() -> None:
    found = read_report("Spondylolisthesis L5/S1 Meyerding II.").imaging.spondylolisthesis
    assert found is not None and found.model_dump() == {"level": "L5-S1", "grade": 2}
