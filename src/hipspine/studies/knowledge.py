"""The shape of `knowledge/studies/defaults.yaml`: suppression, windows, balance, strategies."""

from __future__ import annotations

import functools
from typing import Literal

from pydantic import Field

from hipspine.kb import KBModel, Verification, load_section

Arm = Literal["surgical", "conservative", "hip_first", "spine_first"]


class Sourced(KBModel):
    citation: str
    verified: Verification
    note: str | None = None


class Suppression(Sourced):
    min_cell: int = Field(ge=1)


class Completeness(Sourced):
    preoperative: str
    postoperative: list[str]
    paired_target_pct: float = Field(ge=0, le=100)


class Responders(Sourced):
    kinds: list[Literal["mcid", "mic", "mid", "scb", "pass", "mdc", "success"]]


class OutcomeTimepoint(Sourced):
    timepoint: str


class Balance(Sourced):
    smd_threshold: float


class Method(Sourced):
    method: str


class Survival(Method):
    report_days: list[int]


class Covariates(KBModel):
    age_band_edges: list[int]
    baseline_score_bands: int = Field(ge=1, le=10)
    include_sex: bool = True


class Subgroups(KBModel):
    verdicts: list[str]


class Comparison(KBModel):
    id: str
    label: str
    treated: Arm
    control: Arm


class StudyDefaults(KBModel):
    suppression: Suppression
    completeness: Completeness
    responders: Responders
    outcome_timepoint: OutcomeTimepoint
    balance: Balance
    weighting: Method
    survival: Survival
    covariates: Covariates
    subgroups: Subgroups
    comparisons: list[Comparison]


@functools.cache
def packaged_study_defaults() -> StudyDefaults:
    return load_section("studies/defaults.yaml", StudyDefaults)
