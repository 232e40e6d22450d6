"""The clinician web app: patient list, intake -> result, patient timeline, PROM entry.

Server-rendered pages over the same store functions as the API (same access checks, same
audit trail). Forms carry the session's CSRF token.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from hipspine.errors import InputError
from hipspine.models import parse_case
from hipspine.models.validation import loads_strict
from hipspine.web import intake, labels, prefill, services, store
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


SOURCE_TEXT: dict[str, str] = {prefill.PATIENT_RECORD: "the patient record",
               prefill.SELF_REPORT: "the patient's self-report",
               prefill.LAST_ASSESSMENT: "the last stored assessment",
               prefill.CASE_DOCUMENT: "a case document", prefill.FHIR_CHART: "the FHIR chart"}


def _intake_context(request: Request, values: dict[str, Any], errors: dict[str, str],
                    prefilled: prefill.Prefill | None = None,
                    patient_id: int | None = None) -> dict[str, Any]:
    actor = page_actor(request)
    patients: list[dict[str, Any]] = []
    episode_patient: dict[str, Any] | None = None
    if actor.role in ("clinician", "admin"):
        with transaction(request) as s:
            rows, _ = store.list_patients(s, actor, 500, 0)
            patients = [{"id": p.id, "pseudonym": p.pseudonym, "synthetic": p.synthetic}
                        for p in rows]
            if patient_id is not None:
                patient = store.get_patient(s, actor, patient_id)
                open_ep = store.open_episode(s, actor, patient_id)
                episode_patient = {
                    "id": patient.id, "pseudonym": patient.pseudonym,
                    "open": None if open_ep is None else {
                        "id": open_ep.id, "opened_on": open_ep.opened_on.isoformat()}}
    names = prefilled.source_names() if prefilled else []
    return {
        "sections": intake.sections(),
        "treatment_rows": [intake.prior_treatment_fields(i)
                           for i in range(intake.PRIOR_TREATMENT_ROWS)],
        "locations": intake.pain_locations(),
        "values": values, "errors": errors, "patients": patients,
        "prefilled_from": " and ".join(SOURCE_TEXT.get(n, n) for n in names) or None,
        "prefill_sources": prefilled.sources() if prefilled else {},
        "episode_patient": episode_patient,
    }


def _record_facts(patient: Any) -> prefill.RecordFacts:
    return prefill.RecordFacts(year_of_birth=patient.year_of_birth, sex=patient.sex)


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
                patient_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
                prefill_token: Annotated[str | None, Query(alias="prefill",
                                                           max_length=20000)] = None,
                start: Annotated[Literal["last"] | None, Query(alias="from")] = None
                ) -> Response:
    """The intake, pre-filled from a self-report link, the patient's record and (with
    `from=last`) the patient's last stored assessment; each value shows its source."""
    actor = page_actor(request)
    filled = prefill.Prefill()
    errors: dict[str, str] = {}
    if prefill_token:
        try:
            filled = prefill.from_case(decode_prefill(prefill_token), prefill.SELF_REPORT)
        except InputError as exc:
            return render(request, "intake.html",
                          _intake_context(request, {}, intake.errors_by_field(exc)),
                          status_code=422)
    if patient_id:
        with transaction(request) as s:
            patient = store.get_patient(s, actor, patient_id)
            facts = _record_facts(patient)
            last = store.last_assessed_case(s, actor, patient_id) if start == "last" else None
        if start == "last":
            if last is None:
                errors["patient_id"] = ("no stored assessment of this patient kept its "
                                        "values: start from the record")
            else:
                filled = prefill.from_case(last, prefill.LAST_ASSESSMENT).over(filled)
        # age and sex come from the record: the last assessment's age may be years old
        filled = prefill.from_record(facts).over(filled)
    values = filled.values()
    if patient_id:
        values["patient_id"] = patient_id
    return render(request, "intake.html",
                  _intake_context(request, values, errors, filled, patient_id))


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
    filled = prefill.from_case(case.model_dump(mode="json", exclude_none=True),
                               prefill.CASE_DOCUMENT)
    return render(request, "intake.html",
                  _intake_context(request, filled.values(), {}, filled))


