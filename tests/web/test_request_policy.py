"""Every request body bounded, every JSON body under the one JSON policy: NaN, Infinity,
unstorable numbers, lone surrogates, duplicate keys and deep nesting are a 422 naming the
field (never a 500), a body over the limit is a 413, and a case with a megabyte of notes is
still read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from tests.hostile_json import Hostile, hostile_documents
from tests.web.conftest import login

CASE = {"format": "hipspine.case/1", "age": 64, "symptoms": {"pain_locations": ["groin"]}}
JSON = {"Content-Type": "application/json"}


def _strict_json(r: Any) -> Any:
    """The response body, which must itself be strict JSON (no NaN a client cannot read)."""
    return json.loads(r.text, parse_constant=lambda c: pytest.fail(f"{c} in response"))


@pytest.fixture(scope="module")
def module_client(tmp_path_factory: pytest.TempPathFactory,
                  template_registry: Any) -> Iterator[TestClient]:
    """One signed-in clinician for the property test (Hypothesis reuses it across examples)."""
    import shutil

    from hipspine.registry import get_engine
    from hipspine.web.app import create_app
    from hipspine.web.settings import WebSettings

    target = tmp_path_factory.mktemp("policy") / "registry.sqlite"
    shutil.copyfile(template_registry, target)
    engine = get_engine(f"sqlite:///{target}")
    app = create_app(WebSettings(secret_key="test-secret", max_body_bytes=256 * 1024),
                     engine=engine)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield login(client, "clin")
    engine.dispose()


@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(doc=hostile_documents(__import__("tests.assess.test_properties",
                                        fromlist=["cases"]).cases))
def test_hostile_json_is_422_naming_the_field_on_the_api(module_client: TestClient,
                                                         doc: Hostile) -> None:
    r = module_client.post("/api/v1/assess", content=doc.text.encode("utf-8", "surrogatepass"),
                           headers=JSON)
    assert r.status_code == 422, r.text
    problems = _strict_json(r)["problems"]
    if doc.kind != "very_deep":
        assert any(p["field"].startswith(doc.field) for p in problems), problems


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999"])
@pytest.mark.parametrize("path", ["/api/v1/assess", "/api/v1/plan", "/api/v1/patients",
                                  "/api/v1/spinopelvic", "/api/v1/tokens"])
def test_non_finite_numbers_are_422_on_every_json_endpoint(clinician: TestClient, path: str,
                                                          token: str) -> None:
    r = clinician.post(path, content=f'{{"age": {token}, "label": 1}}'.encode(), headers=JSON)
    assert r.status_code == 422
    body = _strict_json(r)
    assert body["problems"][0]["field"] == "age"
    assert "finite number" in body["problems"][0]["allowed"]


def test_duplicate_keys_are_refused_not_resolved(clinician: TestClient) -> None:
    text = '{"format": "hipspine.case/1", "age": 64, "age": 30}'
    r = clinician.post("/api/v1/assess", content=text.encode(), headers=JSON)
    assert r.status_code == 422
    assert _strict_json(r)["problems"] == [
        {"field": "age", "value": "(given more than once)",
         "allowed": "each key once in an object", "message": ""}]


def test_a_lone_surrogate_in_an_id_is_422(clinician: TestClient) -> None:
    r = clinician.post("/api/v1/patients", content=b'{"pseudonym": "P-\\ud800"}',
                       headers=JSON)
    assert r.status_code == 422
    assert _strict_json(r)["problems"][0]["field"] == "pseudonym"


def test_a_body_over_the_limit_is_413_before_any_route_runs(app: Any,
                                                            clinician: TestClient) -> None:
    limit = app.state.settings.max_body_bytes
    big = b'{"format": "hipspine.case/1", "notes": ["' + b"x" * limit + b'"]}'
    r = clinician.post("/api/v1/assess", content=big, headers=JSON)
    assert r.status_code == 413
    assert f"{limit:,} bytes" in r.json()["problems"][0]["allowed"]


def test_a_chunked_body_over_the_limit_is_413(app: Any, clinician: TestClient) -> None:
    limit = app.state.settings.max_body_bytes

    def chunks() -> Iterator[bytes]:
        yield b'{"notes": ["'
        for _ in range(limit // 65536 + 2):
            yield b"y" * 65536
        yield b'"]}'

    r = clinician.post("/api/v1/assess", content=chunks(), headers=JSON)
    assert r.status_code == 413


def test_a_form_over_the_limit_is_413(app: Any, clinician: TestClient) -> None:
    limit = app.state.settings.max_body_bytes
    r = clinician.post("/intake", data={"notes": "z" * (limit + 1)})
    assert r.status_code == 413


def test_a_case_with_a_megabyte_of_notes_is_read(clinician: TestClient) -> None:
    filler = "Seen in clinic, walking tolerance unchanged, reviewed imaging. " * 15_500
    assert len(filler) > 950_000
    case = {**CASE, "notes": [filler + " New saddle anaesthesia since yesterday."]}
    r = clinician.post("/api/v1/assess", json=case)
    assert r.status_code == 200, r.text[:500]
    assert "cauda_equina" in [f["id"] for f in r.json()["red_flags"]]


def test_deep_nesting_in_a_prefill_link_is_422_not_500(app: Any) -> None:
    import base64

    with TestClient(app, raise_server_exceptions=False) as client:
        login(client, "clin")
        raw = ("[" * 5000 + "]" * 5000).encode()
        token = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        r = client.get("/intake", params={"prefill": token})
    assert r.status_code == 422


def test_deep_nesting_in_a_loaded_case_is_422_not_500(app: Any) -> None:
    with TestClient(app, raise_server_exceptions=False) as client:
        login(client, "clin")
        csrf = client.headers["X-CSRF-Token"]
        r = client.post("/intake/load", data={"csrf_token": csrf,
                                              "case_json": "[" * 50_000 + "]" * 50_000})
    assert r.status_code == 422


@pytest.mark.parametrize("field,value", [("age", "nan"), ("age", "1e999"),
                                         ("exam.hip_internal_rotation_deg", "inf"),
                                         ("notes", "a\x00b")])
def test_the_intake_form_refuses_non_finite_numbers_and_nul(app: Any, field: str,
                                                            value: str) -> None:
    with TestClient(app, raise_server_exceptions=False) as client:
        login(client, "clin")
        r = client.post("/intake", data={"csrf_token": client.headers["X-CSRF-Token"],
                                         field: value})
    assert r.status_code == 422
