"""Jinja2 templates with the context every page needs (actor, CSRF token, versions)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from hipspine.version import ENGINE_VERSION
from hipspine.web import labels
from hipspine.web.deps import csrf_token, optional_actor

templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
labels.register(templates.env)  # words, not codes: citations, field paths, instrument names


def _knowledge_version() -> str:
    from hipspine.kb import knowledge_version

    try:
        return knowledge_version()
    except Exception:  # a broken knowledge base must not hide every page
        return "unknown"


def render(request: Request, name: str, context: dict[str, Any] | None = None,
           status_code: int = 200) -> HTMLResponse:
    ctx = {
        "actor": optional_actor(request),
        "csrf_token": csrf_token(request),
        "engine_version": ENGINE_VERSION,
        "knowledge_version": _knowledge_version(),
    }
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)
