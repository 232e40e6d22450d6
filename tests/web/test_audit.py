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
