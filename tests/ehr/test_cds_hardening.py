"""CDS Hooks under hostile input: the one JSON policy answers 422 naming the field (never a
500, whether or not the app's request policy sits in front of the router), and a call's
import, assessment and card rules run off the event loop, so one large record cannot hold
up every other request."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from .cds_helpers import Ehr, make_app
from .test_cds_hooks import URL, request_for

HOSTILE = [("NaN", "prefetch.patient.extra"), ("1e999", "prefetch.patient.extra"),
           ('"a\\ud800"', "prefetch.patient.extra"), ("[" * 80 + "]" * 80,
                                                       "prefetch.patient.extra")]


def _hostile_body(token: str) -> bytes:
    body = request_for("p1", [])
    body["prefetch"]["patient"]["extra"] = "__X__"
    return json.dumps(body).replace('"__X__"', token).encode()


@pytest.mark.parametrize("token,field", HOSTILE)
def test_hostile_json_on_the_bare_router_is_422(ehr: Ehr, token: str, field: str) -> None:
    client = TestClient(make_app(ehr), raise_server_exceptions=False)
    r = client.post(URL, content=_hostile_body(token),
                    headers={**ehr.auth(), "Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["problems"][0]["field"].startswith(field)


def test_duplicate_keys_in_feedback_are_422(ehr: Ehr) -> None:
    client = TestClient(make_app(ehr), raise_server_exceptions=False)
    text = '{"feedback": [], "feedback": [{"card": "x"}]}'
    r = client.post(f"{URL}/feedback", content=text.encode(),
                    headers={**ehr.auth(), "Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["problems"][0]["field"] == "feedback"


def test_card_work_runs_off_the_event_loop(ehr: Ehr, monkeypatch: pytest.MonkeyPatch) -> None:
    from hipspine.ehr.cds import router

    seen: list[bool] = []
    real = router.make_cards

    def recording(*args: Any, **kwargs: Any) -> Any:
        try:
            asyncio.get_running_loop()
            seen.append(True)   # called on the event loop's thread
        except RuntimeError:
            seen.append(False)  # a worker thread
        return real(*args, **kwargs)

    monkeypatch.setattr(router, "make_cards", recording)
    client = TestClient(make_app(ehr))
    r = client.post(URL, json=request_for("p1", []), headers=ehr.auth())
    assert r.status_code == 200
    assert seen == [False]
