"""Typed reads and writes on the registry, in the clinic's words.

Every function takes an open `Session` (from `session_scope`) and never commits: the caller's
`with session_scope(engine)` block is the transaction, so a failure anywhere rolls back all.
Bad values raise `InputError` naming the field, the value and what is allowed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hipspine.errors import ConflictError, InputError, NotFoundError, Problem
from hipspine.models.registry_fields import (
    clinical_date_allowed,
    parse_clinical_date,
    pseudonym_problem,
)
from hipspine.registry.tables import (
    SETTINGS,
    SEXES,
    SIDES,
    TIMEPOINTS,
    TREATMENT_TARGETS,
    TREATMENT_TYPES,
    VERDICTS,
    Episode,
    Patient,
    PromAdministration,
    StoredAssessment,
    StoredPlan,
    Treatment,
)

T = TypeVar("T")
MAX_PAGE = 1000


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing with the total count for pagination controls."""

    items: list[T]
    total: int
    offset: int
    limit: int


def check_choice(field: str, value: Any, allowed: Sequence[str], *,
                 optional: bool = True) -> None:
    if value is None and optional:
        return
    if value not in allowed:
        raise InputError.single(field, value, ", ".join(allowed))


def check_date(field: str, value: Any, *, optional: bool = False) -> dt.date | None:
    """A clinical date (`hipspine.models.registry_fields`): a date or 'YYYY-MM-DD' text,
    from 1900 and not in the future."""
    if value is None or value == "":
        if optional:
            return None
        raise InputError.single(field, value, clinical_date_allowed())
    if isinstance(value, dt.datetime):
        value = value.date()
    day, problem = parse_clinical_date(field, value)
    if problem is not None:
        raise InputError([problem])
    return day


# --- patients ---------------------------------------------------------------------------

def create_patient(session: Session, pseudonym: str, *, year_of_birth: int | None = None,
                   sex: str | None = None, synthetic: bool = False) -> Patient:
    """Register a pseudonymous patient (the pseudonym is the site's key, never a name)."""
    problem = pseudonym_problem("pseudonym", pseudonym)
    if problem is not None:
        raise InputError([problem])
    if year_of_birth is not None and not (1890 <= int(year_of_birth) <= dt.date.today().year):
        raise InputError.single("year_of_birth", year_of_birth,
                                f"a year 1890-{dt.date.today().year}")
    check_choice("sex", sex, SEXES)
    clash = Problem("pseudonym", pseudonym, "a pseudonym not yet in the registry")
    if session.scalar(select(Patient.id).where(Patient.pseudonym == pseudonym)) is not None:
        raise ConflictError([clash], what="patient")
    patient = Patient(pseudonym=pseudonym, year_of_birth=year_of_birth, sex=sex,
                      synthetic=synthetic)
    session.add(patient)
    try:
        session.flush()
    except IntegrityError:  # registered by another writer since the check above
        raise ConflictError([clash], what="patient") from None
    return patient


def get_patient(session: Session, patient_id: int) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFoundError(f"patient {patient_id} not found")
    return patient


def get_patient_by_pseudonym(session: Session, pseudonym: str) -> Patient:
    patient = session.scalar(select(Patient).where(Patient.pseudonym == pseudonym))
    if patient is None:
        raise NotFoundError("no patient with that pseudonym")
    return patient


def list_patients(session: Session, *, offset: int = 0, limit: int = 50,
                  sex: str | None = None, synthetic: bool | None = None,
                  born_from: int | None = None, born_to: int | None = None,
                  pseudonym_prefix: str | None = None,
                  patient_ids: Sequence[int] | None = None) -> Page[Patient]:
    """Patients ordered by id, filtered; `patient_ids` restricts to an allowed set (web ACL)."""
    if offset < 0:
        raise InputError.single("offset", offset, "0 or more")
    if not 1 <= limit <= MAX_PAGE:
        raise InputError.single("limit", limit, f"1-{MAX_PAGE}")
    check_choice("sex", sex, SEXES)
    query: Select[Any] = select(Patient)
    if sex is not None:
        query = query.where(Patient.sex == sex)
    if synthetic is not None:
        query = query.where(Patient.synthetic == synthetic)
    if born_from is not None:
        query = query.where(Patient.year_of_birth >= born_from)
    if born_to is not None:
        query = query.where(Patient.year_of_birth <= born_to)
    if pseudonym_prefix:
        query = query.where(Patient.pseudonym.startswith(pseudonym_prefix, autoescape=True))
    if patient_ids is not None:
        query = query.where(Patient.id.in_(list(patient_ids)))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = list(session.scalars(query.order_by(Patient.id).offset(offset).limit(limit)))
    return Page(items=items, total=total, offset=offset, limit=limit)


# --- episodes and treatments ------------------------------------------------------------

def open_episode(session: Session, patient_id: int, opened_on: dt.date | str, *,
                 setting: str | None = None, verdict: str | None = None,
                 pathway: str | None = None, closed_on: dt.date | str | None = None,
                 synthetic: bool | None = None) -> Episode:
    """Open an episode of care for a patient (synthetic follows the patient by default)."""
    patient = get_patient(session, patient_id)
    opened = check_date("opened_on", opened_on)
    closed = check_date("closed_on", closed_on, optional=True)
    if closed is not None and opened is not None and closed < opened:
        raise InputError.single("closed_on", str(closed), f"on or after opened_on ({opened})")
    check_choice("setting", setting, SETTINGS)
    check_choice("verdict", verdict, VERDICTS)
    episode = Episode(patient_id=patient.id, opened_on=opened, closed_on=closed,
                      setting=setting, verdict=verdict, pathway=pathway,
                      synthetic=patient.synthetic if synthetic is None else synthetic)
    session.add(episode)
    session.flush()
    return episode


