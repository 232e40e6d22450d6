"""The engine applies only what its knowledge base says: a tiny base gives a tiny plan."""

from __future__ import annotations

from plan_helpers import assessment, case

from hipspine.plan import make_plan
from hipspine.plan.knowledge import PlanKnowledge

TINY = {
    "facts": {"relief_threshold_pct": 50, "relief_threshold_note": "test",
              "definitions": [{"id": "kidneys_poor", "any": [{"fact": "history.egfr", "lt": 45}]}]},
    "steps": {
        "urgent": {"safety_net": [], "red_flag_targets": {}, "red_flag_default_target": "both"},
        "steps": [{"id": "walk", "tier": "conservative", "target": "hip", "action": "Walk daily.",
                   "why": "test rule",
                   "now_when": {"all": [{"fact": "verdict", "one_of": ["hip"]}]},
                   "treatment_types": ["physiotherapy"], "treatment_targets": ["hip"],
                   "citation": "nice_ng226", "verified": "unverified"}],
    },
    "medications": {
        "drug_classes": [{"id": "tea", "label": "tea", "default": {
            "recommendation": "use", "why": "fine", "citation": "nice_ng226",
            "verified": "unverified"},
            "rules": [{"id": "tea_kidneys", "when": {"any": [{"fact": "kidneys_poor",
                                                              "equals": True}]},
                       "recommendation": "avoid", "why": "kidneys", "citation": "nice_ng226",
                       "verified": "unverified"}]}],
        "injection_cautions": [],
    },
    "lifestyle": {"advice": [], "bands_citation": "who_bmi"},
    "sequencing": {
        "default": {"sequence": ["spine", "hip"], "why": "test default", "citation": "nice_ng226",
                    "verified": "unverified"},
        "consensus": {"label": "test", "why": "test", "citations": ["nice_ng226"],
                      "verified": "unverified"},
        "exceptions": [],
    },
}


def test_a_tiny_knowledge_base_drives_the_whole_plan():
    kb = PlanKnowledge.model_validate(TINY)
    plan = make_plan(case(history={"egfr": 40}), assessment("hip"), kb)
    assert [s.id for s in plan.steps] == ["walk"]
    assert [(m.drug_class, m.recommendation) for m in plan.medications] == [("tea", "avoid")]
    assert plan.lifestyle == []
    assert plan.cautions == ["Not yet verified against its source in this knowledge base "
                             "(check before relying on it): medication.tea, walk."]
    assert make_plan(case(history={"egfr": 90}), assessment("hip"), kb).medications[0] \
        .recommendation == "use"
    assert make_plan(case(), assessment("spine"), kb).steps == []


def test_prior_treatment_threshold_comes_from_the_knowledge_base():
    strict = PlanKnowledge.model_validate({**TINY, "facts": {**TINY["facts"],
                                                               "relief_threshold_pct": 90}})
    c = case(history={"prior_treatments": [
        {"type": "physiotherapy", "target": "hip", "relief_pct": 60}]})
    assert [s.id for s in make_plan(c, assessment("hip"), PlanKnowledge.model_validate(TINY))
            .steps] == ["walk"]
    assert make_plan(c, assessment("hip"), strict).steps == []
