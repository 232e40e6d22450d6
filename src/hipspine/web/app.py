"""The FastAPI application: REST API under `/api/v1`, the clinician web app, vendored docs.

    from hipspine.web.app import create_app
    app = create_app()                       # settings from HIPSPINE_* variables
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hipspine.version import ENGINE_VERSION
from hipspine.web import logfilter
from hipspine.web.errors import install_error_handlers
from hipspine.web.request_policy import RequestPolicy
from hipspine.web.security import LoginRateLimiter, parse_trusted_proxies
from hipspine.web.services import ServiceUnavailableError
from hipspine.web.sessions import SessionCookies
from hipspine.web.settings import WebSettings

STATIC_DIR = Path(__file__).with_name("static")


def create_app(settings: WebSettings | None = None, engine: Any | None = None) -> FastAPI:
    """Build the app on the registry `engine` (default: the one `settings.database_url` names)."""
    from hipspine.registry import get_engine
    from hipspine.web.routes import (
        admin,
        api_clinical,
        api_registry,
        auth,
        intake_live,
        pages,
        patient_link,
        research,
        tokens,
        tools,
    )

    settings = settings or WebSettings()
    logfilter.install()
    app = FastAPI(
        title="hipspine",
        version=ENGINE_VERSION,
        description="Decision support for hip-spine syndrome: assess, plan, spinopelvic "
        "parameters and an outcomes registry. Decision support, not diagnosis.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.settings = settings
    app.state.engine = engine if engine is not None else get_engine(settings.database_url)
    app.state.warm_up = _warm_up
    app.state.login_limiter = LoginRateLimiter(
        settings.login_max_attempts, settings.login_window_s,
        max_per_user=settings.login_max_per_user,
        max_per_address=settings.login_max_per_address)
    app.state.trusted_proxies = parse_trusted_proxies(settings.trusted_proxies)
    # Server-side sessions (hipspine.web.sessions): the cookie holds a random id only.
    app.add_middleware(SessionCookies)
    install_error_handlers(app)

    app.add_middleware(RequestPolicy, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(SafetyHeaders)

    async def on_unavailable(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(status_code=503, content={"error": "unavailable",
                                                      "detail": str(exc)})

    app.add_exception_handler(ServiceUnavailableError, on_unavailable)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/api/v1/openapi.json",
            title="hipspine API",
            swagger_js_url="/static/swagger/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger/swagger-ui.css",
            swagger_favicon_url="/static/swagger/favicon-32x32.png",
        )

    for module in (api_clinical, api_registry, tokens, auth, pages, tools, admin, research,
                   patient_link, intake_live):
        app.include_router(module.router)
    _mount_cds(app)
    return app


WARM_UP_CASE = {"format": "hipspine.case/1", "age": 60, "sex": "female",
                "imaging": {"reports": ["AP pelvis: mild joint space narrowing of the right hip."]},
                "notes": ["FABER positive on the right."]}


def _warm_up() -> None:
    """Load the knowledge bases and compile the engine (and the report reader) before the
    first patient: a server calls this once at start-up (`hipspine.web.server.ready`)."""
    from hipspine.models import parse_case
    from hipspine.web import services

    services.assess(parse_case(WARM_UP_CASE))


def _mount_cds(app: FastAPI) -> None:
    """CDS Hooks (discovery, hipspine-consider, feedback), configured from HIPSPINE_CDS_*;
    with a PostgreSQL registry, accepted token ids are shared through its table cds_jti."""
    from hipspine.ehr.cds import create_cds_router

    app.include_router(create_cds_router(registry_engine=app.state.engine))


class SafetyHeaders:
    """No caching of patient pages, no framing, no referrer (pre-fill links carry answers).

    Plain ASGI, not `@app.middleware("http")`: that wraps every request in an extra task and
    a body stream, measured at about a tenth of a CDS Hooks call's server time."""

    HEADERS = (("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
               ("Referrer-Policy", "no-referrer"))

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.HEADERS:
                    headers.setdefault(name, value)
                if not static:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)
