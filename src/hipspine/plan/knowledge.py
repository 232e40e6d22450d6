"""The shape of the plan knowledge files (`knowledge/plan/*.yaml`) and their loader.

Rules are data: conditions over named facts (see `hipspine.plan.facts`), actions, reasons,
citations. The core receives a `PlanKnowledge`, so tests can hand it a tiny one.
"""

from __future__ import annotations

import functools
from typing import Literal

from pydantic import Field, model_validator

from hipspine.kb import KBModel, Verification, load_section
from hipspine.models.plan import Organ, Recommendation, StepStatus, SurgeryStatus, Target, Tier

TIER_ORDER: tuple[Tier, ...] = (
    "urgent", "work_up", "conservative", "injection", "surgical_referral")


class Condition(KBModel):
    """One test on one fact. An unknown (null) fact satisfies no condition."""

    fact: str
    known: bool | None = None  # true: the value is recorded; false: it is not (unknown)
    equals: bool | str | float | None = None
    one_of: list[str] | None = None
    lt: float | None = None
    le: float | None = None
    gt: float | None = None
    ge: float | None = None


class When(KBModel):
    """All of `all` and at least one of `any` (an empty list imposes nothing)."""

    all: list[Condition] = Field(default_factory=list)
    any: list[Condition] = Field(default_factory=list)


class FactDefinition(When):
    id: str
    note: str | None = None


class FactsFile(KBModel):
    relief_threshold_pct: float
    relief_threshold_note: str
    definitions: list[FactDefinition]


class SafetyNet(KBModel):
    id: str
    when: When
    action: str
    target: Target
    why: str
    citation: str
    verified: Verification
    surgical: bool = False  # the referral is itself to a (spinal or hip) surgeon


class Deferral(KBModel):
    """Which elective tiers wait behind an urgent referral, and why."""

    tiers: list[Tier]
    why: str
    citation: str
    verified: Verification
    note: str | None = None


class UrgentRules(KBModel):
    safety_net: list[SafetyNet]
    red_flag_targets: dict[str, Target]
    red_flag_default_target: Target
    red_flag_surgical: list[str] = Field(default_factory=list)
    """Red-flag id parts whose urgent referral is itself a surgical referral."""
    defer: Deferral | None = None


class StepRule(KBModel):
    id: str
    tier: Tier
    target: Target
    action: str
    why: str
    now_when: When | None = None
    later_when: When | None = None
    treatment_types: list[str] = Field(default_factory=list)
    treatment_targets: list[str] = Field(default_factory=list)
    citation: str
    verified: Verification
    note: str | None = None


class StepsFile(KBModel):
    urgent: UrgentRules
    steps: list[StepRule]


class Advice(KBModel):
    recommendation: Recommendation
    why: str
    citation: str
    verified: Verification
    note: str | None = None


class MedicationRule(Advice):
    id: str
    when: When


class SafetyFact(KBModel):
    """A fact a drug class's safety rules test: unknown, it must be checked before use."""

    fact: str
    label: str
    citation: str
    verified: Verification
    note: str | None = None


class DrugClass(KBModel):
    id: str
    label: str
    show_when: When | None = None
    default: Advice
    rules: list[MedicationRule] = Field(default_factory=list)
    check_before_use: list[SafetyFact] = Field(default_factory=list)


class InjectionCaution(KBModel):
    """A caution shown when `when` holds and a step it `applies_to` is in the plan."""

    id: str
    when: When
    applies_to: list[str]
    text: str
    citation: str
    verified: Verification
    note: str | None = None


class CautionsFile(KBModel):
    cautions: list[InjectionCaution]


class MedicationsFile(KBModel):
    drug_classes: list[DrugClass]
    injection_cautions: list[InjectionCaution]


class LifestyleRule(KBModel):
    id: str
    when: When
    advice: str
    why: str
    citation: str
    verified: Verification
    note: str | None = None


class LifestyleFile(KBModel):
    advice: list[LifestyleRule]
    bands_citation: str


class SequenceDefault(KBModel):
    sequence: list[Organ]
    why: str
    citation: str
    verified: Verification


class Consensus(KBModel):
    label: str
    why: str
    citations: list[str]
    verified: Verification


class SequenceException(KBModel):
    id: str
    when: When
    why: str
    citation: str
    verified: Verification
    note: str | None = None


class SequencingFile(KBModel):
    default: SequenceDefault
    consensus: Consensus
    supports: list[SequenceException] = Field(default_factory=list)
    exceptions: list[SequenceException]


ItemKind = Literal["step", "surgery", "medication", "unknown_safety_fact"]


class PlanItem(KBModel):
    """Selects items of a plan: every filter given must match (an absent filter matches all)."""

    kind: ItemKind
    id: list[str] | None = None
    tier: list[Tier] | None = None
    status: list[StepStatus] | None = None
    surgical: bool | None = None  # steps: an urgent referral that is itself surgical
    indicated: bool | None = None  # surgery
    surgery_status: list[SurgeryStatus] | None = None
    recommendation: list[Recommendation] | None = None  # medications


class Conflict(KBModel):
    """Two kinds of plan item that must never appear together in one plan."""

    id: str
    first: PlanItem
    second: PlanItem
    same_drug_class: bool = False
    reason: str
    citation: str | None = None
    verified: Verification
    note: str | None = None

    @model_validator(mode="after")
    def _cited_unless_design_choice(self) -> Conflict:
        if self.citation is None and self.verified != "design_choice":
            raise ValueError(f"conflict {self.id!r}: a clinical rule needs a citation "
                             "(or mark it verified: design_choice)")
        return self


class ConflictsFile(KBModel):
    conflicts: list[Conflict]


class PlanKnowledge(KBModel):
    """Everything `make_plan` applies."""

    facts: FactsFile
    steps: StepsFile
    medications: MedicationsFile
    lifestyle: LifestyleFile
    sequencing: SequencingFile
    cautions: CautionsFile = Field(default_factory=lambda: CautionsFile(cautions=[]))
    tier_order: list[Tier] = Field(default_factory=lambda: list(TIER_ORDER))
    conflicts: ConflictsFile = Field(default_factory=lambda: ConflictsFile(conflicts=[]))


@functools.cache
def load_plan_knowledge() -> PlanKnowledge:
    """Load and validate the packaged plan knowledge (cached)."""
    return PlanKnowledge(
        facts=load_section("plan/facts.yaml", FactsFile),
        steps=load_section("plan/steps.yaml", StepsFile),
        medications=load_section("plan/medications.yaml", MedicationsFile),
        lifestyle=load_section("plan/lifestyle.yaml", LifestyleFile),
        sequencing=load_section("plan/sequencing.yaml", SequencingFile),
        cautions=load_section("plan/cautions.yaml", CautionsFile),
        conflicts=load_section("plan/conflicts.yaml", ConflictsFile),
    )
