"""The registry's tables (SQLAlchemy 2 declarative models).

One schema for SQLite and PostgreSQL; Alembic migrations in `hipspine.registry.migrations`
create exactly these tables. Patients are pseudonymous: a `pseudonym` key, year of birth and
sex, never a name or a date of birth. Every clinical row carries `synthetic` so synthetic
cohorts can never be mistaken for real patients in any export.

Engineers building on this module (studies, web) use the column names here as the contract.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SEXES = ("female", "male", "other")
SETTINGS = ("primary_care", "spine_clinic", "arthroplasty_clinic", "physiotherapy")
VERDICTS = ("hip", "spine", "both", "mimic", "other", "indeterminate")
TIMEPOINTS = ("baseline", "6w", "3m", "6m", "12m", "24m")
TREATMENT_TARGETS = ("hip", "spine", "other")
SIDES = ("left", "right", "bilateral")
# The case format's prior_treatment types plus registry procedures (re-operations, revisions).
TREATMENT_TYPES = (
    "physiotherapy", "nsaid", "hip_injection", "epidural_injection", "nerve_root_block",
    "lumbar_decompression", "lumbar_fusion", "total_hip_arthroplasty", "hip_arthroscopy",
    "revision_hip_arthroplasty", "revision_lumbar_surgery", "other",
)
SURGICAL_TREATMENT_TYPES = (
    "lumbar_decompression", "lumbar_fusion", "total_hip_arthroplasty", "hip_arthroscopy",
    "revision_hip_arthroplasty", "revision_lumbar_surgery",
)
ROLES = ("clinician", "researcher", "admin")


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Patient(Base):
    """A pseudonymous patient: the key is chosen by the site, never a hospital number."""

    __tablename__ = "patients"
    __table_args__ = (
        CheckConstraint(_in("sex", SEXES), name="sex"),
        CheckConstraint("year_of_birth BETWEEN 1890 AND 2100", name="year_of_birth"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(64), unique=True)
    year_of_birth: Mapped[int | None] = mapped_column(Integer)
    sex: Mapped[str | None] = mapped_column(String(16))
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_utcnow)


class Episode(Base):
    """An episode of care: from first assessment to discharge, with its verdict and pathway."""

    __tablename__ = "episodes"
    __table_args__ = (
        CheckConstraint(f"setting IS NULL OR {_in('setting', SETTINGS)}", name="setting"),
        CheckConstraint(f"verdict IS NULL OR {_in('verdict', VERDICTS)}", name="verdict"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    opened_on: Mapped[dt.date] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    setting: Mapped[str | None] = mapped_column(String(32))
    verdict: Mapped[str | None] = mapped_column(String(16))
    # Free summary of the planned pathway, e.g. "hip_first", "spine_first", "conservative".
    pathway: Mapped[str | None] = mapped_column(String(64))
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class StoredAssessment(Base):
    """An assessment document exactly as the engine produced it, with its versions."""

    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    episode_id: Mapped[int] = mapped_column(
        ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    verdict: Mapped[str | None] = mapped_column(String(16))
    engine_version: Mapped[str] = mapped_column(String(32))
    knowledge_version: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_utcnow)
    created_by: Mapped[str | None] = mapped_column(String(64))
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class StoredPlan(Base):
    """A plan document exactly as the engine produced it, with its versions."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    episode_id: Mapped[int] = mapped_column(
        ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    verdict: Mapped[str | None] = mapped_column(String(16))
    engine_version: Mapped[str] = mapped_column(String(32))
    knowledge_version: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_utcnow)
    created_by: Mapped[str | None] = mapped_column(String(64))
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class SpinopelvicRecord(Base):
    """A `hipspine.spinopelvic/1` result saved to a patient (the document exactly as the engine
    produced it); the plan reads the patient's latest one for its Hip-Spine cautions."""

    __tablename__ = "spinopelvic_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_utcnow)
    created_by: Mapped[str | None] = mapped_column(String(64))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Treatment(Base):
    """A treatment given (conservative or surgical); surgery dates drive survival analyses."""

    __tablename__ = "treatments"
    __table_args__ = (
        CheckConstraint(_in("type", TREATMENT_TYPES), name="type"),
        CheckConstraint(_in("target", TREATMENT_TARGETS), name="target"),
        CheckConstraint(f"side IS NULL OR {_in('side', SIDES)}", name="side"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    episode_id: Mapped[int | None] = mapped_column(
        ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(8))
    side: Mapped[str | None] = mapped_column(String(16))
    level: Mapped[str | None] = mapped_column(String(16))
    performed_on: Mapped[dt.date] = mapped_column(Date)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class PromAdministration(Base):
    """One PROM completed at one timepoint: item responses always, score when computable."""

    __tablename__ = "prom_administrations"
    __table_args__ = (
        CheckConstraint(f"timepoint IS NULL OR {_in('timepoint', TIMEPOINTS)}",
                        name="timepoint"),
        Index("ix_prom_patient_instrument", "patient_id", "instrument", "timepoint"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    episode_id: Mapped[int | None] = mapped_column(
        ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    # Instrument id as in `hipspine prom list`; subscales as e.g. "zcq" with score of record.
    instrument: Mapped[str] = mapped_column(String(32))
    timepoint: Mapped[str | None] = mapped_column(String(16))
    administered_on: Mapped[dt.date] = mapped_column(Date)
    items: Mapped[list[Any]] = mapped_column(JSON)
    score: Mapped[float | None] = mapped_column(Float)
    # Full scorer output (subscales, interval score, version) for instruments with several.
    scores: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    missing_items: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class User(Base):
    """A person who signs in to the web app; passwords are stored only as hashes."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    display_name: Mapped[str | None] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_utcnow)


class ApiToken(Base):
    """A bearer token for scripts and EHR integrations, stored only as a hash."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    label: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class WebSession(Base):
    """A signed-in browser session, held server-side so that logging out ends it: the
    cookie carries only a random id, stored here as its SHA-256 digest."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_hash: Mapped[str] = mapped_column(String(128), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class PatientLink(Base):
    """A PROM link for a patient's phone: opaque (the URL holds a random id, stored here only
    as its SHA-256 digest), for one patient, instrument and timepoint, until it expires, is
    used once or is revoked."""

    __tablename__ = "patient_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    instrument: Mapped[str] = mapped_column(String(32))
    timepoint: Mapped[str | None] = mapped_column(String(16))
    issued_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    prom_id: Mapped[int | None] = mapped_column(
        ForeignKey("prom_administrations.id", ondelete="SET NULL"))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(64))


class CdsTokenUse(Base):
    """The `jti` of every CDS Hooks token accepted, until its time is up: the replay store
    that servers on several machines share through the registry."""

    __tablename__ = "cds_jti"

    jti: Mapped[str] = mapped_column(String(255), primary_key=True)
    until: Mapped[float] = mapped_column(Float)


class PatientAssignment(Base):
    """Which clinician may see which patient (row-level access in the web app)."""

    __tablename__ = "patient_assignments"
    __table_args__ = (UniqueConstraint("user_id", "patient_id", name="uq_assignment"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True)


class AuditEvent(Base):
    """Who did what to which resource; `detail` must never hold patient identifiers."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=_utcnow, index=True)
    actor: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    resource_type: Mapped[str | None] = mapped_column(String(32))
    resource_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


__all__ = [
    "ROLES", "SETTINGS", "SEXES", "SIDES", "SURGICAL_TREATMENT_TYPES", "TIMEPOINTS",
    "TREATMENT_TARGETS", "TREATMENT_TYPES", "VERDICTS",
    "ApiToken", "AuditEvent", "Base", "CdsTokenUse", "Episode", "Patient", "PatientAssignment",
    "PatientLink", "PromAdministration", "StoredAssessment", "StoredPlan", "Treatment", "User",
    "WebSession",
]
