"""Registry API: patients, episodes, treatments, PROMs; pagination, filters, roles, 404s."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from tests.web.conftest import login


def _patient(client: TestClient, pseudonym: str, **extra: Any) -> dict[str, Any]:
    r = client.post("/api/v1/patients", json={"pseudonym": pseudonym, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def test_create_and_list_patients_with_pagination_and_filters(clinician: TestClient) -> None:
    for i in range(7):
        _patient(clinician, f"P-{i:03d}", sex="female" if i % 2 else "male", year_of_birth=1950)
    _patient(clinician, "Q-001")
    page = clinician.get("/api/v1/patients", params={"limit": 3, "offset": 3}).json()
    assert page["total"] == 8 and page["limit"] == 3 and page["offset"] == 3
    assert [p["pseudonym"] for p in page["items"]] == ["P-003", "P-004", "P-005"]
    only_p = clinician.get("/api/v1/patients", params={"pseudonym": "P-", "sex": "female"}).json()
    assert only_p["total"] == 3
    assert all(p["sex"] == "female" for p in only_p["items"])


def test_clinician_sees_only_assigned_patients(app: Any, clinician: TestClient) -> None:
    mine = _patient(clinician, "MINE-1")
    with TestClient(app) as other:
        login(other, "clin2")
        theirs = _patient(other, "THEIRS-1")
        assert other.get(f"/api/v1/patients/{mine['id']}").status_code == 404
        assert [p["pseudonym"] for p in other.get("/api/v1/patients").json()["items"]] == [
            "THEIRS-1"]
    assert clinician.get(f"/api/v1/patients/{theirs['id']}").status_code == 404
    assert clinician.get(f"/api/v1/patients/{theirs['id']}/proms").status_code == 404


def test_researcher_gets_403_on_identified_data(clinician: TestClient,
                                                researcher: TestClient) -> None:
    p = _patient(clinician, "R-1")
    assert researcher.get("/api/v1/patients").status_code == 403
    assert researcher.get(f"/api/v1/patients/{p['id']}").status_code == 403
    assert researcher.post("/api/v1/patients", json={"pseudonym": "R-2"}).status_code == 403


def test_admin_assigns_patient_to_clinician(app: Any, admin: TestClient) -> None:
    p = _patient(admin, "A-1")
    users = {u["username"]: u["id"] for u in admin.get("/api/v1/users").json()}
    assert admin.post(f"/api/v1/patients/{p['id']}/assignments",
                      json={"user_id": users["clin2"]}).status_code == 204
    with TestClient(app) as other:
        login(other, "clin2")
        assert other.get(f"/api/v1/patients/{p['id']}").json()["pseudonym"] == "A-1"


def test_episodes_treatments_and_unknown_ids(clinician: TestClient) -> None:
    p = _patient(clinician, "E-1")
    ep = clinician.post(f"/api/v1/patients/{p['id']}/episodes",
                        json={"opened_on": "2025-01-10", "setting": "spine_clinic"})
    assert ep.status_code == 201
    episode = ep.json()
    assert clinician.get(f"/api/v1/episodes/{episode['id']}").json()["setting"] == "spine_clinic"
    t = clinician.post(f"/api/v1/patients/{p['id']}/treatments",
                       json={"type": "total_hip_arthroplasty", "target": "hip", "side": "right",
                             "performed_on": "2025-03-01", "episode_id": episode["id"]})
    assert t.status_code == 201
    assert len(clinician.get(f"/api/v1/patients/{p['id']}/treatments").json()) == 1
    assert clinician.get("/api/v1/patients/999999").status_code == 404
    assert clinician.get("/api/v1/episodes/999999").status_code == 404
    bad_episode = clinician.post(f"/api/v1/patients/{p['id']}/treatments",
                                 json={"type": "nsaid", "target": "hip",
                                       "performed_on": "2025-03-01", "episode_id": 424242})
    assert bad_episode.status_code == 422
    assert bad_episode.json()["problems"][0]["field"] == "episode_id"


def test_prom_submission_is_scored_and_listed(clinician: TestClient) -> None:
    p = _patient(clinician, "PROM-1")
    r = clinician.post(f"/api/v1/patients/{p['id']}/proms",
                       json={"instrument": "odi", "items": [2, 2, 2, 2, 2, 2, 1, 1, 1, 1],
                             "timepoint": "baseline", "administered_on": "2025-01-10"})
    assert r.status_code == 201, r.text
    assert r.json()["score"] == 32.0
    listed = clinician.get(f"/api/v1/patients/{p['id']}/proms").json()
    assert [x["instrument"] for x in listed] == ["odi"]


def test_prom_with_out_of_range_item_is_422_and_not_stored(clinician: TestClient) -> None:
    p = _patient(clinician, "PROM-2")
    r = clinician.post(f"/api/v1/patients/{p['id']}/proms",
                       json={"instrument": "nrs_back", "items": [11],
                             "administered_on": "2025-01-10"})
    assert r.status_code == 422
    assert clinician.get(f"/api/v1/patients/{p['id']}/proms").json() == []


def test_unknown_prom_instrument_is_404(clinician: TestClient) -> None:
    p = _patient(clinician, "PROM-3")
    r = clinician.post(f"/api/v1/patients/{p['id']}/proms",
                       json={"instrument": "nope", "items": [1],
                             "administered_on": "2025-01-10"})
    assert r.status_code == 404


def test_duplicate_pseudonym_is_409_naming_the_field(clinician: TestClient) -> None:
    _patient(clinician, "DUP")
    r = clinician.post("/api/v1/patients", json={"pseudonym": "DUP"})
    assert r.status_code == 409
    assert r.json()["problems"][0]["field"] == "pseudonym"
