"""Property tests of the engine: bounded, monotone, order-free, never crashing, strict input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.cli_here import run_cli_here
from tests.hostile_json import Hostile, hostile_documents, place

from hipspine.assess import assess_case, load_assessment_knowledge
from hipspine.models import parse_case
from hipspine.models.case import Exam, History, Symptoms

KB = load_assessment_knowledge()
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _flags(model: Any) -> list[str]:
    return [name for name, info in model.model_fields.items()
            if info.annotation == bool | None]


SYMPTOM_FLAGS = _flags(Symptoms)
EXAM_FLAGS = _flags(Exam)
HISTORY_FLAGS = _flags(History)
LOCATIONS = ["groin", "buttock", "lateral_hip", "anterior_thigh", "posterior_thigh",
             "below_knee", "foot", "low_back"]
maybe_bool = st.none() | st.booleans()


def _section(flags: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional=dict.fromkeys(flags, maybe_bool))


treatment = st.fixed_dictionaries(
    {"type": st.sampled_from(["physiotherapy", "hip_injection", "lumbar_decompression",
                              "total_hip_arthroplasty", "epidural_injection"]),
     "target": st.sampled_from(["hip", "spine", "other"])},
    optional={"relief_pct": st.floats(0, 100), "months_ago": st.floats(0, 120)})

cases = st.fixed_dictionaries(
    {"format": st.just("hipspine.case/1")},
    optional={
        "setting": st.sampled_from(["primary_care", "spine_clinic", "arthroplasty_clinic",
                                    "physiotherapy"]),
        "age": st.integers(18, 110),
        "history": _section(HISTORY_FLAGS).flatmap(lambda h: st.fixed_dictionaries(
            {**{k: st.just(v) for k, v in h.items()},
             "prior_treatments": st.lists(treatment, max_size=3)})),
        "symptoms": _section(SYMPTOM_FLAGS).flatmap(lambda s: st.fixed_dictionaries(
            {**{k: st.just(v) for k, v in s.items()},
             "pain_locations": st.none() | st.lists(st.sampled_from(LOCATIONS), unique=True),
             "laterality": st.none() | st.sampled_from(["left", "right", "bilateral"])})),
        "exam": _section(EXAM_FLAGS).flatmap(lambda e: st.fixed_dictionaries(
            {**{k: st.just(v) for k, v in e.items()},
             "hip_internal_rotation_deg": st.none() | st.floats(-30, 90),
             "sij_provocation_positive_count": st.none() | st.integers(0, 5)})),
        "imaging": st.fixed_dictionaries({}, optional={
            "hip_oa": st.fixed_dictionaries({"kellgren_lawrence": st.integers(0, 4)}),
            "lumbar_stenosis": st.fixed_dictionaries(
                {"severity": st.sampled_from(["none", "mild", "moderate", "severe"])})}),
        "tests": st.fixed_dictionaries({}, optional={
            "intra_articular_hip_injection_relief_pct": st.floats(0, 100),
            "abi": st.floats(0, 3)}),
    })


@FAST
@given(cases)
def test_random_valid_cases_never_crash_and_stay_in_bounds(data: dict[str, Any]) -> None:
    a = assess_case(parse_case(data), KB)
    assert a.verdict in ("hip", "spine", "both", "other", "indeterminate")
    for s in a.sources:
        assert 0.0 <= s.probability <= 1.0 and 0.0 <= s.pretest <= 1.0
    assert a.explanation
    json.loads(a.model_dump_json())


FAVOURING = [(f.present_when[0].field, lk.source) for f in KB.findings.findings
             if len(f.present_when) == 1 and f.present_when[0].op == "is_true"
             and not f.applies_when for lk in f.likelihoods
             if lk.effective()[0] is not None and lk.effective()[0] > 1]  # type: ignore[operator]


@FAST
@given(cases, st.sampled_from(FAVOURING))
def test_adding_a_favouring_finding_never_lowers_that_source(
        data: dict[str, Any], pick: tuple[str, str]) -> None:
    path, source = pick
    section, name = path.split(".")
    without = json.loads(json.dumps(data))
    without.setdefault(section, {})[name] = None
    with_it = json.loads(json.dumps(without))
    with_it[section][name] = True
    p0 = next(s.probability for s in assess_case(parse_case(without), KB).sources
              if s.id == source)
    p1 = next(s.probability for s in assess_case(parse_case(with_it), KB).sources
              if s.id == source)
    assert p1 >= p0


def _reorder(node: Any, rnd: Any) -> Any:
    if isinstance(node, dict):
        keys = list(node)
        rnd.shuffle(keys)
        return {k: _reorder(node[k], rnd) for k in keys}
    if isinstance(node, list):
        items = [_reorder(v, rnd) for v in node]
        rnd.shuffle(items)
        return items
    return node


@FAST
@given(cases, st.randoms(use_true_random=False))
def test_field_and_list_order_change_nothing(data: dict[str, Any], rnd: Any) -> None:
    first = assess_case(parse_case(data), KB).model_dump()
    second = assess_case(parse_case(_reorder(data, rnd)), KB).model_dump()
    assert first == second


INVALID = [
    ("age", 250), ("symptoms.pain_locations", ["knee-ish"]),
    ("tests.intra_articular_hip_injection_relief_pct", 140), ("exam.fadir_positve", True),
    ("setting", "emergency_room"), ("exam.sij_provocation_positive_count", 9),
    ("symptoms.limp", "yes"), ("imaging.hip_oa.kellgren_lawrence", 7),
]


def _run_cli(args: list[str], stdin: str, monkeypatch: pytest.MonkeyPatch,
             capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code, out, err = run_cli_here(monkeypatch, capsys, *args, stdin=stdin)
    return code, out + err


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=cases, bad=st.sampled_from(INVALID))
def test_random_invalid_cases_exit_2_naming_the_field(
        data: dict[str, Any], bad: tuple[str, Any], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    path, value = bad
    doc = json.loads(json.dumps(data))
    place(doc, path, value)
    code, output = _run_cli(["assess", "-", "--format", "json"], json.dumps(doc),
                            monkeypatch, capsys)
    assert code == 2
    assert path in output


@FAST
@given(cases)
def test_explicit_nulls_change_nothing(data: dict[str, Any]) -> None:
    nulls = json.loads(json.dumps(data))
    for section, flags in (("symptoms", SYMPTOM_FLAGS), ("exam", EXAM_FLAGS)):
        part = nulls.setdefault(section, {})
        for flag in flags:
            part.setdefault(flag, None)
    assert (assess_case(parse_case(data), KB).model_dump()
            == assess_case(parse_case(nulls), KB).model_dump())


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(doc=hostile_documents(cases))
def test_hostile_json_exits_2_naming_the_field(
        doc: Hostile, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """NaN, Infinity, unstorable numbers, lone surrogates, duplicate keys, deep nesting: a
    clear refusal (exit 2) naming the field, never a traceback (exit 1)."""
    code, output = _run_cli(["assess", "-", "--format", "json"], doc.text, monkeypatch,
                            capsys)
    assert code == 2, output
    assert "Traceback" not in output
    assert (doc.field if doc.kind != "very_deep" else "nesting") in output
