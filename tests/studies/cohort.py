"""A deterministic, confounded synthetic registry for study tests and the report benchmark.

Columnar (numpy) so 10^6 patients are cheap; returns the frames it wrote so tests can
recompute every figure with plain pandas. Confounding is deliberate: older patients and
patients with worse baseline ODI go spine first more often, and both also change outcomes,
so an unweighted comparison is biased and IPTW must restore balance.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Engine

EPOCH = dt.date(2020, 1, 1)


@dataclass
class Cohort:
    patients: pd.DataFrame
    episodes: pd.DataFrame
    treatments: pd.DataFrame
    proms: pd.DataFrame


def _dates(days: np.ndarray) -> np.ndarray:
    return (np.datetime64(EPOCH) + days.astype("timedelta64[D]")).astype("datetime64[D]")


def make_cohort(n: int, seed: int = 7, start_id: int = 1) -> Cohort:
    rng = np.random.default_rng(seed)
    ids = np.arange(start_id, start_id + n)
    yob = rng.integers(1935, 1976, n)
    sex = rng.choice(np.array(["female", "male"]), n)
    opened = rng.integers(0, 1000, n)
    verdict = rng.choice(np.array(["hip", "spine", "both", "mimic"]), n, p=[.3, .3, .3, .1])
    age = 2021 - yob
    odi_base = np.clip(rng.normal(40 + 0.4 * (age - 65), 12, n), 0, 100).round()
    ohs_base = np.clip(rng.normal(22 - 0.1 * (age - 65), 7, n), 0, 48).round()
    # surgery: likelier with worse scores; first target by verdict, 'both' confounded by age/ODI
    p_surgery = np.clip(0.45 + 0.01 * (odi_base - 40), 0.05, 0.95)
    operated = (rng.random(n) < p_surgery) & (verdict != "mimic")
    p_spine = np.where(verdict == "spine", 0.9, np.where(verdict == "hip", 0.1,
                       1 / (1 + np.exp(-(0.08 * (age - 65) + 0.06 * (odi_base - 40))))))
    spine_first = rng.random(n) < p_spine
    target = np.where(spine_first, "spine", "hip")
    surgery_day = opened + rng.integers(30, 400, n)
    index_day = np.where(operated, surgery_day, opened)
    reop = operated & (rng.random(n) < 0.08)
    reop_day = surgery_day + rng.integers(20, 1500, n)

    patients = pd.DataFrame({"id": ids, "pseudonym": [f"SYN-{i:07d}" for i in ids],
                             "year_of_birth": yob, "sex": sex, "synthetic": True})
    episodes = pd.DataFrame({"id": ids, "patient_id": ids, "opened_on": _dates(opened),
                             "verdict": verdict, "synthetic": True})
    op = np.flatnonzero(operated)
    first_type = np.where(target[op] == "spine", "lumbar_decompression", "total_hip_arthroplasty")
    rp = np.flatnonzero(reop)
    reop_type = np.where(target[rp] == "spine", "revision_lumbar_surgery",
                         "revision_hip_arthroplasty")
    treatments = pd.DataFrame({
        "patient_id": np.concatenate([ids[op], ids[rp]]),
        "episode_id": np.concatenate([ids[op], ids[rp]]),
        "type": np.concatenate([first_type, reop_type]),
        "target": np.concatenate([target[op], target[rp]]),
        "performed_on": _dates(np.concatenate([surgery_day[op], reop_day[rp]])),
        "synthetic": True})
    treatments.insert(0, "id", np.arange(1, len(treatments) + 1) + (start_id - 1) * 2)

    # effects (points of ODI improvement; OHS gain), both depending on the confounders
    odi_gain = np.where(operated, np.where(spine_first, 18.0, 10.0), 5.0) \
        + 0.3 * (odi_base - 40) - 0.2 * (age - 65)
    ohs_gain = np.where(operated, np.where(spine_first, 6.0, 16.0), 3.0) - 0.1 * (age - 65)
    rows = []
    for instrument, base, gain, lo, hi, sign in (
            ("odi", odi_base, odi_gain, 0, 100, -1), ("ohs", ohs_base, ohs_gain, 0, 48, 1)):
        for timepoint, day, frac, p_done in (("baseline", -20, 0.0, 0.8), ("3m", 91, 0.6, 0.6),
                                             ("12m", 365, 1.0, 0.55)):
            done = rng.random(n) < p_done
            jitter = (rng.integers(-10, 11, n) if timepoint != "baseline"
                      else rng.integers(-40, 1, n))
            score = np.clip(base + sign * frac * gain + rng.normal(0, 6, n) * (frac > 0), lo, hi)
            rows.append(pd.DataFrame({
                "patient_id": ids[done], "episode_id": ids[done], "instrument": instrument,
                "timepoint": timepoint,
                "administered_on": _dates(index_day[done] + day + jitter[done]),
                "score": score[done].round(1), "synthetic": True}))
    proms = pd.concat(rows, ignore_index=True)
    proms.insert(0, "id", np.arange(1, len(proms) + 1) + (start_id - 1) * 6)
    return Cohort(patients, episodes, treatments, proms)


def write_cohort(engine: Engine, cohort: Cohort, batch: int = 50_000) -> None:
    """Bulk insert through the driver (one transaction per table)."""
    from hipspine.registry.tables import Episode, Patient, PromAdministration, Treatment

    plans = [(Patient.__table__, cohort.patients, {"created_at": "2024-01-01 00:00:00"}),
             (Episode.__table__, cohort.episodes, {}),
             (Treatment.__table__, cohort.treatments, {}),
             (PromAdministration.__table__, cohort.proms, {"items": "[]", "missing_items": 0})]
    with engine.begin() as conn:
        for table, frame, constants in plans:
            data = frame.copy()
            for column in data.columns:
                if np.issubdtype(data[column].dtype, np.datetime64):
                    data[column] = data[column].dt.strftime("%Y-%m-%d")
            for key, value in constants.items():
                data[key] = value
            columns = list(data.columns)
            if engine.dialect.name == "sqlite":
                sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES "
                       f"({', '.join('?' for _ in columns)})")
            else:
                sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES "
                       f"({', '.join('%s' for _ in columns)})")
            records = list(data.itertuples(index=False, name=None))
            for start in range(0, len(records), batch):
                conn.exec_driver_sql(sql, [tuple(_py(v) for v in r)
                                           for r in records[start:start + batch]])


def _py(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    return value