@router.post("/intake")
async def intake_submit(request: Request) -> Response:
    """Assess the case. Saved to a patient: store it and redirect (303) to the stored
    assessment's page, so reloading the result never saves it again. A one-off assessment
    writes nothing and is shown directly."""
    actor = page_actor(request)
    form = intake.form_lists(await request.form())
    check_form_csrf(request, (form.get("csrf_token") or [""])[-1])
    values = intake.form_values({})
    values.update({k: (v if k == "symptoms.pain_locations" else v[-1]) for k, v in form.items()})
    patient_raw = (form.get("patient_id") or [""])[-1].strip()
    episode_choice = (form.get("episode") or [""])[-1].strip()
    pid = int(patient_raw) if patient_raw.isdigit() and len(patient_raw) < 10 else None

    def refuse(errors: dict[str, str]) -> Response:
        return render(request, "intake.html",
                      _intake_context(request, values, errors, patient_id=pid),
                      status_code=422)

    if patient_raw and pid is None:
        return refuse({"patient_id": f"Got {patient_raw!r}; allowed: a patient from the list"})
    if episode_choice not in ("", "open", "new"):
        return refuse({"episode": "add to the open episode, or open a new episode"})
    try:
        case_doc = intake.case_from_form(form)
        case = parse_case(case_doc)
    except InputError as exc:
        return refuse(intake.errors_by_field(exc))
    spinopelvic: dict[str, Any] | None = None  # the patient's latest saved result, if any
    if pid is not None:
        with transaction(request) as s:  # access first: no seconds of CPU for a refusal
            patient = store.get_patient(s, actor, pid)
            facts = _record_facts(patient)
            pseudonym = patient.pseudonym
            has_open = store.open_episode(s, actor, pid) is not None
            saved_spinopelvic = store.latest_spinopelvic(s, actor, pid)
            spinopelvic = saved_spinopelvic.document if saved_spinopelvic else None
        conflicts = prefill.record_conflicts(case.age, case.sex, facts)
        errors = {p.field: f"{p.message[:1].upper()}{p.message[1:]} ({pseudonym})."
                  for p in conflicts}
        if episode_choice == "open" and not has_open:
            errors["episode"] = (f"{pseudonym} has no open episode of care: choose "
                                 "'open a new episode'")
        if errors:
            return refuse(errors)
    # CPU-bound (notes can be long): off the event loop
    assessment = await run_in_threadpool(services.assess, case)
    assessment_doc = assessment.model_dump(mode="json")
    plan_doc = await run_in_threadpool(services.plan_or_none, case, assessment, spinopelvic)
    if pid is None:
        return render(request, "result.html", {"assessment": assessment_doc, "plan": plan_doc,
                                               "verdict_text": VERDICT_TEXT,
                                               "case_id": case.id, "saved_patient": None})
    aid = None
    with transaction(request) as s:
        patient = store.get_patient(s, actor, pid)
        episode = None if episode_choice == "new" else store.open_episode(s, actor, pid)
        if episode is None and episode_choice != "open":
            episode = store.create_episode(s, actor, patient.id, dt.date.today(),
                                           case.setting)
        if episode is not None:
            row = store.store_assessed_case(s, actor, episode, assessment_doc, plan_doc,
                                            case.model_dump(mode="json", exclude_none=True))
            aid = row.id
    if aid is None:  # the open episode was closed meanwhile: nothing was written
        return refuse({"episode": "the open episode was closed meanwhile: choose "
                                  "'open a new episode'"})
    return RedirectResponse(f"/patients/{pid}/assessments/{aid}", status_code=303)


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
def patient_page(request: Request, patient_id: PatientId,
                 saved_prom: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None
                 ) -> Response:
    """The patient page; after a PROM is saved (`?saved_prom=ID`), its score in a notice."""
    return render(request, "patient.html",
                  _patient_context(request, patient_id, saved_prom=saved_prom))


TIMEPOINT_WORDS = {"baseline": "baseline", "6w": "6 weeks", "3m": "3 months",
                   "6m": "6 months", "12m": "12 months", "24m": "24 months"}


