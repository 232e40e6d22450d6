"""Specific lesions read from imaging reports into `imaging.lesions` (nlp/alarms.yaml)."""

from __future__ import annotations

import pytest

from hipspine.assess.api import assess
from hipspine.nlp import read_report
from hipspine.nlp.knowledge import load_nlp_knowledge
from hipspine.nlp.notes import read_exam_findings


def _kinds(text: str) -> set[str]:
    return {lesion.kind for lesion in read_report(text).imaging.lesions}


@pytest.mark.parametrize(("text", "kinds"), [
    ("MRI hips: avascular necrosis of the left femoral head with a crescent sign.",
     {"femoral_head_osteonecrosis"}),
    ("MRI: left foraminal disc herniation at L3-L4 compressing the exiting L3 nerve root.",
     {"nerve_root_compression"}),
    ("CT angiography: occlusion of the left common iliac artery.",
     {"arterial_stenosis_or_occlusion"}),
    ("MRI gluteal region: intrinsic tumour of the sciatic nerve.", {"peripheral_nerve_lesion"}),
    ("CT pelvis: bowel loop herniating into the left obturator canal; obturator hernia.",
     {"hernia"}),
    ("MRI: full-thickness tear of the gluteus medius tendon.", {"gluteal_tendon_tear"}),
    ("MRI: no evidence of synovial cyst. No labral tear.", set()),
    ("Indication: ?AVN. Findings: normal femoral heads.", set()),
    ("MRI: old healed femoral neck fracture.", set()),
])
def test_lesions_stated_or_suspected_are_read_and_negated_ones_are_not(
        text: str, kinds: set[str]) -> None:
    assert _kinds(text) == kinds


def test_a_lesion_on_a_named_nerve_keeps_the_nerve() -> None:
    text = "MRI: schwannoma of the sciatic nerve at the sciatic notch."
    lesions = read_report(text).imaging.lesions
    assert [(lesion.kind, lesion.nerve) for lesion in lesions] == [
        ("peripheral_nerve_lesion", "sciatic")]


def test_a_lesion_read_from_a_report_settles_the_source_and_is_marked_from_text() -> None:
    case = {"format": "hipspine.case/1", "age": 34,
            "imaging": {"reports": ["MRI both hips: osteonecrosis of the left femoral head."]}}
    a = assess(case)
    assert a.verdict == "hip" and a.diagnosis == "hip: osteonecrosis of the femoral head"
    assert any("Osteonecrosis" in f for f in a.findings_from_text)


def test_a_partly_structured_hip_oa_takes_its_grade_from_the_report() -> None:
    case = {"format": "hipspine.case/1", "age": 70, "imaging": {
        "hip_oa": {"side": "right"}, "reports": ["X-ray: severe right hip osteoarthritis."]}}
    hip = next(s for s in assess(case).sources if s.id == "hip")
    assert hip.probability > 0.5
    assert any(c.from_text and c.counted for c in hip.contributions)


def test_structured_lesions_are_never_overwritten_by_text() -> None:
    case = {"format": "hipspine.case/1", "imaging": {
        "lesions": [{"kind": "labral_tear"}],
        "reports": ["MRI: osteonecrosis of the femoral head."]}}
    a = assess(case)
    hip = next(s for s in a.sources if s.id == "hip")
    assert [c.finding for c in hip.contributions] == ["Acetabular labral tear on MRI"]


def test_full_painless_hip_motion_is_read_from_a_note() -> None:
    kb = load_nlp_knowledge()
    assert read_exam_findings(["Full range of motion of the hip."], kb)[0] == {
        "hip_rom_full_painless": True}
    assert read_exam_findings(["Right hip ROM restricted."], kb)[0] == {}


def test_lesions_on_their_held_out_labelled_set() -> None:
    """60 report texts labelled by an author who had not seen the reader (first reading:
    50/60 exact, F1 0.898; every kind of docs/case-format.md appears at least twice)."""
    from hipspine.nlp.evaluate import evaluate_lesions, load_alarm_examples

    examples = load_alarm_examples(folder="lesions")
    assert len(examples) >= 60
    result = evaluate_lesions(examples)
    assert result["all"]["f1"] >= 0.9, result["all"]
    assert len(result["errors"]) <= 6
