"""The web app's reads and writes of the registry: accounts, access, audit, patient records.

Every function takes an open SQLAlchemy session (one transaction per request, so a failed
write leaves nothing behind) and the acting `Actor`. Reads and changes of patient data check
access here and write an audit event here, so no route can forget either.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, Select, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hipspine.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError, Problem
from hipspine.registry.audit import AuditActor, cli_actor, record_audit
from hipspine.registry.tables import (
    TIMEPOINTS,
    ApiToken,
    AuditEvent,
    Episode,
    Patient,
    PatientAssignment,
    PatientLink,
    PromAdministration,
    SpinopelvicRecord,
    StoredAssessment,
    StoredPlan,
    Treatment,
    User,
    WebSession,
)
from hipspine.web import security


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
    _flush_unique(s, Problem("username", username, "a name not already taken",
                             "another request registered it at the same time"), "user")
    return user


def _flush_unique(s: Session, clash: Problem, what: str) -> None:
    """Flush; a unique constraint that another request's commit won meanwhile (the check
    before the insert saw nothing yet) is a 409 naming the clash, not a 500."""
    try:
        s.flush()
    except IntegrityError:
        raise ConflictError([clash], what=what) from None


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


def _utcnow() -> dt.datetime:
    """Naive UTC, as the registry stores every time."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# API tokens expire; a token made before expiry existed counts from its creation.
DEFAULT_TOKEN_DAYS = 90


def token_expiry(row: ApiToken, max_days: int = DEFAULT_TOKEN_DAYS) -> dt.datetime:
    return row.expires_at or row.created_at + dt.timedelta(days=max_days)


def token_active(row: ApiToken, max_days: int = DEFAULT_TOKEN_DAYS,
                 now: dt.datetime | None = None) -> bool:
    return row.revoked_at is None and token_expiry(row, max_days) > (now or _utcnow())


def user_by_token(s: Session, token: str, max_days: int = DEFAULT_TOKEN_DAYS,
                  now: dt.datetime | None = None) -> User | None:
    """The active user a token belongs to; None when the token is unknown, revoked or
    expired, or its user is deactivated."""
    row = s.scalar(select(ApiToken).where(ApiToken.token_hash == security.hash_api_token(token)))
    if row is None or not token_active(row, max_days, now):
        return None
    return user_by_id(s, row.user_id)


def issue_api_token(s: Session, actor: Actor | None, label: str | None,
                    lifetime_days: int | None = None, *, user_id: int | None = None,
                    max_days: int = DEFAULT_TOKEN_DAYS) -> tuple[str, ApiToken]:
    """A new token for `user_id` (default: the actor), valid `lifetime_days` (default and
    most: `max_days`). Returns the token, shown once, and its row (which holds its hash).
    `actor` None is the command line (an operator with the registry in hand)."""
    owner = user_id if user_id is not None else (actor.user_id if actor else None)
    if owner is None or user_by_id(s, owner) is None:
        raise NotFoundError(f"user {owner} not found or deactivated")
    days = max_days if lifetime_days is None else lifetime_days
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= max_days:
        raise InputError.single("expires_in_days", lifetime_days, f"1 to {max_days} days",
                                what="API token")
    token = security.new_api_token()
    now = _utcnow()
    row = ApiToken(user_id=owner, token_hash=security.hash_api_token(token), label=label,
                   created_at=now, expires_at=now + dt.timedelta(days=days))
    s.add(row)
    s.flush()
    _audit_account(s, actor, "token.create", "api_token", row.id,
                   {"user_id": owner, "days": days})
    return token, row


def issue_token(s: Session, actor: Actor, label: str | None,
                lifetime_days: int | None = None, *, max_days: int = DEFAULT_TOKEN_DAYS) -> str:
    """A new token for the actor (shown once)."""
    return issue_api_token(s, actor, label, lifetime_days, max_days=max_days)[0]