def list_episodes(session: Session, patient_id: int) -> list[Episode]:
    return list(session.scalars(select(Episode).where(Episode.patient_id == patient_id)
                                .order_by(Episode.opened_on, Episode.id)))


def add_treatment(session: Session, patient_id: int, type: str, target: str,  # noqa: A002
                  performed_on: dt.date | str, *, side: str | None = None,
                  level: str | None = None, episode_id: int | None = None,
                  synthetic: bool | None = None) -> Treatment:
    """Record a treatment; types are the case format's plus registry procedures."""
    patient = get_patient(session, patient_id)
    check_choice("type", type, TREATMENT_TYPES, optional=False)
    check_choice("target", target, TREATMENT_TARGETS, optional=False)
    check_choice("side", side, SIDES)
    if episode_id is not None:
        _episode_of(session, episode_id, patient.id)
    treatment = Treatment(patient_id=patient.id, episode_id=episode_id, type=type,
                          target=target, side=side, level=level,
                          performed_on=check_date("performed_on", performed_on),
                          synthetic=patient.synthetic if synthetic is None else synthetic)
    session.add(treatment)
    session.flush()
    return treatment


def list_treatments(session: Session, patient_id: int) -> list[Treatment]:
    return list(session.scalars(select(Treatment).where(Treatment.patient_id == patient_id)
                                .order_by(Treatment.performed_on, Treatment.id)))


# --- PROMs ------------------------------------------------------------------------------

def submit_prom(session: Session, patient_id: int, instrument: str,
                items: Sequence[int | None], administered_on: dt.date | str, *,
                timepoint: str | None = None, episode_id: int | None = None,
                synthetic: bool | None = None) -> PromAdministration:
    """Store one PROM administration, scored by `hipspine.proms` (item responses kept)."""
    from hipspine.proms import find_instrument
    from hipspine.proms.scoring import compute, scores_record, validate_items

    patient = get_patient(session, patient_id)
    check_choice("timepoint", timepoint, TIMEPOINTS)
    definition = find_instrument(instrument)
    clean = validate_items(definition, items)
    done = compute(definition, clean[: len(definition.items)])
    if episode_id is not None:
        _episode_of(session, episode_id, patient.id)
    row = PromAdministration(
        patient_id=patient.id, episode_id=episode_id, instrument=definition.id,
        timepoint=timepoint, administered_on=check_date("administered_on", administered_on),
        items=clean, score=done.value, scores=scores_record(definition, done),
        missing_items=len(done.missing),
        synthetic=patient.synthetic if synthetic is None else synthetic)
    session.add(row)
    session.flush()
    return row


def list_proms(session: Session, patient_id: int,
               instrument: str | None = None) -> list[PromAdministration]:
    query = select(PromAdministration).where(PromAdministration.patient_id == patient_id)
    if instrument is not None:
        query = query.where(PromAdministration.instrument == instrument)
    return list(session.scalars(query.order_by(PromAdministration.administered_on,
                                               PromAdministration.id)))


# --- assessments and plans --------------------------------------------------------------

def store_assessment(session: Session, episode_id: int, assessment: BaseModel | dict[str, Any],
                     *, created_by: str | None = None) -> StoredAssessment:
    """Keep an assessment exactly as produced, with the versions that produced it."""
    return _store_document(session, StoredAssessment, episode_id, assessment, created_by)


def store_plan(session: Session, episode_id: int, plan: BaseModel | dict[str, Any], *,
               created_by: str | None = None) -> StoredPlan:
    """Keep a plan exactly as produced, with the versions that produced it."""
    return _store_document(session, StoredPlan, episode_id, plan, created_by)


_Stored = TypeVar("_Stored", StoredAssessment, StoredPlan)


def _store_document(session: Session, table: type[_Stored], episode_id: int,
                    produced: BaseModel | dict[str, Any], created_by: str | None) -> _Stored:
    document = _document(produced)
    episode = _episode_of(session, episode_id)
    engine_version, knowledge_version = _versions(document)
    verdict = document.get("verdict")
    row = table(episode_id=episode.id, document=document,
                verdict=verdict if isinstance(verdict, str) else None,
                engine_version=engine_version, knowledge_version=knowledge_version,
                created_by=created_by, synthetic=episode.synthetic)
    session.add(row)
    session.flush()
    return row


def list_assessments(session: Session, episode_id: int) -> list[StoredAssessment]:
    return list(session.scalars(select(StoredAssessment)
                                .where(StoredAssessment.episode_id == episode_id)
                                .order_by(StoredAssessment.id)))


def _document(doc: BaseModel | dict[str, Any]) -> dict[str, Any]:
    if isinstance(doc, BaseModel):
        return doc.model_dump(mode="json")
    if isinstance(doc, dict):
        return doc
    raise InputError.single("document", type(doc).__name__, "a JSON object")


def _versions(document: dict[str, Any]) -> tuple[str, str]:
    engine = document.get("engine_version")
    knowledge = document.get("knowledge_version")
    if not isinstance(engine, str) or not engine:
        raise InputError.single("engine_version", engine,
                                "the engine version the document carries")
    if not isinstance(knowledge, str) or not knowledge:
        raise InputError.single("knowledge_version", knowledge,
                                "the knowledge version the document carries")
    return engine, knowledge


def _episode_of(session: Session, episode_id: int, patient_id: int | None = None) -> Episode:
    episode = session.get(Episode, episode_id)
    if episode is None:
        raise NotFoundError(f"episode {episode_id} not found")
    if patient_id is not None and episode.patient_id != patient_id:
        raise InputError.single("episode_id", episode_id, "an episode of this patient")
    return episode
