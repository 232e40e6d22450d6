"""Request plumbing: the registry transaction, the signed-in actor, CSRF checks.

Machines authenticate with `Authorization: Bearer <token>`; browsers with the session
cookie, and then every state-changing request must carry the session's CSRF token (form
field `csrf_token` or header `X-CSRF-Token`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from hipspine.errors import PermissionDeniedError
from hipspine.registry import session_scope
from hipspine.web import security
from hipspine.web.errors import NotAuthenticatedError
from hipspine.web.store import Actor, user_by_id, user_by_token

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@contextmanager
def transaction(request: Request) -> Iterator[Session]:
    """One registry transaction: all of a request's writes land together or not at all."""
    with session_scope(request.app.state.engine) as s:
        yield s


def _actor_from_request(request: Request) -> tuple[Actor | None, bool]:
    """(actor, by_token). Cached on the request so a page and its guards agree."""
    cached = getattr(request.state, "actor_info", None)
    if cached is not None:
        return cached
    header = request.headers.get("authorization", "")
    info: tuple[Actor | None, bool] = (None, False)
    with transaction(request) as s:
        if header.lower().startswith("bearer "):
            user = user_by_token(s, header[7:].strip())
            info = (_actor(user), True) if user else (None, True)
        else:
            uid = request.session.get("uid") if "session" in request.scope else None
            user = user_by_id(s, uid) if isinstance(uid, int) else None
            info = (_actor(user), False) if user else (None, False)
    request.state.actor_info = info
    return info


def _actor(user: Any) -> Actor:
    return Actor(user_id=user.id, username=user.username, role=user.role)


def optional_actor(request: Request) -> Actor | None:
    return _actor_from_request(request)[0]


def current_actor(request: Request) -> Actor:
    """The signed-in actor for the API: 401 without credentials, CSRF check for cookies."""
    actor, by_token = _actor_from_request(request)
    if actor is None:
        raise NotAuthenticatedError("sign in, or send Authorization: Bearer <API token>")
    if not by_token and request.method not in SAFE_METHODS:
        if not security.csrf_matches(request.session.get("csrf"),
                                     request.headers.get("x-csrf-token")):
            raise PermissionDeniedError("missing or wrong CSRF token (header X-CSRF-Token)")
    return actor


def page_actor(request: Request) -> Actor:
    """The signed-in actor for HTML pages (redirects to /login when absent)."""
    actor = optional_actor(request)
    if actor is None:
        raise NotAuthenticatedError("sign in to continue")
    return actor


def check_form_csrf(request: Request, given: str | None) -> None:
    if not security.csrf_matches(request.session.get("csrf"), given):
        raise PermissionDeniedError("the form has expired or did not come from this site "
                                    "(CSRF token missing or wrong): reload the page")


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not token:
        token = security.new_csrf_token()
        request.session["csrf"] = token
    return str(token)
