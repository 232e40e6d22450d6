"""The PROM entry on one page, the saved score in words, patient links in words, the patient
page's latest assessment in words and the stored assessment's own date."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from fastapi.testclient import TestClient
from tests.web.conftest import csrf_of

ODI_EXAMPLE = [2, 2, 2, 2, 2, 2, 1, 1, 1, 1]  # the form's worked example: 16 of 50, 32 %


def _patient(clinician: TestClient, pseudonym: str = "PD-1") -> int:
    r = clinician.post("/api/v1/patients", json={"pseudonym": pseudonym})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _save_odi(clinician: TestClient, pid: int) -> Any:
    form = clinician.get(f"/patients/{pid}/proms/new", params={"instrument": "odi"})
    assert form.status_code == 200, form.text
    data = {"csrf_token": csrf_of(form.text), "instrument": "odi",
            "administered_on": "2026-11-20", "timepoint": "3m"}
    data.update({f"item_{i}": str(v) for i, v in enumerate(ODI_EXAMPLE)})
    return clinician.post(f"/patients/{pid}/proms", data=data, follow_redirects=False)


def test_the_odi_form_puts_each_items_options_in_one_row(clinician: TestClient) -> None:
    pid = _patient(clinician)
    page = clinician.get(f"/patients/{pid}/proms/new", params={"instrument": "odi"}).text
    assert page.count('class="q-options"') == 10
    assert 'class="card prom-form"' in page
    assert '<nav aria-label="Main">' in page  # the clinician's page keeps its navigation


def test_after_saving_the_patient_page_names_the_instrument_and_its_score(
        clinician: TestClient) -> None:
    pid = _patient(clinician)
    r = _save_odi(clinician, pid)
    assert r.status_code == 303
    location = r.headers["location"]
    match = re.fullmatch(rf"/patients/{pid}\?saved_prom=(\d+)#prom-saved", location)
    assert match, location
    page = clinician.get(location.split("#")[0]).text
    notice = re.search(r'id="prom-saved">(.*?)</p>', page, re.S)
    assert notice, "no saved-PROM notice"
    assert "Oswestry Disability Index saved: 32 %" in notice.group(1)
    assert "3 months" in notice.group(1)
    # no notice without the parameter, nor for another patient's PROM id
    assert 'id="prom-saved"' not in clinician.get(f"/patients/{pid}").text
    other = _patient(clinician, "PD-2")
    assert 'id="prom-saved"' not in clinician.get(
        f"/patients/{other}?saved_prom={match.group(1)}").text


def test_links_on_the_patient_page_speak_in_words(clinician: TestClient) -> None:
    pid = _patient(clinician)
    page = clinician.get(f"/patients/{pid}")
    issued = clinician.post(f"/patients/{pid}/links", data={
        "csrf_token": csrf_of(page.text), "instrument": "nrs_leg", "timepoint": "12m"})
    assert issued.status_code == 200
    assert "12 months" in issued.text and "expires in 14 days" in issued.text
    assert 'id="copy-link"' in issued.text and "navigator.clipboard" in issued.text
    row = re.search(r'<tr data-link-id="\d+" data-status="open">(.*?)</tr>',
                    clinician.get(f"/patients/{pid}").text, re.S)
    assert row, "the link is not listed"
    assert "Numeric rating scale, leg pain" in row.group(1)
    assert "12 months" in row.group(1)
    assert re.search(r"expires in 1[34] days", row.group(1))


def test_the_patients_link_pages_show_no_clinician_navigation(
        app: Any, clinician: TestClient) -> None:
    pid = _patient(clinician)
    page = clinician.get(f"/patients/{pid}")
    issued = clinician.post(f"/patients/{pid}/links", data={
        "csrf_token": csrf_of(page.text), "instrument": "nrs_leg", "timepoint": "6m"})
    url = re.search(r'id="link-url"[^>]* value="([^"]+)"', issued.text)
    assert url
    path = url.group(1).removeprefix("http://testserver")
    # a signed-in clinician opening it sees what the patient sees
    form = clinician.get(path)
    assert form.status_code == 200
    assert "<nav" not in form.text and 'href="/intake"' not in form.text
    assert "Sign out" not in form.text
    with TestClient(app) as phone:
        form = phone.get(path)
        done = phone.post(path, data={"csrf_token": csrf_of(form.text), "item_0": "4"})
        assert "Thank you" in done.text and "<nav" not in done.text
        again = phone.get(path)
        assert again.status_code == 410 and "<nav" not in again.text
    # a clinician's own "no link made" page keeps the navigation
    refused = clinician.post(f"/patients/{pid}/links", data={
        "csrf_token": csrf_of(page.text), "instrument": "odi", "timepoint": "6m"})
    assert refused.status_code == 422 and "<nav" in refused.text


def test_latest_assessment_in_words_and_the_stored_page_shows_its_own_date(
        engine: Any, clinician: TestClient, example_cases: dict[str, Any]) -> None:
    from tests.web.conftest import intake_form

    pid = _patient(clinician)
    data = intake_form(example_cases["hip-dominant"], csrf_of(clinician.get("/intake").text))
    data["patient_id"] = str(pid)
    data.pop("age", None)
    data.pop("sex", None)
    saved = clinician.post("/intake", data=data, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    location = saved.headers["location"]
    aid = int(location.rsplit("/", 1)[1])
    # the stored row is from an earlier day: the page shows that day, not today
    from sqlalchemy import update

    from hipspine.registry import session_scope
    from hipspine.registry.tables import StoredAssessment

    with session_scope(engine) as s:
        s.execute(update(StoredAssessment).where(StoredAssessment.id == aid)
                  .values(created_at=dt.datetime(2025, 3, 4, 10, 30)))
    stored = clinician.get(location).text
    on = re.search(r'id="assessed-on"><time datetime="([^"]+)"', stored)
    assert on and on.group(1) == "2025-03-04"
    page = clinician.get(f"/patients/{pid}").text
    latest = re.search(r"<h2[^>]*>Latest assessment</h2>(.*?)</section>", page, re.S)
    assert latest
    text = latest.group(1)
    assert "Assessed on 2025-03-04" in text
    plan = re.search(r'<ol id="latest-plan">(.*?)</ol>', text, re.S)
    if plan:
        assert not re.search(r'<span class="pill">[a-z]+_[a-z_]+</span>', plan.group(1))
