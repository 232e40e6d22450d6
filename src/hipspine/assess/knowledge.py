"""The shape of `knowledge/assessment/*.yaml` and its cached, validated loader.

Every number the engine uses lives in those files with its citation: pre-test
probabilities, likelihood ratios (or the sensitivity/specificity they are derived from),
groups of correlated findings, verdict thresholds, red-flag rules and the
Offierski-MacNab parameters. The engine receives an `AssessmentKnowledge` as a parameter.
"""

from __future__ import annotations

import functools
from typing import Literal, get_args

from pydantic import Field, model_validator

from hipspine.kb import KBModel, Verification, load_section
from hipspine.models.assessment import EvidenceLevel

SourceId = Literal["hip", "spine", "sacroiliac", "trochanteric", "vascular", "neuropathy",
                   "nerve", "groin", "tumour_infection"]
Tier = Literal["reference_test", "block", "lesion", "treatment_response", "clinical",
               "degenerative"]
"""What kind of evidence a finding is (assessment-reasoning: the evidence hierarchy). The
verdict's `settling_tiers` say which kinds can settle a source on their own."""
SettingId = Literal["primary_care", "spine_clinic", "arthroplasty_clinic", "physiotherapy"]
Operator = Literal["is_true", "is_false", "lt", "le", "gt", "ge", "eq", "in", "contains",
                   "contains_any"]

LR_SANITY_MAX = 100.0
"""No single bedside finding in this field has a published LR above ~40; > 100 is a typo."""

FILES = {
    "sources": "assessment/sources.yaml",
    "findings": "assessment/findings.yaml",
    "rules": "assessment/rules.yaml",
}


class Condition(KBModel):
    """One test of a case field: `field` is a dotted path in the case, e.g. `exam.fever`."""

    field: str
    op: Operator
    value: float | str | list[str] | None = None

    @model_validator(mode="after")
    def _value_fits_operator(self) -> Condition:
        needs_value = self.op not in ("is_true", "is_false")
        if needs_value and self.value is None:
            raise ValueError(f"operator {self.op!r} on {self.field} needs a value")
        if self.op in ("in", "contains_any") and not isinstance(self.value, list):
            raise ValueError(f"operator {self.op!r} on {self.field} needs a list value")
        if self.op in ("lt", "le", "gt", "ge") and not isinstance(self.value, (int, float)):
            raise ValueError(f"operator {self.op!r} on {self.field} needs a number")
        return self


class Prior(KBModel):
    """Pre-test probability of one source in one setting / age band (first match wins)."""

    source: SourceId
    settings: list[SettingId] | None = None
    age_min: int | None = None
    age_max: int | None = None
    when: list[Condition] = Field(default_factory=list)
    probability: float = Field(gt=0, lt=1)
    citation: str
    verified: Verification
    strength: str | None = None
    note: str | None = None


class SourceDef(KBModel):
    id: SourceId
    label: str
    mimic: bool = False
    diagnosis: str
    """The diagnosis named when no finding names a more specific one."""


class SourcesFile(KBModel):
    sources: list[SourceDef]
    priors: list[Prior]

    @model_validator(mode="after")
    def _every_source_has_fallback(self) -> SourcesFile:
        for src in self.sources:
            fallback = [p for p in self.priors if p.source == src.id and p.settings is None
                        and p.age_min is None and p.age_max is None and not p.when]
            if not fallback:
                raise ValueError(f"source {src.id!r} needs an unconditional fallback prior")
        return self


class Likelihood(KBModel):
    """How one finding moves one source: published LRs, or sens/spec to derive them from."""

    source: SourceId
    lr_positive: float | None = None
    lr_negative: float | None = None
    sensitivity: float | None = Field(default=None, ge=0, le=1)
    specificity: float | None = Field(default=None, ge=0, le=1)
    citation: str
    verified: Verification
    strength: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _usable(self) -> Likelihood:
        has_lr = self.lr_positive is not None or self.lr_negative is not None
        has_ss = self.sensitivity is not None and self.specificity is not None
        if has_lr == has_ss:
            raise ValueError(f"{self.source}: give published LRs or sensitivity+specificity, "
                             "exactly one of the two")
        for lr in self.effective():
            if lr is not None and not (0 < lr <= LR_SANITY_MAX):
                raise ValueError(f"{self.source}: likelihood ratio {lr} outside (0, 100]")
        return self

    @property
    def derived(self) -> bool:
        return self.sensitivity is not None

    def effective(self) -> tuple[float | None, float | None]:
        """(LR+, LR-), deriving them as LR+ = sens/(1-spec), LR- = (1-sens)/spec."""
        if self.sensitivity is None or self.specificity is None:
            return self.lr_positive, self.lr_negative
        sens, spec = self.sensitivity, self.specificity
        lr_pos = sens / (1 - spec) if spec < 1 else None
        lr_neg = (1 - sens) / spec if sens < 1 and spec > 0 else None
        if lr_pos is not None:
            lr_pos = min(lr_pos, LR_SANITY_MAX)
        return lr_pos, lr_neg


class NextTestSpec(KBModel):
    """How to offer an unknown finding as a next test."""

    label: str
    kind: Literal["history", "exam", "imaging", "test"]


