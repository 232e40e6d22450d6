"""The shape of `knowledge/spinopelvic/classification.yaml` and its loader."""

from __future__ import annotations

import functools

from hipspine.kb import KBModel, Verification, load_section

SPINOPELVIC_FILE = "spinopelvic/classification.yaml"


class GroupAdvice(KBModel):
    label: str
    recommendation: str
    citation: str
    verified: Verification
    note: str | None = None


class HipSpineClassification(KBModel):
    flatback_pi_ll_above: float
    stiff_delta_ss_below: float
    citation: str
    verified: Verification
    note: str | None = None
    groups: dict[str, GroupAdvice]


class MobilityThresholds(KBModel):
    stiff_delta_ss_below: float
    hypermobile_delta_ss_above: float
    citation: str
    verified: Verification
    note: str | None = None


class Band(KBModel):
    moderate_from: float
    marked_above: float


class SchwabBands(KBModel):
    pi_ll: Band
    pt: Band
    sva_mm: Band
    citation: str
    verified: Verification
    note: str | None = None


class FlagText(KBModel):
    text: str
    citation: str
    verified: Verification
    note: str | None = None


class SpinopelvicKnowledge(KBModel):
    """Thresholds and advice the spinopelvic core applies (all cited)."""

    hip_spine_classification: HipSpineClassification
    mobility: MobilityThresholds
    schwab: SchwabBands
    flags: dict[str, FlagText]


@functools.cache
def load_spinopelvic_knowledge() -> SpinopelvicKnowledge:
    """Load and validate the packaged spinopelvic knowledge (cached)."""
    return load_section(SPINOPELVIC_FILE, SpinopelvicKnowledge)
