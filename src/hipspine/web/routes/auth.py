"""Sign in and out.

Failed log-ins are rate limited per user name and client address, per user name from every
address, and per address for every user name (`security.LoginRateLimiter`); the client's
address is the connecting peer's unless that peer is a trusted proxy. Signing in starts a
server-side session (a new id and CSRF token, the previous session of this browser ended);
signing out ends it in the registry, so the cookie is refused from then on, and is audited.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from hipspine.web import security, sessions, store
from hipspine.web.deps import (
    browser_session,
    check_form_csrf,
    client_address,
    forget_cached_session,
    transaction,
)
from hipspine.web.templating import render

router = APIRouter(include_in_schema=False)
log = logging.getLogger("hipspine.web.auth")

HOME_BY_ROLE = {"clinician": "/", "researcher": "/research", "admin": "/admin"}


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: an open redirect would help phishing."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return None


@router.get("/login")
def login_page(request: Request,
               next_path: Annotated[str | None, Query(alias="next", max_length=500)] = None
               ) -> Response:
    return render(request, "login.html", {"next": _safe_next(next_path) or "", "error": None})


@router.post("/login")
def login(request: Request, username: Annotated[str, Form(max_length=64)],
          password: Annotated[str, Form(max_length=256)],
          csrf_token: Annotated[str, Form()] = "",
          next_path: Annotated[str, Form(alias="next", max_length=500)] = "") -> Response:
    check_form_csrf(request, csrf_token)
    limiter: security.LoginRateLimiter = request.app.state.login_limiter
    address = client_address(request)
    wait = limiter.retry_after(username, address)
    if wait > 0:
        log.warning("login rate limited")
        return render(request, "login.html",
                      {"next": next_path, "error": f"Too many failed attempts. Try again in "
                                             f"{int(wait) + 1} seconds."},
                      status_code=429)
    previous = browser_session(request)
    with transaction(request) as s:
        user = store.authenticate(s, username, password)
        if user is None:
            limiter.record_failure(username, address)
            store.audit(s, None, "login.failed", "user", None)
        else:
            if previous is not None:  # one browser, one session: the old one ends here
                store.end_session(s, previous.session_id)
            session_id, _row = store.start_session(s, user,
                                                   request.app.state.settings.session_max_age_s)
            actor = store.Actor(user.id, user.username, user.role)
            store.audit(s, actor, "login", "user", user.id)
    if user is None:
        return render(request, "login.html",
                      {"next": next_path, "error": "Unknown username or wrong password."},
                      status_code=401)
    limiter.reset(username, address)
    forget_cached_session(request)
    sessions.set_session_cookie(request, session_id)
    target = _safe_next(next_path) or HOME_BY_ROLE.get(user.role, "/")
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    current = browser_session(request)
    if current is not None:  # nothing to end otherwise (e.g. the session expired meanwhile)
        check_form_csrf(request, csrf_token)
        with transaction(request) as s:
            store.end_session(s, current.session_id)
            store.audit(s, current.actor, "logout", "user", current.actor.user_id)
    forget_cached_session(request)
    sessions.clear_session_cookie(request)
    return RedirectResponse("/login", status_code=303)
