"""Spinopelvic upload and the patient's self-report before the visit.

The self-report stores nothing: it scores the published self-administered questionnaires
(engineer B's definitions), shows a one-page summary for the clinician and offers a link
that pre-fills the intake with the answers that map onto case fields.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hipspine.errors import InputError
from hipspine.web import services
from hipspine.web.deps import check_form_csrf, page_actor
from hipspine.web.routes.pages import encode_prefill
from hipspine.web.templating import render

router = APIRouter(include_in_schema=False)

MAX_UPLOAD_BYTES = 1_000_000
TARGET_WORDS = {"hip": "the hip", "spine": "the spine (lumbar stenosis)",
                "sacroiliac": "the sacroiliac joint", "vascular": "the blood supply to the legs",
                "neuropathy": "the nerves of the legs", "trochanteric": "the side of the hip"}


@router.get("/spinopelvic")
def spinopelvic_page(request: Request) -> Response:
    page_actor(request)
    return render(request, "spinopelvic.html", {"result": None, "svg": None, "errors": [],
                                                "text": ""})


@router.post("/spinopelvic")
async def spinopelvic_submit(request: Request) -> Response:
    page_actor(request)
    form = await request.form()
    check_form_csrf(request, str(form.get("csrf_token", "")))
    text = str(form.get("landmarks_text", "") or "")
    upload = form.get("landmarks_file")
    if upload is not None and not isinstance(upload, str) and upload.filename:
        data = await upload.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            exc = InputError.single("landmarks_file", upload.filename, "a JSON file under 1 MB",
                                    what="upload")
            return _spinopelvic_error(request, exc, text)
        text = data.decode("utf-8", "replace")
    try:
        from hipspine.spinopelvic import parse_landmarks

        landmarks = parse_landmarks(text)
        result = services.spinopelvic(landmarks)
    except InputError as exc:
        return _spinopelvic_error(request, exc, text)
    svg = services.spinopelvic_svg(landmarks, result)
    return render(request, "spinopelvic.html", {"result": result.model_dump(mode="json"),
                                                "svg": svg, "errors": [], "text": text})


def _spinopelvic_error(request: Request, exc: InputError, text: str) -> Response:
    return render(request, "spinopelvic.html",
                  {"result": None, "svg": None, "errors": [str(p) for p in exc.problems],
                   "text": text}, status_code=422)


# ----------------------------------------------------------------------------- self-report

def _questionnaires() -> list[dict[str, Any]]:
    out = []
    for defn in services.self_report_instruments():
        out.append({"id": defn.id, "name": defn.name, "target": defn.target,
                    "questions": services.self_report_questions(defn)})
    return out


@router.get("/self-report")
def self_report_page(request: Request) -> Response:
    return render(request, "self_report.html", {"questionnaires": _questionnaires(),
                                                "errors": {}, "values": {}})


@router.post("/self-report")
async def self_report_submit(request: Request) -> Response:
    form = await request.form()
    check_form_csrf(request, str(form.get("csrf_token", "")))
    questionnaires = _questionnaires()
    results = []
    case_fields: dict[str, Any] = {}
    errors: dict[str, str] = {}
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    for q in questionnaires:
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
            if services.is_case_field(key):
                case_fields[key] = value
    if errors:
        return render(request, "self_report.html", {"questionnaires": questionnaires,
                                                    "errors": errors, "values": values},
                      status_code=422)
    positive = sorted({r["questionnaire"]["target"] for r in results
                       if r["result"].get("positive")})
    case: dict[str, Any] = {"format": "hipspine.case/1"}
    for path, value in case_fields.items():
        node = case
        parts = path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = int(value) if path == "age" and isinstance(value, float) else value
    return render(request, "self_report_summary.html", {
        "results": results, "positive": [TARGET_WORDS.get(t, t) for t in positive],
        "both": {"hip", "spine"} <= set(positive),
        "prefill": encode_prefill(case), "answers_json": json.dumps(case, indent=1)})
