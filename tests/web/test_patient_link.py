"""A patient fills a PROM on their own phone through a signed link; the score lands in the
registry and on the clinician's timeline. Tampered links and licensed wording are refused."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from tests.web.conftest import csrf_of


def _patient_page(clinician: TestClient) -> tuple[str, str]:
    pid = clinician.post("/api/v1/patients", json={"pseudonym": "LINK-1"}).json()["id"]
    return f"/patients/{pid}", clinician.get(f"/patients/{pid}").text


def test_patient_link_submission_reaches_timeline(app: Any, clinician: TestClient) -> None:
    url, page = _patient_page(clinician)
    link = re.search(r'href="(/q/[^"]+)" data-instrument="nrs_leg"', page)
    assert link is not None
    with TestClient(app) as phone:
        form = phone.get(link.group(1))
        assert form.status_code == 200 and "LINK-1" not in form.text
        done = phone.post(link.group(1), data={"csrf_token": csrf_of(form.text),
                                               "item_0": "4"})
        assert done.status_code == 200 and "Thank you" in done.text
    assert "nrs_leg 4" in clinician.get(url).text


def test_tampered_or_licensed_links_are_refused(app: Any, clinician: TestClient) -> None:
    _, page = _patient_page(clinician)
    assert 'data-instrument="odi"' not in page  # ODI wording is licensed: no patient link
    link = re.search(r'href="(/q/[^"]+)" data-instrument="nrs_back"', page)
    assert link is not None
    with TestClient(app) as phone:
        assert phone.get(link.group(1) + "x").status_code == 404
        assert phone.get("/q/not-a-token").status_code == 404
