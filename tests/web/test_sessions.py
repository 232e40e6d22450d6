"""Server-side browser sessions: the cookie holds a random id only; logging out, expiry and
deactivation end the session in the registry, so a captured cookie stops working; anonymous
visitors get a signed pre-session CSRF cookie."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from tests.web.conftest import PASSWORDS, csrf_of, login

from hipspine.registry import session_scope
from hipspine.registry.tables import AuditEvent, User, WebSession

SESSION = "hipspine_session"
CSRF = "hipspine_csrf"


def _session_cookie(client: TestClient, name: str = SESSION) -> str:
    value = client.cookies.get(name)
    assert value, f"no {name} cookie"
    return value


def _replay(app: Any, cookie: str, name: str = SESSION) -> TestClient:
    """Another browser holding a copy of the cookie (an attacker who captured it)."""
    thief = TestClient(app)
    thief.cookies.set(name, cookie)
    return thief


def test_a_cookie_captured_before_logout_is_refused_after_it(app: Any,
                                                             clinician: TestClient) -> None:
    captured = _session_cookie(clinician)
    assert _replay(app, captured).get("/api/v1/patients").status_code == 200
    r = clinician.post("/logout", data={"csrf_token": csrf_of(clinician.get("/login").text)},
                       follow_redirects=False)
    assert r.status_code == 303 and SESSION in r.headers["set-cookie"]
    thief = _replay(app, captured)
    assert thief.get("/api/v1/patients").status_code == 401
    page = thief.get("/", follow_redirects=False, headers={"Accept": "text/html"})
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_the_cookie_is_a_random_id_of_a_registry_row(app: Any, clinician: TestClient,
                                                     engine: Any) -> None:
    cookie = _session_cookie(clinician)
    assert len(cookie) >= 40 and "." not in cookie   # no signed payload, just an id
    with session_scope(engine) as s:
        row = s.scalar(select(WebSession).where(
            WebSession.session_hash == hashlib.sha256(cookie.encode()).hexdigest()))
        assert row is not None and row.ended_at is None
        user = s.get(User, row.user_id)
        assert user is not None and user.username == "clin"
        assert cookie not in {r.session_hash for r in s.scalars(select(WebSession))}
        lifetime = row.expires_at - row.created_at
    assert lifetime == dt.timedelta(seconds=app.state.settings.session_max_age_s)
    assert clinician.headers["X-CSRF-Token"] == row.csrf


def test_logout_is_audited_and_ends_the_row(clinician: TestClient, engine: Any) -> None:
    cookie = _session_cookie(clinician)
    clinician.post("/logout", data={"csrf_token": csrf_of(clinician.get("/login").text)})
    with session_scope(engine) as s:
        row = s.scalar(select(WebSession).where(
            WebSession.session_hash == hashlib.sha256(cookie.encode()).hexdigest()))
        assert row is not None and row.ended_at is not None
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "logout")))
    assert [(e.actor, e.resource_type) for e in events] == [("clin", "user")]


def test_an_expired_session_is_refused(app: Any, clinician: TestClient, engine: Any) -> None:
    assert clinician.get("/api/v1/patients").status_code == 200
    with session_scope(engine) as s:
        s.execute(update(WebSession).values(
            expires_at=dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)))
    fresh = _replay(app, _session_cookie(clinician))
    assert fresh.get("/api/v1/patients").status_code == 401


def test_a_deactivated_users_session_is_refused(app: Any, clinician: TestClient,
                                                engine: Any) -> None:
    cookie = _session_cookie(clinician)
    with session_scope(engine) as s:
        s.execute(update(User).where(User.username == "clin").values(active=False))
    assert _replay(app, cookie).get("/api/v1/patients").status_code == 401
    with session_scope(engine) as s:
        s.execute(update(User).where(User.username == "clin").values(active=True))
    assert _replay(app, cookie).get("/api/v1/patients").status_code == 200


def test_signing_in_again_starts_a_new_session_and_ends_the_old(app: Any,
                                                               clinician: TestClient) -> None:
    first = _session_cookie(clinician)
    login(clinician, "clin2")
    second = _session_cookie(clinician)
    assert second != first
    assert _replay(app, first).get("/api/v1/patients").status_code == 401
    assert _replay(app, second).get("/api/v1/patients").status_code == 200


def test_ending_every_session_of_a_user(app: Any, engine: Any) -> None:
    from hipspine.web import store

    browsers = [login(TestClient(app), "clin") for _ in range(2)]
    other = login(TestClient(app), "clin2")
    with session_scope(engine) as s:
        user = s.scalar(select(User).where(User.username == "clin"))
        assert user is not None
        assert store.end_user_sessions(s, None, user.id) == 2
    assert all(b.get("/api/v1/patients").status_code == 401 for b in browsers)
    assert other.get("/api/v1/patients").status_code == 200


def test_a_stale_session_cookie_is_cleared(app: Any) -> None:
    browser = _replay(app, "not-a-session")
    r = browser.get("/login")
    assert r.status_code == 200
    cleared = [c for c in r.headers.get_list("set-cookie") if c.startswith(f"{SESSION}=")]
    assert cleared and "max-age=0" in cleared[0].lower()


# --------------------------------------------------------------------------- anonymous CSRF


def test_anonymous_forms_get_a_signed_pre_session_cookie(anon: TestClient) -> None:
    page = anon.get("/login")
    cookie = page.headers["set-cookie"]
    assert cookie.startswith(f"{CSRF}=") and "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    value = _session_cookie(anon, CSRF)
    token = csrf_of(page.text)
    assert value.split(".")[0] == token and value != token   # value and its signature
    assert csrf_of(anon.get("/login").text) == token          # stable for the visit
    assert SESSION not in anon.cookies                        # no session before sign-in


def test_an_anonymous_token_needs_its_own_signed_cookie(app: Any, anon: TestClient) -> None:
    token = csrf_of(anon.get("/login").text)
    form = {"username": "clin", "password": PASSWORDS["clin"], "csrf_token": token}
    other = TestClient(app)                                   # another browser, no cookie
    assert other.post("/login", data=form).status_code == 403
    forged = _replay(app, f"{token}.not-our-signature", CSRF)  # cookie made up to match
    assert forged.post("/login", data=form).status_code == 403
    unsigned = _replay(app, token, CSRF)
    assert unsigned.post("/login", data=form).status_code == 403
    r = anon.post("/login", data=form, follow_redirects=False)
    assert r.status_code == 303


def test_signed_in_only_the_sessions_token_is_accepted(clinician: TestClient) -> None:
    anonymous = _session_cookie(clinician, CSRF).split(".")[0]
    session_token = clinician.headers["X-CSRF-Token"]
    assert anonymous != session_token
    r = clinician.post("/api/v1/patients", json={"pseudonym": "CSRF-1"},
                       headers={"X-CSRF-Token": anonymous})
    assert r.status_code == 403
    assert clinician.post("/api/v1/patients", json={"pseudonym": "CSRF-1"}).status_code == 201


def test_secure_cookies_use_the_host_prefix(engine: Any) -> None:
    from hipspine.web.app import create_app
    from hipspine.web.settings import WebSettings

    app = create_app(WebSettings(secret_key="k", cookie_secure=True), engine=engine)
    with TestClient(app, base_url="https://testserver") as c:
        page = c.get("/login")
        assert page.headers["set-cookie"].startswith(f"__Host-{CSRF}=")
        r = c.post("/login", data={"username": "clin", "password": PASSWORDS["clin"],
                                   "csrf_token": csrf_of(page.text)}, follow_redirects=False)
        cookie = next(v for v in r.headers.get_list("set-cookie")
                      if v.startswith(f"__Host-{SESSION}="))
        flags = {part.strip().lower() for part in cookie.split(";")}
        assert {"httponly", "samesite=lax", "secure", "path=/"} <= flags
        assert not any(f.startswith("domain") for f in flags)
        assert c.get("/api/v1/patients").status_code == 200


@pytest.mark.postgres
def test_sessions_and_tokens_on_postgres(postgres_url: str) -> None:
    """The same lifecycle on PostgreSQL: log-out ends the session for a captured cookie; a
    revoked token is refused."""
    from hipspine.registry import get_engine, migrate
    from hipspine.web import store
    from hipspine.web.app import create_app
    from hipspine.web.settings import WebSettings

    engine = get_engine(postgres_url)
    migrate(engine)
    with session_scope(engine) as s:
        if s.scalar(select(User).where(User.username == "pg-sess")) is None:
            store.create_user(s, "pg-sess", "pg-password-1", "clinician")
    try:
        app = create_app(WebSettings(secret_key="k"), engine=engine)
        with TestClient(app) as browser:
            login(browser, "pg-sess", "pg-password-1")
            captured = _session_cookie(browser)
            token = browser.post("/api/v1/tokens", json={"expires_in_days": 1}).json()
            machine = TestClient(app, headers={"Authorization": f"Bearer {token['token']}"})
            assert machine.get("/api/v1/patients").status_code == 200
            assert browser.delete(f"/api/v1/tokens/{token['id']}").status_code == 200
            assert machine.get("/api/v1/patients").status_code == 401
            browser.post("/logout", data={"csrf_token": csrf_of(browser.get("/login").text)})
            assert _replay(app, captured).get("/api/v1/patients").status_code == 401
    finally:
        engine.dispose()


def test_logout_needs_the_sessions_csrf_token_and_an_ended_session_just_goes_to_login(
        app: Any, clinician: TestClient) -> None:
    captured = _session_cookie(clinician)
    r = clinician.post("/logout", data={"csrf_token": "wrong"}, follow_redirects=False)
    assert r.status_code == 403                      # no forced log-out from another site
    assert _replay(app, captured).get("/api/v1/patients").status_code == 200
    clinician.post("/logout", data={"csrf_token": clinician.headers["X-CSRF-Token"]})
    again = _replay(app, captured).post("/logout", data={"csrf_token": "stale"},
                                        follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == "/login"
