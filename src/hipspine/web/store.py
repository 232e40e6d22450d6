"""The web app's reads and writes of the registry: accounts, access, audit, patient records.

Every function takes an open SQLAlchemy session (one transaction per request, so a failed
write leaves nothing behind) and the acting `Actor`. Reads and changes of patient data check
access here and write an audit event here, so no route can forget either.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from hipspine.errors import InputError, NotFoundError, PermissionDeniedError, Problem
from hipspine.registry.tables import (
    ApiToken,
    AuditEvent,
    Episode,
    Patient,
    PatientAssignment,
    PromAdministration,
    StoredAssessment,
    StoredPlan,
    Treatment,
    User,
)
from hipspine.web import security
from hipspine.web.errors import ConflictError


@dataclass(frozen=True)
class Actor:
    """The signed-in user making a request."""

    user_id: int
    username: str
    role: str

    @property
    def may_see_identified(self) -> bool:
        return self.role in ("clinician", "admin")


# ----------------------------------------------------------------------------- accounts

def create_user(s: Session, username: str, password: str, role: str,
                display_name: str | None = None) -> User:
    if role not in ("clinician", "researcher", "admin"):
        raise InputError.single("role", role, "clinician, researcher or admin", what="user")
    if not username or len(username) > 64:
        raise InputError.single("username", username, "1 to 64 characters", what="user")
    if len(password) < 8:
        raise InputError.single("password", "(hidden)", "at least 8 characters", what="user")
    if s.scalar(select(User).where(User.username == username)) is not None:
        raise ConflictError([Problem("username", username, "a name not already taken")],
                            what="user")
    user = User(username=username, password_hash=security.hash_password(password), role=role,
                display_name=display_name)
    s.add(user)
    s.flush()
    return user


def authenticate(s: Session, username: str, password: str) -> User | None:
    user = s.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        security.verify_password(_DUMMY_HASH, password)  # same cost whether or not user exists
        return None
    return user if security.verify_password(user.password_hash, password) else None


_DUMMY_HASH = security.hash_password("not-a-real-password")


def user_by_id(s: Session, user_id: int) -> User | None:
    user = s.get(User, user_id)
    return user if user is not None and user.active else None


def user_by_token(s: Session, token: str) -> User | None:
    row = s.scalar(select(ApiToken).where(ApiToken.token_hash == security.hash_api_token(token),
                                          ApiToken.revoked_at.is_(None)))
    return user_by_id(s, row.user_id) if row is not None else None


def issue_token(s: Session, actor: Actor, label: str | None) -> str:
    token = security.new_api_token()
    s.add(ApiToken(user_id=actor.user_id, token_hash=security.hash_api_token(token), label=label))
    audit(s, actor, "token.create", "user", actor.user_id)
    return token


def list_users(s: Session) -> list[User]:
    return list(s.scalars(select(User).order_by(User.username)))


def assign(s: Session, actor: Actor, user_id: int, patient_id: int) -> None:
    require_role(actor, "admin", "clinician")
    get_patient(s, actor, patient_id)
    if s.get(User, user_id) is None:
        raise NotFoundError(f"user {user_id} not found")
    exists = s.scalar(select(PatientAssignment).where(PatientAssignment.user_id == user_id,
                                                      PatientAssignment.patient_id == patient_id))
    if exists is None:
        s.add(PatientAssignment(user_id=user_id, patient_id=patient_id))
    audit(s, actor, "patient.assign", "patient", patient_id, {"user_id": user_id})


# ----------------------------------------------------------------------------- audit

def audit(s: Session, actor: Actor | None, action: str, resource_type: str | None = None,
          resource_id: int | str | None = None, detail: dict[str, Any] | None = None) -> None:
    """Record who did what to which resource (internal ids only, never identifiers)."""
    s.add(AuditEvent(actor=actor.username if actor else None, role=actor.role if actor else None,
                     action=action, resource_type=resource_type,
                     resource_id=None if resource_id is None else str(resource_id),
                     detail=detail))


def audit_events(s: Session, limit: int, offset: int, actor: str | None = None,
                 action: str | None = None) -> tuple[list[AuditEvent], int]:
    q = select(AuditEvent)
    if actor:
        q = q.where(AuditEvent.actor == actor)
    if action:
        q = q.where(AuditEvent.action.startswith(action))
    return _page(s, q.order_by(AuditEvent.id.desc()), limit, offset)


# ----------------------------------------------------------------------------- access

def require_role(actor: Actor, *roles: str) -> None:
    if actor.role not in roles:
        raise PermissionDeniedError(f"role {actor.role!r} may not do this; needs "
                                    + " or ".join(roles))


def _visible_patients(actor: Actor) -> Select[Any]:
    require_role(actor, "clinician", "admin")
    q = select(Patient)
    if actor.role == "clinician":
        q = q.join(PatientAssignment, PatientAssignment.patient_id == Patient.id).where(
            PatientAssignment.user_id == actor.user_id)
    return q


def get_patient(s: Session, actor: Actor, patient_id: int, *, log: bool = False) -> Patient:
    """The patient if the actor may see them; 403 for researchers, 404 if not assigned."""
    patient: Patient | None = s.scalar(_visible_patients(actor).where(Patient.id == patient_id))
    if patient is None:
        raise NotFoundError(f"patient {patient_id} not found")
    if log:
        audit(s, actor, "patient.read", "patient", patient_id)
    return patient


# ----------------------------------------------------------------------------- patients

def list_patients(s: Session, actor: Actor, limit: int, offset: int, *,
                  pseudonym: str | None = None, sex: str | None = None,
                  synthetic: bool | None = None) -> tuple[list[Patient], int]:
    q = _visible_patients(actor)
    if pseudonym:
        q = q.where(Patient.pseudonym.startswith(pseudonym, autoescape=True))
    if sex:
        q = q.where(Patient.sex == sex)
    if synthetic is not None:
        q = q.where(Patient.synthetic == synthetic)
    rows, total = _page(s, q.order_by(Patient.pseudonym), limit, offset)
    audit(s, actor, "patient.list", "patient", None, {"count": len(rows)})
    return rows, total


def create_patient(s: Session, actor: Actor, pseudonym: str, year_of_birth: int | None,
                   sex: str | None, synthetic: bool = False) -> Patient:
    require_role(actor, "clinician", "admin")
    if s.scalar(select(Patient).where(Patient.pseudonym == pseudonym)) is not None:
        raise ConflictError([Problem("pseudonym", pseudonym,
                                     "a pseudonym not already registered")], what="patient")
    patient = Patient(pseudonym=pseudonym, year_of_birth=year_of_birth, sex=sex,
                      synthetic=synthetic)
    s.add(patient)
    s.flush()
    if actor.role == "clinician":
        s.add(PatientAssignment(user_id=actor.user_id, patient_id=patient.id))
    audit(s, actor, "patient.create", "patient", patient.id)
    return patient


def list_episodes(s: Session, actor: Actor, patient_id: int) -> list[Episode]:
    get_patient(s, actor, patient_id)
    audit(s, actor, "episode.list", "patient", patient_id)
    return list(s.scalars(select(Episode).where(Episode.patient_id == patient_id)
                          .order_by(Episode.opened_on, Episode.id)))


def create_episode(s: Session, actor: Actor, patient_id: int, opened_on: dt.date,
                   setting: str | None) -> Episode:
    patient = get_patient(s, actor, patient_id)
    episode = Episode(patient_id=patient_id, opened_on=opened_on, setting=setting,
                      synthetic=patient.synthetic)
    s.add(episode)
    s.flush()
    audit(s, actor, "episode.create", "episode", episode.id)
    return episode


def get_episode(s: Session, actor: Actor, episode_id: int) -> Episode:
    episode = s.get(Episode, episode_id)
    if episode is None:
        raise NotFoundError(f"episode {episode_id} not found")
    try:
        get_patient(s, actor, episode.patient_id)
    except NotFoundError:
        raise NotFoundError(f"episode {episode_id} not found") from None
    audit(s, actor, "episode.read", "episode", episode_id)
    return episode


# Registry episodes call a non-hip, non-spine source a "mimic"; the assessment says "other".
_REGISTRY_VERDICT = {"other": "mimic"}


def store_assessment(s: Session, actor: Actor, episode: Episode, assessment: dict[str, Any],
                     plan: dict[str, Any] | None) -> StoredAssessment:
    verdict = assessment.get("verdict")
    row = StoredAssessment(episode_id=episode.id, document=assessment, verdict=verdict,
                           engine_version=str(assessment.get("engine_version", "")),
                           knowledge_version=str(assessment.get("knowledge_version", "")),
                           created_by=actor.username, synthetic=episode.synthetic)
    s.add(row)
    if plan is not None:
        s.add(StoredPlan(episode_id=episode.id, document=plan, verdict=plan.get("verdict"),
                         engine_version=str(assessment.get("engine_version", "")),
                         knowledge_version=str(assessment.get("knowledge_version", "")),
                         created_by=actor.username, synthetic=episode.synthetic))
    episode.verdict = _REGISTRY_VERDICT.get(str(verdict), verdict)
    s.flush()
    audit(s, actor, "assessment.create", "episode", episode.id)
    return row


def assessments_for(s: Session, patient_id: int) -> list[StoredAssessment]:
    return list(s.scalars(select(StoredAssessment).join(Episode)
                          .where(Episode.patient_id == patient_id)
                          .order_by(StoredAssessment.created_at, StoredAssessment.id)))


def plans_for(s: Session, patient_id: int) -> list[StoredPlan]:
    return list(s.scalars(select(StoredPlan).join(Episode)
                          .where(Episode.patient_id == patient_id)
                          .order_by(StoredPlan.created_at, StoredPlan.id)))


def list_treatments(s: Session, actor: Actor, patient_id: int) -> list[Treatment]:
    get_patient(s, actor, patient_id)
    audit(s, actor, "treatment.list", "patient", patient_id)
    return list(s.scalars(select(Treatment).where(Treatment.patient_id == patient_id)
                          .order_by(Treatment.performed_on, Treatment.id)))


def create_treatment(s: Session, actor: Actor, patient_id: int, **fields: Any) -> Treatment:
    patient = get_patient(s, actor, patient_id)
    episode_id = fields.get("episode_id")
    if episode_id is not None:
        _episode_of(s, patient_id, episode_id)
    row = Treatment(patient_id=patient_id, synthetic=patient.synthetic, **fields)
    s.add(row)
    s.flush()
    audit(s, actor, "treatment.create", "treatment", row.id)
    return row


def list_proms(s: Session, actor: Actor, patient_id: int,
               instrument: str | None = None) -> list[PromAdministration]:
    get_patient(s, actor, patient_id)
    q = select(PromAdministration).where(PromAdministration.patient_id == patient_id)
    if instrument:
        q = q.where(PromAdministration.instrument == instrument)
    audit(s, actor, "prom.list", "patient", patient_id)
    return list(s.scalars(q.order_by(PromAdministration.administered_on,
                                     PromAdministration.id)))


def create_prom(s: Session, actor: Actor, patient_id: int, **fields: Any) -> PromAdministration:
    patient = get_patient(s, actor, patient_id)
    if fields.get("episode_id") is not None:
        _episode_of(s, patient_id, fields["episode_id"])
    row = PromAdministration(patient_id=patient_id, synthetic=patient.synthetic, **fields)
    s.add(row)
    s.flush()
    audit(s, actor, "prom.create", "prom", row.id, {"instrument": row.instrument})
    return row


def create_prom_by_patient_link(s: Session, patient_id: int, issued_by: str,
                                **fields: Any) -> PromAdministration:
    """A PROM the patient filled in through a signed link (the link is the permission)."""
    patient = s.get(Patient, patient_id)
    if patient is None:
        raise NotFoundError("this questionnaire link no longer matches a patient")
    row = PromAdministration(patient_id=patient_id, synthetic=patient.synthetic, **fields)
    s.add(row)
    s.flush()
    s.add(AuditEvent(actor=f"patient link from {issued_by}"[:64], role="patient",
                     action="prom.create", resource_type="prom", resource_id=str(row.id),
                     detail={"instrument": row.instrument}))
    return row


def _episode_of(s: Session, patient_id: int, episode_id: int) -> Episode:
    episode = s.get(Episode, episode_id)
    if episode is None or episode.patient_id != patient_id:
        raise InputError.single("episode_id", episode_id,
                                "an episode id of this patient", what="request")
    return episode


def _page(s: Session, q: Select[Any], limit: int, offset: int) -> tuple[list[Any], int]:
    total = s.scalar(select(func.count()).select_from(q.order_by(None).subquery())) or 0
    return list(s.scalars(q.limit(limit).offset(offset))), int(total)
