"""Saving a spinopelvic result to a patient, and the patient's next intake plan using it."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.web.conftest import csrf_of, intake_form, login

from hipspine.registry import session_scope
from hipspine.registry.tables import AuditEvent, SpinopelvicRecord


def _patient(client: TestClient, pseudonym: str, case: dict[str, Any] | None = None) -> int:
    body: dict[str, Any] = {"pseudonym": pseudonym}
    if case is not None:
        body.update(year_of_birth=dt.date.today().year - int(case["age"]),
                    sex=case.get("sex", "female"))
    r = client.post("/api/v1/patients", json=body)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _measure(client: TestClient, text: str, pid: int | None = None) -> Any:
    """The spinopelvic page's answer to landmarks posted through its form."""
    params = {"patient_id": pid} if pid is not None else {}
    page = client.get("/spinopelvic", params=params)
    assert page.status_code == 200
    form = {"csrf_token": csrf_of(page.text), "landmarks_text": text}
    if pid is not None:
        form["patient_id"] = str(pid)
    return client.post("/spinopelvic", data=form)


def _save(client: TestClient, pid: int, text: str) -> Any:
    measured = _measure(client, text, pid)
    assert measured.status_code == 200
    assert 'id="spinopelvic-save"' in measured.text and "Save to the patient" in measured.text
    return client.post("/spinopelvic/save",
                       data={"csrf_token": csrf_of(measured.text), "patient_id": str(pid),
                             "landmarks_text": text}, follow_redirects=False)


def test_save_to_the_patient_stores_and_audits(clinician: TestClient, engine: Any,
                                               shared_dir: Path) -> None:
    from hipspine.spinopelvic import measure_landmarks

    text = (shared_dir / "examples" / "landmarks.json").read_text()
    pid = _patient(clinician, "SP-1")
    assert "No spinopelvic result saved" in clinician.get(
        "/spinopelvic", params={"patient_id": pid}).text
    r = _save(clinician, pid, text)
    assert r.status_code == 303 and r.headers["location"].startswith(
        f"/spinopelvic?patient_id={pid}&saved=")
    page = clinician.get(r.headers["location"]).text
    expected = measure_landmarks(text)
    assert "Saved to the patient." in page
    assert f"Hip-spine class {expected.hip_spine_class}" in page
    with session_scope(engine) as s:
        rows = list(s.scalars(select(SpinopelvicRecord)))
        assert [(r.patient_id, r.created_by) for r in rows] == [(pid, "clin")]
        assert rows[0].document["hip_spine_class"] == expected.hip_spine_class
        actions = set(s.scalars(select(AuditEvent.action)))
    assert {"spinopelvic.create", "spinopelvic.read"} <= actions


def test_the_page_without_a_patient_offers_no_save(clinician: TestClient,
                                                   shared_dir: Path) -> None:
    text = (shared_dir / "examples" / "landmarks.json").read_text()
    r = _measure(clinician, text)
    assert r.status_code == 200 and "spinopelvic-save" not in r.text


def test_saving_is_access_checked(app: Any, clinician: TestClient, engine: Any,
                                  shared_dir: Path) -> None:
    text = (shared_dir / "examples" / "landmarks.json").read_text()
    pid = _patient(clinician, "SP-2")
    with TestClient(app) as other:
        login(other, "clin2")
        assert other.get("/spinopelvic", params={"patient_id": pid}).status_code == 404
        token = csrf_of(other.get("/spinopelvic").text)
        r = other.post("/spinopelvic/save", data={"csrf_token": token, "patient_id": str(pid),
                                                  "landmarks_text": text})
        assert r.status_code == 404
    with TestClient(app) as res:
        login(res, "res")
        assert res.get("/spinopelvic", params={"patient_id": pid}).status_code == 403
    r = clinician.post("/spinopelvic/save", data={"csrf_token": "wrong", "patient_id": str(pid),
                                                  "landmarks_text": text})
    assert r.status_code in (400, 403)
    with session_scope(engine) as s:
        assert list(s.scalars(select(SpinopelvicRecord))) == []


