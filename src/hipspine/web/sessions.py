"""Browser sessions held on the server, and the cookies that carry them.

A signed-in browser holds one cookie, `hipspine_session`: a random id and nothing else. The
registry's `web_sessions` row (found by the id's SHA-256) says whose session it is, its CSRF
token, and when it ends: `session_max_age_s` after sign-in, at log-out (`ended_at`), or as
soon as the user is deactivated. A cookie copied before log-out is worthless afterwards.

A visitor who is not signed in (the log-in form, a patient's questionnaire link) still needs
a CSRF token for the forms they post. They get a pre-session cookie, `hipspine_csrf`, holding
a random value and this server's HMAC of it (keyed by `secret_key`); the form carries the
value, and a post is accepted when the form's value equals the cookie's and the signature is
good (a signed double-submit cookie). It grants nothing: it only proves that the form was
posted by a page this site served to the same browser. Signed in, the session's own token
(stored server-side, new at every sign-in) is the only one accepted.

Both cookies are HttpOnly and SameSite=Lax, and with `cookie_secure` also Secure and named
with the `__Host-` prefix, which browsers accept only from HTTPS, for the whole site and for
this host alone (a sibling subdomain cannot plant one).

Routes and dependencies queue cookies on the request (`queue_cookie`); `SessionCookies`, a
plain ASGI middleware, adds them to whatever response goes out, error pages included.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_COOKIE = "hipspine_session"
CSRF_COOKIE = "hipspine_csrf"
QUEUE = "hipspine.set_cookie"   # scope key: Set-Cookie header values to add to the response


def cookie_name(base: str, secure: bool) -> str:
    return f"__Host-{base}" if secure else base


def _settings(request: Request) -> Any:
    return request.app.state.settings


def session_cookie_name(request: Request) -> str:
    return cookie_name(SESSION_COOKIE, _settings(request).cookie_secure)


def csrf_cookie_name(request: Request) -> str:
    return cookie_name(CSRF_COOKIE, _settings(request).cookie_secure)


def set_cookie_header(name: str, value: str, *, secure: bool, max_age: int | None) -> str:
    parts = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


def delete_cookie_header(name: str, *, secure: bool) -> str:
    return set_cookie_header(name, "", secure=secure, max_age=0) \
        + "; Expires=Thu, 01 Jan 1970 00:00:00 GMT"


def queue_cookie(request: Request, header: str) -> None:
    """Send this Set-Cookie header with the response (ignored without `SessionCookies`)."""
    queued = request.scope.get(QUEUE)
    if isinstance(queued, list):
        queued.append(header)


def set_session_cookie(request: Request, session_id: str) -> None:
    settings = _settings(request)
    queue_cookie(request, set_cookie_header(session_cookie_name(request), session_id,
                                            secure=settings.cookie_secure,
                                            max_age=settings.session_max_age_s))


def clear_session_cookie(request: Request) -> None:
    queue_cookie(request, delete_cookie_header(session_cookie_name(request),
                                               secure=_settings(request).cookie_secure))


def set_csrf_cookie(request: Request, signed_value: str) -> None:
    """The pre-session cookie lasts as long as the browser session."""
    queue_cookie(request, set_cookie_header(csrf_cookie_name(request), signed_value,
                                            secure=_settings(request).cookie_secure,
                                            max_age=None))


class SessionCookies:
    """Adds the Set-Cookie headers queued during the request to its response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        queued: list[str] = []
        scope[QUEUE] = queued

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start" and queued:
                headers = MutableHeaders(scope=message)
                for value in dict.fromkeys(queued):  # each once, in order
                    headers.append("set-cookie", value)
            await send(message)

        await self.app(scope, receive, send_with_cookies)
