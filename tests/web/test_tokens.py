"""API tokens expire and can be revoked: by the owner or an admin (API), or from the command
line; expired, revoked and deactivated users' tokens answer 401; lists never show a token;
issuing and revoking are audited."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from tests.cli_here import run_cli_here
from tests.web.conftest import token_client

from hipspine.registry import session_scope
from hipspine.registry.tables import ApiToken, AuditEvent, User


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _bearer(app: Any, token: str) -> TestClient:
    machine = TestClient(app)
    machine.headers["Authorization"] = f"Bearer {token}"
    return machine


def test_a_token_expires_after_the_default_lifetime(app: Any, clinician: TestClient,
                                                    engine: Any) -> None:
    issued = clinician.post("/api/v1/tokens", json={"label": "ehr"})
    assert issued.status_code == 201
    body = issued.json()
    expires = dt.datetime.fromisoformat(body["expires_at"]).replace(tzinfo=None)
    assert abs(expires - (_now() + dt.timedelta(days=90))) < dt.timedelta(minutes=1)
    assert body["active"] is True and body["revoked_at"] is None
    machine = _bearer(app, body["token"])
    assert machine.get("/api/v1/patients").status_code == 200
    with session_scope(engine) as s:
        s.execute(update(ApiToken).where(ApiToken.id == body["id"])
                  .values(expires_at=_now() - dt.timedelta(seconds=1)))
    assert machine.get("/api/v1/patients").status_code == 401


def test_issuance_may_ask_for_a_shorter_life_never_a_longer_one(clinician: TestClient) -> None:
    short = clinician.post("/api/v1/tokens", json={"expires_in_days": 7}).json()
    expires = dt.datetime.fromisoformat(short["expires_at"]).replace(tzinfo=None)
    assert abs(expires - (_now() + dt.timedelta(days=7))) < dt.timedelta(minutes=1)
    too_long = clinician.post("/api/v1/tokens", json={"expires_in_days": 91})
    assert too_long.status_code == 422
    assert too_long.json()["problems"][0]["field"] == "expires_in_days"
    for bad in (0, -1, True, "7"):
        assert clinician.post("/api/v1/tokens", json={"expires_in_days": bad}
                              ).status_code == 422


def test_the_lifetime_setting(engine: Any) -> None:
    from tests.web.conftest import login

    from hipspine.web.app import create_app
    from hipspine.web.settings import WebSettings

    app = create_app(WebSettings(secret_key="k", api_token_days=30), engine=engine)
    with TestClient(app) as browser:
        login(browser, "clin")
        body = browser.post("/api/v1/tokens", json={}).json()
        expires = dt.datetime.fromisoformat(body["expires_at"]).replace(tzinfo=None)
        assert abs(expires - (_now() + dt.timedelta(days=30))) < dt.timedelta(minutes=1)
        assert browser.post("/api/v1/tokens", json={"expires_in_days": 31}).status_code == 422


def test_a_token_made_before_expiry_existed_counts_from_its_creation(
        app: Any, clinician: TestClient, engine: Any) -> None:
    body = clinician.post("/api/v1/tokens", json={}).json()
    machine = _bearer(app, body["token"])
    with session_scope(engine) as s:   # as migration 0002 left older tokens: no expiry
        s.execute(update(ApiToken).where(ApiToken.id == body["id"]).values(
            expires_at=None, created_at=_now() - dt.timedelta(days=89)))
    assert machine.get("/api/v1/patients").status_code == 200
    with session_scope(engine) as s:
        s.execute(update(ApiToken).where(ApiToken.id == body["id"]).values(
            created_at=_now() - dt.timedelta(days=91)))
    assert machine.get("/api/v1/patients").status_code == 401
    listed = clinician.get("/api/v1/tokens").json()
    assert [t["active"] for t in listed if t["id"] == body["id"]] == [False]


def test_the_owner_revokes_and_lists_without_seeing_tokens(app: Any, clinician: TestClient,
                                                         engine: Any) -> None:
    first = clinician.post("/api/v1/tokens", json={"label": "one"}).json()
    second = clinician.post("/api/v1/tokens", json={"label": "two"}).json()
    machine = _bearer(app, first["token"])
    assert machine.get("/api/v1/patients").status_code == 200
    listed = clinician.get("/api/v1/tokens")
    assert listed.status_code == 200
    assert [t["label"] for t in listed.json()] == ["two", "one"]
    text = listed.text
    with session_scope(engine) as s:
        hashes = list(s.scalars(select(ApiToken.token_hash)))
    assert first["token"] not in text and second["token"] not in text
    assert not any(h in text for h in hashes) and "token_hash" not in text
    revoked = clinician.delete(f"/api/v1/tokens/{first['id']}")
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] and revoked.json()["active"] is False
    assert machine.get("/api/v1/patients").status_code == 401
    assert _bearer(app, second["token"]).get("/api/v1/patients").status_code == 200
    assert clinician.delete(f"/api/v1/tokens/{first['id']}").status_code == 200  # idempotent
    with session_scope(engine) as s:
        events = [(e.action, e.resource_id, e.actor) for e in s.scalars(
            select(AuditEvent).where(AuditEvent.action.startswith("token.")))]
    assert events.count(("token.revoke", str(first["id"]), "clin")) == 1
    assert ("token.create", str(second["id"]), "clin") in events


def test_a_token_may_revoke_itself(app: Any, clinician: TestClient) -> None:
    body = clinician.post("/api/v1/tokens", json={}).json()
    machine = _bearer(app, body["token"])
    assert machine.get("/api/v1/tokens").json()[0]["id"] == body["id"]
    assert machine.delete(f"/api/v1/tokens/{body['id']}").status_code == 200
    assert machine.get("/api/v1/tokens").status_code == 401


def test_another_users_token_is_404_and_an_admin_revokes_any(
        app: Any, clinician: TestClient, admin: TestClient, researcher: TestClient,
        engine: Any) -> None:
    body = clinician.post("/api/v1/tokens", json={}).json()
    assert researcher.delete(f"/api/v1/tokens/{body['id']}").status_code == 404
    assert researcher.delete("/api/v1/tokens/999999").status_code == 404
    with session_scope(engine) as s:
        clin_id = s.scalar(select(User.id).where(User.username == "clin"))
    assert researcher.get("/api/v1/tokens", params={"user_id": clin_id}).status_code == 403
    assert [t["id"] for t in admin.get("/api/v1/tokens", params={"user_id": clin_id}).json()
            ] == [body["id"]]
    assert admin.delete(f"/api/v1/tokens/{body['id']}").status_code == 200
    assert _bearer(app, body["token"]).get("/api/v1/patients").status_code == 401
    with session_scope(engine) as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "token.revoke"))
        assert event is not None and event.actor == "adm"
        assert event.detail == {"user_id": clin_id}


def test_a_token_cannot_issue_tokens(app: Any, clinician: TestClient) -> None:
    machine = token_client(app, clinician)
    r = machine.post("/api/v1/tokens", json={})
    assert r.status_code == 403 and "signed-in session" in r.json()["detail"]


def test_revoking_with_a_cookie_needs_csrf(clinician: TestClient) -> None:
    body = clinician.post("/api/v1/tokens", json={}).json()
    del clinician.headers["X-CSRF-Token"]
    assert clinician.delete(f"/api/v1/tokens/{body['id']}").status_code == 403


def test_a_deactivated_users_token_is_refused(app: Any, clinician: TestClient,
                                              engine: Any) -> None:
    machine = token_client(app, clinician)
    with session_scope(engine) as s:
        s.execute(update(User).where(User.username == "clin").values(active=False))
    assert machine.get("/api/v1/patients").status_code == 401


# --------------------------------------------------------------------------- command line


def _cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str,
         *args: str) -> tuple[int, Any, str]:
    """The CLI in this process; stdout decoded as JSON when it succeeded with output."""
    code, out, err = run_cli_here(monkeypatch, capsys, *args, database_url=url)
    return code, json.loads(out) if code == 0 and out.strip() else out, err


def test_tokens_from_the_command_line(app: Any, engine: Any, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    url = str(engine.url)
    code, issued, err = _cli(monkeypatch, capsys, url, "users", "token", "issue", "clin",
                             "--label", "ehr feed", "--days", "5")
    assert code == 0, err
    assert issued["user"] == "clin" and issued["label"] == "ehr feed"
    expires = dt.datetime.fromisoformat(issued["expires_at"])
    assert abs(expires - (_now() + dt.timedelta(days=5))) < dt.timedelta(minutes=1)
    machine = _bearer(app, issued["token"])
    assert machine.get("/api/v1/patients").status_code == 200
    code, listed, _ = _cli(monkeypatch, capsys, url, "users", "token", "list", "clin")
    assert [t["id"] for t in listed] == [issued["id"]] and "token" not in listed[0]
    code, everyone, _ = _cli(monkeypatch, capsys, url, "users", "token", "list", "--all")
    assert [t["user"] for t in everyone] == ["clin"]
    code, revoked, _ = _cli(monkeypatch, capsys, url, "users", "token", "revoke",
                            str(issued["id"]))
    assert code == 0 and revoked["active"] is False
    assert machine.get("/api/v1/patients").status_code == 401
    with session_scope(engine) as s:
        events = [(e.action, e.role, (e.actor or "").startswith("cli:")) for e in s.scalars(
            select(AuditEvent).where(AuditEvent.action.startswith("token.")))]
    assert events == [("token.create", "cli", True), ("token.revoke", "cli", True)]


def test_command_line_errors(engine: Any, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    url = str(engine.url)
    code, _, err = _cli(monkeypatch, capsys, url, "users", "token", "issue", "nobody")
    assert code == 2 and "nobody" in err
    code, _, err = _cli(monkeypatch, capsys, url, "users", "token", "issue", "clin",
                        "--days", "1000")
    assert code == 2 and "expires_in_days" in err
    code, _, err = _cli(monkeypatch, capsys, url, "users", "token", "revoke", "424242")
    assert code == 2 and "424242" in err
    code, _, err = _cli(monkeypatch, capsys, url, "users", "token", "list")
    assert code == 2 and "--all" in err


def test_ending_sessions_from_the_command_line(app: Any, engine: Any,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from tests.web.conftest import login

    browser = login(TestClient(app), "clin")
    code, out, err = _cli(monkeypatch, capsys, str(engine.url), "users", "sessions", "end",
                          "clin")
    assert code == 0, err
    assert out == {"user": "clin", "sessions_ended": 1}
    assert browser.get("/api/v1/patients").status_code == 401
