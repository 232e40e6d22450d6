"""Synthetic cohorts: deterministic, plausible, whole patients, marked synthetic."""

from __future__ import annotations

import statistics
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hipspine.errors import InputError
from hipspine.proms import find_instrument
from hipspine.registry.tables import (
    SURGICAL_TREATMENT_TYPES,
    TIMEPOINTS,
    TREATMENT_TYPES,
    VERDICTS,
)
from hipspine.synth import generate


def flatten(n: int, seed: int, batch_size: int = 2000) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {"patients": [], "episodes": [], "treatments": [], "proms": []}
    for batch in generate(n, seed, batch_size=batch_size):
        for key in out:
            out[key] += getattr(batch, key)
    return out


def test_same_seed_same_cohort_whatever_the_batch_size():
    assert flatten(60, 11, batch_size=7) == flatten(60, 11, batch_size=1000)
    assert flatten(30, 11)["proms"] != flatten(30, 12)["proms"]


def test_a_patient_does_not_depend_on_cohort_size():
    small, large = flatten(5, 3), flatten(50, 3)
    assert small["patients"] == large["patients"][:5]


def test_every_record_is_synthetic_and_uses_registry_vocabulary():
    cohort = flatten(300, 1)
    for rows in cohort.values():
        assert rows and all(r["synthetic"] is True for r in rows)
    assert {e["verdict"] for e in cohort["episodes"]} == {"hip", "spine", "both", "mimic"}
    assert {e["verdict"] for e in cohort["episodes"]} <= set(VERDICTS)
    assert {t["type"] for t in cohort["treatments"]} <= set(TREATMENT_TYPES)
    assert {p["timepoint"] for p in cohort["proms"]} == set(TIMEPOINTS)
    assert all(p["pseudonym"].startswith("SYN-1-") for p in cohort["patients"])


def test_batches_hold_whole_patients():
    for batch in generate(50, 2, batch_size=8):
        ids = {p["id"] for p in batch.patients}
        assert {e["patient_id"] for e in batch.episodes} == ids
        assert {t["patient_id"] for t in batch.treatments} <= ids
        assert {p["patient_id"] for p in batch.proms} <= ids


def test_conservative_care_comes_before_surgery_and_sequences_are_recorded():
    cohort = flatten(1000, 4)
    by_patient: dict[int, list[dict]] = {}
    for t in cohort["treatments"]:
        by_patient.setdefault(t["patient_id"], []).append(t)
    pathways = Counter(e["pathway"] for e in cohort["episodes"])
    assert pathways["hip_first"] > pathways["spine_first"] > 0
    assert pathways["conservative"] > 0
    for rows in by_patient.values():
        surgical = [t["performed_on"] for t in rows if t["type"] in SURGICAL_TREATMENT_TYPES]
        conservative = [t["performed_on"] for t in rows if t["type"] in ("physiotherapy",
                                                                         "nsaid")]
        if surgical and conservative:
            assert min(conservative) < min(surgical)
    revisions = [t for t in cohort["treatments"] if t["type"].startswith("revision")]
    assert revisions


def test_oxford_hip_scores_are_plausible_after_hip_replacement():
    cohort = flatten(2000, 5)
    pathway = {e["patient_id"]: (e["verdict"], e["pathway"]) for e in cohort["episodes"]}
    scores: dict[tuple[str, str], list[float]] = {}
    for p in cohort["proms"]:
        if p["instrument"] == "ohs" and p["score"] is not None:
            key = (pathway[p["patient_id"]][1], p["timepoint"])
            scores.setdefault(key, []).append(p["score"])
    assert 15 < statistics.mean(scores[("hip_only", "baseline")]) < 25
    # Grammatopoulos: about 43 after THA alone, about 33 with spinal disease
    assert 38 < statistics.mean(scores[("hip_only", "12m")]) < 46
    assert 28 < statistics.mean(scores[("hip_first", "12m")]) < 38


def test_follow_up_completeness_falls_with_time():
    cohort = flatten(1200, 6)
    per_tp = Counter((p["patient_id"], p["timepoint"]) for p in cohort["proms"])
    patients_at = Counter(tp for (_pid, tp) in per_tp)
    assert patients_at["baseline"] > patients_at["12m"] > patients_at["24m"]
    assert 0.4 < patients_at["24m"] / 1200 < 0.75


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_scores_lie_in_each_instruments_range(seed):
    for batch in generate(15, seed):
        for p in batch.proms:
            instrument = find_instrument(p["instrument"])
            if p["score"] is not None:
                assert instrument.range[0] <= p["score"] <= instrument.range[1]
            assert p["missing_items"] == sum(v is None for v in
                                             p["items"][: len(instrument.items)])


def test_bad_arguments_are_input_errors():
    with pytest.raises(InputError):
        generate(-1, 0)
    with pytest.raises(InputError):
        generate(10, -3)


def test_columns_view_matches_rows():
    batch = next(generate(10, 8))
    cols = batch.columns("patients")
    assert cols["id"] == [p["id"] for p in batch.patients]
