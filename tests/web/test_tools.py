"""Spinopelvic upload page and the patient's self-report (summary and intake pre-fill)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from tests.web.conftest import csrf_of


def test_spinopelvic_upload_shows_class_and_drawing(clinician: TestClient,
                                                    shared_dir: Path) -> None:
    from hipspine.spinopelvic import measure_landmarks

    path = shared_dir / "examples" / "landmarks.json"
    token = csrf_of(clinician.get("/spinopelvic").text)
    r = clinician.post("/spinopelvic", data={"csrf_token": token},
                       files={"landmarks_file": ("landmarks.json", path.read_bytes(),
                                                 "application/json")})
    assert r.status_code == 200
    expected = measure_landmarks(path.read_text()).hip_spine_class
    assert f'id="hip-spine-class">{expected}<' in r.text
    assert "<svg" in r.text


def test_spinopelvic_bad_json_names_the_problem(clinician: TestClient) -> None:
    token = csrf_of(clinician.get("/spinopelvic").text)
    r = clinician.post("/spinopelvic", data={"csrf_token": token,
                                             "landmarks_text": '{"format": "x"}'})
    assert r.status_code == 422 and "format" in r.text


def _answers(token: str, yes: bool) -> dict[str, Any]:
    from hipspine.web import services

    data: dict[str, Any] = {"csrf_token": token, "symptoms.pain_locations": ["groin", "buttock"],
                            "symptoms.pain_putting_on_shoes_socks": "yes",
                            "symptoms.limp": "yes"}
    for defn in services.self_report_instruments():
        for q in services.self_report_questions(defn):
            key = f"{defn.id}.{q.id}"
            data[key] = ("72" if q.id == "age" else "") if q.kind == "number" else (
                "yes" if yes else "no")
    return data


def test_self_report_summary_and_prefill(anon: TestClient, app: Any) -> None:
    page = anon.get("/self-report")
    assert page.status_code == 200 and "Konno" in page.text
    r = anon.post("/self-report", data=_answers(csrf_of(page.text), yes=True))
    assert r.status_code == 200, r.text[:400]
    assert 'id="self-report-summary"' in r.text
    assert "suggests involvement" in r.text
    link = r.text.split('id="prefill-link" href="', 1)[1].split('"', 1)[0]
    with TestClient(app) as clinic:
        from tests.web.conftest import login

        login(clinic, "clin")
        intake = clinic.get(link.replace("&amp;", "&"))
    assert intake.status_code == 200
    assert "self-report" in intake.text
    # answers with the same meaning as a case field arrive pre-filled
    assert 'name="age" type="text" inputmode="decimal" value="72"' in intake.text
    assert re.search(r'value="groin"\s*checked', intake.text)


def test_self_report_stores_nothing(anon: TestClient, engine: Any) -> None:
    from sqlalchemy import func, select

    from hipspine.registry import session_scope
    from hipspine.registry.tables import Patient

    page = anon.get("/self-report")
    anon.post("/self-report", data=_answers(csrf_of(page.text), yes=False))
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Patient)) == 0


def test_self_report_bad_age_is_shown_inline(anon: TestClient) -> None:
    page = anon.get("/self-report")
    data = _answers(csrf_of(page.text), yes=True)
    data["sugioka2008_self_report_lss.age"] = "250"
    r = anon.post("/self-report", data=data)
    assert r.status_code == 422 and "field-error" in r.text
