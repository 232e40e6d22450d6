"""Spinopelvic upload and the patient's self-report before the visit.

The self-report stores nothing: it scores the published self-administered questionnaires
(engineer B's definitions), shows a one-page summary for the clinician and offers a link
that pre-fills the intake with the answers that map onto case fields.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from hipspine.errors import InputError, KnowledgeBaseError
from hipspine.models import parse_case
from hipspine.web import services, store
from hipspine.web.deps import check_form_csrf, page_actor, transaction
from hipspine.web.routes.pages import encode_prefill
from hipspine.web.store import Actor
from hipspine.web.templating import render

router = APIRouter(include_in_schema=False)

MAX_UPLOAD_BYTES = 1_000_000
TARGET_WORDS = {"hip": "the hip", "spine": "the spine (lumbar stenosis)",
                "sacroiliac": "the sacroiliac joint", "vascular": "the blood supply to the legs",
                "neuropathy": "the nerves of the legs", "trochanteric": "the side of the hip"}


def _landmark_guide() -> str:
    """The click tool's guide (landmark, name, where it goes, optional?) as JSON."""
    from hipspine.models.landmarks import LANDMARK_GUIDE, OPTIONAL_LANDMARKS

    return json.dumps([{"key": k, "name": name, "where": where,
                        "optional": k in OPTIONAL_LANDMARKS}
                       for k, (name, where) in LANDMARK_GUIDE.items()])


def _spinopelvic_render(request: Request, context: dict[str, Any],
                        status_code: int = 200, patient: dict[str, Any] | None = None
                        ) -> Response:
    return render(request, "spinopelvic.html",
                  {**context, "guide": _landmark_guide(), "patient": patient},
                  status_code=status_code)


def _patient_id(raw: Any) -> int | None:
    text = str(raw or "").strip()
    return int(text) if text.isdigit() and len(text) < 10 else None


def _patient(request: Request, actor: Actor, patient_id: int | None) -> dict[str, Any] | None:
    """The patient the page is opened for (access-checked: 404 when not visible) and the
    latest spinopelvic result saved to them."""
    if patient_id is None:
        return None
    with transaction(request) as s:
        patient = store.get_patient(s, actor, patient_id)
        latest = store.latest_spinopelvic(s, actor, patient_id)
        return {"id": patient.id, "pseudonym": patient.pseudonym,
                "saved": None if latest is None else {
                    "id": latest.id, "at": latest.created_at.strftime("%Y-%m-%d %H:%M"),
                    "by": latest.created_by,
                    "hip_spine_class": latest.document.get("hip_spine_class")}}


@router.get("/spinopelvic")
def spinopelvic_page(request: Request,
                     patient_id: Annotated[int | None, Query(ge=1, lt=10**9)] = None,
                     saved: Annotated[int | None, Query(ge=0, lt=10**9)] = None) -> Response:
    actor = page_actor(request)
    patient = _patient(request, actor, patient_id)
    return _spinopelvic_render(request, {"result": None, "svg": None, "errors": [],
                                         "text": "", "just_saved": bool(saved)},
                               patient=patient)


async def _landmarks_text(form: Any) -> tuple[str, InputError | None]:
    text = str(form.get("landmarks_text", "") or "")
    upload = form.get("landmarks_file")
    if upload is not None and not isinstance(upload, str) and upload.filename:
        data = await upload.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            return text, InputError.single("landmarks_file", upload.filename,
                                           "a JSON file under 1 MB", what="upload")
        text = data.decode("utf-8", "replace")
    return text, None


@router.post("/spinopelvic")
async def spinopelvic_submit(request: Request) -> Response:
    actor = page_actor(request)
    form = await request.form()
    check_form_csrf(request, str(form.get("csrf_token", "")))
    patient = _patient(request, actor, _patient_id(form.get("patient_id")))
    text, problem = await _landmarks_text(form)
    if problem is not None:
        return _spinopelvic_error(request, problem, text, patient)
    try:
        from hipspine.spinopelvic import parse_landmarks

        landmarks = parse_landmarks(text)
        result = services.spinopelvic(landmarks)
    except InputError as exc:
        return _spinopelvic_error(request, exc, text, patient)
    svg = services.spinopelvic_svg(landmarks, result)
    return _spinopelvic_render(request, {"result": result.model_dump(mode="json"),
                                         "svg": svg, "errors": [], "text": text},
                               patient=patient)


