"""POST /api/v1/assess, /plan, /spinopelvic: formats per PRODUCT.md, errors name the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient


def test_assess_each_example_matches_the_engine(clinician: TestClient,
                                                example_cases: dict[str, Any]) -> None:
    import hipspine

    for name, case in example_cases.items():
        r = clinician.post("/api/v1/assess", json=case)
        assert r.status_code == 200, (name, r.text)
        body = r.json()
        assert body["format"] == "hipspine.assessment/1"
        assert body["engine_version"] and body["knowledge_version"]
        assert body["verdict"] == hipspine.assess(case).verdict
        assert {s["id"] for s in body["sources"]} >= {"hip", "spine"}


def test_assess_evidence_policy_is_a_query_parameter(clinician: TestClient) -> None:
    case = {"format": "hipspine.case/1", "symptoms": {"pain_locations": ["groin"]}}
    default = clinician.post("/api/v1/assess", json=case)
    assert default.status_code == 200 and default.json()["evidence_policy"] == "verified"
    everything = clinician.post("/api/v1/assess?evidence=all", json=case)
    assert everything.status_code == 200 and everything.json()["evidence_policy"] == "all"
    bad = clinician.post("/api/v1/assess?evidence=secondary", json=case)
    assert bad.status_code == 422
    assert "evidence" in bad.text and "secondary" in bad.text


def test_misspelt_finding_is_422_with_suggestion(clinician: TestClient) -> None:
    r = clinician.post("/api/v1/assess", json={"format": "hipspine.case/1",
                                               "exam": {"faber_postive": True}})
    assert r.status_code == 422
    problem = r.json()["problems"][0]
    assert problem["field"] == "exam.faber_postive"
    assert "faber_positive" in problem["allowed"]


@pytest.mark.parametrize(("patch", "field", "allowed_part"), [
    ({"age": 7}, "age", "18"),
    ({"exam": {"hip_internal_rotation_deg": 400}}, "exam.hip_internal_rotation_deg", "90"),
    ({"setting": "icu"}, "setting", "spine_clinic"),
])
def test_out_of_range_values_name_field_value_and_allowed(clinician: TestClient, patch: dict,
                                                          field: str, allowed_part: str) -> None:
    r = clinician.post("/api/v1/assess", json={"format": "hipspine.case/1", **patch})
    assert r.status_code == 422
    problems = {p["field"]: p for p in r.json()["problems"]}
    assert field in problems and allowed_part in problems[field]["allowed"]


def test_not_json_is_422(clinician: TestClient) -> None:
    r = clinician.post("/api/v1/assess", content=b"{not json",
                       headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["error"] == "invalid_input"


def test_assess_needs_credentials(anon: TestClient, example_cases: dict[str, Any]) -> None:
    assert anon.post("/api/v1/assess", json=next(iter(example_cases.values()))).status_code == 401


def test_plan_returns_plan_format(clinician: TestClient, example_cases: dict[str, Any]) -> None:
    r = clinician.post("/api/v1/plan", json=example_cases["hip-spine-syndrome"])
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["format"] == "hipspine.plan/1"
    assert plan["steps"] and all("citation" in s for s in plan["steps"])


def test_spinopelvic_matches_core(clinician: TestClient, shared_dir: Path) -> None:
    from hipspine.spinopelvic import measure_landmarks

    doc = json.loads((shared_dir / "examples" / "landmarks.json").read_text())
    r = clinician.post("/api/v1/spinopelvic", json=doc)
    assert r.status_code == 200, r.text
    assert r.json()["hip_spine_class"] == measure_landmarks(doc).hip_spine_class


def test_assessment_stored_on_episode(clinician: TestClient,
                                      example_cases: dict[str, Any]) -> None:
    pid = clinician.post("/api/v1/patients", json={"pseudonym": "ST-1"}).json()["id"]
    ep = clinician.post(f"/api/v1/patients/{pid}/episodes",
                        json={"opened_on": "2025-02-01"}).json()
    r = clinician.post(f"/api/v1/episodes/{ep['id']}/assessments",
                       json=example_cases["hip-dominant"])
    assert r.status_code == 201, r.text
    stored = r.json()
    assert stored["verdict"] == "hip" and stored["document"]["format"] == "hipspine.assessment/1"
    assert clinician.get(f"/api/v1/episodes/{ep['id']}").json()["verdict"] == "hip"
    bad = clinician.post(f"/api/v1/episodes/{ep['id']}/assessments",
                         json={"format": "hipspine.case/1", "age": "old"})
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "age"


def test_docs_work_offline(anon: TestClient) -> None:
    docs = anon.get("/docs")
    assert docs.status_code == 200
    assert "/static/swagger/swagger-ui-bundle.js" in docs.text
    assert "cdn" not in docs.text.lower() and "https://" not in docs.text
    assert anon.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
    spec = anon.get("/api/v1/openapi.json").json()
    assert {"/api/v1/assess", "/api/v1/plan", "/api/v1/spinopelvic",
            "/api/v1/patients"} <= set(spec["paths"])
