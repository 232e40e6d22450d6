"""Sign in and out. Failed log-ins are rate limited per username and client address."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from hipspine.web import security, store
from hipspine.web.deps import check_form_csrf, transaction
from hipspine.web.templating import render

router = APIRouter(include_in_schema=False)
log = logging.getLogger("hipspine.web.auth")

HOME_BY_ROLE = {"clinician": "/", "researcher": "/research", "admin": "/admin"}


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: an open redirect would help phishing."""
    if target and target.startswith("/") and not target.startswith("//"):
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
    address = request.client.host if request.client else "unknown"
    wait = limiter.retry_after(username, address)
    if wait > 0:
        log.warning("login rate limited")
        return render(request, "login.html",
                      {"next": next_path, "error": f"Too many failed attempts. Try again in "
                                             f"{int(wait) + 1} seconds."},
                      status_code=429)
    with transaction(request) as s:
        user = store.authenticate(s, username, password)
        if user is None:
            limiter.record_failure(username, address)
            store.audit(s, None, "login.failed", "user", None)
        else:
            actor = store.Actor(user.id, user.username, user.role)
            store.audit(s, actor, "login", "user", user.id)
    if user is None:
        return render(request, "login.html",
                      {"next": next_path, "error": "Unknown username or wrong password."},
                      status_code=401)
    limiter.reset(username, address)
    request.session.clear()
    request.session["uid"] = user.id
    request.session["csrf"] = security.new_csrf_token()
    target = _safe_next(next_path) or HOME_BY_ROLE.get(user.role, "/")
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    check_form_csrf(request, csrf_token)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
