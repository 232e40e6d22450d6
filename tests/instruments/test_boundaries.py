"""Boundary tests at every published cut-off and threshold the instruments use."""

from __future__ import annotations

from typing import Any

import pytest
from tests.instruments.conftest import make_case

from hipspine.instruments import InstrumentKnowledge, evaluate, score_self_report

KONNO_BASE: dict[str, Any] = {
    "history": {"diabetes": True},
    "symptoms": {"neurogenic_claudication": True, "worse_standing": False,
                 "relief_forward_flexion": True},
    "exam": {"symptoms_provoked_by_bending_forward": False,
             "symptoms_provoked_by_bending_backward": False,
             "achilles_reflex_reduced": False, "straight_leg_raise_positive": False},
    "tests": {"abi": 0.5},
}


@pytest.mark.parametrize(("age", "score", "positive"),
                         [(59, 6, False), (60, 7, True), (69, 7, True), (70, 8, True)])
def test_konno_age_points_and_cut_off(kb: InstrumentKnowledge, age: int, score: int,
                                      positive: bool) -> None:
    result = evaluate("konno2007_lss", make_case({**KONNO_BASE, "age": age}), kb)
    assert (result.score, result.positive) == (score, positive)


@pytest.mark.parametrize(("abi", "pulses", "score"),
                         [(0.89, True, 6), (0.9, False, 9), (None, True, 9), (None, False, 6)])
def test_konno_circulation_prefers_abi_over_pulses(kb: InstrumentKnowledge, abi: float | None,
                                                    pulses: bool, score: int) -> None:
    data = {**KONNO_BASE, "age": 50, "tests": {"abi": abi},
            "exam": {**KONNO_BASE["exam"], "peripheral_pulses_normal": pulses}}
    assert evaluate("konno2007_lss", make_case(data), kb).score == score


@pytest.mark.parametrize(("ir", "positive"), [(14.9, True), (15.0, False)])
def test_acr_clinical_internal_rotation_15(kb: InstrumentKnowledge, ir: float,
                                           positive: bool) -> None:
    # Branch 2 holds below 15 degrees; at 15 branch 1 applies, and its pain item is absent.
    case = make_case({"age": 60, "symptoms": {"pain_locations": ["groin"],
                                              "morning_stiffness_over_60min": False},
                      "exam": {"hip_internal_rotation_deg": ir,
                               "pain_on_hip_internal_rotation": False},
                      "tests": {"esr_mm_h": 10}})
    assert evaluate("acr1991_hip_oa_clinical", case, kb).positive is positive


@pytest.mark.parametrize(("flexion", "positive"), [(115, True), (116, False)])
def test_acr_clinical_flexion_substitute_115(kb: InstrumentKnowledge, flexion: float,
                                             positive: bool) -> None:
    case = make_case({"symptoms": {"pain_locations": ["groin"]},
                      "exam": {"hip_internal_rotation_deg": 0, "hip_flexion_deg": flexion}})
    assert evaluate("acr1991_hip_oa_clinical", case, kb).positive is positive


@pytest.mark.parametrize(("esr", "positive"), [(19.9, True), (20.0, None)])
def test_acr_radiographic_esr_below_20(kb: InstrumentKnowledge, esr: float,
                                       positive: bool | None) -> None:
    case = make_case({"symptoms": {"pain_locations": ["groin"]},
                      "imaging": {"hip_oa": {"kellgren_lawrence": 2}},
                      "tests": {"esr_mm_h": esr}})
    assert evaluate("acr1991_hip_oa_clinical_radiographic", case, kb).positive is positive


@pytest.mark.parametrize(("grade", "positive"),
                         [(0, False), (1, False), (2, None), (3, True), (4, True)])
def test_acr_radiographic_by_kellgren_lawrence_grade_without_esr(
        kb: InstrumentKnowledge, grade: int, positive: bool | None) -> None:
    case = make_case({"symptoms": {"pain_locations": ["groin"]},
                      "imaging": {"hip_oa": {"kellgren_lawrence": grade}}})
    assert evaluate("acr1991_hip_oa_clinical_radiographic", case, kb).positive is positive


@pytest.mark.parametrize(("count", "positive"),
                         [(0, False), (1, False), (2, None), (3, True), (5, True)])
def test_laslett_count_mapping(kb: InstrumentKnowledge, count: int,
                               positive: bool | None) -> None:
    case = make_case({"exam": {"sij_provocation_positive_count": count}})
    result = evaluate("laslett2005_sij", case, kb)
    assert (result.score, result.positive) == (count, positive)
    assert ("ruled out" in result.interpretation) is (count == 0)


@pytest.mark.parametrize(("ir", "score"), [(25, 1), (25.5, 0)])
def test_sutlive_internal_rotation_25(kb: InstrumentKnowledge, ir: float, score: int) -> None:
    case = make_case({"symptoms": {"squatting_aggravates": False},
                      "exam": {"active_hip_flexion_lateral_pain": False,
                               "hip_scour_positive": False, "active_hip_extension_pain": False,
                               "hip_internal_rotation_deg": ir}})
    result = evaluate("sutlive2008_hip_oa", case, kb)
    assert result.score == score
    assert result.preliminary and "never validated" in result.interpretation


@pytest.mark.parametrize(("age", "score"), [(59, 4), (60, 6), (70, 6), (71, 7)])
def test_sugioka_age_bands(kb: InstrumentKnowledge, age: int, score: int) -> None:
    answers = {"age": age, "onset_over_6_months": False, "better_bending_forward": True,
               "better_bending_backward": False, "worse_standing": True,
               "intermittent_claudication": False, "urinary_incontinence": False}
    result = score_self_report("sugioka2008_self_report_lss", answers, kb)
    assert result.score == score
    assert result.positive is (score >= 7)


def test_acr_radiographic_warns_when_the_graded_hip_is_the_other_side(
        kb: InstrumentKnowledge) -> None:
    case = make_case({"symptoms": {"pain_locations": ["groin"], "laterality": "right"},
                      "imaging": {"hip_oa": {"side": "left", "kellgren_lawrence": 4}}})
    result = evaluate("acr1991_hip_oa_clinical_radiographic", case, kb)
    assert "other hip" in result.interpretation
    same = make_case({"symptoms": {"pain_locations": ["groin"], "laterality": "left"},
                      "imaging": {"hip_oa": {"side": "left", "kellgren_lawrence": 4}}})
    assert "other hip" not in evaluate("acr1991_hip_oa_clinical_radiographic", same,
                                       kb).interpretation


@pytest.mark.parametrize(("age", "score"), [(48, 0), (49, 1)])
def test_cook_age_over_48_and_rule_out_remark(kb: InstrumentKnowledge, age: int,
                                              score: int) -> None:
    case = make_case({"age": age, "symptoms": {
        "laterality": "right", "leg_pain_worse_than_back_pain": False, "worse_standing": False,
        "neurogenic_claudication": False, "relief_sitting": False}})
    result = evaluate("cook2011_lss_cluster", case, kb)
    assert (result.score, result.positive) == (score, False)
    assert ("LR- 0.19" in result.interpretation) is (score == 0)
