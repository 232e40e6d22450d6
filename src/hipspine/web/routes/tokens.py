"""API tokens: issue one for yourself (shown once), list yours, revoke one.

A token lasts `api_token_days` (default 90) or the fewer days asked for, and ends early when
revoked (by its owner or an admin) or when its user is deactivated; an ended token answers
401 like an unknown one. Tokens are issued only to a signed-in browser session (or with
`hipspine users token issue`), never to another token: a stolen token could otherwise renew
itself forever. Issuing and revoking are audited; the token itself is never shown again,
only its id, label and dates.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from hipspine.errors import PermissionDeniedError
from hipspine.web import store
from hipspine.web.deps import actor_by_token, current_actor, transaction
from hipspine.web.schemas import UtcDateTime
from hipspine.web.store import Actor

router = APIRouter(prefix="/api/v1", tags=["accounts"])

TokenId = Annotated[int, Path(ge=1, le=2_147_483_647, description="API token id")]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in and no (live) API token"},
    403: {"description": "Not allowed: CSRF token missing, a token asking for a token, or "
                         "another user's tokens without the admin role"},
    404: {"description": "No such token (or another user's, which only an admin may see)"},
    422: {"description": "Invalid input: `problems` name field, value and what is allowed"},
}


class ApiTokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    label: Annotated[str, Field(max_length=128)] | None = None
    expires_in_days: Annotated[int, Field(ge=1, le=3650)] | None = Field(
        default=None, description="days until it expires; default and most: the server's "
        "api_token_days (90 unless configured)")


class ApiTokenPublic(BaseModel):
    """A token as listed: never the token itself, nor its hash."""

    id: int
    user_id: int
    label: str | None
    created_at: UtcDateTime
    expires_at: UtcDateTime
    revoked_at: UtcDateTime | None
    active: bool = Field(description="neither revoked nor expired")


class ApiTokenIssued(ApiTokenPublic):
    token: str = Field(description="shown once; only its hash is stored")


def _public(row: Any, max_days: int) -> dict[str, Any]:
    return {"id": row.id, "user_id": row.user_id, "label": row.label,
            "created_at": row.created_at, "expires_at": store.token_expiry(row, max_days),
            "revoked_at": row.revoked_at, "active": store.token_active(row, max_days)}


def _max_days(request: Request) -> int:
    return int(request.app.state.settings.api_token_days)


@router.post("/tokens", response_model=ApiTokenIssued, status_code=201, responses=ERRORS,
             summary="Issue an API token for yourself (shown once)")
def issue_token(request: Request, body: ApiTokenCreate,
                actor: Actor = Depends(current_actor)) -> Any:
    if actor_by_token(request):
        raise PermissionDeniedError("API tokens are issued to a signed-in session (or with "
                                    "`hipspine users token issue`), not to another API token")
    max_days = _max_days(request)
    with transaction(request) as s:
        token, row = store.issue_api_token(s, actor, body.label, body.expires_in_days,
                                           max_days=max_days)
        return ApiTokenIssued(token=token, **_public(row, max_days))


@router.get("/tokens", response_model=list[ApiTokenPublic], responses=ERRORS,
            summary="Your API tokens (an admin may name another user's)")
def list_tokens(request: Request, actor: Actor = Depends(current_actor),
                user_id: Annotated[int | None, Query(ge=1, le=2_147_483_647,
                                                     description="admin only: whose")] = None,
                ) -> Any:
    max_days = _max_days(request)
    with transaction(request) as s:
        return [ApiTokenPublic(**_public(row, max_days))
                for row in store.list_tokens(s, actor, user_id)]


@router.delete("/tokens/{token_id}", response_model=ApiTokenPublic, responses=ERRORS,
               summary="Revoke an API token: your own, or any as an admin")
def revoke_token(request: Request, token_id: TokenId,
                 actor: Actor = Depends(current_actor)) -> Any:
    max_days = _max_days(request)
    with transaction(request) as s:
        return ApiTokenPublic(**_public(store.revoke_token(s, actor, token_id), max_days))
