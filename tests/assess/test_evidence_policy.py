"""The evidence policy: which likelihood ratios count, by how each figure was verified.

The evidence review asks that unverified figures stay off until checked: by default they are
shown and marked but not counted; 'all' counts them; 'primary' also leaves out figures read
only in a secondary source. Red flags apply under every policy.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from tests.assess.test_properties import FAST, cases

import hipspine
from hipspine.assess import assess_case, load_assessment_knowledge
from hipspine.errors import InputError
from hipspine.models import parse_case

KB = load_assessment_knowledge()
CASES = Path(__file__).parent / "cases"
GROIN = {"format": "hipspine.case/1", "setting": "primary_care", "age": 68,
         "symptoms": {"pain_locations": ["groin"]}}


def _contribution(a: Any, source: str, finding: str) -> Any:
    est = next(s for s in a.sources if s.id == source)
    return next(c for c in est.contributions if c.finding == finding)


def _counted(a: Any) -> set[tuple[str, str]]:
    return {(s.id, c.finding) for s in a.sources for c in s.contributions if c.counted}


def test_the_default_policy_comes_from_the_knowledge_base_and_is_stamped() -> None:
    assert KB.rules.evidence_policy.default == "verified"
    assert hipspine.assess(GROIN).evidence_policy == "verified"
    assert hipspine.assess(GROIN, evidence="all").evidence_policy == "all"


def test_an_unverified_figure_is_shown_but_not_counted_by_default() -> None:
    default = hipspine.assess(GROIN)
    groin = _contribution(default, "hip", "Groin pain")
    assert groin.verified is False and groin.counted is False
    assert groin.note and "evidence policy 'verified'" in groin.note
    assert "not counted (evidence policy)" in " ".join(default.unverified)
    assert "not counted under the evidence policy 'verified'" in default.explanation
    hip_default = next(s for s in default.sources if s.id == "hip")
    assert hip_default.probability == pytest.approx(hip_default.pretest, abs=1e-3)

    everything = hipspine.assess(GROIN, evidence="all")
    assert _contribution(everything, "hip", "Groin pain").counted is True
    hip_all = next(s for s in everything.sources if s.id == "hip")
    assert hip_all.probability > hip_default.probability + 0.2  # LR+ 7 on the pre-test odds


def test_primary_leaves_out_figures_read_only_in_a_secondary_source() -> None:
    case = {"format": "hipspine.case/1", "age": 70, "symptoms": {"relief_sitting": True}}
    verified = hipspine.assess(case)
    primary = hipspine.assess(case, evidence="primary")
    sitting = "Symptoms improve when seated"
    assert _contribution(verified, "spine", sitting).counted is True
    left_out = _contribution(primary, "spine", sitting)
    assert left_out.counted is False and "'primary' counts only primary" in (left_out.note or "")


def test_the_policy_note_states_what_primary_costs_on_the_published_cases(
        shared_dir: Path) -> None:
    paths = sorted(CASES.glob("*.json")) + sorted((shared_dir / "examples").glob("*.json"))
    docs = [d for d in (json.loads(p.read_text()) for p in paths)
            if d.get("format") == "hipspine.case/1"]
    lost = sum(hipspine.assess(d).verdict != hipspine.assess(d, evidence="primary").verdict
               for d in docs)
    assert f"{lost} of the {len(docs)} test cases" in KB.rules.evidence_policy.note


def test_red_flags_apply_under_every_policy() -> None:
    case = json.loads((CASES / "cauda_equina.json").read_text())
    for level in ("all", "verified", "primary"):
        a = hipspine.assess(case, evidence=level)
        assert a.urgent and any(f.id == "cauda_equina" for f in a.red_flags), level


def test_a_test_whose_only_figures_are_left_out_is_not_offered_next() -> None:
    case = {"format": "hipspine.case/1", "age": 70, "setting": "spine_clinic"}
    offered = {t.test for t in hipspine.assess(case).next_tests}
    offered_all = {t.test for t in hipspine.assess(case, evidence="all").next_tests}
    limp = KB.finding("limp").next_test
    assert limp is not None
    assert limp.label not in offered  # its one LR (Brown 2004) is unverified
    assert offered_all  # with every figure counted the model still ranks tests


def test_an_unknown_policy_names_the_field_and_what_is_allowed() -> None:
    with pytest.raises(InputError) as info:
        hipspine.assess(GROIN, evidence="secondary")
    problem = info.value.problems[0]
    assert problem.field == "evidence" and problem.value == "secondary"
    assert "'verified'" in problem.allowed and "'primary'" in problem.allowed


@FAST
@given(cases)
def test_a_stricter_policy_never_counts_more(data: dict[str, Any]) -> None:
    case = parse_case(data)
    runs = {level: assess_case(case, KB, evidence=level)
            for level in ("all", "verified", "primary")}
    assert _counted(runs["primary"]) <= _counted(runs["verified"]) <= _counted(runs["all"])
    for a in runs.values():
        assert all(0.0 <= s.probability <= 1.0 for s in a.sources)
        shown = {(s.id, c.finding) for s in a.sources for c in s.contributions}
        assert shown == {(s.id, c.finding) for s in runs["all"].sources
                         for c in s.contributions}  # a policy hides nothing


def test_the_top_level_function_takes_the_policy_before_the_package_is_imported() -> None:
    """`hipspine.assess` is a plain function until `hipspine.assess` (the package) is imported;
    both forms must accept the same keywords (a fresh interpreter sees the plain function)."""
    import subprocess
    import sys

    code = ("import hipspine; print(hipspine.assess({'format': 'hipspine.case/1'}, "
            "evidence='primary', read_texts=False).evidence_policy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "primary"
