"""Registry API: patients, episodes, treatments, PROMs, patient links, study summaries,
audit. (API tokens: `hipspine.web.routes.tokens`.)

Lists take `limit`/`offset` and filters and answer `{items, total, limit, offset}`.
Clinicians see only patients assigned to them (others answer 404, as if absent);
researchers get 403 on identified data and use the study endpoints instead.
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from hipspine.models import Case
from hipspine.web import services, store
from hipspine.web.deps import current_actor, transaction
from hipspine.web.errors import rich_body_model
from hipspine.web.schemas import (
    AssignmentCreate,
    AuditEventPublic,
    EpisodeCreate,
    EpisodePublic,
    Page,
    PatientCreate,
    PatientPublic,
    PromCreate,
    PromPublic,
    Sex,
    StoredAssessmentPublic,
    Timepoint,
    TreatmentCreate,
    TreatmentPublic,
    UserCreate,
    UserPublic,
    UtcDateTime,
)
from hipspine.web.store import Actor

router = APIRouter(prefix="/api/v1")

Limit = Annotated[int, Query(ge=1, le=200, description="page size")]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
PatientId = Annotated[int, Path(ge=1, le=2_147_483_647, description="patient id")]
EpisodeId = Annotated[int, Path(ge=1, le=2_147_483_647, description="episode id")]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in and no API token"},
    403: {"description": "Role not allowed, or CSRF token missing"},
    404: {"description": "Unknown id (or a patient not assigned to you)"},
    409: {"description": "Clashes with a stored record (e.g. a pseudonym already registered)"},
    422: {"description": "Invalid input: `problems` name field, value and what is allowed"},
}


def _page(rows: list[Any], total: int, limit: int, offset: int, model: Any) -> dict[str, Any]:
    return {"items": [model.model_validate(r) for r in rows], "total": total,
            "limit": limit, "offset": offset}


@router.get("/patients", response_model=Page[PatientPublic], tags=["patients"],
            responses=ERRORS)
def list_patients(request: Request, limit: Limit = 50, offset: Offset = 0,
                  pseudonym: Annotated[str | None, Query(max_length=64,
                                                         description="prefix")] = None,
                  sex: Sex | None = None, synthetic: bool | None = None,
                  actor: Actor = Depends(current_actor)) -> Any:
    with transaction(request) as s:
        rows, total = store.list_patients(s, actor, limit, offset, pseudonym=pseudonym,
                                          sex=sex, synthetic=synthetic)
        return _page(rows, total, limit, offset, PatientPublic)


@router.post("/patients", response_model=PatientPublic, status_code=201, tags=["patients"],
             responses=ERRORS)
def create_patient(request: Request, body: PatientCreate,
                   actor: Actor = Depends(current_actor)) -> Any:
    with transaction(request) as s:
        p = store.create_patient(s, actor, body.pseudonym, body.year_of_birth, body.sex)
        return PatientPublic.model_validate(p)


@router.get("/patients/{patient_id}", response_model=PatientPublic, tags=["patients"],
            responses=ERRORS)
def get_patient(request: Request, patient_id: PatientId,
                actor: Actor = Depends(current_actor)) -> Any:
    with transaction(request) as s:
        return PatientPublic.model_validate(store.get_patient(s, actor, patient_id, log=True))


@router.post("/patients/{patient_id}/assignments", status_code=204, tags=["patients"],
             responses=ERRORS, response_class=Response)
def assign_patient(request: Request, patient_id: PatientId, body: AssignmentCreate,
                   actor: Actor = Depends(current_actor)) -> Response:
    with transaction(request) as s:
        store.assign(s, actor, body.user_id, patient_id)
    return Response(status_code=204)


@router.get("/patients/{patient_id}/episodes", response_model=list[EpisodePublic],
            tags=["episodes"], responses=ERRORS)
def list_episodes(request: Request, patient_id: PatientId,
                  actor: Actor = Depends(current_actor)) -> Any:
    with transaction(request) as s:
        return [EpisodePublic.model_validate(e)
                for e in store.list_episodes(s, actor, patient_id)]


@router.post("/patients/{patient_id}/episodes", response_model=EpisodePublic,
             status_code=201, tags=["episodes"], responses=ERRORS)
def create_episode(request: Request, patient_id: PatientId, body: EpisodeCreate,
                   actor: Actor = Depends(current_actor)) -> Any:
    with transaction(request) as s:
        return EpisodePublic.model_validate(
            store.create_episode(s, actor, patient_id, body.opened_on, body.setting))


@router.get("/episodes/{episode_id}", response_model=EpisodePublic, tags=["episodes"],
            responses=ERRORS)
def get_episode(request: Request, episode_id: EpisodeId,
                actor: Actor = Depends(current_actor)) -> Any:
    with transaction(request) as s:
        return EpisodePublic.model_validate(store.get_episode(s, actor, episode_id))


@router.post("/episodes/{episode_id}/assessments", response_model=StoredAssessmentPublic,
             status_code=201, tags=["episodes"], responses=ERRORS,
             summary="Assess a case and store the assessment (and plan) on the episode")
def assess_into_episode(request: Request, episode_id: EpisodeId, parsed: Case = Body(...),
                        actor: Actor = Depends(current_actor)) -> Any:
    with transaction(request) as s:  # access first: no seconds of CPU for a refusal
        patient_id = store.get_episode(s, actor, episode_id).patient_id
        saved = store.latest_spinopelvic(s, actor, patient_id)  # the plan's Hip-Spine class
        spinopelvic = saved.document if saved else None
    assessment = services.assess(parsed)
    plan = services.plan_or_none(parsed, assessment, spinopelvic)
    with transaction(request) as s:
        episode = store.get_episode(s, actor, episode_id)
        row = store.store_assessment(s, actor, episode, assessment.model_dump(mode="json"),
                                     plan)
        return StoredAssessmentPublic.model_validate(row)


@router.get("/patients/{patient_id}/treatments", response_model=list[TreatmentPublic],
            tags=["treatments"], responses=ERRORS)
def list_treatments(request: Request, patient_id: PatientId,
                    actor: Actor = Depends(current_actor)) -> Any:
    with transaction(request) as s:
        return [TreatmentPublic.model_validate(t)
                for t in store.list_treatments(s, actor, patient_id)]


@router.post("/patients/{patient_id}/treatments", response_model=TreatmentPublic,
             status_code=201, tags=["treatments"], responses=ERRORS)
def create_treatment(request: Request, patient_id: PatientId, body: TreatmentCreate,
                     actor: Actor = Depends(current_actor)) -> Any:
    with transaction(request) as s:
        return TreatmentPublic.model_validate(
            store.create_treatment(s, actor, patient_id, **body.model_dump()))


@router.get("/patients/{patient_id}/proms", response_model=list[PromPublic], tags=["proms"],
            responses=ERRORS)
def list_proms(request: Request, patient_id: PatientId,
               instrument: Annotated[str | None, Query(max_length=32)] = None,
               actor: Actor = Depends(current_actor)) -> Any:
    with transaction(request) as s:
        return [PromPublic.model_validate(p)
                for p in store.list_proms(s, actor, patient_id, instrument)]


@router.post("/patients/{patient_id}/proms", response_model=PromPublic, status_code=201,
             tags=["proms"], responses=ERRORS,
             summary="Submit a PROM; it is scored by the instrument's published rules")
def submit_prom(request: Request, patient_id: PatientId, body: PromCreate,
                actor: Actor = Depends(current_actor)) -> Any:
    with transaction(request) as s:  # access first, then the work
        store.get_patient(s, actor, patient_id)
    scored = services.score_prom(body.instrument, body.items)
    with transaction(request) as s:
        row = store.create_prom(s, actor, patient_id, instrument=body.instrument,
                                timepoint=body.timepoint, administered_on=body.administered_on,
                                items=body.items, score=scored.score, scores=scored.detail,
                                missing_items=scored.missing_items,
                                episode_id=body.episode_id)
        return PromPublic.model_validate(row)


# ----------------------------------------------------------------------------- patient links
# PROM links for a patient's phone (`/q/<token>`), from the same store as the patient page:
# PROM follow-up scheduling, planned for later, will issue links from it too.

LinkId = Annotated[int, Path(ge=1, le=2_147_483_647, description="patient link id")]
LinkStatus = Literal["open", "used", "expired", "revoked"]


class PatientLinkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    instrument: Annotated[str, Field(min_length=1, max_length=32,
                                     description="an instrument whose wording hipspine "
                                                 "ships (e.g. nrs_leg)")]
    timepoint: Timepoint
    days: Annotated[int, Field(ge=1, le=365)] | None = Field(
        default=None, description="days until it expires; default: the server's setting")


class PatientLinkPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    patient_id: int
    instrument: str
    timepoint: str | None
    issued_by: str
    created_at: UtcDateTime
    expires_at: UtcDateTime
    used_at: UtcDateTime | None
    prom_id: int | None
    revoked_at: UtcDateTime | None
    revoked_by: str | None
    status: LinkStatus


class PatientLinkIssued(PatientLinkPublic):
    token: str = Field(description="shown once; only its hash is stored")
    url: str = Field(description="the link for the patient's phone (shown once)")


def _link_public(link: Any, **extra: Any) -> dict[str, Any]:
    fields = {name: getattr(link, name) for name in PatientLinkPublic.model_fields
              if name != "status"}
    return {**fields, "status": store.link_status(link), **extra}


@router.post("/patients/{patient_id}/links", response_model=PatientLinkIssued,
             status_code=201, tags=["patient links"], responses=ERRORS,
             summary="Issue a PROM link for the patient's phone (its URL is shown once)")
def issue_patient_link(request: Request, patient_id: PatientId, body: PatientLinkCreate,
                       actor: Actor = Depends(current_actor)) -> Any:
    from hipspine.web.routes.patient_link import link_url

    days = body.days or request.app.state.settings.patient_link_days
    with transaction(request) as s:
        link, token = store.issue_patient_link(s, actor, patient_id, body.instrument,
                                               body.timepoint, days=days)
        return PatientLinkIssued.model_validate(
            _link_public(link, token=token, url=link_url(request, token)))


@router.get("/patients/{patient_id}/links", response_model=list[PatientLinkPublic],
            tags=["patient links"], responses=ERRORS,
            summary="The patient's PROM links, newest first (without their tokens)")
def list_patient_links(request: Request, patient_id: PatientId,
                       actor: Actor = Depends(current_actor)) -> Any:
    with transaction(request) as s:
        return [PatientLinkPublic.model_validate(_link_public(link))
                for link in store.patient_links(s, actor, patient_id)]


@router.post("/patients/{patient_id}/links/{link_id}/revoke",
             response_model=PatientLinkPublic, tags=["patient links"], responses=ERRORS,
             summary="Revoke a PROM link (idempotent; 409 once it has been used)")
def revoke_patient_link(request: Request, patient_id: PatientId, link_id: LinkId,
                        actor: Actor = Depends(current_actor)) -> Any:
    with transaction(request) as s:
        link = store.revoke_patient_link(s, actor, link_id, patient_id=patient_id)
        return PatientLinkPublic.model_validate(_link_public(link))


@router.get("/studies/summary", tags=["studies"], responses=ERRORS,
            summary="De-identified cohort summary (researchers and admins)")
def study_summary(request: Request, actor: Actor = Depends(current_actor)) -> Any:
    store.require_role(actor, "researcher", "admin")
    summary = services.study_summary(request.app.state.engine)
    with transaction(request) as s:
        store.audit(s, actor, "study.summary", "cohort", None)
    return summary


@router.get("/audit", response_model=Page[AuditEventPublic], tags=["admin"], responses=ERRORS)
def audit_log(request: Request, limit: Limit = 50, offset: Offset = 0,
              actor_name: Annotated[str | None, Query(alias="actor", max_length=64)] = None,
              action: Annotated[str | None, Query(max_length=64)] = None,
              actor: Actor = Depends(current_actor)) -> Any:
    store.require_role(actor, "admin")
    with transaction(request) as s:
        rows, total = store.audit_events(s, limit, offset, actor_name, action)
        return _page(rows, total, limit, offset, AuditEventPublic)


AUDIT_COLUMNS = ("id", "at", "actor", "role", "action", "resource_type", "resource_id")


@router.get("/audit.csv", tags=["admin"], responses=ERRORS, response_class=Response,
            summary="The whole audit trail as CSV")
def audit_csv(request: Request, actor: Actor = Depends(current_actor)) -> Response:
    store.require_role(actor, "admin")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(AUDIT_COLUMNS)
    with transaction(request) as s:
        rows, _ = store.audit_events(s, 10_000_000, 0)
        for e in rows:
            writer.writerow([e.id, e.at.isoformat(), e.actor, e.role, e.action,
                             e.resource_type, e.resource_id])
        store.audit(s, actor, "audit.export", "audit", None, {"rows": len(rows)})
    return Response(out.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="audit.csv"'})


@router.get("/users", response_model=list[UserPublic], tags=["accounts"], responses=ERRORS)
def list_users(request: Request, actor: Actor = Depends(current_actor)) -> Any:
    store.require_role(actor, "admin")
    with transaction(request) as s:
        return [UserPublic.model_validate(u) for u in store.list_users(s)]


@router.post("/users", response_model=UserPublic, status_code=201, tags=["accounts"],
             responses=ERRORS)
def create_user(request: Request, body: UserCreate,
                actor: Actor = Depends(current_actor)) -> Any:
    store.require_role(actor, "admin")
    with transaction(request) as s:
        user = store.create_user(s, body.username, body.password, body.role, body.display_name)
        store.audit(s, actor, "user.create", "user", user.id)
        return UserPublic.model_validate(user)


rich_body_model("/api/v1/episodes/{episode_id}/assessments", Case, "case")
