"""Map hipspine errors and request-validation failures to HTTP answers, in one place.

Bad input -> 422 `{error, what, problems: [{field, value, allowed, message}]}`; unknown
ids -> 404; role -> 403. Nothing a client sends may produce a 5xx.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from hipspine.errors import (
    ConflictError,
    HipspineError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
    Problem,
)
from hipspine.models.validation import format_loc, parse_model

log = logging.getLogger("hipspine.web")

# Request paths whose JSON body is one of hipspine's formats: their 422s are explained by the
# format's own validator (did-you-mean for misspelt fields, units and ranges).
_RICH_BODY_MODELS: dict[str, tuple[type[BaseModel], str]] = {}


def rich_body_model(path: str, model: type[BaseModel], what: str) -> None:
    _RICH_BODY_MODELS[path] = (model, what)


class NotAuthenticatedError(HipspineError):
    """No valid session or API token. HTTP 401."""


def problems_from_request_validation(exc: RequestValidationError) -> InputError:
    problems = []
    for err in exc.errors():
        loc = tuple(err.get("loc", ()))
        where = loc[0] if loc else "body"
        path = format_loc(loc[1:]) if len(loc) > 1 else str(where)
        field = path if where == "body" else f"{where}.{path}"
        ctx = err.get("ctx") or {}
        allowed = _allowed(err["type"], ctx, str(err.get("msg", "")))
        value = None if err["type"] == "missing" else err.get("input")
        problems.append(Problem(field=field, value=value, allowed=allowed,
                                message=str(err.get("msg", ""))))
    return InputError(problems, what="request")


def _allowed(kind: str, ctx: dict[str, Any], msg: str) -> str:
    if kind == "missing":
        return "a value (this field is required)"
    if kind == "literal_error" or kind == "enum":
        return "one of " + str(ctx.get("expected", ""))
    if "ge" in ctx or "le" in ctx or "gt" in ctx or "lt" in ctx:
        lo = ctx.get("ge", ctx.get("gt"))
        hi = ctx.get("le", ctx.get("lt"))
        if lo is not None and hi is not None:
            return f"a number from {lo} to {hi}"
        return f"a number >= {lo}" if lo is not None else f"a number <= {hi}"
    if kind.startswith("int"):
        return "a whole number"
    if kind.startswith("float"):
        return "a number"
    if kind.startswith("bool"):
        return "true or false"
    if kind in ("json_invalid",):
        return "a JSON document"
    if kind in ("model_attributes_type", "dict_type"):
        return "a JSON object"
    return msg


def input_error_response(exc: InputError) -> JSONResponse:
    return JSONResponse(status_code=422, content=exc.as_dict())


def install_error_handlers(app: FastAPI) -> None:
    """Register the one mapping from exceptions to HTTP status codes."""

    async def on_input(request: Request, exc: Exception) -> Any:
        assert isinstance(exc, InputError)
        if _wants_html(request):
            return _html_error(request, 422, "Please check the input",
                               "; ".join(str(p) for p in exc.problems))
        return input_error_response(exc)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        route = request.scope.get("route")
        rich = _RICH_BODY_MODELS.get(getattr(route, "path", request.url.path))
        body_errors = all(tuple(e.get("loc", ()))[:1] == ("body",) for e in exc.errors())
        if rich is not None and body_errors and isinstance(exc.body, dict):
            model, what = rich
            try:
                parse_model(model, exc.body, what)
            except InputError as detailed:
                return input_error_response(detailed)
        return input_error_response(problems_from_request_validation(exc))

    async def on_conflict(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ConflictError)
        return JSONResponse(status_code=409, content=exc.as_dict())

    async def on_not_found(request: Request, exc: Exception) -> Any:
        await _audit_refusal(request, 404)
        if _wants_html(request):
            return _html_error(request, 404, "Not found", str(exc))
        return JSONResponse(status_code=404, content={"error": "not_found", "detail": str(exc)})

    async def on_denied(request: Request, exc: Exception) -> Any:
        await _audit_refusal(request, 403)
        if _wants_html(request):
            return _html_error(request, 403, "Not allowed", str(exc))
        return JSONResponse(status_code=403,
                            content={"error": "permission_denied", "detail": str(exc)})

    async def on_unauthenticated(request: Request, exc: Exception) -> Any:
        if request.url.path.startswith("/api/"):  # a page visit before signing in is no attempt
            await _audit_refusal(request, 401)
        if _wants_html(request):
            from fastapi.responses import RedirectResponse

            return RedirectResponse("/login?next=" + request.url.path, status_code=303)
        return JSONResponse(status_code=401, content={"error": "not_authenticated",
                                                      "detail": str(exc)},
                            headers={"WWW-Authenticate": "Bearer"})

    async def on_hipspine(_request: Request, exc: Exception) -> JSONResponse:
        log.error("hipspine error: %s", type(exc).__name__)
        return JSONResponse(status_code=400, content={"error": "failed", "detail": str(exc)})

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 405:  # name every method of the path, not only the first route's
            return JSONResponse(status_code=405, content={"error": "method_not_allowed",
                                                          "detail": str(exc.detail)},
                                headers={"Allow": ", ".join(_allowed_methods(request))})
        if exc.status_code == 400:  # an unreadable body (not JSON, bad encoding) is bad input
            return input_error_response(InputError.single(
                "(body)", None, "a JSON document in UTF-8", str(exc.detail), what="request"))
        return JSONResponse(status_code=exc.status_code,
                            content={"error": _http_error_name(exc.status_code),
                                     "detail": exc.detail},
                            headers=getattr(exc, "headers", None))

    app.add_exception_handler(InputError, on_input)
    app.add_exception_handler(ConflictError, on_conflict)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(NotFoundError, on_not_found)
    app.add_exception_handler(PermissionDeniedError, on_denied)
    app.add_exception_handler(NotAuthenticatedError, on_unauthenticated)
    app.add_exception_handler(HipspineError, on_hipspine)
    app.add_exception_handler(StarletteHTTPException, on_http)


async def _audit_refusal(request: Request, status: int) -> None:
    """Record a refused request (401, 403, or 404 for something absent or not the actor's to
    see) in its own transaction: the request's own transaction rolled back with the error.
    The route's template and its numeric ids are recorded, never the raw path (a path may
    hold an identifier or a link token)."""
    from starlette.concurrency import run_in_threadpool

    from hipspine.registry import session_scope
    from hipspine.web import store

    info = getattr(request.state, "actor_info", None)
    actor = info[0] if isinstance(info, tuple) and info else None
    route = request.scope.get("route")
    template = str(getattr(route, "path", "(no route)"))
    ids = {k: int(v) for k, v in request.path_params.items()
           if isinstance(v, int) or (isinstance(v, str) and v.isdigit() and len(v) < 19)}
    detail = {"status": status, "method": request.method, "route": template[:200], **ids}

    def write() -> None:
        with session_scope(request.app.state.engine) as s:
            store.audit(s, actor, "access.refused", "request", None, detail)

    try:
        await run_in_threadpool(write)
    except Exception as exc:  # the refusal stands even when the audit store is down
        log.error("could not audit a refused request: %s", type(exc).__name__)


def _allowed_methods(request: Request) -> list[str]:
    from starlette.routing import Match

    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def _html_error(request: Request, status: int, heading: str, message: str) -> Any:
    from hipspine.web.templating import render

    return render(request, "message.html", {"heading": heading, "message": message},
                  status_code=status)


def _wants_html(request: Request) -> bool:
    return (not request.url.path.startswith("/api/")
            and "text/html" in request.headers.get("accept", ""))


def _http_error_name(status: int) -> str:
    return {404: "not_found", 405: "method_not_allowed", 401: "not_authenticated",
            403: "permission_denied"}.get(status, "http_error")
