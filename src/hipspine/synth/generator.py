"""Deterministic synthetic cohorts as plain rows, with no database in sight.

Each patient is drawn from its own random stream (seed, patient number), so a cohort is the
same whatever the batch size, and patient 500 of a 1,000-patient cohort equals patient 500 of
a 1,000,000-patient one. Scores come from `hipspine.proms.scoring.compute`, the same code that
scores real administrations. Every row carries `synthetic = True`.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from hipspine.proms.knowledge import Instrument, TimepointWindow
from hipspine.proms.scoring import compute, scores_record
from hipspine.synth.params import SynthParams

VERDICT_ORGAN_TARGET = {"hip": "hip", "spine": "spine", "both": "hip", "mimic": "other"}
LUMBAR_LEVELS = (("L4-L5", 0.6), ("L3-L4", 0.25), ("L5-S1", 0.15))


@dataclass
class CohortBatch:
    """One batch of whole patients: every record of a patient is in the same batch."""

    first_patient: int
    patients: list[dict[str, Any]] = field(default_factory=list)
    episodes: list[dict[str, Any]] = field(default_factory=list)
    treatments: list[dict[str, Any]] = field(default_factory=list)
    proms: list[dict[str, Any]] = field(default_factory=list)

    @property
    def row_count(self) -> int:
        return len(self.patients) + len(self.episodes) + len(self.treatments) + len(self.proms)

    def columns(self, table: str) -> dict[str, list[Any]]:
        """Column-oriented view of one table (for pandas / DuckDB / COPY)."""
        rows: list[dict[str, Any]] = getattr(self, table)
        if not rows:
            return {}
        return {key: [r[key] for r in rows] for key in rows[0]}


def pseudonym_prefix(seed: int) -> str:
    return f"SYN-{seed}-"


class _Patient:
    """Draws one patient's whole course from its own random stream."""

    def __init__(self, index: int, seed: int, params: SynthParams,
                 instruments: dict[str, Instrument], windows: list[TimepointWindow],
                 patient_id: int, episode_id: int) -> None:
        self.rng = random.Random(seed * 1_000_003 + index)  # noqa: S311 - synthetic data
        self.p = params
        self.instruments = instruments
        self.windows = windows
        self.patient_id = patient_id
        self.episode_id = episode_id
        self.index = index
        self.seed = seed

    def draw(self, out: CohortBatch, start: dt.date) -> None:
        rng, p = self.rng, self.p
        verdict = _weighted(rng, p.verdict_mix.value)
        age = int(min(max(rng.gauss(p.age.mean, p.age.sd), p.age.min), p.age.max))
        opened = start + dt.timedelta(days=rng.randrange(p.enrolment_days))
        sex = "female" if rng.random() < p.female_share.value else "male"
        side = rng.choice(("left", "right"))
        out.patients.append({
            "id": self.patient_id,
            "pseudonym": f"{pseudonym_prefix(self.seed)}{self.index + 1:07d}",
            "year_of_birth": opened.year - age, "sex": sex, "synthetic": True,
            "created_at": dt.datetime.combine(opened, dt.time())})
        treatments = self._conservative(verdict, opened, side)
        surgeries, pathway = self._surgery(verdict, opened, side)
        treatments += surgeries
        index_date = surgeries[0]["performed_on"] if surgeries else opened + dt.timedelta(days=30)
        out.episodes.append({
            "id": self.episode_id, "patient_id": self.patient_id, "opened_on": opened,
            "closed_on": index_date + dt.timedelta(days=760),
            "setting": p.setting_by_verdict[verdict], "verdict": verdict, "pathway": pathway,
            "synthetic": True})
        for t in treatments:
            t.update(patient_id=self.patient_id, episode_id=self.episode_id, synthetic=True)
        out.treatments += treatments
        self._proms(out, verdict, index_date, surgeries)

    # --- treatments ---------------------------------------------------------------------

    def _conservative(self, verdict: str, opened: dt.date, side: str) -> list[dict[str, Any]]:
        rng, c = self.rng, self.p.conservative
        target = VERDICT_ORGAN_TARGET[verdict]
        rows: list[dict[str, Any]] = []
        if rng.random() < c.nsaid_share:
            rows.append(_treatment("nsaid", target, None, None,
                                   opened + dt.timedelta(days=rng.randint(0, 14))))
        if rng.random() < c.physiotherapy_share:
            rows.append(_treatment("physiotherapy", target, None, None,
                                   opened + dt.timedelta(days=rng.randint(7, 30))))
        if verdict != "mimic" and rng.random() < c.injection_share:
            hip = verdict == "hip" or (verdict == "both" and rng.random() < 0.5)
            rows.append(_treatment("hip_injection" if hip else "epidural_injection",
                                   "hip" if hip else "spine", side if hip else None, None,
                                   opened + dt.timedelta(days=rng.randint(30, 90))))
        return rows

    def _surgery(self, verdict: str, opened: dt.date,
                 side: str) -> tuple[list[dict[str, Any]], str]:
        rng, p = self.rng, self.p
        if rng.random() >= p.surgery_share.value.get(verdict, 0.0):
            return [], "conservative"
        first = opened + dt.timedelta(days=rng.randint(p.surgery_delay_days.min,
                                                       p.surgery_delay_days.max))
        rows: list[dict[str, Any]] = []
        if verdict == "hip":
            rows.append(self._hip(first, side))
            pathway = "hip_only"
        elif verdict == "spine":
            rows.append(self._spine(first))
            pathway = "spine_only"
        else:  # both
            hip_first = rng.random() < p.hip_first_share.value
            pathway = "hip_first" if hip_first else "spine_first"
            rows.append(self._hip(first, side) if hip_first else self._spine(first))
            second_share = (p.second_operation_share.after_hip_first if hip_first
                            else p.second_operation_share.after_spine_first)
            if rng.random() < second_share:
                later = first + dt.timedelta(days=rng.randint(180, 700))
                rows.append(self._spine(later) if hip_first else self._hip(later, side))
        for row in list(rows):
            hip = row["target"] == "hip"
            share = p.reoperation_share.hip if hip else p.reoperation_share.spine
            if rng.random() < share:
                when = row["performed_on"] + dt.timedelta(days=rng.randint(120, 700))
                rows.append(_treatment(
                    "revision_hip_arthroplasty" if hip else "revision_lumbar_surgery",
                    row["target"], row["side"], row["level"], when))
        rows.sort(key=lambda r: r["performed_on"])
        return rows, pathway

    def _hip(self, when: dt.date, side: str) -> dict[str, Any]:
        return _treatment("total_hip_arthroplasty", "hip", side, None, when)

    def _spine(self, when: dt.date) -> dict[str, Any]:
        rng = self.rng
        fusion = rng.random() < self.p.fusion_share_of_spine_surgery.value
        level = _weighted(rng, dict(LUMBAR_LEVELS))
        return _treatment("lumbar_fusion" if fusion else "lumbar_decompression", "spine",
                          None, level, when)

    # --- PROM trajectories --------------------------------------------------------------

    def _proms(self, out: CohortBatch, verdict: str, index_date: dt.date,
               surgeries: list[dict[str, Any]]) -> None:
        rng, p = self.rng, self.p
        s = p.severity
        draw = lambda spread: _clip(rng.gauss(spread.mean, spread.sd))  # noqa: E731
        if verdict == "mimic":
            hip0, spine0 = draw(s.mimic_baseline), draw(s.mimic_baseline)
        else:
            hip0 = draw(s.affected_baseline if verdict in ("hip", "both")
                        else s.unaffected_baseline)
            spine0 = draw(s.affected_baseline if verdict in ("spine", "both")
                          else s.unaffected_baseline)
        hip_op = next((t["performed_on"] for t in surgeries
                       if t["type"] == "total_hip_arthroplasty"), None)
        spine_op = next((t["performed_on"] for t in surgeries
                         if t["type"] in ("lumbar_decompression", "lumbar_fusion")), None)
        hip_target = (draw(s.after_hip_surgery_with_spine_disease if verdict == "both"
                           else s.after_hip_surgery) if hip_op
                      else hip0 - s.conservative_effect * (hip0 - s.unaffected_baseline.mean))
        spine_target = (draw(s.after_spine_surgery) if spine_op
                        else spine0 - s.conservative_effect
                        * (spine0 - s.unaffected_baseline.mean))
        instruments = list(p.instruments_by_verdict[verdict])
        for window in self.windows:
            tp = window.timepoint
            names = instruments + (["eq5d5l"] if tp in p.eq5d5l_timepoints else [])
            if rng.random() < p.missing_administration.value.get(tp, 0.0):
                continue
            if tp == "baseline":
                day = -rng.randint(1, min(60, -window.from_day))
            else:
                day = min(max(window.target_day + rng.randint(-10, 10), window.from_day),
                          window.to_day)
            when = index_date + dt.timedelta(days=day)
            hip = _severity_at(hip0, hip_target, hip_op, when, index_date, p)
            spine = _severity_at(spine0, spine_target, spine_op, when, index_date, p)
            for name in names:
                items, extras = self._items(name, hip, spine, tp != "baseline" and spine_op
                                            is not None and when > spine_op)
                instrument = self.instruments[name]
                done = compute(instrument, items)
                out.proms.append({
                    "patient_id": self.patient_id, "episode_id": self.episode_id,
                    "instrument": name, "timepoint": tp, "administered_on": when,
                    "items": items + extras, "score": done.value,
                    "scores": scores_record(instrument, done),
                    "missing_items": len(done.missing), "synthetic": True})

    def _items(self, name: str, hip: float, spine: float,
               satisfaction: bool) -> tuple[list[int | None], list[int | None]]:
        rng = self.rng
        rand = rng.random
        noise = self.p.item_noise_sd * 2.0  # sum of 3 uniforms - 1.5 has sd 0.5
        missing_share = self.p.missing_item_share
        if name in ("ohs",):
            severity = 1 - hip
        elif name in ("hoos_jr", "nrs_hip"):
            severity = hip
        elif name == "odi":
            severity = max(spine, 0.8 * hip)
        elif name == "eq5d5l":
            severity = max(hip, spine)
        else:
            severity = spine
        items: list[int | None] = []
        for low, span, allowed, is_satisfaction in _item_specs(self.instruments[name]):
            if is_satisfaction and not satisfaction:
                break
            value = low + severity * span + (rand() + rand() + rand() - 1.5) * noise
            number = round(value)
            number = low if number < low else low + span if number > low + span else number
            if allowed is not None:
                number = _nearest(allowed, number)
            items.append(None if rand() < missing_share else number)
        extras: list[int | None] = []
        for item in self.instruments[name].optional_items:  # EQ VAS
            vas = 100 * (1 - severity) + rng.gauss(0, 8)
            extras.append(min(max(round(vas), item.min), item.max))
        return items, extras