def score_words(instrument: Any, score: float | None) -> str:
    """A PROM score as read: "34 %" for the ODI, "12 (0-48)" for a points scale."""
    if score is None:
        return "no score (too many items unanswered)"
    if instrument is not None and str(getattr(instrument, "scoring", "")).startswith("percent"):
        return f"{score:g} %"
    if instrument is not None and getattr(instrument, "range", None):
        lo, hi = instrument.range
        return f"{score:g} (range {lo:g}\u2013{hi:g})"
    return f"{score:g}"


def _span_words(delta: dt.timedelta) -> str:
    seconds = abs(delta.total_seconds())
    for size, unit in ((86_400, "day"), (3_600, "hour"), (60, "minute")):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return "less than a minute"


def expiry_words(expires_at: dt.datetime, now: dt.datetime | None = None) -> str:
    """"expires in 13 days" / "expired 2 hours ago" (both naive UTC, as the store keeps)."""
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    left = expires_at - now
    if left.total_seconds() > 0:
        return f"expires in {_span_words(left)}"
    return f"expired {_span_words(left)} ago"


def _patient_context(request: Request, patient_id: int, errors: dict[str, str] | None = None,
                     values: dict[str, Any] | None = None,
                     saved_prom: int | None = None) -> dict[str, Any]:
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
                           "id": a.id, "document": store.assessment_document(a),
                           "reopen": f"/patients/{patient_id}/assessments/{a.id}"})
        for t in treatments:
            events.append({"day": t.performed_on, "kind": "treatment",
                           "text": f"{t.type.replace('_', ' ')} ({t.target}"
                                   + (f", {t.side}" if t.side else "") + ")"})
        for p in proms:
            score = "incomplete" if p.score is None else f"{p.score:g}"
            events.append({"day": p.administered_on, "kind": "prom",
                           "text": f"{labels.instrument_name(p.instrument)}: {score}"
                                   + (f" at {labels.timepoint_words(p.timepoint)}"
                                      if p.timepoint else "")})
        events.sort(key=lambda e: (e["day"], e["kind"]))
        latest = store.assessment_document(assessments[-1]) if assessments else None
        latest_id = assessments[-1].id if assessments else None
        latest_day = assessments[-1].created_at.date().isoformat() if assessments else None
        can_reassess = any(store.assessment_case(a) is not None for a in assessments)
        open_ep = store.open_episode(s, actor, patient_id)
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
    saved = None
    for p in proms:  # only this patient's PROMs, already read under the access check
        if saved_prom is not None and p.id == saved_prom:
            inst = table.get(p.instrument)
            saved = {"id": p.id, "name": inst.name if inst else p.instrument,
                     "score": score_words(inst, p.score),
                     "administered_on": p.administered_on.isoformat(),
                     "timepoint": TIMEPOINT_WORDS.get(p.timepoint or "", p.timepoint)}
    for link in links:
        link["expiry_words"] = expiry_words(link["expires_at"])
    return {
        "patient": info, "episodes": episodes, "events": events, "plots": plots,
        "latest": latest, "latest_plan": latest_plan, "verdict_text": VERDICT_TEXT,
        "latest_id": latest_id, "latest_day": latest_day, "can_reassess": can_reassess,
        "open_episode": None if open_ep is None else open_ep.opened_on.isoformat(),
        "instruments": instruments, "treatment_types": _treatment_types(),
        "today": dt.date.today().isoformat(), "errors": errors or {},
        "values": values or {}, "links": links, **link_form_context(),
        "saved_prom": saved, "timepoint_words": TIMEPOINT_WORDS,
        "instrument_names": {i.id: i.name for i in table.values()},
    }


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

    try:
        body = parse_model(TreatmentCreate, raw, "treatment")
    except InputError as exc:  # beside the field, on the patient page: not a JSON answer
        return render(request, "patient.html",
                      _patient_context(request, patient_id, intake.errors_by_field(exc), raw),
                      status_code=422)
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


