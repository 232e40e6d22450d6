"""Request and response bodies of the registry API (`...Create` in, `...Public` out)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from hipspine.models.registry_fields import ClinicalDate, PlainText, Pseudonym, YearOfBirth
from hipspine.registry.tables import SETTINGS, SEXES, SIDES, TIMEPOINTS, TREATMENT_TYPES

T = TypeVar("T")

Sex = Literal[SEXES]  # type: ignore[valid-type]
SettingName = Literal[SETTINGS]  # type: ignore[valid-type]
Side = Literal[SIDES]  # type: ignore[valid-type]
Timepoint = Literal[TIMEPOINTS]  # type: ignore[valid-type]
TreatmentType = Literal[TREATMENT_TYPES]  # type: ignore[valid-type]


def _utc(value: dt.datetime) -> dt.datetime:
    """The registry stores naive UTC; say so in the output (RFC 3339 needs an offset)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


# One rule for pseudonyms and clinical dates (API, web forms, registry import).
Day = ClinicalDate
UtcDateTime = Annotated[dt.datetime, AfterValidator(_utc)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(_Out, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class PatientCreate(_In):
    pseudonym: Pseudonym
    year_of_birth: YearOfBirth | None = None
    sex: Sex | None = None


class PatientPublic(_Out):
    id: int
    pseudonym: str
    year_of_birth: int | None
    sex: str | None
    synthetic: bool


class EpisodeCreate(_In):
    opened_on: Day
    setting: SettingName | None = None


class EpisodePublic(_Out):
    id: int
    patient_id: int
    opened_on: dt.date
    closed_on: dt.date | None
    setting: str | None
    verdict: str | None
    pathway: str | None
    synthetic: bool


class StoredAssessmentPublic(_Out):
    id: int
    episode_id: int
    verdict: str | None
    engine_version: str
    knowledge_version: str
    created_at: UtcDateTime
    document: dict[str, Any]


class TreatmentCreate(_In):
    type: TreatmentType
    target: Literal["hip", "spine", "other"]
    side: Side | None = None
    level: Annotated[PlainText, Field(max_length=16)] | None = None
    performed_on: Day
    episode_id: Annotated[int, Field(ge=1, le=2_147_483_647)] | None = None


class TreatmentPublic(_Out):
    id: int
    patient_id: int
    episode_id: int | None
    type: str
    target: str
    side: str | None
    level: str | None
    performed_on: dt.date
    synthetic: bool


class PromCreate(_In):
    instrument: Annotated[str, Field(min_length=1, max_length=32)]
    items: list[Annotated[int, Field(ge=0, le=100)] | None] = Field(max_length=200)
    timepoint: Timepoint | None = None
    administered_on: Day
    episode_id: Annotated[int, Field(ge=1, le=2_147_483_647)] | None = None


class PromPublic(_Out):
    id: int
    patient_id: int
    episode_id: int | None
    instrument: str
    timepoint: str | None
    administered_on: dt.date
    items: list[Any]
    score: float | None
    missing_items: int
    synthetic: bool


class AuditEventPublic(_Out):
    id: int
    at: UtcDateTime
    actor: str | None
    role: str | None
    action: str
    resource_type: str | None
    resource_id: str | None
    detail: dict[str, Any] | None


class AssignmentCreate(_In):
    user_id: Annotated[int, Field(ge=1, le=2_147_483_647)]


class UserCreate(_In):
    username: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._@-]+$")]
    password: Annotated[str, Field(min_length=8, max_length=256)]
    role: Literal["clinician", "researcher", "admin"]
    display_name: Annotated[PlainText, Field(max_length=128)] | None = None


class UserPublic(_Out):
    id: int
    username: str
    role: str
    display_name: str | None
    active: bool