def test_bad_landmarks_are_not_saved(clinician: TestClient, engine: Any) -> None:
    pid = _patient(clinician, "SP-3")
    token = csrf_of(clinician.get("/spinopelvic", params={"patient_id": pid}).text)
    r = clinician.post("/spinopelvic/save", data={"csrf_token": token, "patient_id": str(pid),
                                                  "landmarks_text": '{"format": "x"}'})
    assert r.status_code == 422 and "format" in r.text
    with session_scope(engine) as s:
        assert list(s.scalars(select(SpinopelvicRecord))) == []


def _intake(client: TestClient, case: dict[str, Any], pid: int) -> str:
    data = intake_form(case, csrf_of(client.get("/intake").text), patient_id=str(pid))
    r = client.post("/intake", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text[:2000]
    page = client.get(r.headers["location"])
    assert page.status_code == 200
    return page.text


def test_the_intake_plan_uses_the_saved_result(clinician: TestClient, shared_dir: Path,
                                               example_cases: dict[str, Any]) -> None:
    """End to end: a saved Hip-Spine class reaches the plan's cautions for the hip
    replacement; a patient without one gets no such caution."""
    from hipspine.spinopelvic import measure_landmarks

    case = example_cases["hip-dominant"]
    text = (shared_dir / "examples" / "landmarks.json").read_text()
    klass = measure_landmarks(json.loads(text)).hip_spine_class
    assert klass is not None
    without = _patient(clinician, "SP-4", case)
    assert "For the hip replacement" not in _intake(clinician, case, without)
    pid = _patient(clinician, "SP-5", case)
    assert _save(clinician, pid, text).status_code == 303
    shown = _intake(clinician, case, pid)
    plan = shown[shown.index('id="plan"'):]
    assert re.search(rf"For the hip replacement: Hip-Spine class {re.escape(klass)}\b", plan)


def test_the_patient_page_links_to_the_spinopelvic_tool_for_that_patient(
        clinician: TestClient) -> None:
    pid = clinician.post("/api/v1/patients", json={"pseudonym": "SP-LINK-1"}).json()["id"]
    page = clinician.get(f"/patients/{pid}").text
    assert f'id="spinopelvic-for-patient" href="/spinopelvic?patient_id={pid}"' in page


def test_the_api_assessment_on_an_episode_plans_with_the_saved_result(
        clinician: TestClient, engine: Any, shared_dir: Path,
        example_cases: dict[str, Any]) -> None:
    """POST /api/v1/episodes/{id}/assessments stores a plan that sees the patient's saved
    Hip-Spine class, as the intake does; the same case on a patient without one does not."""
    from hipspine.registry.tables import StoredPlan
    from hipspine.spinopelvic import measure_landmarks

    case = example_cases["hip-dominant"]
    text = (shared_dir / "examples" / "landmarks.json").read_text()
    klass = measure_landmarks(json.loads(text)).hip_spine_class

    def plan_cautions(pid: int) -> str:
        ep = clinician.post(f"/api/v1/patients/{pid}/episodes",
                            json={"opened_on": "2026-01-10", "setting": "arthroplasty_clinic"})
        assert ep.status_code == 201, ep.text
        r = clinician.post(f"/api/v1/episodes/{ep.json()['id']}/assessments", json=case)
        assert r.status_code == 201, r.text
        with session_scope(engine) as s:
            plan = s.scalars(select(StoredPlan).where(
                StoredPlan.episode_id == ep.json()["id"])).one()
            return json.dumps(plan.document)

    without = _patient(clinician, "SP-API-1", case)
    assert f"Hip-Spine class {klass}" not in plan_cautions(without)
    pid = _patient(clinician, "SP-API-2", case)
    assert _save(clinician, pid, text).status_code == 303
    assert f"Hip-Spine class {klass}" in plan_cautions(pid)


def test_the_spinopelvic_page_cites_in_words_with_a_link(clinician: TestClient,
                                                         shared_dir: Path) -> None:
    text = (shared_dir / "examples" / "landmarks.json").read_text()
    r = _measure(clinician, text)
    assert r.status_code == 200
    assert "[luthringer2019]" not in r.text  # a citekey is not a citation a clinician reads
    assert "Luthringer" in r.text and "30755374" in r.text
