"""The stepped-care plan: order, safety, prior treatments, sequencing, lifestyle."""

from __future__ import annotations

import pytest
from plan_helpers import assessment, case

from hipspine.kb import load_references
from hipspine.models import parse_case
from hipspine.models.assessment import RedFlag
from hipspine.plan import load_plan_knowledge, make_plan
from hipspine.spinopelvic import measure_landmarks

KB = load_plan_knowledge()
EXAMPLE_VERDICTS = {"hip-dominant": "hip", "spine-dominant": "spine",
                    "hip-spine-syndrome": "both"}


def _med(plan, label_start):
    return next(m for m in plan.medications if m.drug_class.startswith(label_start))


@pytest.mark.parametrize("name", sorted(EXAMPLE_VERDICTS))
def test_first_step_fits_the_verdict_and_every_step_is_cited(example_cases, name):
    verdict = EXAMPLE_VERDICTS[name]
    plan = make_plan(parse_case(example_cases[name]), assessment(verdict), KB)
    first = plan.steps[0]
    assert first.target == verdict and first.tier == "conservative" and first.status == "now"
    refs = load_references()
    for step in plan.steps:
        assert step.citation in refs, step
    for med in plan.medications:
        assert med.citation in refs
    assert plan.engine_version and plan.knowledge_version
    assert not plan.urgent_referral.needed


def test_cauda_equina_findings_put_urgent_referral_first_even_without_assessment_flags():
    c = case(symptoms={"bladder_bowel_dysfunction": True, "saddle_anaesthesia": True},
             imaging={"lumbar_stenosis": {"severity": "severe"}})
    plan = make_plan(c, assessment("spine"), KB)
    assert plan.urgent_referral.needed
    assert plan.steps[0].tier == "urgent" and plan.steps[0].order == 1
    assert "cauda equina" in plan.steps[0].action
    assert len(plan.steps) > 1, "the rest of the plan follows the urgent referral"


def test_assessment_red_flags_become_the_first_steps():
    flag = RedFlag(id="cauda_equina", finding="saddle anaesthesia",
                   action="emergency MRI and spinal surgical referral today",
                   citation="nice_ng59_plan", urgency="emergency")
    plan = make_plan(case(), assessment("both", red_flags=[flag]), KB)
    assert plan.steps[0].id == "red_flag.cauda_equina" and plan.steps[0].target == "spine"
    assert plan.urgent_referral.needed and "saddle" in plan.urgent_referral.why


def test_anticoagulant_with_egfr_25_is_not_advised_nsaids():
    c = case(age=70, history={"anticoagulant": True, "egfr": 25})
    plan = make_plan(c, assessment("hip"), KB)
    oral = _med(plan, "oral NSAID")
    assert oral.recommendation == "avoid"
    assert "anticoagulant" in oral.why.lower() and "egfr" in oral.why.lower()
    assert _med(plan, "paracetamol").recommendation == "use"
    assert all(not (m.drug_class.startswith("oral NSAID") and m.recommendation == "use")
               for m in plan.medications)


SAFE_HISTORY = {"egfr": 90, "anticoagulant": False, "gi_bleed_history": False,
                "nsaid_intolerance": False, "cardiovascular_disease": False}


@pytest.mark.parametrize(("history", "age", "expected"), [
    ({"egfr": 29.9}, 50, "avoid"), ({"egfr": 30}, 50, "caution"), ({"egfr": 59}, 50, "caution"),
    ({"egfr": 60}, 50, "use"), ({"gi_bleed_history": True}, 50, "avoid"),
    ({"nsaid_intolerance": True}, 50, "avoid"), ({"cardiovascular_disease": True}, 50, "caution"),
    ({}, 65, "caution"), ({}, 64, "use"), ({}, None, "caution"),
])
def test_oral_nsaid_rules(history, age, expected):
    c = case(history={**SAFE_HISTORY, **history}, **({"age": age} if age is not None else {}))
    assert _med(make_plan(c, assessment("hip"), KB), "oral NSAID").recommendation == expected


def test_alternatives_only_when_nsaids_are_unsafe():
    plan = make_plan(case(age=50, history=SAFE_HISTORY), assessment("hip"), KB)
    labels = [m.drug_class for m in plan.medications]
    assert not any(label.startswith(("paracetamol", "weak opioid")) for label in labels)


