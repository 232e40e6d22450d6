"""The CDS Hooks 2.0 endpoints as a FastAPI router: discovery, `hipspine-consider` on
patient-view, and its feedback endpoint. Mount with `app.include_router(create_cds_router())`.
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from hipspine.ehr.cds.auth import JwtVerifier, Unauthorized
from hipspine.ehr.cds.cards import CdsKnowledge, load_card_rules, make_cards
from hipspine.ehr.cds.config import CdsConfig
from hipspine.ehr.fhir_in import load_import_knowledge, resources_of
from hipspine.errors import InputError
from hipspine.web.request_policy import request_json

log = logging.getLogger("hipspine.ehr.cds")

# What a CDS call may answer besides 200 (documented for clients and the schemathesis run).
CALL_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "The EHR's JWT is missing, invalid, expired, replayed or for "
                         "another audience (empty body, as the specification advises)"},
    412: {"description": "Prefetch keys missing and the FHIR server could not be queried"},
    413: {"description": "The request body is larger than the configured limit"},
    422: {"description": "Not a valid CDS Hooks request: each problem names the field"},
}

SERVICE_ID = "hipspine-consider"
PREFETCH = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "procedures": "Procedure?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}&_count=200&_sort=-date",
    "reports": "DiagnosticReport?patient={{context.patientId}}&_count=50&_sort=-date",
    # clinical notes: read for red-flag symptoms (cauda equina, fever, weight loss, cancer)
    "notes": "DocumentReference?patient={{context.patientId}}&status=current&_count=20"
             "&_sort=-date",
    # current medicines and allergies: the medication safety warnings (anticoagulant,
    # antiplatelet, NSAID allergy) rest on them (knowledge/ehr/medications.yaml)
    "medications": "MedicationRequest?patient={{context.patientId}}&status=active,on-hold"
                   "&_count=100",
    "allergies": "AllergyIntolerance?patient={{context.patientId}}",
}
REQUIRED_PREFETCH = ("patient", "conditions", "procedures")
SERVICE = {
    "hook": "patient-view",
    "id": SERVICE_ID,
    "title": "Hip-spine syndrome: consider the other organ",
    "description": ("Reads the chart when it opens and suggests considering hip-spine syndrome "
                    "when hip osteoarthritis findings appear in a patient under spine care, or "
                    "lumbar spine findings in a patient under hip care. Links to the cited "
                    "hip / spine / both assessment, and warns beside it when an anticoagulant, "
                    "an antiplatelet or an NSAID allergy is on record."),
    "prefetch": PREFETCH,
    "version": "2.0",
    "hookVersion": "1.0",
}
MAX_PAGES = 5


def _problem(status: int, text: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "processing", "details": {"text": text}}]})


def create_cds_router(settings_or_config: Any = None, *,
                      verifier: JwtVerifier | None = None,
                      fhir_client: Any = None,
                      feedback_sink: Callable[[list[dict[str, Any]]], None] | None = None,
                      registry_engine: Any = None,
                      ) -> APIRouter:
    """Build the router. Accepts a `CdsConfig`, an object with a `cds` / `cds_config`
    attribute holding one, or None (configuration from the environment).

    `feedback_sink` receives each validated feedback batch (default: kept in memory, the
    last 10,000 items, readable as `router.feedback_log`). `registry_engine`: the web app's
    registry; when it is PostgreSQL, accepted `jti` values are kept in its table `cds_jti`,
    shared by every server on every machine."""
    config = _config(settings_or_config)
    verifier = verifier or JwtVerifier(config, registry_engine=registry_engine)
    knowledge = CdsKnowledge(load_import_knowledge(), load_card_rules())
    feedback_log: collections.deque[dict[str, Any]] = collections.deque(maxlen=10000)
    router = APIRouter(tags=["CDS Hooks"])
    _warn_if_unusable(config)

    def audiences(path: str) -> list[str]:
        """Configuration only: the Host header is the caller's to choose."""
        if not config.service_base_url:
            return []
        base = config.service_base_url.rstrip("/")
        return [f"{base}/cds-services/{SERVICE_ID}", f"{base}{path}"]

    def check(request: Request, path: str) -> JSONResponse | None:
        try:
            if not config.service_base_url:
                raise Unauthorized(f"{BASE_URL_VARIABLE} is not set: the token's audience "
                                   "cannot be checked")
            verifier.verify(request.headers.get("authorization"), audiences(path))
        except Unauthorized as exc:
            log.info("CDS call refused: %s", exc.reason)
            return JSONResponse(status_code=401, content={})
        return None

    @router.get("/cds-services")
    def discovery() -> dict[str, Any]:
        """CDS Hooks discovery: the services this server offers."""
        return {"services": [SERVICE]}

    @router.post(f"/cds-services/{SERVICE_ID}", response_model=None, responses=CALL_ERRORS)
    async def consider(request: Request) -> JSONResponse:
        """patient-view: cards suggesting hip-spine syndrome, or no cards."""
        # off the event loop: a key set may have to be fetched from the EHR
        refused = await run_in_threadpool(check, request, f"/cds-services/{SERVICE_ID}")
        if refused is not None:
            return refused
        try:
            body = _request_body(await request_json(request))
        except InputError as exc:
            return _invalid(exc)
        prefetch = body.get("prefetch") or {}
        missing = [k for k in REQUIRED_PREFETCH if k not in prefetch
                   or _is_outcome(prefetch.get(k))]
        # Off the event loop: the FHIR-server fallback blocks on the network, and reading
        # a long record's notes is CPU-bound (seconds for a megabyte), so one large call
        # must not hold up every other request.
        return await run_in_threadpool(answer, body, missing)

    def answer(body: dict[str, Any], missing: list[str]) -> JSONResponse:
        resources = _prefetched(body.get("prefetch") or {})
        if missing:
            try:
                fetched = _fetch_missing(body, missing, config, fhir_client)
            except ForeignNextLink as exc:
                log.warning("CDS FHIR query stopped: %s", exc)
                return _problem(412, f"Prefetch keys missing ({', '.join(missing)}) and the "
                                     f"FHIR server could not be queried: {exc}")
            if fetched is None:
                return _problem(412, "Prefetch keys missing and the FHIR server could not be "
                                     f"queried: {', '.join(missing)}")
            resources += fetched
        patient_id = body["context"]["patientId"]
        has_patient = any(r.get("resourceType") == "Patient" and str(r.get("id")) == patient_id
                          for r in resources)
        try:
            cards = make_cards(resources, patient_id if has_patient else None, knowledge,
                               app_url=config.app_url, source_url=config.source_url,
                               as_of=dt.date.today())
        except InputError as exc:
            return _invalid(exc)
        except Exception as exc:  # never a 5xx to the EHR: no advice instead
            log.warning("CDS card generation failed: %s", type(exc).__name__)
            cards = []
        # Cards are plain JSON values already: rendered directly, not walked by FastAPI's
        # encoder (same bytes).
        return JSONResponse({"cards": cards})

    @router.post(f"/cds-services/{SERVICE_ID}/feedback", response_model=None,
                 responses=CALL_ERRORS)
    async def feedback(request: Request) -> JSONResponse | dict[str, Any]:
        """Record what the clinician did with our cards (accepted / overridden)."""
        refused = await run_in_threadpool(check, request,
                                          f"/cds-services/{SERVICE_ID}/feedback")
        if refused is not None:
            return refused
        try:
            items = _feedback_items(await request_json(request))
        except InputError as exc:
            return _invalid(exc)
        if feedback_sink is not None:
            feedback_sink(items)
        else:
            feedback_log.extend(items)
        return {}

    router.feedback_log = feedback_log  # type: ignore[attr-defined]
    return router