@router.post("/spinopelvic/save")
async def spinopelvic_save(request: Request) -> Response:
    """Measure the posted landmarks again (the result is never taken from the browser) and
    store the result for the patient; the patient's next intake plan reads it."""
    actor = page_actor(request)
    form = await request.form()
    check_form_csrf(request, str(form.get("csrf_token", "")))
    pid = _patient_id(form.get("patient_id"))
    if pid is None:
        raise InputError.single("patient_id", str(form.get("patient_id", "")),
                                "a patient from the list", what="form")
    patient = _patient(request, actor, pid)  # access first
    text = str(form.get("landmarks_text", "") or "")
    try:
        from hipspine.spinopelvic import parse_landmarks

        landmarks = parse_landmarks(text)
        result = services.spinopelvic(landmarks)
    except InputError as exc:
        return _spinopelvic_error(request, exc, text, patient)
    with transaction(request) as s:
        row = store.save_spinopelvic(s, actor, pid, result.model_dump(mode="json"))
        saved_id = row.id
    return RedirectResponse(f"/spinopelvic?patient_id={pid}&saved={saved_id}", status_code=303)


def _spinopelvic_error(request: Request, exc: InputError, text: str,
                       patient: dict[str, Any] | None = None) -> Response:
    return _spinopelvic_render(request, {"result": None, "svg": None,
                                         "errors": [str(p) for p in exc.problems],
                                         "text": text}, status_code=422, patient=patient)


# ----------------------------------------------------------------------------- self-report

SELF_REPORT_FILE = Path(__file__).resolve().parents[1] / "self_report.yaml"


@lru_cache(maxsize=1)
def _self_report_config() -> dict[str, Any]:
    import yaml

    data = yaml.safe_load(SELF_REPORT_FILE.read_text(encoding="utf-8"))
    for entry in data.get("prefill", []) + data.get("hip_questions", []):
        if not services.is_case_field(entry["case_field"]):
            raise KnowledgeBaseError(f"self_report.yaml: {entry['case_field']!r} is not a "
                                     "field of the case format")
    return dict(data)


def _questionnaires() -> list[dict[str, Any]]:
    out = []
    for defn in services.self_report_instruments():
        out.append({"id": defn.id, "name": defn.name, "target": defn.target,
                    "questions": services.self_report_questions(defn)})
    return out


def _context(values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    from hipspine.web import intake

    return {"questionnaires": _questionnaires(), "errors": errors, "values": values,
            "hip_questions": _self_report_config().get("hip_questions", []),
            "locations": intake.pain_locations()}


@router.get("/self-report")
def self_report_page(request: Request) -> Response:
    return render(request, "self_report.html", _context({}, {}))


def _put(case: dict[str, Any], path: str, value: Any) -> None:
    node = case
    parts = path.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


@router.post("/self-report")
async def self_report_submit(request: Request) -> Response:
    form = await request.form()
    check_form_csrf(request, str(form.get("csrf_token", "")))
    config = _self_report_config()
    results = []
    case: dict[str, Any] = {"format": "hipspine.case/1"}
    errors: dict[str, str] = {}
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    locations = [str(v) for v in form.getlist("symptoms.pain_locations") if isinstance(v, str)]
    values_for_page: dict[str, Any] = {**values, "symptoms.pain_locations": locations}
    carried = {(e["instrument"], e["question"]): e["case_field"] for e in config["prefill"]}
    for q in _questionnaires():
        answers: dict[str, Any] = {}
        for question in q["questions"]:
            raw = values.get(f"{q['id']}.{question.id}", "").strip()
            if raw == "":
                continue
            if question.kind == "yes_no":
                answers[question.id] = raw == "yes" if raw in ("yes", "no") else raw
            else:
                try:
                    answers[question.id] = float(raw.replace(",", "."))
                except ValueError:
                    answers[question.id] = raw
        try:
            result = services.score_self_report(q["id"], answers)
        except InputError as exc:
            for p in exc.problems:
                errors[f"{q['id']}.{p.field}"] = f"allowed: {p.allowed}"
            continue
        results.append({"questionnaire": q, "result": result.model_dump(mode="json")})
        for key, value in answers.items():
            field = carried.get((q["id"], key))
            if field is not None:
                _put(case, field, int(value) if field == "age" else value)
    for hq in config.get("hip_questions", []):
        raw = values.get(hq["case_field"], "")
        if raw in ("yes", "no"):
            _put(case, hq["case_field"], raw == "yes")
    if locations:
        _put(case, "symptoms.pain_locations", locations)
    if errors:
        return render(request, "self_report.html", _context(values_for_page, errors),
                      status_code=422)
    try:
        assessment = services.assess(parse_case(case)).model_dump(mode="json")
    except InputError as exc:
        return render(request, "self_report.html",
                      _context(values_for_page, {p.field: f"allowed: {p.allowed}"
                                                 for p in exc.problems}),
                      status_code=422)
    positive = sorted({r["questionnaire"]["target"] for r in results
                       if r["result"].get("positive")})
    return render(request, "self_report_summary.html", {
        "results": results, "positive": [TARGET_WORDS.get(t, t) for t in positive],
        "verdict": assessment["verdict"], "sources": assessment["sources"],
        "prefill": encode_prefill(case), "answers_json": json.dumps(case, indent=1)})
