"""The plan through the real assessment engine (`hipspine.assess`), as `hipspine plan` runs."""

from __future__ import annotations

import json
import sys

import pytest

from hipspine import cli
from hipspine.kb import load_references
from hipspine.models import parse_case
from hipspine.plan import plan_case


@pytest.mark.parametrize("name", ["hip-dominant", "spine-dominant", "hip-spine-syndrome"])
def test_each_example_first_step_fits_the_assessed_verdict(example_cases, name):
    plan = plan_case(parse_case(example_cases[name]))
    first = plan.steps[0]
    expected = {"hip": "hip", "spine": "spine", "both": "both"}.get(plan.verdict)
    if plan.urgent_referral.needed:
        assert first.tier == "urgent"
    else:
        assert expected is not None, f"{name}: engine verdict {plan.verdict}"
        assert first.target == expected and first.tier in ("conservative", "work_up")
    refs = load_references()
    assert all(step.citation in refs for step in plan.steps)


def test_bladder_dysfunction_and_saddle_anaesthesia_refer_urgently_first(example_cases):
    doc = json.loads(json.dumps(example_cases["spine-dominant"]))
    doc["symptoms"].update({"bladder_bowel_dysfunction": True, "saddle_anaesthesia": True})
    plan = plan_case(parse_case(doc))
    assert plan.urgent_referral.needed
    assert plan.steps[0].tier == "urgent" and plan.steps[0].target == "spine"
    refs = load_references()
    assert all(step.citation in refs for step in plan.steps)
    later = [s for s in plan.steps if s.tier != "urgent"]
    assert later and all(s.why.startswith("After the urgent assessment") for s in later)


def test_anticoagulated_egfr_25_patient_is_not_advised_nsaids(example_cases):
    doc = json.loads(json.dumps(example_cases["hip-dominant"]))
    doc["history"] = {**doc.get("history", {}), "anticoagulant": True, "egfr": 25}
    plan = plan_case(parse_case(doc))
    oral = next(m for m in plan.medications if m.drug_class.startswith("oral NSAID"))
    assert oral.recommendation == "avoid"


def test_cli_plan_assesses_when_no_assessment_is_given(monkeypatch, capsys, shared_dir):
    monkeypatch.setattr(sys, "argv", ["hipspine", "plan", "--format", "json",
                                      str(shared_dir / "examples" / "hip-dominant.json")])
    try:
        cli.main()
    except SystemExit as exc:
        assert not exc.code
    doc = json.loads(capsys.readouterr().out)
    assert doc["format"] == "hipspine.plan/1" and doc["steps"][0]["target"] == doc["verdict"]