def list_tokens(s: Session, actor: Actor | None, user_id: int | None = None,
                every_user: bool = False) -> list[ApiToken]:
    """The actor's own tokens; an admin (or the command line, `actor` None) may name another
    user or ask for every user's. Rows hold the hash, never the token."""
    q = select(ApiToken)
    if every_user or (user_id is not None and (actor is None or user_id != actor.user_id)):
        if actor is not None:
            require_role(actor, "admin")
        if not every_user:
            q = q.where(ApiToken.user_id == user_id)
    else:
        if actor is None:
            raise InputError.single("user", None, "a user, or every user", what="token list")
        q = q.where(ApiToken.user_id == actor.user_id)
    return list(s.scalars(q.order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke_token(s: Session, actor: Actor | None, token_id: int) -> ApiToken:
    """Revoke a token: its owner, or an admin, or the command line (`actor` None). Another
    user's token answers 404, as if absent. Revoking twice changes nothing."""
    row = s.get(ApiToken, token_id)
    if row is None or (actor is not None and actor.role != "admin"
                       and row.user_id != actor.user_id):
        raise NotFoundError(f"API token {token_id} not found")
    if row.revoked_at is None:
        row.revoked_at = _utcnow()
        _audit_account(s, actor, "token.revoke", "api_token", row.id, {"user_id": row.user_id})
    return row


def _audit_account(s: Session, actor: Actor | None, action: str, resource_type: str,
                   resource_id: int, detail: dict[str, Any]) -> None:
    """Audited as the web user, or as `cli:<OS user>` for the command line (`actor` None)."""
    if actor is None:
        record_audit(s, cli_actor(), action, resource_type, resource_id, detail)
    else:
        audit(s, actor, action, resource_type, resource_id, detail)


# ----------------------------------------------------------------------------- web sessions

def start_session(s: Session, user: User, max_age_s: int) -> tuple[str, WebSession]:
    """A new server-side session for a user who has just signed in: returns the id for the
    cookie (stored only as its SHA-256) and the row, which holds a fresh CSRF token. Sessions
    past their time are deleted here."""
    now = _utcnow()
    s.execute(delete(WebSession).where(WebSession.expires_at < now))
    session_id = security.new_session_id()
    row = WebSession(session_hash=security.hash_session_id(session_id), user_id=user.id,
                     csrf=security.new_csrf_token(), created_at=now,
                     expires_at=now + dt.timedelta(seconds=max_age_s))
    s.add(row)
    s.flush()
    return session_id, row


def session_by_id(s: Session, session_id: str) -> tuple[WebSession, User] | None:
    """The session and its user while the session lasts: not ended, not expired, and the
    user still active."""
    found = s.execute(
        select(WebSession, User).join(User, User.id == WebSession.user_id).where(
            WebSession.session_hash == security.hash_session_id(session_id),
            WebSession.ended_at.is_(None), WebSession.expires_at > _utcnow(),
            User.active.is_(True))).first()
    return (found[0], found[1]) if found is not None else None


def end_session(s: Session, session_id: str) -> WebSession | None:
    """Log-out: the session ends now (its cookie is refused from here on)."""
    row = s.scalar(select(WebSession).where(
        WebSession.session_hash == security.hash_session_id(session_id),
        WebSession.ended_at.is_(None)))
    if row is not None:
        row.ended_at = _utcnow()
    return row


def end_user_sessions(s: Session, actor: Actor | None, user_id: int) -> int:
    """End every session of a user (a lost laptop, a leaving colleague): an admin, or the
    command line (`actor` None). Returns how many were open; audited."""
    if actor is not None:
        require_role(actor, "admin")
    now = _utcnow()
    rows = list(s.scalars(select(WebSession).where(WebSession.user_id == user_id,
                                                  WebSession.ended_at.is_(None),
                                                  WebSession.expires_at > now)))
    for row in rows:
        row.ended_at = now
    _audit_account(s, actor, "session.end_all", "user", user_id, {"sessions": len(rows)})
    return len(rows)


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
        _flush_unique(s, Problem("user_id", user_id, "a user not yet assigned to this patient",
                                 "another request assigned them at the same time"),
                      "assignment")
    audit(s, actor, "patient.assign", "patient", patient_id, {"user_id": user_id})


# ----------------------------------------------------------------------------- audit

def audit(s: Session, actor: Actor | None, action: str, resource_type: str | None = None,
          resource_id: int | str | None = None, detail: dict[str, Any] | None = None) -> None:
    """Record who did what to which resource (internal ids only, never identifiers)."""
    record_audit(s, AuditActor(actor.username, actor.role) if actor else None, action,
                 resource_type, resource_id, detail)


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
    _flush_unique(s, Problem("pseudonym", pseudonym, "a pseudonym not already registered",
                             "another request registered it at the same time"), "patient")
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



def _episode_of(s: Session, patient_id: int, episode_id: int) -> Episode:
    episode = s.get(Episode, episode_id)
    if episode is None or episode.patient_id != patient_id:
        raise InputError.single("episode_id", episode_id,
                                "an episode id of this patient", what="request")
    return episode


def _page(s: Session, q: Select[Any], limit: int, offset: int) -> tuple[list[Any], int]:
    total = s.scalar(select(func.count()).select_from(q.order_by(None).subquery())) or 0
    return list(s.scalars(q.limit(limit).offset(offset))), int(total)


# ----------------------------------------------------------------------------- patient links
#
# A PROM link for a patient's phone (`/q/<token>`) is a random token shown once, when it is
# issued; the registry keeps only its SHA-256 digest, with the patient, instrument, timepoint,
# expiry, use and revocation. A link is the permission to submit one questionnaire, once:
#
# - single use: the submission marks the link used (used_at, prom_id) in the transaction
#   that writes the PROM row, by a conditional UPDATE, so two submissions racing each other
#   cannot both win;
# - one answer per patient, instrument and timepoint: issuing a new link revokes the older
#   open ones of the same patient, instrument and timepoint ("replaced"); once a link of
#   theirs has been used, another is refused (409) and a submission through any other link
#   of theirs is refused as already answered (the clinic can still enter a PROM itself);
# - revocable by anyone who may see the patient (their clinicians, admins).
#
# Audit events name internal ids only, never the token, its digest or the pseudonym.

LINK_STATUSES = ("open", "used", "expired", "revoked")
_LINK_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,128}")
_LINK_HOLDER = Actor(user_id=0, username="patient link", role="patient")  # audit only

LINK_MESSAGES = {
    "unknown": "This questionnaire link is not valid. Please check that you opened the "
               "whole link from the clinic's message, or ask the clinic for a new one.",
    "expired": "This questionnaire link has expired. Please ask the clinic for a new one.",
    "used": "This questionnaire has already been answered, and the answers have reached "
            "the clinic. There is nothing more to do: you can close this page.",
    "revoked": "This questionnaire link has been withdrawn by the clinic (perhaps replaced "
               "by a newer one). Please use the most recent link the clinic sent you, or "
               "ask the clinic.",
    "unavailable": "This questionnaire is not available as a patient link. Please ask the "
                   "clinic.",
}


class LinkUnavailableError(NotFoundError):
    """A patient link that cannot be used now. `reason` is "unknown" (no such link, or a
    malformed token), "expired", "used", "revoked" or "unavailable" (the instrument's
    wording may no longer be shipped); `link_id` is the link's id when it is known."""

    def __init__(self, reason: str, link_id: int | None = None) -> None:
        super().__init__(LINK_MESSAGES[reason])
        self.reason = reason
        self.link_id = link_id


def _link_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def hash_link_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def link_status(link: PatientLink, now: dt.datetime | None = None) -> str:
    """"used", "revoked", "expired" or "open" (in that order of precedence)."""
    if link.used_at is not None:
        return "used"
    if link.revoked_at is not None:
        return "revoked"
    if link.expires_at <= (now or _link_now()):
        return "expired"
    return "open"


def link_instruments() -> list[Any]:
    """The instruments a patient link may carry: those whose licence lets hipspine ship the
    item wording (the patient reads the questions on their own phone)."""
    from hipspine.proms import list_instruments

    return [i for i in list_instruments() if i.licence.item_wording_shipped]


def link_instrument(instrument_id: str) -> Any:
    """The instrument for a new patient link, or 422 naming the instruments allowed."""
    allowed = "an instrument whose wording hipspine ships: " + ", ".join(
        i.id for i in link_instruments())
    from hipspine.proms import find_instrument

    try:
        inst = find_instrument(instrument_id)
    except NotFoundError:
        raise InputError.single("instrument", instrument_id, allowed,
                                what="patient link") from None
    if not inst.licence.item_wording_shipped:
        raise InputError.single("instrument", instrument_id, allowed,
                                "its wording is licensed: enter the responses from the "
                                "official form instead", what="patient link")
    return inst


def _lock_patient_links(s: Session, patient_id: int) -> None:
    """Serialise link changes of one patient (PostgreSQL row lock; SQLite has one writer)."""
    s.execute(select(Patient.id).where(Patient.id == patient_id).with_for_update())


def _used_link(s: Session, patient_id: int, instrument: str, timepoint: str | None,
               other_than: int | None = None) -> PatientLink | None:
    q = select(PatientLink).where(PatientLink.patient_id == patient_id,
                                  PatientLink.instrument == instrument,
                                  PatientLink.timepoint == timepoint,
                                  PatientLink.used_at.is_not(None))
    if other_than is not None:
        q = q.where(PatientLink.id != other_than)
    return s.scalars(q.limit(1)).first()


def issue_patient_link(s: Session, actor: Actor, patient_id: int, instrument: str,
                       timepoint: str, *, days: int = 14) -> tuple[PatientLink, str]:
    """A new link for the patient's phone and its token (show it once: only its digest is
    stored). Older open links of the same patient, instrument and timepoint are revoked."""
    get_patient(s, actor, patient_id)
    inst = link_instrument(instrument)
    if timepoint not in TIMEPOINTS:
        raise InputError.single("timepoint", timepoint, "one of " + ", ".join(TIMEPOINTS),
                                what="patient link")
    if not 1 <= days <= 365:
        raise InputError.single("days", days, "a number from 1 to 365", what="patient link")
    _lock_patient_links(s, patient_id)
    if _used_link(s, patient_id, inst.id, timepoint) is not None:
        raise ConflictError([Problem(
            "timepoint", timepoint, "a timepoint not yet answered through a link",
            f"the patient has already answered {inst.id} at {timepoint} through a link; "
            "enter another answer from the clinic's PROM form")], what="patient link")
    now = _link_now()
    token = secrets.token_urlsafe(32)
    link = PatientLink(token_hash=hash_link_token(token), patient_id=patient_id,
                       instrument=inst.id, timepoint=timepoint, issued_by=actor.username,
                       created_at=now, expires_at=now + dt.timedelta(days=days))
    s.add(link)
    s.flush()
    older = s.scalars(select(PatientLink).where(
        PatientLink.patient_id == patient_id, PatientLink.instrument == inst.id,
        PatientLink.timepoint == timepoint, PatientLink.id != link.id,
        PatientLink.used_at.is_(None), PatientLink.revoked_at.is_(None),
        PatientLink.expires_at > now)).all()
    for old in older:
        old.revoked_at, old.revoked_by = now, actor.username
        audit(s, actor, "patient_link.revoke", "patient_link", old.id,
              {"patient_id": patient_id, "replaced_by": link.id})
    audit(s, actor, "patient_link.issue", "patient_link", link.id,
          {"patient_id": patient_id, "instrument": inst.id, "timepoint": timepoint,
           "days": days})
    return link, token


def patient_links(s: Session, actor: Actor, patient_id: int) -> list[PatientLink]:
    """The patient's links, newest first (none of them holds its token)."""
    get_patient(s, actor, patient_id)
    audit(s, actor, "patient_link.list", "patient", patient_id)
    return list(s.scalars(select(PatientLink).where(PatientLink.patient_id == patient_id)
                          .order_by(PatientLink.created_at.desc(), PatientLink.id.desc())))


def revoke_patient_link(s: Session, actor: Actor, link_id: int, *,
                        patient_id: int | None = None) -> PatientLink:
    """Withdraw a link (idempotent); a used link cannot be revoked (409: its answers are in
    the record). 404 for a link of a patient the actor may not see, or of another patient
    than `patient_id`."""
    require_role(actor, "clinician", "admin")
    link = s.get(PatientLink, link_id)
    missing = NotFoundError(f"patient link {link_id} not found")
    if link is None or (patient_id is not None and link.patient_id != patient_id):
        raise missing
    try:
        get_patient(s, actor, link.patient_id)
    except NotFoundError:
        raise missing from None
    _lock_patient_links(s, link.patient_id)
    s.refresh(link)
    status = link_status(link)
    if status == "used":
        raise ConflictError([Problem("link_id", link_id, "a link not yet used",
                                     "the patient has already answered through this link")],
                            what="patient link")
    if status != "revoked":
        link.revoked_at, link.revoked_by = _link_now(), actor.username
        audit(s, actor, "patient_link.revoke", "patient_link", link.id,
              {"patient_id": link.patient_id})
    return link


def link_by_token(s: Session, token: str) -> PatientLink:
    """The open link a token names; `LinkUnavailableError` (a 404 or 410 for the patient)
    when it is malformed, unknown, expired, used or revoked. The token is the permission:
    no actor."""
    if not _LINK_TOKEN.fullmatch(token):
        raise LinkUnavailableError("unknown")
    link = s.scalar(select(PatientLink).where(PatientLink.token_hash == hash_link_token(token)))
    if link is None:
        raise LinkUnavailableError("unknown")
    status = link_status(link)
    if status != "open":
        raise LinkUnavailableError(status, link.id)
    return link


def submit_patient_link(s: Session, token: str, *, administered_on: dt.date,
                        items: list[int | None], score: float | None,
                        scores: dict[str, Any] | None,
                        missing_items: int) -> PromAdministration:
    """The PROM a patient submitted through a link: the link's patient, instrument and
    timepoint; the link is marked used in the same transaction (refused if it was used,
    revoked or expired meanwhile, or if another link of the same patient, instrument and
    timepoint was used first)."""
    link = link_by_token(s, token)
    _lock_patient_links(s, link.patient_id)
    patient = s.get(Patient, link.patient_id)
    if patient is None:
        raise LinkUnavailableError("unknown", link.id)
    row = PromAdministration(patient_id=patient.id, synthetic=patient.synthetic,
                             instrument=link.instrument, timepoint=link.timepoint,
                             administered_on=administered_on, items=items, score=score,
                             scores=scores, missing_items=missing_items)
    s.add(row)
    s.flush()  # from here the writer holds the registry (SQLite) or the patient row (PG)
    if _used_link(s, link.patient_id, link.instrument, link.timepoint, other_than=link.id):
        raise LinkUnavailableError("used", link.id)
    now = _link_now()
    claimed = cast(CursorResult[Any], s.execute(
        update(PatientLink)
        .where(PatientLink.id == link.id, PatientLink.used_at.is_(None),
               PatientLink.revoked_at.is_(None), PatientLink.expires_at > now)
        .values(used_at=now, prom_id=row.id)
        .execution_options(synchronize_session=False)))
    if claimed.rowcount != 1:
        s.refresh(link)
        status = link_status(link, now)
        raise LinkUnavailableError("used" if status == "open" else status, link.id)
    s.refresh(link)
    audit(s, _LINK_HOLDER, "prom.create", "prom", row.id,
          {"instrument": row.instrument, "link_id": link.id})
    audit(s, _LINK_HOLDER, "patient_link.use", "patient_link", link.id,
          {"patient_id": link.patient_id, "prom_id": row.id})
    return row


def audit_link_refusal(s: Session, reason: str, link_id: int | None, method: str) -> None:
    """Record a refused use of a link (in its own transaction: the request's rolled back)."""
    audit(s, _LINK_HOLDER, "patient_link.refused", "patient_link", link_id,
          {"reason": reason, "method": method})


# ----------------------------------------------------------------------------- stored assessments
#
# The web intake keeps the case it assessed inside the stored assessment document, under the
# key `intake_case` (a hipspine.case/1 document), so a past assessment can be reopened and
# re-assessed from its values without a schema change. `assessment_document` gives the
# document without that key (exactly the engine's output); `assessment_case` gives the case.
# Assessments stored before this key existed (or through the API) have no case: None.

CASE_KEY = "intake_case"


def open_episode(s: Session, actor: Actor, patient_id: int) -> Episode | None:
    """The patient's most recently opened episode that is not closed, or None."""
    get_patient(s, actor, patient_id)
    episode: Episode | None = s.scalar(
        select(Episode).where(Episode.patient_id == patient_id, Episode.closed_on.is_(None))
        .order_by(Episode.opened_on.desc(), Episode.id.desc()).limit(1))
    return episode


def store_assessed_case(s: Session, actor: Actor, episode: Episode, assessment: dict[str, Any],
                        plan: dict[str, Any] | None, case: dict[str, Any]) -> StoredAssessment:
    """`store_assessment`, keeping the assessed case inside the document under CASE_KEY."""
    return store_assessment(s, actor, episode, {**assessment, CASE_KEY: case}, plan)


def get_stored_assessment(s: Session, actor: Actor, patient_id: int,
                          assessment_id: int) -> tuple[StoredAssessment, Episode]:
    """One stored assessment of a patient the actor may see (404 otherwise), audited."""
    get_patient(s, actor, patient_id)
    row = s.get(StoredAssessment, assessment_id)
    episode = s.get(Episode, row.episode_id) if row is not None else None
    if row is None or episode is None or episode.patient_id != patient_id:
        raise NotFoundError(f"assessment {assessment_id} of patient {patient_id} not found")
    audit(s, actor, "assessment.read", "assessment", assessment_id)
    return row, episode


def plan_of(s: Session, row: StoredAssessment) -> StoredPlan | None:
    """The plan stored with an assessment (same episode, made by the same save), if any."""
    q = select(StoredPlan).where(StoredPlan.episode_id == row.episode_id,
                                 StoredPlan.created_at >= row.created_at)
    following = s.scalar(
        select(StoredAssessment.created_at).where(
            StoredAssessment.episode_id == row.episode_id, StoredAssessment.id > row.id)
        .order_by(StoredAssessment.id).limit(1))
    if following is not None:  # not the plan of the next assessment in the episode
        q = q.where(StoredPlan.created_at < following)
    plan: StoredPlan | None = s.scalar(q.order_by(StoredPlan.created_at, StoredPlan.id).limit(1))
    return plan


def assessment_document(row: StoredAssessment) -> dict[str, Any]:
    """The engine's assessment document as stored, without the kept case."""
    return {k: v for k, v in row.document.items() if k != CASE_KEY}


def assessment_case(row: StoredAssessment) -> dict[str, Any] | None:
    case = row.document.get(CASE_KEY)
    return case if isinstance(case, dict) else None


def last_assessed_case(s: Session, actor: Actor, patient_id: int) -> dict[str, Any] | None:
    """The case of the patient's most recent stored assessment that kept one."""
    get_patient(s, actor, patient_id)
    for row in reversed(assessments_for(s, patient_id)):
        case = assessment_case(row)
        if case is not None:
            audit(s, actor, "assessment.read", "assessment", row.id)
            return case
    return None


# ----------------------------------------------------------------------------- spinopelvic results
#
# A `hipspine.spinopelvic/1` result saved to a patient (table spinopelvic_results). The plan
# made at the patient's intake reads the latest one, so its Hip-Spine cautions see it.

def save_spinopelvic(s: Session, actor: Actor, patient_id: int,
                     document: dict[str, Any]) -> SpinopelvicRecord:
    """Store a spinopelvic result for a patient the actor may see (404 otherwise), audited."""
    patient = get_patient(s, actor, patient_id)
    row = SpinopelvicRecord(patient_id=patient_id, document=document,
                            created_by=actor.username, synthetic=patient.synthetic)
    s.add(row)
    s.flush()
    audit(s, actor, "spinopelvic.create", "spinopelvic", row.id,
          {"hip_spine_class": document.get("hip_spine_class")})
    return row


def latest_spinopelvic(s: Session, actor: Actor, patient_id: int) -> SpinopelvicRecord | None:
    """The patient's most recently saved spinopelvic result, or None; audited when read."""
    get_patient(s, actor, patient_id)
    row: SpinopelvicRecord | None = s.scalar(
        select(SpinopelvicRecord).where(SpinopelvicRecord.patient_id == patient_id)
        .order_by(SpinopelvicRecord.created_at.desc(), SpinopelvicRecord.id.desc()).limit(1))
    if row is not None:
        audit(s, actor, "spinopelvic.read", "spinopelvic", row.id)
    return row