BASE_URL_VARIABLE = "HIPSPINE_CDS_BASE_URL"


def _warn_if_unusable(config: CdsConfig) -> None:
    """Say at start-up when every service call will be refused, and why."""
    if config.issuers and not config.service_base_url:
        log.warning("CDS Hooks is not usable: %s is not set, so every service call is refused "
                    "(401). Set it to this server's public base URL as the EHR calls it "
                    "(token audience = {base}/cds-services/%s).", BASE_URL_VARIABLE, SERVICE_ID)
    elif not config.issuers:
        log.info("CDS Hooks not configured (no HIPSPINE_CDS_ISSUERS%s): service calls are "
                 "refused (401)", "" if config.service_base_url else f", no {BASE_URL_VARIABLE}")


def _config(value: Any) -> CdsConfig:
    if value is None:
        return CdsConfig.from_env()
    if isinstance(value, CdsConfig):
        return value
    for name in ("cds", "cds_config"):
        inner = getattr(value, name, None)
        if isinstance(inner, CdsConfig):
            return inner
    return CdsConfig.from_env()


def _invalid(exc: InputError) -> JSONResponse:
    return JSONResponse(status_code=422, content=exc.as_dict())


def _request_body(data: Any) -> dict[str, Any]:
    what = "CDS Hooks request"
    if not isinstance(data, dict):
        raise InputError.single("body", type(data).__name__, "a JSON object", what=what)
    if data.get("hook") != "patient-view":
        raise InputError.single("hook", data.get("hook"), "patient-view", what=what)
    if not isinstance(data.get("hookInstance"), str):
        raise InputError.single("hookInstance", data.get("hookInstance"), "a UUID string",
                                what=what)
    context = data.get("context")
    if not isinstance(context, dict) or not isinstance(context.get("patientId"), str):
        raise InputError.single("context.patientId", None if not isinstance(context, dict)
                                else context.get("patientId"), "the patient's FHIR id", what=what)
    if data.get("prefetch") is not None and not isinstance(data["prefetch"], dict):
        raise InputError.single("prefetch", type(data["prefetch"]).__name__,
                                "an object of prefetch key -> resource or Bundle", what=what)
    return data


