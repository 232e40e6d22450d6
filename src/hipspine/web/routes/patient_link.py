"""PROM questionnaires a patient fills in on their own phone, through a signed link.

The clinician's patient page makes the link; it names no patient (only a signed, expiring
token), needs no account, and lets the holder submit that one questionnaire, for instruments
whose licence lets hipspine ship the wording. The score lands in the registry.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from hipspine.errors import InputError, NotFoundError
from hipspine.models import parse_model
from hipspine.web import services, store
from hipspine.web.deps import check_form_csrf, transaction
from hipspine.web.schemas import PromCreate
from hipspine.web.templating import render

router = APIRouter(include_in_schema=False)
SALT = "hipspine-prom-link"


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.settings.secret_key, salt=SALT)


def make_link(request: Request, patient_id: int, instrument: str, issued_by: str) -> str:
    token = _serializer(request).dumps({"p": patient_id, "i": instrument, "by": issued_by})
    return f"/q/{token}"


def _read(request: Request, token: str) -> dict[str, Any]:
    max_age = request.app.state.settings.patient_link_days * 86400
    try:
        data = _serializer(request).loads(token, max_age=max_age)
    except SignatureExpired:
        raise NotFoundError("this questionnaire link has expired: ask the clinic for a new "
                            "one") from None
    except BadSignature:
        raise NotFoundError("this questionnaire link is not valid") from None
    if not isinstance(data, dict) or not {"p", "i", "by"} <= set(data):
        raise NotFoundError("this questionnaire link is not valid")
    return data


def _shippable(instrument_id: str) -> Any:
    from hipspine.proms import find_instrument

    inst = find_instrument(instrument_id)
    if not inst.licence.item_wording_shipped:
        raise NotFoundError("this questionnaire is not available as a patient link")
    return inst


@router.get("/q/{token}")
def patient_prom_form(request: Request, token: str) -> Response:
    data = _read(request, token)
    inst = _shippable(str(data["i"]))
    return render(request, "prom_form.html", {
        "patient": None, "instrument": inst, "action": f"/q/{token}",
        "today": dt.date.today().isoformat(), "timepoints": [], "errors": {}, "values": {}})


@router.post("/q/{token}")
async def patient_prom_submit(request: Request, token: str) -> Response:
    data = _read(request, token)
    inst = _shippable(str(data["i"]))
    form = await request.form()
    check_form_csrf(request, str(form.get("csrf_token", "")))
    items: list[int | None] = []
    for index in range(len(inst.items)):
        raw = str(form.get(f"item_{index}", "")).strip()
        if raw and not raw.lstrip("-").isdigit():
            raise InputError.single(f"items[{index}]", raw, "a whole number", what="PROM")
        items.append(int(raw) if raw else None)
    body = parse_model(PromCreate, {"instrument": inst.id, "items": items,
                                    "administered_on": dt.date.today().isoformat()}, "PROM")
    scored = services.score_prom(body.instrument, body.items)
    with transaction(request) as s:
        store.create_prom_by_patient_link(
            s, int(data["p"]), str(data["by"]), instrument=body.instrument, timepoint=None,
            administered_on=body.administered_on, items=body.items, score=scored.score,
            scores=scored.detail, missing_items=scored.missing_items)
    return render(request, "message.html", {"heading": "Thank you",
                                            "message": "Your answers have been sent to the "
                                                       "clinic. You can close this page."})
