"""The shape of `knowledge/proms/*.yaml`: instruments, thresholds, licences, worked examples.

Everything a scorer needs (item ranges, missing-item rules, conversion tables, MCIDs) is data
with a citation; the scorers in `hipspine.proms.scoring` only follow the method named here.
"""

from __future__ import annotations

import functools
import itertools
from typing import Literal

from pydantic import Field, model_validator

from hipspine.kb import KBModel, Verification, load_section

ScoringMethod = Literal[
    "percent_of_answered_maximum",  # ODI: sum / (5 x sections answered) x 100
    "sum_with_mean_imputation",  # OHS: missing items replaced by the mean of the answered
    "sum_then_conversion_table",  # HOOS JR: raw sum converted by a published table
    "subscale_means",  # ZCQ: each subscale the mean of its answered items
    "single_item",  # NRS
    "health_profile",  # EQ-5D-5L descriptive system: the 5-digit profile
]
ThresholdKind = Literal["mcid", "mic", "mid", "scb", "pass", "mdc", "success"]


class Sourced(KBModel):
    citation: str
    verified: Verification
    note: str | None = None


class Item(KBModel):
    """One item: its id as the instrument numbers it and a short neutral label."""

    id: str
    label: str
    min: int
    max: int
    allowed: list[int] | None = None  # when not every value in min..max is a valid response
    subscale: str | None = None
    wording: str | None = None  # full wording only where the licence allows it


class Subscale(KBModel):
    id: str
    name: str
    min_answered: int
    primary: bool = False
    range: tuple[float, float]
    higher_is_better: bool
    required: bool = True  # False: may be absent as a block (ZCQ satisfaction before treatment)


class MissingRule(Sourced):
    max_missing: int | None = None  # None: governed per subscale (min_answered)
    description: str


class Band(KBModel):
    min: float
    max: float
    label: str


class Interpretation(Sourced):
    bands: list[Band] = Field(default_factory=list)
    # ODI bands are printed 0-20, 21-40, ... (upper edge inclusive); OHS bands <27, 27-33, ...
    band_edges: Literal["lower_inclusive", "upper_inclusive"] = "lower_inclusive"
    summary: str | None = None


class Threshold(Sourced):
    """A published change or state threshold; `default` marks the one studies use first."""

    id: str
    kind: ThresholdKind
    value: float
    unit: Literal["points", "percent"]
    applies_to: Literal["change", "state"] = "change"
    subscale: str | None = None
    population: str
    default: bool = False


class Licence(Sourced):
    holder: str
    summary: str
    item_wording_shipped: bool


class WorkedExample(Sourced):
    description: str
    items: list[int | None]
    expected_score: float | None
    expected_raw_score: float | None = None
    expected_subscales: dict[str, float | None] | None = None
    expected_profile: str | None = None


class ConversionTable(Sourced):
    """Raw score -> published interval score, one value per raw score (index = raw score).

    `citation` is the publication that defines the table; `citations` names the independent
    copies the values were checked against when the table itself was not read there.
    """

    values: list[float]
    citations: list[str] = Field(default_factory=list)


class Instrument(KBModel):
    id: str
    name: str
    version: str
    aliases: list[str] = Field(default_factory=list)
    scoring: ScoringMethod
    scoring_source: Sourced
    range: tuple[float, float]
    higher_is_better: bool
    raw_range: tuple[float, float] | None = None
    items: list[Item]
    optional_items: list[Item] = Field(default_factory=list)  # e.g. EQ VAS, never required
    subscales: list[Subscale] = Field(default_factory=list)
    missing_rule: MissingRule
    interpretation: Interpretation
    thresholds: list[Threshold] = Field(default_factory=list)
    licence: Licence
    conversion_table: ConversionTable | None = None
    conversion_unavailable_reason: str | None = None
    worked_examples: list[WorkedExample] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Instrument:
        defaults = [t for t in self.thresholds if t.default and t.applies_to == "change"]
        by_subscale: dict[str | None, int] = {}
        for t in defaults:
            by_subscale[t.subscale] = by_subscale.get(t.subscale, 0) + 1
        if any(n > 1 for n in by_subscale.values()):
            raise ValueError(f"{self.id}: more than one default change threshold per subscale")
        if self.scoring == "subscale_means":
            names = {s.id for s in self.subscales}
            if not names or any(i.subscale not in names for i in self.items):
                raise ValueError(f"{self.id}: every item needs a declared subscale")
        if self.scoring == "sum_then_conversion_table" and self.conversion_table is None \
                and not self.conversion_unavailable_reason:
            raise ValueError(f"{self.id}: no conversion table and no reason why")
        if self.conversion_table is not None and self.raw_range is not None:
            expected = int(self.raw_range[1] - self.raw_range[0]) + 1
            if len(self.conversion_table.values) != expected:
                raise ValueError(f"{self.id}: conversion table needs {expected} values")
        if self.conversion_table is not None:
            low, high = self.range
            if any(not low <= v <= high for v in self.conversion_table.values):
                raise ValueError(f"{self.id}: conversion table values outside {low}-{high}")
        return self


class InstrumentFile(KBModel):
    instruments: list[Instrument]


class TimepointWindow(KBModel):
    """Days relative to the index date (surgery or episode start) that count as a timepoint."""

    timepoint: Literal["baseline", "6w", "3m", "6m", "12m", "24m"]
    target_day: int
    from_day: int
    to_day: int
    citation: str
    verified: Verification
    note: str | None = None


class TimepointFile(KBModel):
    windows: list[TimepointWindow]

    @model_validator(mode="after")
    def _no_overlap(self) -> TimepointFile:
        spans = sorted((w.from_day, w.to_day, w.timepoint) for w in self.windows)
        for (a0, a1, an), (b0, _b1, bn) in itertools.pairwise(spans):
            if b0 <= a1:
                raise ValueError(f"timepoint windows {an} and {bn} overlap ({a0}..{a1}, {b0})")
        return self


INSTRUMENT_FILES = ("proms/instruments.yaml",)


@functools.cache
def packaged_instruments() -> dict[str, Instrument]:
    """The instruments shipped in the knowledge base, by id (aliases resolved by `find`)."""
    found: dict[str, Instrument] = {}
    for relpath in INSTRUMENT_FILES:
        for instrument in load_section(relpath, InstrumentFile).instruments:
            found[instrument.id] = instrument
    return found


@functools.cache
def packaged_timepoints() -> TimepointFile:
    return load_section("proms/timepoints.yaml", TimepointFile)
