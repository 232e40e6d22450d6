"""Sign-in, sessions, CSRF, API tokens and the log-in rate limit."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from tests.web.conftest import PASSWORDS, csrf_of, login, token_client


def test_login_sets_httponly_samesite_cookie(anon: TestClient) -> None:
    page = anon.get("/login")
    r = anon.post("/login", data={"username": "clin", "password": PASSWORDS["clin"],
                                  "csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "; secure" not in cookie  # off by default for plain-HTTP loopback use


def test_secure_cookie_when_configured(engine: Any) -> None:
    from hipspine.registry import session_scope
    from hipspine.web import store
    from hipspine.web.app import create_app
    from hipspine.web.settings import WebSettings

    with session_scope(engine) as s:
        store.create_user(s, "sec", "sec-password-1", "clinician")
    app = create_app(WebSettings(secret_key="k", cookie_secure=True), engine=engine)
    with TestClient(app, base_url="https://testserver") as c:
        page = c.get("/login")
        r = c.post("/login", data={"username": "sec", "password": "sec-password-1",
                                   "csrf_token": csrf_of(page.text)}, follow_redirects=False)
        assert "secure" in r.headers["set-cookie"].lower()


def test_wrong_password_is_refused(anon: TestClient) -> None:
    page = anon.get("/login")
    r = anon.post("/login", data={"username": "clin", "password": "wrong-password",
                                  "csrf_token": csrf_of(page.text)})
    assert r.status_code == 401
    assert "wrong password" in r.text
    assert anon.get("/api/v1/patients").status_code == 401


def test_login_form_without_csrf_token_is_refused(anon: TestClient) -> None:
    anon.get("/login")
    r = anon.post("/login", data={"username": "clin", "password": PASSWORDS["clin"]})
    assert r.status_code == 403


def test_cookie_api_write_needs_csrf_header(clinician: TestClient) -> None:
    del clinician.headers["X-CSRF-Token"]
    r = clinician.post("/api/v1/patients", json={"pseudonym": "P-1"})
    assert r.status_code == 403
    assert "CSRF" in r.json()["detail"]


def test_rate_limit_after_repeated_failures(anon: TestClient) -> None:
    for _ in range(3):
        page = anon.get("/login")
        anon.post("/login", data={"username": "clin", "password": "nope-nope",
                                  "csrf_token": csrf_of(page.text)})
    page = anon.get("/login")
    r = anon.post("/login", data={"username": "clin", "password": PASSWORDS["clin"],
                                  "csrf_token": csrf_of(page.text)})
    assert r.status_code == 429
    # another user from the same address is not locked out
    login(anon, "clin2")


def test_api_token_authenticates_and_is_stored_hashed(app: Any, clinician: TestClient,
                                                      engine: Any) -> None:
    from sqlalchemy import select

    from hipspine.registry import session_scope
    from hipspine.registry.tables import ApiToken

    machine = token_client(app, clinician)
    assert machine.post("/api/v1/patients", json={"pseudonym": "T-1"}).status_code == 201
    with session_scope(engine) as s:
        stored = list(s.scalars(select(ApiToken.token_hash)))
    token = machine.headers["Authorization"].split()[1]
    assert token not in stored and len(stored) == 1
    machine.headers["Authorization"] = "Bearer wrong"
    assert machine.get("/api/v1/patients").status_code == 401


def test_logout_ends_session(clinician: TestClient) -> None:
    token = csrf_of(clinician.get("/login").text)
    clinician.post("/logout", data={"csrf_token": token})
    assert clinician.get("/api/v1/patients").status_code == 401


def test_password_hash_is_argon2(engine: Any, app: Any) -> None:
    from sqlalchemy import select

    from hipspine.registry import session_scope
    from hipspine.registry.tables import User

    with session_scope(engine) as s:
        hashes = list(s.scalars(select(User.password_hash)))
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)


def test_open_redirect_is_refused(anon: TestClient) -> None:
    page = anon.get("/login")
    r = anon.post("/login", data={"username": "clin", "password": PASSWORDS["clin"],
                                  "csrf_token": csrf_of(page.text),
                                  "next": "//evil.example/"}, follow_redirects=False)
    assert r.headers["location"] == "/"


def test_pages_are_not_cached_or_framed(clinician: TestClient) -> None:
    r = clinician.get("/")
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"


def test_static_assets_may_be_cached_but_not_sniffed(anon: TestClient) -> None:
    r = anon.get("/static/app.css")
    assert r.status_code == 200
    assert "no-store" not in r.headers.get("cache-control", "")
    assert r.headers["x-content-type-options"] == "nosniff"
    api = anon.post("/api/v1/assess", json={})  # refused, and still marked
    assert api.status_code == 401 and api.headers["cache-control"] == "no-store"
