"""What the engine should answer on further published case reports (cases/published/).

Each case encodes only what its publication reports; unknown stays absent (the notes say
what could not be encoded and why). Each test asserts what the engine *should* answer given
those facts: the published source when the facts support it, `indeterminate` with a sensible
next test when they are too sparse, and the red flag the case had. Where the engine falls
short for a clinically clear reason the test is marked `xfail(strict=True)` with the precise
gap (finding, field, likelihood ratio or rule), so the gap stays visible and a fix turns the
test into a failure until its mark is removed. Nothing here weakens an expectation to pass.

The cases live in a subfolder on purpose: `test_evidence_policy` counts the verdicts that the
'primary' policy changes over `cases/*.json` and the shared examples, and that figure is
quoted in the knowledge base's evidence-policy note.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hipspine.assess import load_assessment_knowledge
from hipspine.assess.api import assess
from hipspine.models.assessment import Assessment

PUBLISHED = Path(__file__).parent / "cases" / "published"
KB = load_assessment_knowledge()


def _case(name: str) -> dict[str, Any]:
    return json.loads((PUBLISHED / f"{name}.json").read_text())


def _assess(name: str, evidence: str | None = None) -> Assessment:
    return assess(_case(name), evidence=evidence)


def _prob(a: Assessment) -> dict[str, float]:
    return {s.id: s.probability for s in a.sources}


def _pretest(a: Assessment) -> dict[str, float]:
    return {s.id: s.pretest for s in a.sources}


def _offered(a: Assessment) -> list[str]:
    return [t.test for t in a.next_tests]


def _label(finding_id: str) -> str:
    test = KB.finding(finding_id).next_test
    assert test is not None, finding_id
    return test.label


def _acted(a: Assessment) -> set[str]:
    return {r.split(":", 1)[1] for r in a.rules_fired if r.startswith("act:")}


# --- every case -------------------------------------------------------------------------

CASE_FILES = sorted(PUBLISHED.glob("*.json"))


def test_there_are_six_to_ten_published_cases() -> None:
    assert 6 <= len(CASE_FILES) <= 10


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.stem)
def test_each_case_cites_its_publication_and_diagnosis(path: Path) -> None:
    doc = json.loads(path.read_text())
    cited = [n for n in doc["notes"] if n.startswith("Modelled on ")]
    assert len(cited) == 1, path.name
    assert "final diagnosis" in cited[0], path.name
    assert doc["id"].startswith("published-")


@pytest.mark.parametrize("evidence", ["verified", "all", "primary"])
@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.stem)
def test_each_case_is_assessed_under_every_policy(path: Path, evidence: str) -> None:
    a = assess(json.loads(path.read_text()), evidence=evidence)
    assert a.verdict in ("hip", "spine", "both", "other", "indeterminate")
    assert a.evidence_policy == evidence
    assert not a.texts_not_read  # the report reader is installed and read every text


# --- vascular: external iliac occlusion presenting as low back pain (Villacorta 2012) ----

PAD = "pad_external_iliac_occlusion_as_back_pain"


def test_pad_with_a_low_abi_is_not_called_spine() -> None:
    a = _assess(PAD)
    assert a.verdict != "spine" and "spine" not in _acted(a)
    assert _prob(a)["spine"] < 0.2
    assert _prob(a)["vascular"] > _pretest(a)["vascular"]


@pytest.mark.xfail(strict=True, reason=(
    "vascular reaches only 25%: its prior below age 60 is 0.05 whatever the 70 pack-year "
    "smoking history; ABI 0.62 counts only as 'ABI < 0.9' with LR+ 6.43 (Tehan 2015, duplex "
    "reference) although the ABI is one of the reference standards of Khan 2006; the absent "
    "pedal pulse (LR+ 4.7) sits in the same arterial_perfusion group; exertional buttock/"
    "thigh pain relieved by rest has no finding (Nadeau's LR+ 20 needs calf symptoms "
    "relieved by standing still)"))
def test_pad_with_abi_0_62_and_absent_pulse_is_a_vascular_mimic() -> None:
    a = _assess(PAD)
    assert a.verdict == "other"
    assert max(_prob(a), key=_prob(a).__getitem__) == "vascular"
    assert _prob(a)["vascular"] >= 0.6


# --- hip: severe bilateral hip OA treated as cervical myelopathy (Choi 2024) -------------

BILATERAL_OA = "bilateral_hip_oa_misdiagnosed_as_myelopathy"


def test_bilateral_hip_oa_report_is_read_and_raises_the_hip() -> None:
    a = _assess(BILATERAL_OA)
    hip = next(s for s in a.sources if s.id == "hip")
    oa = [c for c in hip.contributions if c.group == "hip_radiographic_oa"]
    assert oa and all(c.from_text for c in oa) and any(c.counted for c in oa)
    assert hip.probability > hip.pretest


@pytest.mark.xfail(strict=True, reason=(
    "verdict 'both': bilateral_symptoms (Suri 2010, LR+ 6.3) fires on laterality alone, so "
    "bilateral hip-OA pain counts as stenosis evidence and, with age > 70, puts the spine at "
    "84%; the hip reaches 64% from the severe OA read from its report, while the groin pain "
    "read from the note is shown but not counted (Brown 2004, unverified) and limp likewise"))
def test_bilateral_hip_oa_with_antalgic_gait_is_hip() -> None:
    a = _assess(BILATERAL_OA)
    assert a.verdict == "hip"
    assert "spine" not in _acted(a)


# --- red flag: epidural abscess with fever, back, hip and leg pain (Dunphy 2016) --------

ABSCESS = "epidural_abscess_back_hip_leg_pain"


def test_epidural_abscess_with_fever_is_urgent_and_flagged_first() -> None:
    a = _assess(ABSCESS)
    assert a.urgent
    assert a.red_flags[0].id == "infection"
    assert a.next_tests[0].kind == "red_flag"
    assert a.next_tests[0].test == a.red_flags[0].action
    assert a.explanation.startswith("Red flags first")
    # the MRI's epidural abscess is a specific spinal lesion: the source is named after the flag
    assert a.verdict == "spine"
    assert a.diagnosis == "spine: vertebral fracture, infection or metastasis"


# --- sparse: femoral neck stress fracture in an 83-year-old (Aguado 2018) ---------------

STRESS_FRACTURE = "femoral_neck_stress_fracture_elderly"


def test_groin_pain_with_normal_radiographs_is_not_guessed() -> None:
    a = _assess(STRESS_FRACTURE)
    assert a.verdict == "indeterminate" and not _acted(a)
    assert not a.red_flags
    assert _prob(a)["hip"] == pytest.approx(_pretest(a)["hip"])  # groin pain: unverified
    # MRI of the hips (occult fracture, osteonecrosis) or the hip injection settles it
    assert a.next_tests[0].test in (_label("femoral_head_osteonecrosis"),
                                    _label("hip_injection_relief"))
    assert _label("hip_injection_relief") in _offered(a)
    assert "To settle it" in a.explanation


# --- malignancy: lung cancer metastasis treated as trochanteric bursitis (Puertas 2013) ----

METASTASIS = "lung_cancer_metastasis_trochanteric_pain"


def test_lateral_hip_pain_is_not_called_trochanteric_on_the_prior_alone() -> None:
    a = _assess(METASTASIS)
    assert a.verdict == "indeterminate" and not _acted(a)
    assert _prob(a)["trochanteric"] == pytest.approx(_pretest(a)["trochanteric"])


def test_aggressive_trochanteric_lesion_on_mri_flags_malignancy() -> None:
    """The MRI's 'expansive image with aggressive characteristics' is read from the report
    (the course - 2 months unrelieved by NSAIDs at 56 in a smoker - still raises nothing:
    the case format has no field for it)."""
    a = _assess(METASTASIS)
    assert a.urgent
    flag = next(f for f in a.red_flags if f.id == "malignancy")
    assert flag.from_text and "Scottish" in flag.citation
    assert a.next_tests[0].kind == "red_flag" and a.next_tests[0].test == flag.action
    assert f"Red flag: {flag.finding}" in a.findings_from_text


# --- hip: OA and AVN presenting as lumbosacral radiculopathy (Smith 2022) ---------------

AVN = "hip_oa_avn_presenting_as_radiculopathy"


def test_hip_oa_avn_mimicking_radiculopathy_is_settled_as_hip_by_its_mri() -> None:
    a = _assess(AVN)
    # the MRI's osteonecrosis, read from the report, settles the published diagnosis
    assert a.verdict == "hip" and a.certainty is not None and a.certainty.level == "settled"
    assert a.diagnosis == "hip: osteonecrosis of the femoral head"
    assert _prob(a)["spine"] < 0.2
    hip = next(s for s in a.sources if s.id == "hip")
    assert any(c.from_text and c.counted for c in hip.contributions)


# --- sacroiliac: SIJ arthropathy masquerading as stenosis (Chandran 2021) ---------------

SIJ_AS_LSS = "sij_arthropathy_masquerading_as_stenosis"
SIJ_BUTTOCK = "sij_dysfunction_bilateral_buttock_pain"


def test_claudication_with_mri_stenosis_is_not_acted_on_as_spine() -> None:
    a = _assess(SIJ_AS_LSS)
    assert a.verdict == "indeterminate"
    assert "spine" not in _acted(a)


_SIJ_GAP = (
    "the sacroiliac source can never be acted on: from its 0.1 prior the only finding "
    "(Laslett cluster, LR+ 4.27) reaches 32%, so the next-test model scores the cluster 0% "
    "chance of changing the verdict and it drops out of the five tests offered; the case "
    "format has no field for a sacroiliac anaesthetic block (the reference standard that "
    "settled this case) nor for the individual provocation tests")


@pytest.mark.xfail(strict=True, reason=_SIJ_GAP)
def test_sij_arthropathy_case_is_offered_the_sacroiliac_provocation_tests() -> None:
    assert _label("sij_provocation_cluster") in _offered(_assess(SIJ_AS_LSS))


# --- sacroiliac: SIJ dysfunction with bilateral buttock pain, normal imaging (Fed Pract) ---

def test_bilateral_buttock_pain_at_27_with_normal_imaging_is_not_acted_on_as_spine() -> None:
    a = _assess(SIJ_BUTTOCK)
    assert a.verdict == "indeterminate" and not _acted(a)
    assert not a.red_flags


def test_sij_dysfunction_case_is_offered_the_sacroiliac_provocation_tests() -> None:
    """Normal lumbar imaging now argues against the spine (Kent 1992 LR- for no stenosis),
    so the sacroiliac cluster is among the tests offered."""
    assert _label("sij_provocation_cluster") in _offered(_assess(SIJ_BUTTOCK))


# --- neuropathy: diabetic amyotrophy taken for lumbar radiculopathy (SHM abstract) -------

AMYOTROPHY = "diabetic_amyotrophy_as_radiculopathy"


def test_diabetic_amyotrophy_flags_the_motor_deficit_and_raises_neuropathy() -> None:
    a = _assess(AMYOTROPHY)
    assert a.urgent and a.red_flags[0].id == "motor_deficit"
    assert _prob(a)["neuropathy"] >= 0.6


@pytest.mark.xfail(strict=True, reason=(
    "verdict 'spine', repeating the published misdiagnosis: weakness (LR+ 2.1) and sensory "
    "deficit (LR+ 2.5, Suri 2010, secondary) count for the spine while the same sensory deficit "
    "counts for neuropathy, and any acted-on hip/spine outranks a probable mimic; the "
    "neuropathy source models only distal sensory polyneuropathy (Perkins 2001) and has no "
    "finding for proximal diabetic amyotrophy (proximal weakness, reduced patellar reflex) and "
    "no electromyography field; under --evidence primary the verdict is 'other'"))
def test_diabetic_amyotrophy_is_a_neuropathy_mimic_not_spine() -> None:
    a = _assess(AMYOTROPHY)
    assert a.verdict == "other"
    assert "spine" not in _acted(a)


# --- co-existing: common iliac occlusion with lumbar stenosis (J Man Manip Ther 2018) ---

ILIAC_LSS = "iliac_occlusion_with_lumbar_stenosis"


def test_iliac_occlusion_with_stenosis_keeps_both_spine_and_vascular_in_play() -> None:
    a = _assess(ILIAC_LSS)
    assert a.urgent and a.red_flags[0].id == "motor_deficit"
    assert a.verdict != "other"
    assert max(_prob(a), key=_prob(a).__getitem__) == "spine"
    assert _prob(a)["spine"] >= 0.6
    assert _prob(a)["vascular"] >= 2 * _pretest(a)["vascular"]


@pytest.mark.xfail(strict=True, reason=(
    "the ankle-brachial index is not offered although pedal pulses are diminished: ABI shares "
    "the arterial_perfusion group with the abnormal pulses, so it could only replace LR+ 4.7 "
    "by 6.43 and lift vascular from 45% to about 53%, under the 0.6 act threshold; the "
    "next-test model therefore scores it 0% chance of changing the verdict (the ABI is one of "
    "the reference standards for PAD in Khan 2006)"))
def test_iliac_occlusion_with_stenosis_is_offered_the_abi() -> None:
    assert _label("abi_below_0_9") in _offered(_assess(ILIAC_LSS))
