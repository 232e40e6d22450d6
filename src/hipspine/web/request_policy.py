"""Every request body is bounded and every JSON body obeys the one JSON policy, before any
route sees it.

A body larger than `WebSettings.max_body_bytes` is answered 413 without being read further
(the declared Content-Length is checked first; a chunked body is counted as it arrives).
A JSON body (`application/json`, `+json`, or a body sent with no Content-Type) is decoded
once under `hipspine.models.validation.loads_strict`; one that breaks the policy (NaN,
Infinity, numbers too large to store, duplicate keys, lone surrogates, deep nesting) is
answered 422 naming each problem. A route reads the decoded value with `request_json`.

Plain ASGI, like `SafetyHeaders`: a body is buffered once and replayed to the route.
"""

from __future__ import annotations

import email.message
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hipspine.errors import InputError
from hipspine.models.validation import loads_strict

SCOPE_KEY = "hipspine.json"
# Larger bodies are decoded in a worker thread: a few megabytes take a noticeable fraction of
# a second, which must not hold up the event loop (design choice: a typical CDS Hooks call
# is smaller and decodes in well under a millisecond, less than a thread hop costs).
INLINE_DECODE_BYTES = 64 * 1024


class BodyTooLarge(Exception):
    pass


class RequestPolicy:
    """413 for bodies over `max_body_bytes`; 422 for JSON bodies the JSON policy refuses."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(scope, receive, send)
            return
        if declared == "0" or ("content-length" not in headers
                               and "transfer-encoding" not in headers):
            await self.app(scope, receive, send)  # no body (GET, HEAD, an empty POST)
            return
        try:
            body, final = await self._read(receive)
        except BodyTooLarge:
            await self._too_large(scope, receive, send)
            return
        if body and _is_json(headers.get("content-type")):
            try:
                scope[SCOPE_KEY] = (
                    loads_strict(body, "request body") if len(body) <= INLINE_DECODE_BYTES
                    else await run_in_threadpool(loads_strict, body, "request body"))
            except InputError as exc:
                await JSONResponse(status_code=422, content=exc.as_dict())(scope, receive, send)
                return
        await self.app(scope, _replay(body, final, receive), send)

    async def _read(self, receive: Receive) -> tuple[bytes, Message]:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks), message  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), {"type": "http.request", "body": b"",
                                          "more_body": False}

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.max_body_bytes
        problem = InputError.single(
            "(request body)", "(larger than the limit)",
            f"at most {limit:,} bytes (HIPSPINE_MAX_BODY_BYTES)", what="request")
        content = {**problem.as_dict(), "error": "request_too_large"}
        response = JSONResponse(status_code=413, content=content,
                                headers={"Connection": "close"})
        await response(scope, receive, send)


def _replay(body: bytes, final: Message, receive: Receive) -> Receive:
    """A receive channel that yields the buffered body once, then the original channel."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            if final["type"] != "http.request":
                return final
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _is_json(content_type: str | None) -> bool:
    """JSON as FastAPI decides it: no Content-Type, application/json or application/*+json."""
    if not content_type:
        return True
    message = email.message.Message()
    message["content-type"] = content_type
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


async def request_json(request: Request) -> Any:
    """The request's JSON body, decoded once under the JSON policy by `RequestPolicy` (or
    here, for an app built without it); `InputError` when there is none or it breaks it."""
    if SCOPE_KEY in request.scope:
        return request.scope[SCOPE_KEY]
    return loads_strict(await request.body(), "request body")