ItemSpec = tuple[int, int, tuple[int, ...] | None, bool]
_SPECS: dict[int, tuple[Instrument, list[ItemSpec]]] = {}


def _item_specs(instrument: Instrument) -> list[ItemSpec]:
    """(minimum, span, allowed values, is a satisfaction item) per item, cached."""
    cached = _SPECS.get(id(instrument))
    if cached is None or cached[0] is not instrument:
        cached = (instrument, [(i.min, i.max - i.min, tuple(i.allowed) if i.allowed else None,
                                i.subscale == "satisfaction") for i in instrument.items])
        _SPECS[id(instrument)] = cached
    return cached[1]


def _severity_at(start: float, target: float, operated_on: dt.date | None, when: dt.date,
                 index_date: dt.date, p: SynthParams) -> float:
    """Severity at a date: recovery follows the timepoint curve from the relevant index."""
    anchor = operated_on or index_date
    days = (when - anchor).days
    if days <= 0:
        return start
    fraction = 1.0
    for tp, target_day in (("6w", 42), ("3m", 91), ("6m", 182), ("12m", 365)):
        if days <= target_day * 1.25:
            fraction = p.recovery_fraction.get(tp, 1.0)
            break
    return _clip(start + fraction * (target - start))


def _treatment(kind: str, target: str, side: str | None, level: str | None,
               when: dt.date) -> dict[str, Any]:
    return {"type": kind, "target": target, "side": side, "level": level,
            "performed_on": when}


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    roll = rng.random() * sum(weights.values())
    for key, weight in weights.items():
        roll -= weight
        if roll < 0:
            return key
    return next(reversed(weights))


def _nearest(allowed: tuple[int, ...], number: int) -> int:
    return min(allowed, key=lambda a: abs(a - number))


def _clip(value: float) -> float:
    return min(max(value, 0.0), 1.0)


def generate_batches(n: int, seed: int, params: SynthParams,
                     instruments: dict[str, Instrument], windows: list[TimepointWindow], *,
                     batch_size: int = 2000, patient_id_offset: int = 0,
                     episode_id_offset: int = 0) -> Iterator[CohortBatch]:
    """Yield `n` patients in batches of whole patients (ids start after the offsets)."""
    start = dt.date.fromisoformat(params.start_date)
    for first in range(0, n, batch_size):
        batch = CohortBatch(first_patient=first)
        for index in range(first, min(first + batch_size, n)):
            _Patient(index, seed, params, instruments, windows,
                     patient_id=patient_id_offset + index + 1,
                     episode_id=episode_id_offset + index + 1).draw(batch, start)
        yield batch
