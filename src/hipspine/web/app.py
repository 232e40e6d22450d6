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
from starlette.middleware.sessions import SessionMiddleware

from hipspine.version import ENGINE_VERSION
from hipspine.web import logfilter
from hipspine.web.errors import install_error_handlers
from hipspine.web.security import LoginRateLimiter
from hipspine.web.services import ServiceUnavailableError
from hipspine.web.settings import WebSettings

STATIC_DIR = Path(__file__).with_name("static")
SESSION_COOKIE = "hipspine_session"


def create_app(settings: WebSettings | None = None, engine: Any | None = None) -> FastAPI:
    """Build the app on the registry `engine` (default: the one `settings.database_url` names)."""
    from hipspine.registry import get_engine
    from hipspine.web.routes import (
        admin,
        api_clinical,
        api_registry,
        auth,
        pages,
        patient_link,
        research,
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
    app.state.login_limiter = LoginRateLimiter(settings.login_max_attempts,
                                               settings.login_window_s)
    app.add_middleware(SessionMiddleware, secret_key=settings.secret_key,
                       session_cookie=SESSION_COOKIE, max_age=settings.session_max_age_s,
                       same_site="lax", https_only=settings.cookie_secure)
    install_error_handlers(app)

    @app.middleware("http")
    async def safety_headers(request: Request, call_next: Any) -> Any:
        """No caching of patient pages, no framing, no referrer (pre-fill links carry answers)."""
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

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

    for module in (api_clinical, api_registry, auth, pages, tools, admin, research,
                   patient_link):
        app.include_router(module.router)
    _mount_cds(app)
    return app


def _mount_cds(app: FastAPI) -> None:
    """Mount engineer G's CDS Hooks router when the EHR adapter is installed."""
    import importlib

    try:
        cds = importlib.import_module("hipspine.ehr.cds")
    except ImportError:
        return
    factory = getattr(cds, "create_cds_router", None)
    router = factory() if callable(factory) else getattr(cds, "router", None)
    if router is not None:
        app.include_router(router)