def prom_items(inst: Any, form: Any) -> tuple[list[int | None], dict[str, str]]:
    """The item answers of a PROM form, and what is wrong with them by input name: a
    non-number, or no item answered at all (an empty form is not a questionnaire)."""
    items: list[int | None] = []
    errors: dict[str, str] = {}
    for index in range(len(inst.items)):
        raw = str(form.get(f"item_{index}", "")).strip()
        if raw == "":
            items.append(None)
        elif raw.lstrip("-").isdigit() and len(raw) < 6:
            items.append(int(raw))
        else:
            errors[f"item_{index}"] = f"Got {raw!r}; allowed: a whole number in the item's range"
            items.append(None)
    if not errors and all(i is None for i in items):
        errors["items"] = ("No item was answered: answer at least one item, or leave the "
                           "questionnaire unrecorded")
    return items, errors


def prom_errors(exc: InputError) -> dict[str, str]:
    """A PROM's problems keyed as the form names its inputs (`items[2]` -> `item_2`)."""
    out: dict[str, str] = {}
    for path, text in intake.errors_by_field(exc).items():
        if path.startswith("items[") and path.endswith("]"):
            path = f"item_{path[6:-1]}"
        out[path] = text
    return out


@router.post("/patients/{patient_id}/proms")
async def prom_submit(request: Request, patient_id: PatientId) -> Response:
    actor = page_actor(request)
    form = await request.form()
    check_form_csrf(request, str(form.get("csrf_token", "")))
    inst = _find_instrument(str(form.get("instrument", "")))
    values = {k: str(v) for k, v in form.items() if k != "csrf_token"}

    def refuse(errors: dict[str, str]) -> Response:
        with transaction(request) as s:
            pseudonym = store.get_patient(s, actor, patient_id).pseudonym
        return render(request, "prom_form.html", {
            "patient": {"id": patient_id, "pseudonym": pseudonym}, "instrument": inst,
            "action": f"/patients/{patient_id}/proms",
            "today": dt.date.today().isoformat(), "errors": errors, "values": values,
            "timepoints": _timepoints()}, status_code=422)

    items, errors = prom_items(inst, form)
    if errors:
        return refuse(errors)
    raw_body: dict[str, Any] = {"instrument": inst.id, "items": items,
                                "administered_on": str(form.get("administered_on", "")) or
                                dt.date.today().isoformat()}
    if str(form.get("timepoint", "")):
        raw_body["timepoint"] = str(form.get("timepoint"))
    from hipspine.models import parse_model

    try:
        body = parse_model(PromCreate, raw_body, "PROM")
        scored = services.score_prom(body.instrument, body.items)
    except InputError as exc:
        return refuse(prom_errors(exc))
    with transaction(request) as s:
        row = store.create_prom(s, actor, patient_id, instrument=body.instrument,
                                timepoint=body.timepoint, administered_on=body.administered_on,
                                items=body.items, score=scored.score, scores=scored.detail,
                                missing_items=scored.missing_items)
        prom_id = row.id
    return RedirectResponse(f"/patients/{patient_id}?saved_prom={prom_id}#prom-saved",
                            status_code=303)


# ----------------------------------------------------------------------------- stored assessments

AssessmentId = Annotated[int, Path(ge=1, le=2_147_483_647)]


def _stored(request: Request, patient_id: int, assessment_id: int) -> dict[str, Any]:
    """A stored assessment (access-checked and audited by the store) for a page or export."""
    actor = page_actor(request)
    with transaction(request) as s:
        patient = store.get_patient(s, actor, patient_id)
        row, episode = store.get_stored_assessment(s, actor, patient_id, assessment_id)
        plan = store.plan_of(s, row)
        return {"patient": {"id": patient.id, "pseudonym": patient.pseudonym,
                            "sex": patient.sex, "year_of_birth": patient.year_of_birth,
                            "synthetic": patient.synthetic},
                "id": row.id, "assessment": store.assessment_document(row),
                "plan": plan.document if plan else None,
                "has_case": store.assessment_case(row) is not None,
                "created_at": row.created_at, "created_by": row.created_by,
                "episode": {"id": episode.id, "opened_on": episode.opened_on.isoformat(),
                            "closed_on": episode.closed_on.isoformat()
                            if episode.closed_on else None}}