def _is_outcome(value: Any) -> bool:
    return isinstance(value, dict) and value.get("resourceType") == "OperationOutcome"


def _prefetched(prefetch: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for value in prefetch.values():
        if value is None or _is_outcome(value):
            continue  # null: the EHR has no data for this key
        try:
            out += [r for r in resources_of(value) if r.get("resourceType") != "OperationOutcome"]
        except InputError:
            continue
    return out


class ForeignNextLink(Exception):
    """A `next` link of the FHIR server names another origin: not followed, since the
    access token is sent only to the origin of `fhirServer`."""


def origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL, the default port filled in; None otherwise."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or (443 if scheme == "https" else 80)


def _fetch_missing(body: dict[str, Any], missing: list[str], config: CdsConfig,
                   client: Any) -> list[dict[str, Any]] | None:
    """Query `fhirServer` for the missing prefetch keys; None when that is not possible.

    The `fhirAuthorization` token goes to the origin (scheme, host, port) of `fhirServer`
    only: a `next` link to any other origin raises `ForeignNextLink` (refused rather than
    followed without the token: a server whose paging leaves its origin is misconfigured or
    hostile). Redirects are not followed."""
    import httpx

    server = body.get("fhirServer")
    if not isinstance(server, str) or origin(server) is None:
        return None
    server_origin = origin(server)
    auth = body.get("fhirAuthorization")
    headers = {"Accept": "application/fhir+json"}
    if isinstance(auth, dict) and isinstance(auth.get("access_token"), str):
        headers["Authorization"] = f"Bearer {auth['access_token']}"
    patient = body["context"]["patientId"]
    http = client or httpx.Client(timeout=config.fhir_timeout_seconds, follow_redirects=False)
    out: list[dict[str, Any]] = []
    try:
        for key in missing:
            url: str | None = server.rstrip("/") + "/" + PREFETCH[key].replace(
                "{{context.patientId}}", patient)
            pages = 0
            while url and pages < MAX_PAGES:
                if origin(url) != server_origin:
                    raise ForeignNextLink(
                        f"a 'next' link points to {_origin_text(url)}, not to the FHIR "
                        f"server's origin {_origin_text(server)}; the access token is sent "
                        "only to the FHIR server's origin, so the link was not followed")
                response = http.get(url, headers=headers)
                if response.status_code != 200:
                    return None
                data = response.json()
                out += [r for r in resources_of(data) if r.get("resourceType")
                        != "OperationOutcome"]
                url = _next_link(data, url)
                pages += 1
    except (httpx.HTTPError, ValueError, InputError, AttributeError):
        return None
    finally:
        if client is None:
            http.close()
    return out


def _next_link(bundle: Any, current: str) -> str | None:
    """The Bundle's `next` link, resolved against the page it came from."""
    from urllib.parse import urljoin

    links = bundle.get("link") if isinstance(bundle, dict) else None
    for link in links if isinstance(links, list) else []:
        if isinstance(link, dict) and link.get("relation") == "next":
            target = link.get("url")
            return urljoin(current, target) if isinstance(target, str) and target else None
    return None


def _origin_text(url: str) -> str:
    found = origin(url)
    if found is None:
        return "a non-http(s) URL"
    scheme, host, port = found
    return f"{scheme}://{host}:{port}"


def _feedback_items(data: Any) -> list[dict[str, Any]]:
    what = "CDS Hooks feedback"
    if not isinstance(data, dict) or not isinstance(data.get("feedback"), list):
        raise InputError.single("feedback", None if not isinstance(data, dict)
                                else data.get("feedback"), "a list of feedback items", what=what)
    items = []
    for n, item in enumerate(data["feedback"]):
        if not isinstance(item, dict) or not isinstance(item.get("card"), str):
            raise InputError.single(f"feedback[{n}].card", None if not isinstance(item, dict)
                                    else item.get("card"), "the card uuid", what=what)
        if item.get("outcome") not in ("accepted", "overridden"):
            raise InputError.single(f"feedback[{n}].outcome", item.get("outcome"),
                                    "accepted | overridden", what=what)
        if not isinstance(item.get("outcomeTimestamp"), str):
            raise InputError.single(f"feedback[{n}].outcomeTimestamp",
                                    item.get("outcomeTimestamp"), "an ISO date-time", what=what)
        items.append({"card": item["card"], "outcome": item["outcome"],
                      "outcomeTimestamp": item["outcomeTimestamp"],
                      "overrideReason": item.get("overrideReason"),
                      "acceptedSuggestions": item.get("acceptedSuggestions") or []})
    return items
