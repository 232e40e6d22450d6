"""Clinician pages: intake -> result, inline validation, patient timeline, PROM and treatment."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from tests.web.conftest import csrf_of, intake_form

from hipspine.web.intake import form_values


def test_intake_result_for_each_example(clinician: TestClient,
                                        example_cases: dict[str, Any]) -> None:
    import hipspine

    for name, case in example_cases.items():
        token = csrf_of(clinician.get("/intake").text)
        r = clinician.post("/intake", data=intake_form(case, token))
        assert r.status_code == 200, (name, r.text[:500])
        expected = hipspine.assess(case)
        assert f'data-verdict="{expected.verdict}"' in r.text
        assert "Decision support, not" in r.text
        assert expected.knowledge_version in r.text


def test_intake_form_round_trips_the_case(example_cases: dict[str, Any]) -> None:
    from hipspine.models import parse_case
    from hipspine.web.intake import case_from_form

    for case in example_cases.values():
        form: dict[str, list[str]] = {}
        for path, value in form_values(case).items():
            if path != "format":
                form[path] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
        rebuilt = parse_case(case_from_form(form))
        original = parse_case(case)
        assert rebuilt.model_dump(exclude={"history": {"prior_treatments"}}) == \
            original.model_dump(exclude={"history": {"prior_treatments"}})
        assert rebuilt.history.prior_treatments == original.history.prior_treatments[:3]


def test_inline_errors_beside_fields(clinician: TestClient) -> None:
    token = csrf_of(clinician.get("/intake").text)
    r = clinician.post("/intake", data={"csrf_token": token, "age": "7",
                                        "exam.hip_internal_rotation_deg": "abc",
                                        "history.bmi": "29.5"})
    assert r.status_code == 422
    assert 'id="f-age-err"' in r.text and "18" in r.text
    assert 'id="f-exam-hip_internal_rotation_deg-err"' in r.text
    assert 'value="29.5"' in r.text  # what the clinician typed is kept


def test_red_flags_are_shown_first(clinician: TestClient) -> None:
    token = csrf_of(clinician.get("/intake").text)
    r = clinician.post("/intake", data={"csrf_token": token, "age": "70",
                                        "symptoms.saddle_anaesthesia": "yes",
                                        "symptoms.bladder_bowel_dysfunction": "yes"})
    assert r.status_code == 200
    assert 'id="red-flags"' in r.text
    assert r.text.index('id="red-flags"') < r.text.index('id="verdict"')


def test_saved_assessment_and_prom_appear_on_patient_page(clinician: TestClient,
                                                          example_cases: dict[str, Any]) -> None:
    import datetime as dt

    case = example_cases["hip-dominant"]
    home = clinician.get("/")
    born = dt.date.today().year - case["age"]  # the record must agree with the case
    r = clinician.post("/patients", data={"csrf_token": csrf_of(home.text),
                                          "pseudonym": "PG-1", "year_of_birth": str(born),
                                          "sex": case.get("sex", "female")},
                       follow_redirects=False)
    assert r.status_code == 303
    url = r.headers["location"]
    pid = int(url.rsplit("/", 1)[1])
    data = intake_form(case, csrf_of(clinician.get("/intake").text))
    data["patient_id"] = str(pid)
    saved = clinician.post("/intake", data=data, follow_redirects=False)
    assert saved.status_code == 303  # post/redirect/get: reloading does not save again
    assert "Saved to the record" in clinician.get(saved.headers["location"]).text
    form = clinician.get(f"/patients/{pid}/proms/new", params={"instrument": "nrs_hip"})
    assert form.status_code == 200 and "hip pain" in form.text.lower()
    r = clinician.post(f"/patients/{pid}/proms",
                       data={"csrf_token": csrf_of(form.text), "instrument": "nrs_hip",
                             "item_0": "6", "administered_on": "2026-05-01",
                             "timepoint": "baseline"})
    assert r.status_code == 200
    page = clinician.get(url).text
    assert "2026-05-01" in page and "Numeric rating scale, hip pain: 6 at baseline" in page
    assert "The hip is the most likely source" in page
    assert re.search(r"<svg class=\"plot\"", page)


def test_treatment_form_records_treatment(clinician: TestClient) -> None:
    home = clinician.get("/")
    url = clinician.post("/patients", data={"csrf_token": csrf_of(home.text),
                                            "pseudonym": "PG-2"}).url
    page = clinician.get(url)
    pid = str(url).rsplit("/", 1)[1]
    clinician.post(f"/patients/{pid}/treatments",
                   data={"csrf_token": csrf_of(page.text), "type": "hip_injection",
                         "target": "hip", "side": "left", "performed_on": "2026-02-02"})
    assert "hip injection (hip, left)" in clinician.get(url).text


def test_pages_need_sign_in(anon: TestClient) -> None:
    r = anon.get("/intake", headers={"accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_researcher_cannot_open_patient_page(clinician: TestClient,
                                             researcher: TestClient) -> None:
    pid = clinician.post("/api/v1/patients", json={"pseudonym": "PG-3"}).json()["id"]
    assert researcher.get(f"/patients/{pid}").status_code == 403


def test_load_case_document_prefills_form(clinician: TestClient,
                                          example_cases: dict[str, Any]) -> None:
    import json

    token = csrf_of(clinician.get("/intake").text)
    r = clinician.post("/intake/load", data={"csrf_token": token,
                                             "case_json": json.dumps(
                                                 example_cases["spine-dominant"])})
    assert r.status_code == 200 and "Pre-filled from a case document" in r.text
    assert f'value="{example_cases["spine-dominant"]["age"]}"' in r.text
    bad = clinician.post("/intake/load", data={"csrf_token": token,
                                               "case_json": '{"format": "hipspine.case/1", '
                                                            '"exam": {"fabr": true}}'})
    assert bad.status_code == 422 and "exam.fabr" in bad.text


def test_the_result_page_shows_the_plan_as_one_consistent_whole(clinician: TestClient) -> None:
    """Cauda equina symptoms with a suspected metastasis: the urgent surgical referral, the
    elective steps deferred behind it, and never "Not indicated now" beside it."""
    case = {"format": "hipspine.case/1", "age": 70, "sex": "male",
            "symptoms": {"saddle_anaesthesia": True, "bladder_bowel_dysfunction": True,
                         "pain_locations": ["low_back", "below_knee"]},
            "imaging": {"reports": ["MRI: suspected metastasis in the L3 vertebral body."]}}
    r = clinician.post("/intake", data=intake_form(case, csrf_of(clinician.get("/intake").text)))
    assert r.status_code == 200, r.text[:500]
    assert 'id="plan-deferred"' in r.text and "epidural injection" in r.text.split(
        'id="plan-deferred"', 1)[1].split("</ul>", 1)[0]
    surgery = r.text.split('id="plan-surgery">', 1)[1].split("</p>", 1)[0]
    assert surgery.startswith("Urgent surgical referral")
    assert "Not indicated now" not in r.text