def test_failed_physiotherapy_is_not_offered_again_and_care_escalates():
    c = case(history={"prior_treatments": [
        {"type": "physiotherapy", "target": "hip", "relief_pct": 10, "months_ago": 4}]},
        imaging={"hip_oa": {"kellgren_lawrence": 2}})
    plan = make_plan(c, assessment("hip"), KB)
    ids = [s.id for s in plan.steps]
    assert "hip_exercise" not in ids
    assert plan.already_tried and "10% relief" in plan.already_tried[0].note
    injection = next(s for s in plan.steps if s.id == "hip_steroid_injection")
    assert injection.status == "now" and plan.steps[0].id == "hip_steroid_injection"


def test_helpful_prior_physiotherapy_is_offered_again_with_its_result():
    c = case(history={"prior_treatments": [
        {"type": "physiotherapy", "target": "hip", "relief_pct": 70, "months_ago": 12}]})
    plan = make_plan(c, assessment("hip"), KB)
    first = plan.steps[0]
    assert first.id == "hip_exercise" and "70% relief" in first.why
    assert not plan.already_tried


def test_injection_waits_until_conservative_care_fails_unless_advanced():
    early = make_plan(case(imaging={"hip_oa": {"kellgren_lawrence": 1}}), assessment("hip"), KB)
    inj = next(s for s in early.steps if s.id == "hip_steroid_injection")
    assert inj.status == "if_no_relief"
    assert not any(s.tier == "surgical_referral" for s in early.steps)
    assert not early.surgery.indicated


def test_advanced_hip_after_failed_conservative_care_is_referred_for_arthroplasty():
    c = case(history={"prior_treatments": [
        {"type": "physiotherapy", "target": "hip", "relief_pct": 0},
        {"type": "hip_injection", "target": "hip", "relief_pct": 20}]},
        imaging={"hip_oa": {"side": "right", "kellgren_lawrence": 4}})
    plan = make_plan(c, assessment("hip"), KB)
    assert plan.surgery.indicated and plan.surgery.sequence == ["hip"]
    assert plan.steps[0].id == "hip_surgical_referral"
    assert {t.type for t in plan.already_tried} == {"physiotherapy", "hip_injection"}


def _both_surgical(**extra):
    base = {
        "history": {"prior_treatments": [
            {"type": "physiotherapy", "target": "hip", "relief_pct": 0},
            {"type": "physiotherapy", "target": "spine", "relief_pct": 10}]},
        "imaging": {"hip_oa": {"kellgren_lawrence": 4},
                    "lumbar_stenosis": {"severity": "severe"}},
    }
    for key, value in extra.items():
        base[key] = {**base.get(key, {}), **value}
    return case(**base)


def test_both_organs_needing_surgery_default_to_hip_first_as_shared_decision():
    plan = make_plan(_both_surgical(), assessment("both"), KB)
    s = plan.surgery
    assert s.indicated and s.sequence == ["hip", "spine"]
    assert s.shared_decision and s.consensus == "shared decision, low expert consensus"
    assert "liu2019_hip_or_spine" in s.citations


@pytest.mark.parametrize("extra", [
    {"exam": {"motor_deficit": True}},
    {"tests": {"intra_articular_hip_injection_relief_pct": 20}},
    {"exam": {"wide_based_gait": True, "romberg_abnormal": True}},
])
def test_literature_exceptions_put_the_spine_first(extra):
    plan = make_plan(_both_surgical(**extra), assessment("both"), KB)
    assert plan.surgery.sequence == ["spine", "hip"] and plan.surgery.shared_decision


def test_positive_hip_injection_keeps_hip_first():
    c = _both_surgical(tests={"intra_articular_hip_injection_relief_pct": 80})
    surgery = make_plan(c, assessment("both"), KB).surgery
    assert surgery.sequence == ["hip", "spine"] and "ashok2009_hip_injection" in surgery.citations


def test_severe_sagittal_deformity_with_retroversion_puts_spine_first():
    from spinopelvic_like import deformity_landmarks

    spino = measure_landmarks(deformity_landmarks())
    assert spino.schwab_modifiers.pt == "++" and spino.schwab_modifiers.pi_ll == "++"
    plan = make_plan(_both_surgical(), assessment("both"), KB, spinopelvic=spino)
    assert plan.surgery.sequence == ["spine", "hip"]
    assert "sequence.spine_first_sagittal_deformity" in plan.rules_fired


