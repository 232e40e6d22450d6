"""Records that stay right, and coming back to work (issue 14).

Saving an assessment redirects to its stored page (reloading never saves twice); episodes
of care open only when the clinician asks; empty questionnaires are refused beside the
form; the intake is pre-filled from, and checked against, the patient's record; a stored
assessment can be reopened, re-assessed, exported as text and FHIR, and printed.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.web.conftest import csrf_of, intake_form, login

from hipspine.registry import session_scope
from hipspine.registry.tables import AuditEvent, Episode, PromAdministration, StoredAssessment
from hipspine.web.intake import form_values

THIS_YEAR = dt.date.today().year


def _count(engine: Any, table: Any) -> int:
    with session_scope(engine) as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def _patient(clinician: TestClient, pseudonym: str, year_of_birth: int | None = None,
             sex: str | None = None) -> int:
    body: dict[str, Any] = {"pseudonym": pseudonym}
    if year_of_birth is not None:
        body["year_of_birth"] = year_of_birth
    if sex is not None:
        body["sex"] = sex
    r = clinician.post("/api/v1/patients", json=body)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _form(clinician: TestClient, case: dict[str, Any], **extra: str) -> dict[str, Any]:
    return intake_form(case, csrf_of(clinician.get("/intake").text), **extra)


def _matching_patient(clinician: TestClient, case: dict[str, Any], name: str) -> int:
    return _patient(clinician, name, THIS_YEAR - int(case["age"]), case.get("sex", "female"))


def _save(clinician: TestClient, case: dict[str, Any], pid: int, **extra: str) -> str:
    r = clinician.post("/intake", data=_form(clinician, case, patient_id=str(pid), **extra),
                       follow_redirects=False)
    assert r.status_code == 303, r.text[:2000]
    return str(r.headers["location"])


# ----------------------------------------------------------------------------- 1. PRG

def test_saving_redirects_and_reloading_the_result_saves_nothing(
        engine: Any, clinician: TestClient, example_cases: dict[str, Any]) -> None:
    case = example_cases["hip-dominant"]
    pid = _matching_patient(clinician, case, "REC-1")
    where = _save(clinician, case, pid)
    assert re.fullmatch(rf"/patients/{pid}/assessments/\d+", where)
    for _ in range(3):  # the clinician reloads the result page
        page = clinician.get(where)
        assert page.status_code == 200
        assert 'id="verdict"' in page.text and "Saved to the record" in page.text
    assert _count(engine, StoredAssessment) == 1


def test_prom_and_treatment_forms_redirect_after_writing(clinician: TestClient) -> None:
    pid = _patient(clinician, "REC-2")
    form = clinician.get(f"/patients/{pid}/proms/new", params={"instrument": "nrs_hip"})
    r = clinician.post(f"/patients/{pid}/proms", follow_redirects=False, data={
        "csrf_token": csrf_of(form.text), "instrument": "nrs_hip", "item_0": "5",
        "administered_on": "2026-01-05"})
    assert r.status_code == 303 and r.headers["location"].startswith(f"/patients/{pid}")
    r = clinician.post(f"/patients/{pid}/treatments", follow_redirects=False, data={
        "csrf_token": csrf_of(form.text), "type": "hip_injection", "target": "hip",
        "performed_on": "2026-01-06"})
    assert r.status_code == 303


# ----------------------------------------------------------------------------- 2. episodes

def test_a_second_assessment_joins_the_open_episode_unless_asked(
        engine: Any, clinician: TestClient, example_cases: dict[str, Any]) -> None:
    case = example_cases["hip-dominant"]
    pid = _matching_patient(clinician, case, "REC-3")
    page = clinician.get("/intake", params={"patient_id": pid}).text
    assert 'id="episode-open"' not in page  # nothing open yet: only "open a new episode"
    assert re.search(r'value="new" id="episode-new" checked', page)
    _save(clinician, case, pid, episode="new")
    page = clinician.get("/intake", params={"patient_id": pid}).text
    assert re.search(r'value="open" id="episode-open" checked', page)  # the default
    _save(clinician, case, pid, episode="open")
    _save(clinician, case, pid)  # no choice sent: the open episode, never a new one
    assert _count(engine, Episode) == 1 and _count(engine, StoredAssessment) == 3
    _save(clinician, case, pid, episode="new")
    assert _count(engine, Episode) == 2


def test_adding_to_an_open_episode_that_does_not_exist_is_refused(
        engine: Any, clinician: TestClient, example_cases: dict[str, Any]) -> None:
    case = example_cases["hip-dominant"]
    pid = _matching_patient(clinician, case, "REC-4")
    r = clinician.post("/intake", data=_form(clinician, case, patient_id=str(pid),
                                             episode="open"))
    assert r.status_code == 422 and 'id="f-episode-err"' in r.text
    assert "no open episode" in r.text
    assert _count(engine, Episode) == 0 and _count(engine, StoredAssessment) == 0


# ----------------------------------------------------------------------------- 3. empty, dates

def test_an_empty_prom_is_refused_with_a_message(engine: Any, clinician: TestClient) -> None:
    pid = _patient(clinician, "REC-5")
    form = clinician.get(f"/patients/{pid}/proms/new", params={"instrument": "nrs_hip"})
    r = clinician.post(f"/patients/{pid}/proms", data={
        "csrf_token": csrf_of(form.text), "instrument": "nrs_hip",
        "administered_on": "2026-01-05"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert 'id="prom-errors"' in r.text and "No item was answered" in r.text
    assert _count(engine, PromAdministration) == 0


def test_future_and_pre_1900_dates_show_beside_the_field(engine: Any,
                                                         clinician: TestClient) -> None:
    pid = _patient(clinician, "REC-6")
    form = clinician.get(f"/patients/{pid}/proms/new", params={"instrument": "nrs_hip"})
    future = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    for day in (future, "1899-12-31"):
        r = clinician.post(f"/patients/{pid}/proms", data={
            "csrf_token": csrf_of(form.text), "instrument": "nrs_hip", "item_0": "4",
            "administered_on": day})
        assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
        assert re.search(r'id="administered_on-err" role="alert">[^<]*\w', r.text), day
        assert f'value="{day}"' in r.text  # what was typed stays in the field
        t = clinician.post(f"/patients/{pid}/treatments", data={
            "csrf_token": csrf_of(form.text), "type": "hip_injection", "target": "hip",
            "performed_on": day})
        assert t.status_code == 422 and t.headers["content-type"].startswith("text/html")
        assert 'id="t-date-err"' in t.text and 'id="timeline"' in t.text
    assert _count(engine, PromAdministration) == 0
    assert "hip injection (hip" not in clinician.get(f"/patients/{pid}").text


def test_an_empty_patient_link_submission_is_refused_and_the_link_stays_open(
        app: Any, engine: Any, clinician: TestClient) -> None:
    pid = _patient(clinician, "REC-7")
    page = clinician.get(f"/patients/{pid}")
    issued = clinician.post(f"/patients/{pid}/links", data={
        "csrf_token": csrf_of(page.text), "instrument": "nrs_leg", "timepoint": "6m"})
    match = re.search(r'id="link-url"[^>]* value="http://testserver([^"]+)"', issued.text)
    assert match
    path = match.group(1)
    with TestClient(app) as phone:
        form = phone.get(path, headers={"Accept": "text/html"})
        r = phone.post(path, data={"csrf_token": csrf_of(form.text)})
        assert r.status_code == 422 and "No item was answered" in r.text
        assert _count(engine, PromAdministration) == 0
        done = phone.post(path, data={"csrf_token": csrf_of(form.text), "item_0": "3"})
        assert done.status_code == 200 and "Thank you" in done.text
    assert _count(engine, PromAdministration) == 1


# ----------------------------------------------------------------------------- 4. record

def test_the_intake_is_prefilled_from_the_record_with_its_source(
        clinician: TestClient) -> None:
    pid = _patient(clinician, "REC-8", 1956, "male")
    page = clinician.get("/intake", params={"patient_id": pid}).text
    age = THIS_YEAR - 1956
    assert re.search(rf'name="age" type="text" inputmode="decimal" value="{age}"', page)
    assert '<option value="male" selected>' in page
    assert re.search(r'id="src-age">from the patient record<', page)
    assert re.search(r'id="src-sex">from the patient record<', page)
    assert "Pre-filled from the patient record" in page


def test_a_case_contradicting_the_record_is_refused_naming_both_values(
        engine: Any, clinician: TestClient, example_cases: dict[str, Any]) -> None:
    pid = _patient(clinician, "REC-9", 1956, "male")
    case = {**example_cases["hip-dominant"], "age": 71 if THIS_YEAR - 1956 < 69 else 40,
            "sex": "female"}
    r = clinician.post("/intake", data=_form(clinician, case, patient_id=str(pid)))
    assert r.status_code == 422
    assert re.search(rf'id="f-age-err" role="alert">Age {case["age"]} contradicts the '
                     r'patient record: born 1956', r.text)
    assert re.search(r'id="f-sex-err" role="alert">Sex female contradicts the patient '
                     r'record: male', r.text)
    assert _count(engine, StoredAssessment) == 0 and _count(engine, Episode) == 0
    ok = {**case, "age": THIS_YEAR - 1956 - 1, "sex": "male"}  # before the birthday: fine
    _save(clinician, ok, pid)


# ----------------------------------------------------------------------------- 5. coming back

def test_a_stored_assessment_reopens_with_its_reasons_and_is_audited(
        engine: Any, app: Any, clinician: TestClient, example_cases: dict[str, Any]) -> None:
    import hipspine

    case = example_cases["hip-dominant"]
    pid = _matching_patient(clinician, case, "REC-10")
    where = _save(clinician, case, pid)
    aid = int(where.rsplit("/", 1)[1])
    patient = clinician.get(f"/patients/{pid}").text
    assert f'href="{where}"' in patient  # reopened from the patient page
    page = clinician.get(where).text
    expected = hipspine.assess(case)
    assert f'data-verdict="{expected.verdict}"' in page
    assert 'id="assessment-date"' in page and dt.date.today().isoformat() in page
    with session_scope(engine) as s:
        reads = s.scalars(select(AuditEvent).where(AuditEvent.action == "assessment.read")
                          .where(AuditEvent.resource_id == str(aid))).all()
        assert reads
        row = s.get(StoredAssessment, aid)
        assert row is not None and row.document["intake_case"]["age"] == case["age"]
    with TestClient(app) as other:  # a clinician not assigned to the patient
        login(other, "clin2")
        assert other.get(where).status_code == 404
        assert other.get(f"{where}.txt").status_code == 404


def test_reassess_from_the_last_values(clinician: TestClient,
                                       example_cases: dict[str, Any]) -> None:
    case = example_cases["hip-dominant"]
    pid = _matching_patient(clinician, case, "REC-11")
    assert 'id="reassess"' not in clinician.get(f"/patients/{pid}").text
    _save(clinician, case, pid)
    assert 'id="reassess"' in clinician.get(f"/patients/{pid}").text
    page = clinician.get("/intake", params={"patient_id": pid, "from": "last"}).text
    assert "the last stored assessment" in page
    filled = {k: v for k, v in form_values(case).items() if isinstance(v, str | int | float)
              and not isinstance(v, bool) and k not in ("format", "age", "sex", "notes")
              and "\n" not in str(v)}
    path, value = next(iter(sorted(filled.items())))
    assert f'value="{value}"' in page or f'value="{value}" selected' in page, path
    assert "from the last assessment" in page and "from the patient record" in page


def test_text_and_fhir_exports(clinician: TestClient, example_cases: dict[str, Any]) -> None:
    case = example_cases["hip-dominant"]
    pid = _matching_patient(clinician, case, "REC-12")
    where = _save(clinician, case, pid)
    text = clinician.get(f"{where}.txt")
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/plain")
    assert "attachment" in text.headers["content-disposition"]
    body = text.text
    assert "REC-12" in body and f"Date: {dt.date.today().isoformat()}" in body
    assert "Conclusion: The hip is the most likely source" in body
    assert "Decision support, not diagnosis" in body and "<html" not in body.lower()
    fhir = clinician.get(f"{where}.fhir.json")
    assert fhir.status_code == 200
    resource = json.loads(fhir.text)
    assert resource["resourceType"] == "RiskAssessment"
    assert resource["occurrenceDateTime"].startswith(dt.date.today().isoformat())
    assert resource["subject"] == {"reference": f"Patient/{pid}"}


def test_pages_print_without_navigation(clinician: TestClient) -> None:
    page = clinician.get("/").text
    assert '<link rel="stylesheet" href="/static/print.css" media="print">' in page
    css = clinician.get("/static/print.css").text
    assert "@media print" in css and "nav" in css and "display: none" in css
