"""Request plumbing: the registry transaction, the signed-in actor, CSRF checks, the client's
address.

Machines authenticate with `Authorization: Bearer <token>` (unknown, revoked and expired
tokens are refused); browsers with the session cookie, which holds only a random id of a
server-side session (`hipspine.web.sessions`). Every state-changing request from a browser
must carry a CSRF token (form field `csrf_token` or header `X-CSRF-Token`): the session's own
when signed in, else the anonymous visitor's, which must match their signed pre-session
cookie.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from hipspine.errors import PermissionDeniedError
from hipspine.registry import session_scope
from hipspine.web import security, sessions
from hipspine.web.errors import NotAuthenticatedError
from hipspine.web.store import Actor, session_by_id, user_by_token

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_UNSET = object()


@contextmanager
def transaction(request: Request) -> Iterator[Session]:
    """One registry transaction: all of a request's writes land together or not at all."""
    with session_scope(request.app.state.engine) as s:
        yield s


@dataclass(frozen=True)
class BrowserSession:
    """The signed-in browser's server-side session, as this request found it."""

    session_id: str          # the cookie's value (the registry holds only its digest)
    actor: Actor
    csrf: str


def _settings(request: Request) -> Any:
    return request.app.state.settings


def browser_session(request: Request) -> BrowserSession | None:
    """The request's live session (cookie names one that has not ended or expired, of an
    active user), looked up once per request. A cookie naming no live session is cleared."""
    cached = getattr(request.state, "browser_session", _UNSET)
    if cached is not _UNSET:
        return cached  # type: ignore[return-value]
    found: BrowserSession | None = None
    session_id = request.cookies.get(sessions.session_cookie_name(request))
    if session_id:
        with transaction(request) as s:
            hit = session_by_id(s, session_id)
            if hit is not None:
                row, user = hit
                found = BrowserSession(session_id, _actor(user), row.csrf)
        if found is None:
            sessions.clear_session_cookie(request)
    request.state.browser_session = found
    return found


def forget_cached_session(request: Request) -> None:
    """After signing in or out: the next read looks the session up again."""
    for name in ("browser_session", "actor_info", "anonymous_csrf"):
        if hasattr(request.state, name):
            delattr(request.state, name)


def _actor_from_request(request: Request) -> tuple[Actor | None, bool]:
    """(actor, by_token). Cached on the request so a page and its guards agree."""
    cached = getattr(request.state, "actor_info", None)
    if cached is not None:
        return cached
    header = request.headers.get("authorization", "")
    info: tuple[Actor | None, bool]
    if header.lower().startswith("bearer "):
        with transaction(request) as s:
            user = user_by_token(s, header[7:].strip(), _settings(request).api_token_days)
            info = (_actor(user), True) if user else (None, True)
    else:
        session = browser_session(request)
        info = (session.actor if session else None, False)
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
        if not security.csrf_matches(_expected_csrf(request),
                                     request.headers.get("x-csrf-token")):
            raise PermissionDeniedError("missing or wrong CSRF token (header X-CSRF-Token)")
    return actor


def actor_by_token(request: Request) -> bool:
    """True when the request authenticated with an API token (not a browser session)."""
    return _actor_from_request(request)[1]


def page_actor(request: Request) -> Actor:
    """The signed-in actor for HTML pages (redirects to /login when absent)."""
    actor = optional_actor(request)
    if actor is None:
        raise NotAuthenticatedError("sign in to continue")
    return actor


def _anonymous_csrf(request: Request) -> str | None:
    """The CSRF value of the visitor's signed pre-session cookie, if it is one of ours."""
    return security.read_anonymous_csrf(_settings(request).secret_key,
                                        request.cookies.get(sessions.csrf_cookie_name(request)))


def _expected_csrf(request: Request) -> str | None:
    session = browser_session(request)
    return session.csrf if session is not None else _anonymous_csrf(request)


def check_form_csrf(request: Request, given: str | None) -> None:
    if not security.csrf_matches(_expected_csrf(request), given):
        raise PermissionDeniedError("the form has expired or did not come from this site "
                                    "(CSRF token missing or wrong): reload the page")


def csrf_token(request: Request) -> str:
    """The token for this request's forms: the session's when signed in, else the visitor's
    pre-session value (a new one, and its signed cookie, on the first visit)."""
    session = browser_session(request)
    if session is not None:
        return session.csrf
    cached = getattr(request.state, "anonymous_csrf", None)
    if isinstance(cached, str):
        return cached
    token = _anonymous_csrf(request)
    if token is None:
        token = security.new_csrf_token()
        sessions.set_csrf_cookie(request, security.sign_anonymous_csrf(
            _settings(request).secret_key, token))
    request.state.anonymous_csrf = token
    return token


def client_address(request: Request) -> str:
    """The client's address: the peer's, or X-Forwarded-For's when the peer is one of the
    trusted proxies (`HIPSPINE_TRUSTED_PROXIES`)."""
    trusted = getattr(request.app.state, "trusted_proxies", ())
    peer = request.client.host if request.client else None
    return security.client_address(peer, request.headers.getlist("x-forwarded-for"), trusted)