class Finding(KBModel):
    """A finding: present/absent from case fields, and its likelihood ratio per source."""

    id: str
    label: str
    present_when: list[Condition] = Field(min_length=1)
    absent_when: list[Condition] | None = None
    applies_when: list[Condition] = Field(default_factory=list)
    group: str | None = None
    tier: Tier = "clinical"
    positive_only: bool = False
    """True when only the finding's presence is evidence: a lesion a report does not name is
    not thereby ruled out, so its LR- never applies."""
    diagnosis: str | None = None
    """The named diagnosis within its source that this finding points to, if any."""
    next_test: NextTestSpec | None = None
    likelihoods: list[Likelihood] = Field(min_length=1)


class Waiver(KBModel):
    """Findings whose arguments AGAINST one source (LR < 1) stop counting when a case shows
    a picture their study population did not cover: Suri 2010's stenosis items say nothing
    against a root-compressing disc or cyst (a younger patient, one leg, no claudication).
    Only LRs below 1 are waived, so a waiver can raise a source, never lower one."""

    id: str
    label: str
    source: SourceId
    any_of: list[list[Condition]] = Field(min_length=1)
    """The picture: any one of these condition lists, each all true."""
    findings: list[str] = Field(min_length=1)
    citation: str
    verified: Verification
    strength: str | None = None
    note: str | None = None


class FindingsFile(KBModel):
    groups: dict[str, str]
    findings: list[Finding]
    waivers: list[Waiver] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ids_and_groups(self) -> FindingsFile:
        seen: set[str] = set()
        for f in self.findings:
            if f.id in seen:
                raise ValueError(f"duplicate finding id {f.id!r}")
            seen.add(f.id)
            if f.group is not None and f.group not in self.groups:
                raise ValueError(f"finding {f.id!r}: unknown group {f.group!r}")
        for w in self.waivers:
            unknown = sorted(set(w.findings) - seen)
            if unknown:
                raise ValueError(f"waiver {w.id!r}: unknown findings {unknown}")
        return self


class Provenance(KBModel):
    citation: str
    verified: Verification
    strength: str | None = None
    note: str | None = None


class VerdictRules(Provenance):
    act_probability: float = Field(gt=0, lt=1)
    min_evidence_lr: float = Field(ge=1, le=LR_SANITY_MAX)
    settling_tiers: list[Tier]
    settling_min_lr: float = Field(ge=1, le=LR_SANITY_MAX)
    establishing_evidence_lr: float = Field(ge=1, le=LR_SANITY_MAX * LR_SANITY_MAX)
    close_call_probability: float = Field(gt=0, lt=1)


class NextTestRules(Provenance):
    """How the next-test model treats a finding whose LR- was never published."""

    assumed_sensitivity: float = Field(gt=0, lt=1)


class Trigger(KBModel):
    finding: str
    all_of: list[Condition] = Field(min_length=1)
    # A trigger supported by another source than its rule's cites that source here.
    citation: str | None = None
    verified: Verification | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _cited_and_verified_together(self) -> Trigger:
        if (self.citation is None) != (self.verified is None):
            raise ValueError(f"red-flag trigger {self.finding!r}: give citation and verified "
                             "together, or neither (then the rule's own apply)")
        return self


class RedFlagRule(Provenance):
    id: str
    category: str
    triggers: list[Trigger] = Field(min_length=1)
    action: str
    urgency: Literal["emergency", "urgent"]


class OffierskiMacnabRules(Provenance):
    misdiagnosed_relief_below_pct: float = Field(ge=0, le=100)
    hip_changes: list[Condition]
    spine_changes: list[Condition]
    secondary_when: list[Condition]


class EvidencePolicy(KBModel):
    """A software policy (not a clinical figure): which verification levels count."""

    default: EvidenceLevel
    levels: dict[EvidenceLevel, list[Verification]]
    note: str

    @model_validator(mode="after")
    def _every_level_defined(self) -> EvidencePolicy:
        missing = set(get_args(EvidenceLevel)) - set(self.levels)
        if missing:
            raise ValueError(f"evidence_policy.levels lacks {sorted(missing)}")
        return self


class RulesFile(KBModel):
    verdict: VerdictRules
    evidence_policy: EvidencePolicy
    next_tests: NextTestRules
    red_flags: list[RedFlagRule]
    offierski_macnab: OffierskiMacnabRules


class AssessmentKnowledge(KBModel):
    """Everything the assessment engine needs, validated together."""

    sources: SourcesFile
    findings: FindingsFile
    rules: RulesFile

    def finding(self, finding_id: str) -> Finding:
        for f in self.findings.findings:
            if f.id == finding_id:
                return f
        raise KeyError(finding_id)


def load_assessment_knowledge() -> AssessmentKnowledge:
    """Load and validate the packaged assessment knowledge (cached)."""
    return _load()


@functools.cache
def _load() -> AssessmentKnowledge:
    return AssessmentKnowledge(
        sources=load_section(FILES["sources"], SourcesFile),
        findings=load_section(FILES["findings"], FindingsFile),
        rules=load_section(FILES["rules"], RulesFile),
    )
