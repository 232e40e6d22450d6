"""Verdicts on the shared examples and on vignettes modelled on published cases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hipspine.assess import assess_case, load_assessment_knowledge
from hipspine.models import parse_case
from hipspine.models.assessment import Assessment

CASES = Path(__file__).parent / "cases"


def _assess(name: str) -> Assessment:
    case = parse_case((CASES / f"{name}.json").read_text())
    return assess_case(case, load_assessment_knowledge())


def _prob(a: Assessment) -> dict[str, float]:
    return {s.id: s.probability for s in a.sources}


@pytest.mark.parametrize(("name", "verdict"), [
    ("hip-dominant", "hip"), ("spine-dominant", "spine"), ("hip-spine-syndrome", "both")])
def test_shared_examples_get_the_verdict_their_name_says(example_cases: Any, shared_dir: Path,
                                                         name: str, verdict: str) -> None:
    case = parse_case((shared_dir / "examples" / f"{name}.json").read_text())
    assert assess_case(case, load_assessment_knowledge()).verdict == verdict


def test_every_vignette_cites_its_source() -> None:
    files = sorted(CASES.glob("*.json"))
    assert len(files) >= 8
    for f in files:
        notes = json.loads(f.read_text())["notes"]
        assert any("Modelled on" in n or "engine must not guess" in n for n in notes), f.name


def test_hip_oa_after_lumbar_fusion_is_hip_and_misdiagnosed() -> None:
    a = _assess("hip_oa_after_lumbar_fusion")
    assert a.verdict == "hip"
    assert a.offierski_macnab == "misdiagnosed"


def test_suri_scenario_is_spine() -> None:
    a = _assess("lss_suri_scenario")
    assert a.verdict == "spine"
    assert _prob(a)["hip"] <= 0.25


def test_gluteal_tendinopathy_is_a_mimic() -> None:
    a = _assess("gluteal_tendinopathy")
    assert a.verdict == "other"
    assert max(_prob(a), key=_prob(a).__getitem__) == "trochanteric"


def test_sacroiliac_pain_is_not_called_hip_or_spine() -> None:
    a = _assess("sacroiliac_joint_pain")
    prob = _prob(a)
    assert a.verdict in ("other", "indeterminate")
    assert prob["sacroiliac"] > 0.1 and prob["spine"] < 0.1


def test_vascular_claudication_is_a_mimic_not_spine() -> None:
    a = _assess("vascular_claudication")
    prob = _prob(a)
    assert a.verdict == "other"
    assert prob["vascular"] >= 0.6 and prob["spine"] < 0.1


def test_diabetic_neuropathy_is_a_mimic() -> None:
    a = _assess("diabetic_neuropathy")
    assert a.verdict == "other"
    assert _prob(a)["neuropathy"] >= 0.6


def test_cauda_equina_is_urgent_and_flagged_first() -> None:
    a = _assess("cauda_equina")
    assert a.urgent
    assert a.red_flags[0].id == "cauda_equina"
    assert a.red_flags[0].urgency == "emergency"
    assert a.explanation.startswith("Red flags first")


def test_hip_flexion_contracture_is_secondary() -> None:
    a = _assess("hip_flexion_contracture_secondary")
    assert a.verdict == "hip"
    assert a.offierski_macnab == "secondary"


def test_red_flag_action_is_the_first_next_test() -> None:
    a = _assess("cauda_equina")
    assert a.next_tests[0].kind == "red_flag"
    assert a.next_tests[0].test == a.red_flags[0].action
    assert all(t.kind != "red_flag" for t in _assess("sacroiliac_joint_pain").next_tests)


def test_spine_treated_as_hip_is_misdiagnosed() -> None:
    a = _assess("spine_treated_as_hip_misdiagnosed")
    assert a.verdict == "spine"
    assert a.offierski_macnab == "misdiagnosed"


def test_sparse_case_is_indeterminate_and_says_what_to_examine() -> None:
    a = _assess("sparse_age_and_walking")
    assert a.verdict == "indeterminate"
    assert a.next_tests and a.next_tests[0].expected_information_bits
    assert "To settle it" in a.explanation
    assert any(t.kind in ("history", "exam") for t in a.next_tests)


def test_injection_is_offered_when_hip_and_spine_are_both_in_play() -> None:
    case = parse_case({"format": "hipspine.case/1", "age": 72, "setting": "arthroplasty_clinic",
                       "imaging": {"hip_oa": {"kellgren_lawrence": 3}},
                       "symptoms": {"neurogenic_claudication": True,
                                    "relief_forward_flexion": True}})
    a = assess_case(case, load_assessment_knowledge())
    assert "injection" in a.next_tests[0].test


def test_texts_not_read_are_reported_when_no_reader_ran() -> None:
    case = parse_case({"format": "hipspine.case/1", "notes": ["Groin pain, limp."]})
    a = assess_case(case, load_assessment_knowledge(), texts_not_read=["notes[0]"])
    assert a.texts_not_read == ["notes[0]"] and "notes[0]" in a.explanation


def test_from_text_marks_contributions() -> None:
    case = parse_case({"format": "hipspine.case/1",
                       "imaging": {"hip_oa": {"kellgren_lawrence": 4}}})
    a = assess_case(case, load_assessment_knowledge(), from_text=["imaging.hip_oa"])
    hip = next(s for s in a.sources if s.id == "hip")
    assert hip.contributions[0].from_text
    assert a.findings_from_text


def test_group_counts_only_the_strongest() -> None:
    case = parse_case({"format": "hipspine.case/1", "symptoms": {
        "relief_sitting": True, "relief_forward_flexion": True}})
    spine = next(s for s in assess_case(case, load_assessment_knowledge()).sources
                 if s.id == "spine")
    counted = [c for c in spine.contributions if c.counted]
    shown = [c for c in spine.contributions if not c.counted]
    assert [c.likelihood_ratio for c in counted] == [6.4]
    assert shown and "counted in group" in (shown[0].note or "")


def test_unverified_contributions_are_listed() -> None:
    case = parse_case({"format": "hipspine.case/1", "symptoms": {"limp": True}})
    a = assess_case(case, load_assessment_knowledge())
    hip = next(s for s in a.sources if s.id == "hip")
    assert hip.contributions[0].verified is False
    assert any("Limp" in u for u in a.unverified)


def test_equivocal_injection_changes_nothing() -> None:
    kb = load_assessment_knowledge()
    base = parse_case({"format": "hipspine.case/1"})
    mid = parse_case({"format": "hipspine.case/1",
                      "tests": {"intra_articular_hip_injection_relief_pct": 50}})
    assert _prob(assess_case(base, kb)) == _prob(assess_case(mid, kb))


def test_a_prior_plus_imaging_alone_is_not_acted_on(shared_dir: Path) -> None:
    case = parse_case((shared_dir / "examples" / "spine-dominant.json").read_text())
    a = assess_case(case, load_assessment_knowledge())
    hip = next(s for s in a.sources if s.id == "hip")
    assert hip.probability >= 0.6 and "act:hip" not in a.rules_fired
    assert "not acted on" in a.explanation
