"""Plain-pandas recomputation of the report's figures from raw registry tables.

Deliberately independent of `hipspine.studies.queries`: it reads whole tables, assigns
timepoints row by row and aggregates with pandas, so an error in the SQL shows up as a
mismatch instead of being reproduced.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from hipspine.proms.knowledge import TimepointWindow
from hipspine.registry.tables import SURGICAL_TREATMENT_TYPES


def read_tables(engine: Engine) -> dict[str, pd.DataFrame]:
    out = {}
    with engine.connect() as conn:
        for name in ("patients", "episodes", "treatments", "prom_administrations"):
            out[name] = pd.read_sql_table(name, conn)
    for frame, cols in ((out["episodes"], ["opened_on", "closed_on"]),
                        (out["treatments"], ["performed_on"]),
                        (out["prom_administrations"], ["administered_on"])):
        for c in cols:
            frame[c] = pd.to_datetime(frame[c])
    return out


def patient_index(t: dict[str, pd.DataFrame]) -> pd.DataFrame:
    surg = t["treatments"][t["treatments"]["type"].isin(SURGICAL_TREATMENT_TYPES)]
    surg = surg.sort_values(["patient_id", "performed_on", "id"])
    first = surg.groupby("patient_id").first()[["performed_on", "target"]]
    first.columns = ["first_surgery_on", "first_target"]
    later = surg.merge(first, left_on="patient_id", right_index=True)
    later = later[(later.groupby("patient_id").cumcount() > 0)
                  & (later["target"] == later["first_target"])]
    reop = later.groupby("patient_id")["performed_on"].min().rename("reoperation_on")
    ep = t["episodes"].sort_values(["patient_id", "opened_on", "id"]).groupby("patient_id").first()
    last = pd.concat([
        t["prom_administrations"].groupby("patient_id")["administered_on"].max(),
        t["treatments"].groupby("patient_id")["performed_on"].max(),
        t["episodes"].assign(d=t["episodes"]["closed_on"].fillna(t["episodes"]["opened_on"]))
        .groupby("patient_id")["d"].max()], axis=1).max(axis=1).rename("last_contact_on")
    idx = t["patients"].set_index("id")[["year_of_birth", "sex"]]
    idx = idx.join(ep[["opened_on", "verdict", "pathway"]]).join(first).join(reop).join(last)
    idx["index_on"] = idx["first_surgery_on"].fillna(idx["opened_on"])
    idx["strategy"] = np.select([idx["first_target"] == "hip", idx["first_target"] == "spine"],
                                ["hip_first", "spine_first"], "conservative")
    return idx[idx["index_on"].notna()]


def scores(t: dict[str, pd.DataFrame], idx: pd.DataFrame,
           windows: list[TimepointWindow]) -> pd.DataFrame:
    a = t["prom_administrations"]
    a = a.merge(idx[["index_on"]], left_on="patient_id", right_index=True)
    a["day"] = (a["administered_on"] - a["index_on"]).dt.days
    parts = []
    for w in windows:
        hit = a[(a["day"] >= w.from_day) & (a["day"] <= w.to_day)].copy()
        hit["timepoint"] = w.timepoint
        hit["dist"] = (hit["day"] - w.target_day).abs()
        hit["unscored"] = hit["score"].isna()
        parts.append(hit)
    s = pd.concat(parts).sort_values(["unscored", "dist", "id"])
    return s.groupby(["patient_id", "instrument", "timepoint"], as_index=False).head(1)[
        ["patient_id", "instrument", "timepoint", "score"]]


def change(s: pd.DataFrame) -> pd.DataFrame:
    base = s[s["timepoint"] == "baseline"][["patient_id", "instrument", "score"]]
    fu = s[s["timepoint"] != "baseline"]
    c = fu.merge(base, on=["patient_id", "instrument"], suffixes=("", "_baseline"))
    c["change"] = c["score"] - c["score_baseline"]
    return c[c["change"].notna()]
