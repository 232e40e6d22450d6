"""`hipspine plan` end to end, and properties that hold for any case and verdict."""

from __future__ import annotations

import io
import json
import sys

from hypothesis import given, settings
from hypothesis import strategies as st
from plan_helpers import assessment, case

from hipspine import cli
from hipspine.kb import load_references
from hipspine.plan import load_plan_knowledge, make_plan

KB = load_plan_knowledge()


def run(monkeypatch, capsys, *args, stdin=None):
    monkeypatch.setattr(sys, "argv", ["hipspine", *args])
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = 0
    try:
        cli.main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_json_with_given_assessment(monkeypatch, capsys, tmp_path, example_cases):
    (tmp_path / "a.json").write_text(assessment("both").model_dump_json())
    code, out, _ = run(monkeypatch, capsys, "plan", "-", "--assessment",
                       str(tmp_path / "a.json"), "--format", "json",
                       stdin=json.dumps(example_cases["hip-spine-syndrome"]))
    assert code == 0
    doc = json.loads(out)
    assert doc["format"] == "hipspine.plan/1" and doc["verdict"] == "both"
    assert {"order", "action", "target", "why", "citation"} <= set(doc["steps"][0])
    assert {"needed", "why"} <= set(doc["urgent_referral"])
    assert {"indicated", "sequence", "why"} <= set(doc["surgery"])
    oral = next(m for m in doc["medications"] if m["drug_class"].startswith("oral NSAID"))
    assert oral["recommendation"] == "avoid"  # this example is anticoagulated


def test_cli_text(monkeypatch, capsys, tmp_path, example_cases):
    (tmp_path / "a.json").write_text(assessment("spine").model_dump_json())
    (tmp_path / "c.json").write_text(json.dumps(example_cases["spine-dominant"]))
    code, out, _ = run(monkeypatch, capsys, "plan", str(tmp_path / "c.json"),
                       "--assessment", str(tmp_path / "a.json"))
    assert code == 0
    assert "Steps" in out and "[spine]" in out and "[nice_ng59_plan]" in out
    assert "{" not in out.split("Steps")[0]


def test_cli_bad_case_exits_2_naming_the_field(monkeypatch, capsys, tmp_path):
    (tmp_path / "a.json").write_text(assessment("hip").model_dump_json())
    code, out, err = run(monkeypatch, capsys, "plan", "-", "--assessment",
                         str(tmp_path / "a.json"),
                         stdin='{"format": "hipspine.case/1", "history": {"egfr": "low"}}')
    assert code == 2 and "history.egfr" in err and "Traceback" not in out + err


def test_cli_bad_assessment_exits_2(monkeypatch, capsys, tmp_path):
    (tmp_path / "a.json").write_text('{"verdict": "maybe"}')
    code, _, err = run(monkeypatch, capsys, "plan", "-", "--assessment",
                       str(tmp_path / "a.json"), stdin='{"format": "hipspine.case/1"}')
    assert code == 2 and "verdict" in err


flags = st.one_of(st.none(), st.booleans())
prior = st.fixed_dictionaries({
    "type": st.sampled_from(["physiotherapy", "nsaid", "hip_injection", "epidural_injection",
                             "nerve_root_block"]),
    "target": st.sampled_from(["hip", "spine", "other"]),
    "relief_pct": st.one_of(st.none(), st.integers(0, 100)),
})
cases = st.builds(
    lambda h, s, e, i, t: case(history=h, symptoms=s, exam=e, imaging=i, tests=t),
    st.fixed_dictionaries({
        "anticoagulant": flags, "gi_bleed_history": flags, "smoker": flags, "diabetes": flags,
        "egfr": st.one_of(st.none(), st.floats(5, 120)),
        "bmi": st.one_of(st.none(), st.floats(16, 55)),
        "prior_treatments": st.lists(prior, max_size=3)}),
    st.fixed_dictionaries({"bladder_bowel_dysfunction": flags, "walking_limited": flags}),
    st.fixed_dictionaries({"motor_deficit": flags}),
    st.fixed_dictionaries({
        "hip_oa": st.fixed_dictionaries({"kellgren_lawrence": st.integers(0, 4)}),
        "lumbar_stenosis": st.fixed_dictionaries(
            {"severity": st.sampled_from(["none", "mild", "moderate", "severe"])})}),
    st.fixed_dictionaries({"intra_articular_hip_injection_relief_pct":
                           st.one_of(st.none(), st.integers(0, 100))}),
)
verdicts = st.sampled_from(["hip", "spine", "both", "other", "indeterminate"])


@settings(max_examples=120, deadline=None)
@given(c=cases, verdict=verdicts)
def test_plan_invariants(c, verdict):
    plan = make_plan(c, assessment(verdict), KB)
    refs = load_references()
    orders = [s.order for s in plan.steps]
    assert orders == list(range(1, len(plan.steps) + 1))
    assert all(s.citation in refs for s in plan.steps)
    # urgent first, then "now" before "if no relief", tiers non-decreasing within each
    rank = {t: i for i, t in enumerate(KB.tier_order)}
    keys = [(s.tier != "urgent", s.status != "now", rank[s.tier]) for s in plan.steps]
    assert keys == sorted(keys)
    if c.symptoms.bladder_bowel_dysfunction:
        assert plan.urgent_referral.needed and plan.steps[0].tier == "urgent"
    oral = next(m for m in plan.medications if m.drug_class.startswith("oral NSAID"))
    if c.history.anticoagulant or c.history.gi_bleed_history or (
            c.history.egfr is not None and c.history.egfr < 30):
        assert oral.recommendation == "avoid"
    skipped = {t.note.split("step '")[1].split("'")[0] for t in plan.already_tried
               if "step '" in t.note}
    failed_priors = {(p.type, p.target) for p in c.history.prior_treatments
                     if p.relief_pct is None or p.relief_pct < 50}
    assert {(t.type, t.target) for t in plan.already_tried} == failed_priors
    assert not skipped & {s.id for s in plan.steps}
    if plan.surgery.status == "now":
        assert any(s.tier == "surgical_referral" and s.status == "now" for s in plan.steps)
    if plan.surgery.indicated:
        assert any(s.tier == "surgical_referral" for s in plan.steps) or (
            plan.surgery.status == "urgent" and plan.steps[0].tier == "urgent")
    else:
        assert not any(s.tier == "surgical_referral" for s in plan.steps)
    if len(plan.surgery.sequence) == 2 and plan.surgery.status != "urgent":
        # an elective order of two operations is a shared decision; an emergency's is not
        assert plan.surgery.shared_decision


def test_an_emergency_puts_the_spine_first_without_a_sequencing_decision():
    """Cauda equina with hip OA and stenosis (found by the property test above): the urgent
    spinal operation comes first by necessity, the elective hip operation after it, and no
    hip-or-spine-first consensus is asked for."""
    from hipspine.models import parse_case

    c = parse_case({"format": "hipspine.case/1",
                    "symptoms": {"bladder_bowel_dysfunction": True},
                    "imaging": {"hip_oa": {"kellgren_lawrence": 3},
                                "lumbar_stenosis": {"severity": "moderate"}}})
    plan = make_plan(c, assessment("hip"), KB)
    assert plan.surgery.status == "urgent" and plan.surgery.sequence[0] == "spine"
    assert plan.steps[0].tier == "urgent"
    assert not plan.surgery.shared_decision
