"""Assessment latency and throughput through the library, against Pydantic validation alone.

    python benchmarks/bench_assess.py [--quick]

Baseline (same run, same cases): `parse_case(dict)`, i.e. strict Pydantic validation only.
Measured: the engine's plain payload (`assessment_payload`: the clinical computation),
`assess_case(case, kb)` (the same plus the validated `Assessment` output model, whose ~10-20
cited contributions cost more to validate than the compact input case), and the full public
`hipspine.assess(dict)` (validation + engine + instruments + report reader when installed).
The old target (the engine at most 3x validation) is retired: microseconds here are not
what a user feels. The performance that matters is end to end (`bench_api.py`,
`bench_cds.py`); this benchmark only shows where the library's time goes. Two floor rows:
building the output contract alone (`Assessment.model_validate` of a computed payload) and
evaluating every finding's state on the case alone.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path
from typing import Any

import hipspine
from hipspine.assess import assess_case, load_assessment_knowledge
from hipspine.assess.compiled import compiled
from hipspine.assess.engine import assessment_payload
from hipspine.models import parse_case
from hipspine.models.assessment import Assessment

ROOT = Path(__file__).resolve().parent.parent
FLAGS_SYMPTOMS = ["walking_limited", "neurogenic_claudication", "relief_sitting",
                  "relief_forward_flexion", "worse_standing", "numbness_tingling", "weakness",
                  "limp", "night_pain", "rest_pain", "fever"]
FLAGS_EXAM = ["pain_on_hip_internal_rotation", "faber_positive", "straight_leg_raise_positive",
              "achilles_reflex_reduced", "sensory_deficit", "motor_deficit", "wide_based_gait",
              "romberg_abnormal", "peripheral_pulses_normal", "hip_flexion_contracture"]
LOCATIONS = ["groin", "buttock", "lateral_hip", "anterior_thigh", "posterior_thigh",
             "below_knee", "foot", "low_back"]


def synthetic_case(rnd: random.Random, i: int) -> dict[str, Any]:
    """A plausible, partly filled case (real cases are sparse)."""
    def flags(names: list[str]) -> dict[str, bool]:
        return {n: rnd.random() < 0.5 for n in names if rnd.random() < 0.5}
    return {
        "format": "hipspine.case/1", "id": f"bench-{i}",
        "setting": rnd.choice(["primary_care", "spine_clinic", "arthroplasty_clinic"]),
        "age": rnd.randint(40, 90),
        "history": {"diabetes": rnd.random() < 0.2, "prior_treatments": [
            {"type": "physiotherapy", "target": rnd.choice(["hip", "spine"]),
             "relief_pct": rnd.randint(0, 100)}] if rnd.random() < 0.3 else []},
        "symptoms": {**flags(FLAGS_SYMPTOMS),
                     "pain_locations": rnd.sample(LOCATIONS, rnd.randint(1, 3)),
                     "laterality": rnd.choice(["left", "right", "bilateral"])},
        "exam": {**flags(FLAGS_EXAM), "hip_internal_rotation_deg": rnd.randint(0, 45)},
        "imaging": {"hip_oa": {"kellgren_lawrence": rnd.randint(0, 4)}}
        if rnd.random() < 0.5 else {},
    }


def load_cases(n: int) -> list[dict[str, Any]]:
    paths = sorted((ROOT / "tests" / "assess" / "cases").glob("*.json"))
    fixed = [json.loads(p.read_text()) for p in paths]
    rnd = random.Random(20261126)
    return fixed + [synthetic_case(rnd, i) for i in range(max(0, n - len(fixed)))]


def timed(fn: Any, items: list[Any]) -> list[float]:
    out = []
    for item in items:
        t0 = time.perf_counter()
        fn(item)
        out.append(time.perf_counter() - t0)
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (< 60 s)")
    args = parser.parse_args()
    n = 1_000 if args.quick else 20_000
    rounds = 3 if args.quick else 5
    kb = load_assessment_knowledge()
    raw = load_cases(n)
    parsed = [parse_case(c) for c in raw]
    for c in parsed:  # warm caches (compiled knowledge, references, interned contributions)
        assess_case(c, kb)
    hipspine.assess(raw[0])
    payloads = [assessment_payload(c, kb) for c in parsed]
    states = compiled(kb).states

    best: dict[str, list[float]] = {}
    for _ in range(rounds):
        for name, fn, items in (("validate (baseline)", parse_case, raw),
                                ("engine, plain payload", lambda c: assessment_payload(c, kb),
                                 parsed),
                                ("assess_case (engine)", lambda c: assess_case(c, kb), parsed),
                                ("hipspine.assess (full)", hipspine.assess, raw[: n // 5]),
                                ("floor: output model alone", Assessment.model_validate,
                                 payloads),
                                ("floor: finding states alone", states, parsed)):
            lat = timed(fn, items)
            if name not in best or sum(lat) < sum(best[name]):
                best[name] = lat
    base = statistics.median(best["validate (baseline)"])
    print(f"cases: {len(raw)} (10 published-case fixtures + synthetic); best of {rounds} rounds")
    print(f"{'measure':<30}{'p50 us':>10}{'p99 us':>10}{'cases/s':>11}{'ratio p50':>11}")
    for name, lat in best.items():
        p50 = statistics.median(lat)
        print(f"{name:<30}{p50 * 1e6:>10.1f}{pct(lat, 0.99) * 1e6:>10.1f}"
              f"{len(lat) / sum(lat):>11.0f}{p50 / base:>10.2f}x")


if __name__ == "__main__":
    main()
