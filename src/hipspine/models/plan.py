"""The plan format `hipspine.plan/1` (PRODUCT.md section 4).

The named fields are the contract. Extensions (all optional for readers): versions, the
rules that fired, each step's `tier`, `status` and `verified`, steps already tried, the
shared-decision label on surgical sequencing, the medication rule behind each advice and the
safety facts to check first, surgery `status`, steps deferred behind an urgent referral, and
the conflict pairs checked.
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

PLAN_FORMAT: Final = "hipspine.plan/1"

Target = Literal["hip", "spine", "both"]
Organ = Literal["hip", "spine"]
Tier = Literal["urgent", "work_up", "conservative", "injection", "surgical_referral"]
StepStatus = Literal["now", "if_no_relief"]
Recommendation = Literal["use", "caution", "avoid"]
Verification = Literal["primary", "secondary", "unverified"]
SurgeryStatus = Literal["not_indicated", "if_no_relief", "now", "urgent", "deferred"]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UrgentReferral(_Out):
    needed: bool
    why: str = ""
    citations: list[str] = Field(default_factory=list)


class Step(_Out):
    order: int
    action: str
    target: Target
    why: str
    citation: str
    id: str = ""
    tier: Tier = "conservative"
    status: StepStatus = "now"
    verified: Verification = "unverified"


class LifestyleAdvice(_Out):
    advice: str
    why: str
    id: str = ""
    citation: str = ""
    verified: Verification = "unverified"


class MedicationAdvice(_Out):
    drug_class: str
    recommendation: Recommendation
    why: str
    citation: str = ""
    verified: Verification = "unverified"
    rules: list[str] = Field(default_factory=list)
    check_first: list[str] = Field(default_factory=list)
    """Safety facts not recorded in the case that must be checked before prescribing."""


class Surgery(_Out):
    indicated: bool
    """True whenever the plan holds a surgical referral (urgent, now or if no relief)."""
    status: SurgeryStatus = "not_indicated"
    """When: `urgent` (an emergency surgical referral leads the plan), `now`, `if_no_relief`,
    `deferred` (elective referral waits for an urgent non-surgical assessment), or
    `not_indicated`."""
    sequence: list[Organ] = Field(default_factory=list)
    why: str = ""
    shared_decision: bool = False
    consensus: str = ""
    citations: list[str] = Field(default_factory=list)


class AlreadyTried(_Out):
    type: str
    target: str
    relief_pct: float | None = None
    months_ago: float | None = None
    note: str


class Plan(_Out):
    format: Literal["hipspine.plan/1"] = PLAN_FORMAT
    engine_version: str
    knowledge_version: str
    case_id: str | None = None
    verdict: Literal["hip", "spine", "both", "other", "indeterminate"]
    diagnosis: str | None = None
    """The assessment's named diagnosis, e.g. "hip: osteonecrosis of the femoral head"."""
    urgent_referral: UrgentReferral
    steps: list[Step]
    lifestyle: list[LifestyleAdvice] = Field(default_factory=list)
    medications: list[MedicationAdvice] = Field(default_factory=list)
    surgery: Surgery
    cautions: list[str] = Field(default_factory=list)
    already_tried: list[AlreadyTried] = Field(default_factory=list)
    deferred: list[Step] = Field(default_factory=list)
    """Elective steps held back until an urgent assessment excludes an emergency."""
    conflicts_checked: list[str] = Field(default_factory=list)
    """The conflict pairs (knowledge/plan/conflicts.yaml) this plan was checked against."""
    rules_fired: list[str] = Field(default_factory=list)
    unverified: list[str] = Field(default_factory=list)
    disclaimer: str = (
        "Decision support, not a prescription: check each step against the patient and the "
        "cited source, and decide together with the patient."
    )
