"""Every read and change of patient data leaves an audit event the admin can see and export."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient


def test_reads_and_writes_are_audited(clinician: TestClient, admin: TestClient) -> None:
    pid = clinician.post("/api/v1/patients", json={"pseudonym": "AUD-1"}).json()["id"]
    clinician.get(f"/api/v1/patients/{pid}")
    clinician.get(f"/api/v1/patients/{pid}/proms")
    events = admin.get("/api/v1/audit", params={"actor": "clin", "limit": 200}).json()["items"]
    actions = {(e["action"], e["resource_id"]) for e in events}
    assert ("patient.create", str(pid)) in actions
    assert ("patient.read", str(pid)) in actions
    assert ("prom.list", str(pid)) in actions
    assert all(e["actor"] == "clin" and e["role"] == "clinician" for e in events)


def test_audit_never_names_the_pseudonym(clinician: TestClient, admin: TestClient) -> None:
    clinician.post("/api/v1/patients", json={"pseudonym": "SECRET-PSEUDO"})
    text = admin.get("/api/v1/audit.csv").text
    assert "SECRET-PSEUDO" not in text


def test_admin_exports_csv(clinician: TestClient, admin: TestClient) -> None:
    clinician.post("/api/v1/patients", json={"pseudonym": "AUD-2"})
    r = admin.get("/api/v1/audit.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert {"patient.create", "login"} <= {row["action"] for row in rows}
    assert set(rows[0]) == {"id", "at", "actor", "role", "action", "resource_type",
                            "resource_id"}


def test_only_admin_sees_audit(clinician: TestClient, researcher: TestClient) -> None:
    assert clinician.get("/api/v1/audit").status_code == 403
    assert researcher.get("/api/v1/audit.csv").status_code == 403


def test_admin_page_lists_events(clinician: TestClient, admin: TestClient) -> None:
    clinician.post("/api/v1/patients", json={"pseudonym": "AUD-3"})
    page = admin.get("/admin")
    assert page.status_code == 200 and "patient.create" in page.text
    assert clinician.get("/admin").status_code == 403


def _events(engine: object, action: str) -> list[tuple[str | None, dict]]:
    from sqlalchemy import select

    from hipspine.registry import session_scope
    from hipspine.registry.tables import AuditEvent

    with session_scope(engine) as s:  # type: ignore[arg-type]
        return [(e.actor, e.detail or {}) for e in
                s.scalars(select(AuditEvent).where(AuditEvent.action == action))]


def test_denied_reads_are_audited(app: object, engine: object, clinician: TestClient,
                                  researcher: TestClient, anon: TestClient) -> None:
    from tests.web.conftest import login

    pid = clinician.post("/api/v1/patients", json={"pseudonym": "AUD-DENY"}).json()["id"]
    with TestClient(app) as other:  # type: ignore[arg-type]
        login(other, "clin2")
        assert other.get(f"/api/v1/patients/{pid}").status_code == 404
    assert researcher.get(f"/api/v1/patients/{pid}").status_code == 403
    assert anon.get(f"/api/v1/patients/{pid}").status_code == 401
    refused = _events(engine, "access.refused")
    by_actor = dict(refused)
    assert by_actor["clin2"] == {"status": 404, "method": "GET",
                                 "route": "/api/v1/patients/{patient_id}", "patient_id": pid}
    assert by_actor["res"]["status"] == 403
    assert by_actor[None]["status"] == 401
    assert "AUD-DENY" not in repr(refused)


def test_an_assessment_for_someone_elses_episode_is_refused_before_any_work(
        app: object, clinician: TestClient, monkeypatch: object) -> None:
    from tests.web.conftest import login

    from hipspine.web import services

    pid = clinician.post("/api/v1/patients", json={"pseudonym": "AUD-WORK"}).json()["id"]
    episode = clinician.post(f"/api/v1/patients/{pid}/episodes",
                             json={"opened_on": "2025-01-02", "setting": "spine_clinic"})
    assert episode.status_code == 201, episode.text
    calls: list[str] = []
    monkeypatch.setattr(services, "assess",  # type: ignore[attr-defined]
                        lambda *a, **k: calls.append("assess"))
    monkeypatch.setattr(services, "score_prom",  # type: ignore[attr-defined]
                        lambda *a, **k: calls.append("score"))
    with TestClient(app) as other:  # type: ignore[arg-type]
        login(other, "clin2")
        r = other.post(f"/api/v1/episodes/{episode.json()['id']}/assessments",
                       json={"format": "hipspine.case/1", "age": 60})
        assert r.status_code == 404
        r = other.post(f"/api/v1/patients/{pid}/proms",
                       json={"instrument": "odi", "items": [1] * 10,
                             "administered_on": "2025-01-03"})
        assert r.status_code == 404
    assert calls == []
