"""The web app on PostgreSQL (HIPSPINE_DATABASE_URL): same API, same access rules, audit."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.postgres


def test_api_on_postgres(postgres_url: str, example_cases: dict[str, Any]) -> None:
    from hipspine.registry import get_engine, migrate, session_scope
    from hipspine.web import store
    from hipspine.web.app import create_app
    from hipspine.web.settings import WebSettings

    engine = get_engine(postgres_url)
    migrate(engine)
    with session_scope(engine) as s:
        user = store.create_user(s, "pg-clin", "pg-password-1", "clinician")
        token = store.issue_token(s, store.Actor(user.id, user.username, user.role), "pg")
    try:
        with TestClient(create_app(WebSettings(secret_key="k"), engine=engine)) as client:
            client.headers["Authorization"] = f"Bearer {token}"
            pid = client.post("/api/v1/patients", json={"pseudonym": "PG-A"}).json()["id"]
            assert client.post("/api/v1/patients", json={"pseudonym": "PG-A"}).status_code == 409
            ep = client.post(f"/api/v1/patients/{pid}/episodes",
                             json={"opened_on": "2025-01-02"}).json()
            stored = client.post(f"/api/v1/episodes/{ep['id']}/assessments",
                                 json=example_cases["hip-spine-syndrome"])
            assert stored.status_code == 201 and stored.json()["verdict"] == "both"
            prom = client.post(f"/api/v1/patients/{pid}/proms",
                               json={"instrument": "nrs_back", "items": [5],
                                     "administered_on": "2025-01-02"})
            assert prom.status_code == 201 and prom.json()["score"] == 5
            assert client.get("/api/v1/patients", params={"pseudonym": "PG"}).json()["total"] == 1
    finally:
        engine.dispose()