def summary_text(stored: dict[str, Any]) -> str:
    """A plain-text summary of a stored assessment, to paste into a letter."""
    a = stored["assessment"]
    patient = stored["patient"]
    when = stored["created_at"].strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"hipspine assessment of {patient['pseudonym']}"
             + (" (SYNTHETIC)" if patient["synthetic"] else ""),
             f"Date: {when}" + (f", by {stored['created_by']}" if stored["created_by"] else ""),
             f"Episode of care opened {stored['episode']['opened_on']}", ""]
    for flag in a.get("red_flags", []):
        lines.append(f"RED FLAG: {flag['finding']} - {flag['action']}")
    if a.get("red_flags"):
        lines.append("")
    lines.append(f"Conclusion: {VERDICT_TEXT.get(str(a.get('verdict')), a.get('verdict'))}.")
    if a.get("diagnosis"):
        lines.append(f"Named diagnosis: {a['diagnosis']}.")
    lines += ["", "Probability of each source:"]
    for src in a.get("sources", []):
        lines.append(f"- {src['label']}: {src['probability'] * 100:.0f}% "
                     f"(pre-test {src['pretest'] * 100:.0f}%)")
        for c in src.get("contributions", [])[:6]:
            lines.append(f"    {c.get('finding')} (likelihood ratio "
                         f"{c.get('likelihood_ratio', 0):.3g}; {c.get('citation', '')})")
    if a.get("next_tests"):
        lines += ["", "Next tests that would help most:"]
        lines += [f"- {t['test']}: {t['why']}" for t in a["next_tests"]]
    plan = stored.get("plan")
    if plan and plan.get("steps"):
        lines += ["", "Plan:"]
        lines += [f"{i}. {st.get('action')} ({st.get('target')})" for i, st in
                  enumerate(sorted(plan["steps"], key=lambda x: x.get("order", 0)), 1)]
    if a.get("explanation"):
        lines += ["", str(a["explanation"])]
    lines += ["", f"Engine {a.get('engine_version')}, knowledge base "
                  f"{a.get('knowledge_version')}.",
              "Decision support, not diagnosis: check each finding against the patient "
              "and the cited source."]
    return "\n".join(lines) + "\n"


# The exports come before the page: "{assessment_id}" would also match "5.txt".
@router.get("/patients/{patient_id}/assessments/{assessment_id}.txt")
def stored_assessment_text(request: Request, patient_id: PatientId,
                           assessment_id: AssessmentId) -> Response:
    stored = _stored(request, patient_id, assessment_id)
    day = stored["created_at"].date().isoformat()
    return Response(summary_text(stored), media_type="text/plain; charset=utf-8", headers={
        "Content-Disposition":
            f'attachment; filename="assessment-{assessment_id}-{day}.txt"'})


@router.get("/patients/{patient_id}/assessments/{assessment_id}.fhir.json")
def stored_assessment_fhir(request: Request, patient_id: PatientId,
                           assessment_id: AssessmentId) -> Response:
    from hipspine.ehr.fhir_out import risk_assessment
    from hipspine.models.assessment import Assessment

    stored = _stored(request, patient_id, assessment_id)
    resource = risk_assessment(Assessment.model_validate(stored["assessment"]),
                               patient_id=str(patient_id))
    created = stored["created_at"].replace(tzinfo=dt.UTC, microsecond=0)
    resource["occurrenceDateTime"] = created.isoformat()  # when it was made, not now
    return Response(json.dumps(resource, indent=2), media_type="application/fhir+json",
                    headers={"Content-Disposition":
                             f'attachment; filename="assessment-{assessment_id}.fhir.json"'})


@router.get("/patients/{patient_id}/assessments/{assessment_id}")
def stored_assessment_page(request: Request, patient_id: PatientId,
                           assessment_id: AssessmentId) -> Response:
    """A stored assessment with its reasons, as the result page showed it when it was made."""
    stored = _stored(request, patient_id, assessment_id)
    return render(request, "stored_assessment.html", {
        **stored, "plan": stored["plan"], "verdict_text": VERDICT_TEXT,
        "case_id": stored["assessment"].get("case_id"),
        "saved_patient": {"id": patient_id, "pseudonym": stored["patient"]["pseudonym"]},
        "assessed_on": stored["created_at"].date().isoformat(),
        "created": stored["created_at"].strftime("%Y-%m-%d %H:%M UTC")})
