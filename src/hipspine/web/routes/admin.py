"""Admin pages: accounts, patient assignments, the audit trail (view and CSV export)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from hipspine.errors import InputError
from hipspine.models import parse_model
from hipspine.web import store
from hipspine.web.deps import check_form_csrf, page_actor, transaction
from hipspine.web.schemas import UserCreate
from hipspine.web.templating import render

router = APIRouter(include_in_schema=False)
AUDIT_PAGE = 50


def _admin_context(request: Request, page: int, action: str | None) -> dict[str, object]:
    actor = page_actor(request)
    store.require_role(actor, "admin")
    with transaction(request) as s:
        users = [{"id": u.id, "username": u.username, "role": u.role, "active": u.active}
                 for u in store.list_users(s)]
        events, total = store.audit_events(s, AUDIT_PAGE, (page - 1) * AUDIT_PAGE,
                                           action=action)
        rows = [{"at": e.at, "actor": e.actor, "role": e.role, "action": e.action,
                 "resource": f"{e.resource_type or ''} {e.resource_id or ''}".strip()}
                for e in events]
    return {"users": users, "events": rows, "total": total, "page": page,
            "pages": max(1, -(-total // AUDIT_PAGE)), "action": action or "",
            "errors": {}, "values": {}, "message": None}


@router.get("/admin")
def admin_page(request: Request, page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
               action: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    return render(request, "admin.html", _admin_context(request, page, action))


@router.post("/admin/users")
async def admin_create_user(request: Request) -> Response:
    actor = page_actor(request)
    store.require_role(actor, "admin")
    form = await request.form()
    check_form_csrf(request, str(form.get("csrf_token", "")))
    raw = {k: str(v).strip() for k, v in form.items()
           if k in ("username", "password", "role", "display_name") and str(v).strip()}
    try:
        body = parse_model(UserCreate, raw, "user")

        def create() -> None:  # argon2 hashing costs on purpose: off the event loop
            with transaction(request) as s:
                user = store.create_user(s, body.username, body.password, body.role,
                                         body.display_name)
                store.audit(s, actor, "user.create", "user", user.id)

        await run_in_threadpool(create)
    except InputError as exc:
        ctx = _admin_context(request, 1, None)
        ctx["errors"] = {p.field: f"allowed: {p.allowed}" for p in exc.problems}
        ctx["values"] = {k: v for k, v in raw.items() if k != "password"}
        return render(request, "admin.html", ctx, status_code=422)
    return RedirectResponse("/admin", status_code=303)


@router.post("/admin/assignments")
async def admin_assign(request: Request) -> Response:
    actor = page_actor(request)
    store.require_role(actor, "admin")
    form = await request.form()
    check_form_csrf(request, str(form.get("csrf_token", "")))
    username = str(form.get("username", "")).strip()
    pseudonym = str(form.get("pseudonym", "")).strip()
    with transaction(request) as s:
        users = {u.username: u.id for u in store.list_users(s)}
        if username not in users:
            raise InputError.single("username", username, "an existing user", what="assignment")
        rows, _ = store.list_patients(s, actor, 1, 0, pseudonym=pseudonym)
        if not pseudonym or not rows or rows[0].pseudonym != pseudonym:
            raise InputError.single("pseudonym", pseudonym, "a registered pseudonym",
                                    what="assignment")
        store.assign(s, actor, users[username], rows[0].id)
    return RedirectResponse("/admin", status_code=303)