@pytest.mark.parametrize(("bmi", "expected"), [
    (24.9, None), (25, "bmi_overweight"), (29.9, "bmi_overweight"), (30, "bmi_obesity_1"),
    (35, "bmi_obesity_2"), (39.9, "bmi_obesity_2"), (40, "bmi_obesity_3"),
])
def test_weight_advice_by_bmi_band(bmi, expected):
    plan = make_plan(case(history={"bmi": bmi}), assessment("hip"), KB)
    bands = [a.id for a in plan.lifestyle if a.id.startswith("bmi_")]
    assert bands == ([expected] if expected else [])


def test_smoking_and_low_impact_exercise_advice():
    c = case(history={"smoker": True}, symptoms={"walking_limited": True})
    plan = make_plan(c, assessment("hip"), KB)
    smoking = next(a for a in plan.lifestyle if a.id == "smoking_cessation")
    assert "disc" in smoking.why and "fusion" in smoking.why
    aerobic = next(a for a in plan.lifestyle if a.id == "low_impact_aerobic")
    for word in ("swimming", "cycling", "water walking"):
        assert word in aerobic.advice


def test_injection_cautions_for_anticoagulation_and_diabetes():
    c = case(history={"anticoagulant": True, "diabetes": True},
             imaging={"lumbar_stenosis": {"severity": "severe"}})
    plan = make_plan(c, assessment("spine"), KB)
    text = " ".join(plan.cautions)
    assert "haematoma" in text and "glucose" in text


def test_no_injection_no_injection_cautions():
    plan = make_plan(case(history={"anticoagulant": True}), assessment("other",
                     other="vascular"), KB)
    assert not any("anticoagula" in c.lower() for c in plan.cautions)
    assert plan.steps[0].id in ("other_source", "vascular_referral")


def test_unverified_steps_are_named_in_the_cautions():
    plan = make_plan(case(), assessment("other", other="vascular"), KB)
    assert "vascular_referral" in plan.unverified
    assert any("vascular_referral" in c and "Not yet verified" in c for c in plan.cautions)


def test_indeterminate_starts_with_the_work_up():
    plan = make_plan(case(), assessment("indeterminate"), KB)
    assert plan.steps[0].tier == "work_up" and plan.steps[0].target == "both"


def test_unknown_findings_fire_no_rules():
    plan = make_plan(case(), assessment("hip"), KB)
    assert not any(r.startswith("medication.nsaid_") for r in plan.rules_fired)
    assert plan.lifestyle == []


def test_failed_hip_replacement_is_not_offered_again_as_new():
    c = case(history={"prior_treatments": [
        {"type": "physiotherapy", "target": "hip", "relief_pct": 0},
        {"type": "total_hip_arthroplasty", "target": "hip", "relief_pct": 10}]},
        imaging={"hip_oa": {"kellgren_lawrence": 4}})
    plan = make_plan(c, assessment("hip"), KB)
    assert "hip_surgical_referral" not in [s.id for s in plan.steps]
    assert any(t.type == "total_hip_arthroplasty" for t in plan.already_tried)


def test_motor_deficit_red_flag_targets_the_spine():
    flag = RedFlag(id="motor_deficit", finding="weakness", action="same-day assessment",
                   citation="nice_ng59_plan")
    plan = make_plan(case(), assessment("hip", red_flags=[flag]), KB)
    assert plan.steps[0].target == "spine"


def test_chronic_sciatica_gets_no_opioid_or_gabapentinoid_advice():
    c = case(history={"anticoagulant": True}, symptoms={"duration_months": 6})
    plan = make_plan(c, assessment("spine"), KB)
    assert _med(plan, "weak opioid").recommendation == "avoid"
    assert _med(plan, "gabapentinoid").recommendation == "avoid"
    assert "sciatica" in _med(plan, "gabapentinoid").why


def test_acute_spine_pain_keeps_short_term_weak_opioid_as_caution():
    c = case(history={"anticoagulant": True}, symptoms={"duration_months": 1})
    assert _med(make_plan(c, assessment("spine"), KB), "weak opioid").recommendation == "caution"


def test_actions_name_the_side_from_imaging_or_symptoms():
    plan = make_plan(case(imaging={"hip_oa": {"side": "left", "kellgren_lawrence": 2}}),
                     assessment("hip"), KB)
    assert "the left hip" in plan.steps[0].action
    plan = make_plan(case(symptoms={"laterality": "bilateral"}), assessment("hip"), KB)
    assert "both hips" in plan.steps[0].action


