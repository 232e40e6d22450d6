"""The clinician web app: patient list, intake -> result, patient timeline, PROM entry.

Server-rendered pages over the same store functions as the API (same access checks, same
audit trail). Forms carry the session's CSRF token.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from hipspine.errors import InputError
from hipspine.models import parse_case
from hipspine.models.validation import loads_strict
from hipspine.web import intake, services, store
from hipspine.web.deps import check_form_csrf, page_actor, transaction
from hipspine.web.plots import Point, prom_trajectory
from hipspine.web.routes.patient_link import link_form_context, link_rows
from hipspine.web.schemas import PatientCreate, PromCreate
from hipspine.web.templating import render

router = APIRouter(include_in_schema=False)

VERDICT_TEXT = {
    "hip": "The hip is the most likely source",
    "spine": "The spine is the most likely source",
    "both": "Hip-spine syndrome: hip and spine both probable enough to act on",
    "other": "Another source (a mimic) is more likely than hip or spine",
    "indeterminate": "Indeterminate: not enough information to tell",
}
PAGE_SIZE = 25
PatientId = Annotated[int, Path(ge=1, le=2_147_483_647)]


def _form_lists(form: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            out.setdefault(key, []).append(value)
    return out


@router.get("/")
def home(request: Request, q: Annotated[str | None, Query(max_length=64)] = None,
         page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:
    actor = page_actor(request)
    if actor.role == "researcher":
        return RedirectResponse("/research", status_code=303)
    with transaction(request) as s:
        rows, total = store.list_patients(s, actor, PAGE_SIZE, (page - 1) * PAGE_SIZE,
                                          pseudonym=q or None)
        patients = [{"id": p.id, "pseudonym": p.pseudonym, "sex": p.sex,
                     "year_of_birth": p.year_of_birth, "synthetic": p.synthetic} for p in rows]
    return render(request, "home.html", {"patients": patients, "total": total, "q": q or "",
                                         "page": page, "pages": max(1, -(-total // PAGE_SIZE)),
                                         "errors": {}, "values": {}})


@router.post("/patients")
async def create_patient(request: Request) -> Response:
    actor = page_actor(request)
    form = await request.form()
    check_form_csrf(request, str(form.get("csrf_token", "")))
    raw = {k: str(v).strip() for k, v in form.items() if k != "csrf_token" and str(v).strip()}
    try:
        if "year_of_birth" in raw:
            if not raw["year_of_birth"].isdigit():
                raise InputError.single("year_of_birth", raw["year_of_birth"],
                                        "a year such as 1956", what="patient")
            raw["year_of_birth"] = int(raw["year_of_birth"])  # type: ignore[assignment]
        from hipspine.models import parse_model

        body = parse_model(PatientCreate, raw, "patient")
        with transaction(request) as s:
            p = store.create_patient(s, actor, body.pseudonym, body.year_of_birth, body.sex)
            pid = p.id
    except InputError as exc:
        with transaction(request) as s:
            rows, total = store.list_patients(s, actor, PAGE_SIZE, 0)
            patients = [{"id": p.id, "pseudonym": p.pseudonym, "sex": p.sex,
                         "year_of_birth": p.year_of_birth, "synthetic": p.synthetic}
                        for p in rows]
        return render(request, "home.html", {"patients": patients, "total": total, "q": "",
                                             "page": 1, "pages": 1, "values": raw,
                                             "errors": intake.errors_by_field(exc)},
                      status_code=422)
    return RedirectResponse(f"/patients/{pid}", status_code=303)


def _intake_context(request: Request, values: dict[str, Any], errors: dict[str, str],
                    prefilled_from: str | None = None) -> dict[str, Any]:
    actor = page_actor(request)
    patients: list[dict[str, Any]] = []
    if actor.role in ("clinician", "admin"):
        with transaction(request) as s:
            rows, _ = store.list_patients(s, actor, 500, 0)
            patients = [{"id": p.id, "pseudonym": p.pseudonym, "synthetic": p.synthetic}
                        for p in rows]
    return {
        "sections": intake.sections(),
        "treatment_rows": [intake.prior_treatment_fields(i)
                           for i in range(intake.PRIOR_TREATMENT_ROWS)],
        "locations": intake.pain_locations(),
        "values": values, "errors": errors, "patients": patients,
        "prefilled_from": prefilled_from,
    }


def decode_prefill(token: str) -> dict[str, Any]:
    """A case pre-fill carried in a URL (base64url JSON), e.g. from the self-report."""
    try:
        padded = token + "=" * (-len(token) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii"))
    except (ValueError, UnicodeError):
        raise InputError.single("prefill", token[:20], "a pre-fill link made by hipspine",
                                what="link") from None
    data = loads_strict(raw, "pre-fill link")
    if not isinstance(data, dict):
        raise InputError.single("prefill", token[:20], "a pre-fill link made by hipspine",
                                what="link")
    return data


def encode_prefill(case: dict[str, Any]) -> str:
    raw = json.dumps(case, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


@router.get("/intake")
def intake_page(request: Request,
                patient_id: Annotated[int | None, Query(ge=1)] = None,
                prefill: Annotated[str | None, Query(max_length=20000)] = None) -> Response:
    page_actor(request)
    values: dict[str, Any] = {}
    source = None
    if prefill:
        try:
            values = intake.form_values(decode_prefill(prefill))
            source = "the patient's self-report"
        except InputError as exc:
            return render(request, "intake.html",
                          _intake_context(request, {}, intake.errors_by_field(exc)),
                          status_code=422)
    if patient_id:
        values["patient_id"] = patient_id
    return render(request, "intake.html", _intake_context(request, values, {}, source))


@router.post("/intake/load")
async def intake_load(request: Request) -> Response:
    """Pre-fill the form from a case document (hipspine.case/1 JSON) for review."""
    page_actor(request)
    form = await request.form()
    check_form_csrf(request, str(form.get("csrf_token", "")))
    text = str(form.get("case_json", ""))
    try:
        case = parse_case(text)
    except InputError as exc:
        ctx = _intake_context(request, {}, {})
        ctx["load_errors"] = [str(p) for p in exc.problems]
        ctx["case_json"] = text
        return render(request, "intake.html", ctx, status_code=422)
    values = intake.form_values(case.model_dump(mode="json", exclude_none=True))
    return render(request, "intake.html",
                  _intake_context(request, values, {}, "a case document"))


@router.post("/intake")
async def intake_submit(request: Request) -> Response:
    actor = page_actor(request)
    form = _form_lists(await request.form())
    check_form_csrf(request, (form.get("csrf_token") or [""])[-1])
    values = intake.form_values({})
    values.update({k: (v if k == "symptoms.pain_locations" else v[-1]) for k, v in form.items()})
    patient_raw = (form.get("patient_id") or [""])[-1].strip()
    try:
        case_doc = intake.case_from_form(form)
        case = parse_case(case_doc)
    except InputError as exc:
        return render(request, "intake.html",
                      _intake_context(request, values, intake.errors_by_field(exc)),
                      status_code=422)
    if patient_raw and not patient_raw.isdigit():
        raise InputError.single("patient_id", patient_raw, "a patient from the list")
    if patient_raw:
        with transaction(request) as s:  # access first: no seconds of CPU for a refusal
            store.get_patient(s, actor, int(patient_raw))
    # CPU-bound (notes can be long): off the event loop
    assessment = await run_in_threadpool(services.assess, case)
    assessment_doc = assessment.model_dump(mode="json")
    plan_doc = await run_in_threadpool(services.plan_or_none, case, assessment)
    saved = None
    if patient_raw:
        with transaction(request) as s:
            patient = store.get_patient(s, actor, int(patient_raw))
            episode = store.create_episode(s, actor, patient.id, dt.date.today(), case.setting)
            store.store_assessment(s, actor, episode, assessment_doc, plan_doc)
            saved = {"id": patient.id, "pseudonym": patient.pseudonym}
    return render(request, "result.html", {"assessment": assessment_doc, "plan": plan_doc,
                                           "verdict_text": VERDICT_TEXT, "case_id": case.id,
                                           "saved_patient": saved})


# ----------------------------------------------------------------------------- patient page

def _instrument_table() -> dict[str, Any]:
    try:
        from hipspine.proms import list_instruments
    except ImportError:
        return {}
    return {i.id: i for i in list_instruments()}


def _mcid(instrument: Any) -> tuple[float | None, str]:
    for t in getattr(instrument, "thresholds", []):
        if t.default and t.applies_to == "change" and t.unit == "points" and t.subscale is None:
            return float(t.value), f"{t.kind.upper()} {t.value:g}"
    return None, ""


@router.get("/patients/{patient_id}")
def patient_page(request: Request, patient_id: PatientId) -> Response:
    actor = page_actor(request)
    with transaction(request) as s:
        patient = store.get_patient(s, actor, patient_id, log=True)
        episodes = store.list_episodes(s, actor, patient_id)
        treatments = store.list_treatments(s, actor, patient_id)
        proms = store.list_proms(s, actor, patient_id)
        links = link_rows(store.patient_links(s, actor, patient_id))
        assessments = store.assessments_for(s, patient_id)
        plans = store.plans_for(s, patient_id)
        info = {"id": patient.id, "pseudonym": patient.pseudonym, "sex": patient.sex,
                "year_of_birth": patient.year_of_birth, "synthetic": patient.synthetic}
        events: list[dict[str, Any]] = []
        for a in assessments:
            events.append({"day": a.created_at.date(), "kind": "assessment",
                           "text": VERDICT_TEXT.get(str(a.verdict), str(a.verdict)),
                           "id": a.id, "document": a.document})
        for t in treatments:
            events.append({"day": t.performed_on, "kind": "treatment",
                           "text": f"{t.type.replace('_', ' ')} ({t.target}"
                                   + (f", {t.side}" if t.side else "") + ")"})
        for p in proms:
            score = "incomplete" if p.score is None else f"{p.score:g}"
            events.append({"day": p.administered_on, "kind": "prom",
                           "text": f"{p.instrument} {score}"
                                   + (f" at {p.timepoint}" if p.timepoint else "")})
        events.sort(key=lambda e: (e["day"], e["kind"]))
        latest = assessments[-1].document if assessments else None
        latest_plan = plans[-1].document if plans else None
        by_instrument: dict[str, list[Point]] = {}
        for p in proms:
            if p.score is not None:
                by_instrument.setdefault(p.instrument, []).append(
                    Point(p.administered_on, float(p.score)))
    table = _instrument_table()
    plots = []
    for inst_id, points in sorted(by_instrument.items()):
        inst = table.get(inst_id)
        lo, hi = (inst.range if inst else (min(p.score for p in points),
                                           max(p.score for p in points)))
        mcid, label = _mcid(inst) if inst else (None, "")
        plots.append(prom_trajectory(inst.name if inst else inst_id, points, float(lo),
                                     float(hi), mcid,
                                     bool(inst.higher_is_better) if inst else False, label))
    instruments = [{"id": i.id, "name": i.name, "wording": i.licence.item_wording_shipped}
                   for i in table.values()]
    return render(request, "patient.html", {
        "patient": info, "episodes": episodes, "events": events, "plots": plots,
        "latest": latest, "latest_plan": latest_plan, "verdict_text": VERDICT_TEXT,
        "instruments": instruments, "treatment_types": _treatment_types(),
        "today": dt.date.today().isoformat(), "errors": {},
        "links": links, **link_form_context(),
    })


def _treatment_types() -> list[str]:
    from hipspine.registry.tables import TREATMENT_TYPES

    return list(TREATMENT_TYPES)


@router.post("/patients/{patient_id}/treatments")
async def add_treatment(request: Request, patient_id: PatientId) -> Response:
    actor = page_actor(request)
    form = await request.form()
    check_form_csrf(request, str(form.get("csrf_token", "")))
    raw = {k: str(v).strip() for k, v in form.items() if k != "csrf_token" and str(v).strip()}
    from hipspine.models import parse_model
    from hipspine.web.schemas import TreatmentCreate

    body = parse_model(TreatmentCreate, raw, "treatment")
    with transaction(request) as s:
        store.create_treatment(s, actor, patient_id, **body.model_dump())
    return RedirectResponse(f"/patients/{patient_id}", status_code=303)


# ----------------------------------------------------------------------------- PROMs

@router.get("/patients/{patient_id}/proms/new")
def prom_form(request: Request, patient_id: PatientId,
              instrument: Annotated[str, Query(max_length=32)]) -> Response:
    actor = page_actor(request)
    with transaction(request) as s:
        patient = store.get_patient(s, actor, patient_id, log=True)
        pseudonym = patient.pseudonym
    inst = _find_instrument(instrument)
    return render(request, "prom_form.html", {
        "patient": {"id": patient_id, "pseudonym": pseudonym}, "instrument": inst,
        "action": f"/patients/{patient_id}/proms",
        "today": dt.date.today().isoformat(), "errors": {}, "values": {},
        "timepoints": _timepoints()})


def _find_instrument(instrument: str) -> Any:
    from hipspine.proms import find_instrument

    return find_instrument(instrument)


def _timepoints() -> list[str]:
    from hipspine.registry.tables import TIMEPOINTS

    return list(TIMEPOINTS)


@router.post("/patients/{patient_id}/proms")
async def prom_submit(request: Request, patient_id: PatientId) -> Response:
    actor = page_actor(request)
    form = await request.form()
    check_form_csrf(request, str(form.get("csrf_token", "")))
    inst = _find_instrument(str(form.get("instrument", "")))
    items: list[int | None] = []
    problems = []
    for index in range(len(inst.items)):
        raw = str(form.get(f"item_{index}", "")).strip()
        if raw == "":
            items.append(None)
        elif raw.lstrip("-").isdigit():
            items.append(int(raw))
        else:
            problems.append((f"item_{index}", raw))
            items.append(None)
    if problems:
        raise InputError.single(f"items[{problems[0][0][5:]}]", problems[0][1],
                                "a whole number in the item's range", what="PROM")
    raw_body: dict[str, Any] = {"instrument": inst.id, "items": items,
                                "administered_on": str(form.get("administered_on", "")) or
                                dt.date.today().isoformat()}
    if str(form.get("timepoint", "")):
        raw_body["timepoint"] = str(form.get("timepoint"))
    from hipspine.models import parse_model

    body = parse_model(PromCreate, raw_body, "PROM")
    scored = services.score_prom(body.instrument, body.items)
    with transaction(request) as s:
        store.create_prom(s, actor, patient_id, instrument=body.instrument,
                          timepoint=body.timepoint, administered_on=body.administered_on,
                          items=body.items, score=scored.score, scores=scored.detail,
                          missing_items=scored.missing_items)
    return RedirectResponse(f"/patients/{patient_id}#timeline", status_code=303)
