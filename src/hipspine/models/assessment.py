"""The assessment format `hipspine.assessment/1` (PRODUCT.md section 3).

Fields named in PRODUCT.md are the contract; the extra fields (`basis`, `texts_not_read`,
`texts_truncated`, `findings_from_text`, `unverified`) are compatible extensions that show
the basis of the estimate so a clinician can check it independently.
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

ASSESSMENT_FORMAT: Final = "hipspine.assessment/1"

Verdict = Literal["hip", "spine", "both", "other", "indeterminate"]
SourceId = Literal["hip", "spine", "sacroiliac", "trochanteric", "vascular", "neuropathy",
                   "nerve", "groin", "tumour_infection"]
OffierskiMacnab = Literal["simple", "complex", "secondary", "misdiagnosed"]
EvidenceLevel = Literal["all", "verified", "primary"]
"""Which likelihood ratios count: every one, those checked against any source, or those
checked against the primary paper. Red flags and pre-test probabilities always apply."""


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RedFlag(_Out):
    id: str
    finding: str
    action: str
    citation: str
    urgency: Literal["emergency", "urgent"] = "urgent"
    from_text: bool = False  # a trigger that fired rests on a field the report reader filled


class Contribution(_Out):
    finding: str
    value: str | float | int | bool | None
    likelihood_ratio: float
    citation: str
    verified: bool = True
    group: str | None = None
    from_text: bool = False
    counted: bool = True
    note: str | None = None


class SourceEstimate(_Out):
    id: SourceId
    label: str
    pretest: float = Field(ge=0, le=1)
    probability: float = Field(ge=0, le=1)
    contributions: list[Contribution] = Field(default_factory=list)
    pretest_citation: str = ""
    pretest_note: str | None = None


class NamedDiagnosis(_Out):
    """The leading named diagnosis within a source the verdict names, and its basis."""

    source: SourceId
    name: str
    settled: bool = False
    """True when a reference test, a block or a specific lesion supports it."""
    basis: list[str] = Field(default_factory=list)
    """The decisive counted findings, settling evidence first, as counted."""
    against_rivals: list[str] = Field(default_factory=list)
    """The strongest counted finding against each rival source."""


class Certainty(_Out):
    level: Literal["settled", "probable", "close_call", "thin_evidence"]
    why: str


class InstrumentResult(_Out):
    id: str
    score: float | int | Literal["incomplete"]
    max: float | int
    positive: bool | None
    interpretation: str
    citation: str
    missing_items: list[str] = Field(default_factory=list)
    preliminary: bool = False


class NextTest(_Out):
    test: str
    why: str
    expected_information_bits: float | None = None
    citation: str = ""
    kind: Literal["red_flag", "history", "exam", "imaging", "test"] | None = None
    chance_verdict_changes: float | None = Field(default=None, ge=0, le=1)


class Assessment(_Out):
    format: Literal["hipspine.assessment/1"] = ASSESSMENT_FORMAT
    engine_version: str
    knowledge_version: str
    evidence_policy: EvidenceLevel = "all"
    """Which likelihood ratios counted, by verification level (`rules.yaml` evidence_policy);
    assessments stored before the policy existed counted all."""
    case_id: str | None = None
    verdict: Verdict
    urgent: bool
    red_flags: list[RedFlag] = Field(default_factory=list)
    diagnosis: str | None = None
    """The named diagnosis in words, e.g. "hip: osteonecrosis of the femoral head"."""
    diagnoses: list[NamedDiagnosis] = Field(default_factory=list)
    certainty: Certainty | None = None
    sources: list[SourceEstimate]
    instruments: list[InstrumentResult] = Field(default_factory=list)
    offierski_macnab: OffierskiMacnab | None = None
    next_tests: list[NextTest] = Field(default_factory=list)
    explanation: str
    rules_fired: list[str] = Field(default_factory=list)
    texts_not_read: list[str] = Field(default_factory=list)
    texts_truncated: list[str] = Field(default_factory=list)
    """Texts read only in part (the per-case text limit, `hipspine.nlp.limits`), each with
    how many characters were not read."""
    findings_from_text: list[str] = Field(default_factory=list)
    unverified: list[str] = Field(default_factory=list)
    disclaimer: str = (
        "Decision support, not a diagnosis: check each contribution against the patient "
        "and the cited source."
    )