def test_unimaged_spine_after_failed_physiotherapy_gets_mri_first():
    c = case(history={"prior_treatments": [
        {"type": "physiotherapy", "target": "spine", "relief_pct": 5}]})
    plan = make_plan(c, assessment("spine"), KB)
    assert plan.steps[0].id == "spine_mri_before_intervention"
    imaged = case(history={"prior_treatments": [
        {"type": "physiotherapy", "target": "spine", "relief_pct": 5}]},
        imaging={"lumbar_stenosis": {"severity": "mild"}})
    assert "spine_mri_before_intervention" not in [
        s.id for s in make_plan(imaged, assessment("spine"), KB).steps]


def test_unimaged_hip_after_failed_care_gets_a_radiograph():
    c = case(history={"prior_treatments": [
        {"type": "physiotherapy", "target": "hip", "relief_pct": 0}]})
    plan = make_plan(c, assessment("hip"), KB)
    assert plan.steps[0].id == "hip_imaging_before_referral"


def test_sacroiliac_mimic_gets_its_own_rehabilitation_step():
    plan = make_plan(case(), assessment("other", other="sacroiliac"), KB)
    ids = [s.id for s in plan.steps]
    assert "sacroiliac_rehabilitation" in ids and "hip_exercise" not in ids


def test_failed_nsaid_is_listed_as_tried_and_not_advised_as_new():
    c = case(age=50, history={"prior_treatments": [
        {"type": "nsaid", "target": "hip", "relief_pct": 0, "months_ago": 2}]})
    plan = make_plan(c, assessment("hip"), KB)
    assert _med(plan, "oral NSAID").recommendation == "caution"
    assert any(t.type == "nsaid" and "already tried" in t.note for t in plan.already_tried)


def test_cauda_equina_with_both_organs_advanced_makes_spine_surgery_first():
    c = _both_surgical(symptoms={"bladder_bowel_dysfunction": True})
    plan = make_plan(c, assessment("both"), KB)
    assert plan.steps[0].tier == "urgent"
    assert plan.surgery.indicated and plan.surgery.sequence == ["spine", "hip"]


def test_failed_treatment_of_the_other_organ_is_explained():
    c = case(history={"prior_treatments": [
        {"type": "total_hip_arthroplasty", "target": "hip", "relief_pct": 10}]})
    plan = make_plan(c, assessment("spine"), KB)
    assert "Treatment aimed at the hip (total hip arthroplasty)" in plan.steps[0].why


def test_spinopelvic_class_reaches_the_hip_replacement_plan():
    from spinopelvic_like import stiff_flatback_landmarks

    spino = measure_landmarks(stiff_flatback_landmarks())
    assert spino.hip_spine_class == "2B"
    c = case(history={"prior_treatments": [
        {"type": "physiotherapy", "target": "hip", "relief_pct": 0}]},
        imaging={"hip_oa": {"kellgren_lawrence": 4}})
    plan = make_plan(c, assessment("hip"), KB, spinopelvic=spino)
    text = " ".join(plan.cautions)
    assert "Hip-Spine class 2B" in text and "dual-mobility" in text


def test_other_verdict_gives_the_specific_mimic_step_only():
    plan = make_plan(case(), assessment("other", other="trochanteric"), KB)
    ids = [s.id for s in plan.steps]
    assert ids[0] == "gluteal_tendinopathy_exercise" and "other_source" not in ids


def test_previous_fusion_warns_the_hip_replacement_plan():
    c = case(history={"prior_treatments": [
        {"type": "lumbar_fusion", "target": "spine", "relief_pct": 80}]},
        imaging={"hip_oa": {"kellgren_lawrence": 4}})
    plan = make_plan(c, assessment("hip"), KB)
    assert any("lumbar fusion" in c and "dislocation" in c for c in plan.cautions)


def test_secondary_hip_spine_pattern_supports_hip_first():
    a = assessment("both").model_copy(update={"offierski_macnab": "secondary"})
    plan = make_plan(_both_surgical(), a, KB)
    assert plan.surgery.sequence == ["hip", "spine"]
    assert "offierski1983" in plan.surgery.citations and "secondary" in plan.surgery.why
