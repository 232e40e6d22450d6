"""The shape of `knowledge/proms/synth.yaml`: cited parameters and marked design choices."""

from __future__ import annotations

import functools

from pydantic import Field

from hipspine.kb import KBModel, Verification, load_section


class Provenance(KBModel):
    citation: str | None = None  # None: a design choice, said so in `note`
    verified: Verification
    note: str | None = None


class Share(Provenance):
    value: float = Field(ge=0, le=1)


class Shares(Provenance):
    value: dict[str, float]


class Age(Provenance):
    mean: float
    sd: float
    min: int
    max: int


class Conservative(Provenance):
    physiotherapy_share: float
    nsaid_share: float
    injection_share: float


class SecondOperation(Provenance):
    after_hip_first: float
    after_spine_first: float


class Reoperation(Provenance):
    hip: float
    spine: float


class Spread(KBModel):
    mean: float
    sd: float


class Delay(KBModel):
    min: int
    max: int


class Severity(Provenance):
    affected_baseline: Spread
    unaffected_baseline: Spread
    mimic_baseline: Spread
    after_hip_surgery: Spread
    after_hip_surgery_with_spine_disease: Spread
    after_spine_surgery: Spread
    conservative_effect: float


class SynthParams(KBModel):
    start_date: str
    enrolment_days: int
    female_share: Share
    age: Age
    verdict_mix: Shares
    setting_by_verdict: dict[str, str]
    conservative: Conservative
    surgery_share: Shares
    hip_first_share: Share
    second_operation_share: SecondOperation
    fusion_share_of_spine_surgery: Share
    reoperation_share: Reoperation
    surgery_delay_days: Delay
    severity: Severity
    recovery_fraction: dict[str, float]
    instruments_by_verdict: dict[str, list[str]]
    eq5d5l_timepoints: list[str]
    missing_administration: Shares
    missing_item_share: float
    item_noise_sd: float


@functools.cache
def packaged_params() -> SynthParams:
    return load_section("proms/synth.yaml", SynthParams)
