"""The intake's live estimate: the verdict, the top sources and the red flags, re-rendered as
a small HTML fragment each time a finding is toggled (`POST /intake/estimate`).

It reads the same form as `POST /intake` (same field names, same `intake.case_from_form`),
checks the CSRF token and the signed-in actor, and saves nothing: no assessment row, no
audit entry. A form that does not validate yet answers 200 with the problems listed in the
fragment, so the panel says what to fix instead of going blank.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from hipspine.errors import InputError
from hipspine.models import parse_case
from hipspine.web import intake, services
from hipspine.web.deps import check_form_csrf, page_actor
from hipspine.web.routes.pages import VERDICT_TEXT
from hipspine.web.templating import render

router = APIRouter(include_in_schema=False)

TOP_SOURCES = 3


def _problem_list(exc: InputError) -> list[dict[str, str]]:
    labels = {f.path: f.label for s in intake.sections() for f in s.fields}
    return [{"field": path, "label": labels.get(path, path), "text": text}
            for path, text in intake.errors_by_field(exc).items()]


@router.post("/intake/estimate")
async def intake_estimate(request: Request) -> Response:
    """The estimate for the form as it stands, as the fragment `_estimate.html`."""
    page_actor(request)
    form = intake.form_lists(await request.form())
    check_form_csrf(request, (form.get("csrf_token") or [""])[-1])
    try:
        case = parse_case(intake.case_from_form(form))
    except InputError as exc:
        return render(request, "_estimate.html", {"problems": _problem_list(exc)})
    # CPU-bound (notes and reports are read too): off the event loop
    assessment = (await run_in_threadpool(services.assess, case)).model_dump(mode="json")
    sources = sorted(assessment["sources"], key=lambda s: -s["probability"])[:TOP_SOURCES]
    return render(request, "_estimate.html", {
        "problems": [], "a": assessment, "top_sources": sources,
        "verdict_text": VERDICT_TEXT,
        "findings": sum(1 for k, v in form.items()
                        if k not in ("csrf_token", "patient_id", "episode")
                        and any(x.strip() for x in v)),
    })
