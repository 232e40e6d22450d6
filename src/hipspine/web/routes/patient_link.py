"""PROM questionnaires a patient fills in on their own phone, through an opaque link.

A clinician who may see the patient issues the link from the patient page (or the API,
`POST /api/v1/patients/{id}/links`) for one instrument whose licence lets hipspine ship the
wording, and one timepoint. The URL, `/q/<token>`, holds only a random token: the registry
keeps its SHA-256 digest with the patient, instrument, timepoint, expiry, use and revocation
(`store`, "patient links"), so the token is shown once, on the page that answers the issuing
POST (never in a GET URL; every page is sent `Cache-Control: no-store`).

The holder needs no account and may submit that questionnaire once; the PROM gets the link's
timepoint. An unknown or malformed token answers 404, an expired, used or revoked link 410,
each with a plain-language page, never a 5xx.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from hipspine.errors import ConflictError, InputError
from hipspine.models import parse_model
from hipspine.web import services, store
from hipspine.web.deps import check_form_csrf, page_actor, transaction
from hipspine.web.schemas import PromCreate
from hipspine.web.templating import render

router = APIRouter(include_in_schema=False)

PatientId = Annotated[int, Path(ge=1, le=2_147_483_647)]
LinkId = Annotated[int, Path(ge=1, le=2_147_483_647)]


def link_url(request: Request, token: str) -> str:
    """The full URL of a link, for the clinician to send (shown once)."""
    return str(request.url_for("patient_prom_form", token=token))


def link_rows(links: list[Any]) -> list[dict[str, Any]]:
    """The patient page's view of the patient's links (no token: only its digest is kept)."""
    return [{"id": link.id, "instrument": link.instrument, "timepoint": link.timepoint,
             "issued_by": link.issued_by, "created_at": link.created_at,
             "expires_at": link.expires_at, "used_at": link.used_at,
             "revoked_at": link.revoked_at, "revoked_by": link.revoked_by,
             "status": store.link_status(link)} for link in links]


def link_form_context() -> dict[str, Any]:
    """What the patient page's issue form offers: instruments and timepoints."""
    from hipspine.registry.tables import TIMEPOINTS

    return {"link_instruments": [{"id": i.id, "name": i.name}
                                 for i in store.link_instruments()],
            "link_timepoints": list(TIMEPOINTS)}


# ----------------------------------------------------------------------------- clinician

def _not_done(request: Request, patient_id: int, exc: InputError, heading: str) -> Response:
    status = 409 if isinstance(exc, ConflictError) else 422
    return render(request, "patient_link_message.html", {
        "heading": heading, "message": "; ".join(p.message or str(p) for p in exc.problems),
        "back": f"/patients/{patient_id}#links"}, status_code=status)


@router.post("/patients/{patient_id}/links")
async def issue_link(request: Request, patient_id: PatientId) -> Response:
    """Issue a link and show its URL, this once, in the answer to the POST."""
    actor = page_actor(request)
    form = await request.form()
    check_form_csrf(request, str(form.get("csrf_token", "")))
    instrument = str(form.get("instrument", "")).strip()
    timepoint = str(form.get("timepoint", "")).strip()
    days = request.app.state.settings.patient_link_days
    try:
        with transaction(request) as s:
            patient = store.get_patient(s, actor, patient_id)
            link, token = store.issue_patient_link(s, actor, patient_id, instrument,
                                                   timepoint, days=days)
            view = link_rows([link])[0]
            pseudonym = patient.pseudonym
    except InputError as exc:
        return _not_done(request, patient_id, exc, "No link made")
    inst = store.link_instrument(view["instrument"])
    return render(request, "patient_link_issued.html", {
        "patient": {"id": patient_id, "pseudonym": pseudonym}, "link": view,
        "instrument_name": inst.name, "url": link_url(request, token)})


@router.post("/patients/{patient_id}/links/{link_id}/revoke")
async def revoke_link(request: Request, patient_id: PatientId, link_id: LinkId) -> Response:
    actor = page_actor(request)
    form = await request.form()
    check_form_csrf(request, str(form.get("csrf_token", "")))
    try:
        with transaction(request) as s:
            store.revoke_patient_link(s, actor, link_id, patient_id=patient_id)
    except ConflictError as exc:
        return _not_done(request, patient_id, exc, "Link not revoked")
    return RedirectResponse(f"/patients/{patient_id}#links", status_code=303)


# ----------------------------------------------------------------------------- patient

def _refused(request: Request, exc: store.LinkUnavailableError) -> Response:
    """A plain-language page for a link that cannot be used, and an audit event."""
    with transaction(request) as s:
        store.audit_link_refusal(s, exc.reason, exc.link_id, request.method)
    status = 404 if exc.reason in ("unknown", "unavailable") else 410
    heading = {"unknown": "Link not valid", "expired": "Link expired",
               "used": "Already answered", "revoked": "Link withdrawn",
               "unavailable": "Questionnaire not available"}[exc.reason]
    return render(request, "patient_link_message.html",
                  {"heading": heading, "message": str(exc), "back": None},
                  status_code=status)


def _instrument(link_id: int, instrument_id: str) -> Any:
    try:
        return store.link_instrument(instrument_id)
    except InputError:  # its wording is no longer shipped
        raise store.LinkUnavailableError("unavailable", link_id) from None


def _open_link_instrument(request: Request, token: str) -> Any:
    """The instrument of the open link `token`; `LinkUnavailableError` when it is not open."""
    with transaction(request) as s:
        link = store.link_by_token(s, token)
        return _instrument(link.id, link.instrument)


def _patient_form(request: Request, token: str, inst: Any, errors: dict[str, str],
                  values: dict[str, str], status_code: int = 200) -> Response:
    """The questionnaire as the patient sees it: no clinician navigation, no timepoint."""
    return render(request, "prom_form.html", {
        "patient": None, "instrument": inst, "action": f"/q/{token}",
        "today": dt.date.today().isoformat(), "timepoints": [], "errors": errors,
        "values": values}, status_code=status_code)


@router.get("/q/{token}")
def patient_prom_form(request: Request, token: str) -> Response:
    try:
        inst = _open_link_instrument(request, token)
    except store.LinkUnavailableError as exc:
        return _refused(request, exc)
    return _patient_form(request, token, inst, {}, {})


@router.post("/q/{token}")
async def patient_prom_submit(request: Request, token: str) -> Response:
    try:
        inst = _open_link_instrument(request, token)
    except store.LinkUnavailableError as exc:
        return _refused(request, exc)
    form = await request.form()
    check_form_csrf(request, str(form.get("csrf_token", "")))
    from hipspine.web.routes.pages import prom_items

    items, errors = prom_items(inst, form)  # the clinic's rule: no empty questionnaire
    if errors:
        return _patient_form(request, token, inst, errors,
                             {k: str(v) for k, v in form.items() if k != "csrf_token"}, 422)
    body = parse_model(PromCreate, {"instrument": inst.id, "items": items,
                                    "administered_on": dt.date.today().isoformat()}, "PROM")
    scored = services.score_prom(body.instrument, body.items)
    try:
        with transaction(request) as s:
            store.submit_patient_link(s, token, administered_on=body.administered_on,
                                      items=body.items, score=scored.score,
                                      scores=scored.detail,
                                      missing_items=scored.missing_items)
    except store.LinkUnavailableError as exc:
        return _refused(request, exc)
    return render(request, "patient_link_message.html", {
        "heading": "Thank you", "back": None,
        "message": "Your answers have been sent to the clinic. You can close this page."})
