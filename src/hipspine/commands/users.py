"""`hipspine users ...`: accounts from the shell, for the operator who holds the registry.

    hipspine users list
    hipspine users token issue USERNAME [--label TEXT] [--days N]
    hipspine users token list [USERNAME | --all]
    hipspine users token revoke TOKEN_ID
    hipspine users sessions end USERNAME

Every change is audited as `cli:<OS user>`. A token is printed once (only its hash is kept);
lists never show a token.
"""

from __future__ import annotations

from typing import Any

import typer

from hipspine.commands._io import print_json


def _engine() -> Any:
    from hipspine.registry import get_engine

    return get_engine()


def _max_days() -> int:
    from hipspine.web.settings import WebSettings

    return WebSettings().api_token_days


def _user(s: Any, username: str) -> Any:
    from sqlalchemy import select

    from hipspine.errors import NotFoundError
    from hipspine.registry.tables import User

    user = s.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFoundError(f"user {username!r} not found")
    return user


def _token_row(row: Any, max_days: int, usernames: dict[int, str]) -> dict[str, Any]:
    from hipspine.web import store

    return {"id": row.id, "user": usernames.get(row.user_id, str(row.user_id)),
            "label": row.label, "created_at": row.created_at.isoformat(),
            "expires_at": store.token_expiry(row, max_days).isoformat(),
            "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
            "active": store.token_active(row, max_days)}


def register(app: typer.Typer) -> None:
    users = typer.Typer(help="Accounts: users, their API tokens and sessions.",
                        no_args_is_help=True)
    token = typer.Typer(help="API tokens: issue, list, revoke.", no_args_is_help=True)
    session = typer.Typer(help="Browser sessions.", no_args_is_help=True)
    users.add_typer(token, name="token")
    users.add_typer(session, name="sessions")

    @users.command("list")
    def list_command() -> None:
        """Every account: id, username, role, active."""
        from hipspine.registry import session_scope
        from hipspine.web import store

        with session_scope(_engine()) as s:
            print_json([{"id": u.id, "username": u.username, "role": u.role,
                         "active": u.active} for u in store.list_users(s)])

    @token.command("issue")
    def issue_command(
        username: str = typer.Argument(..., help="Whose token."),
        label: str = typer.Option(None, "--label", help="What it is for (shown in lists)."),
        days: int = typer.Option(None, "--days", min=1,
                                 help="Days until it expires (default and most: "
                                 "HIPSPINE_API_TOKEN_DAYS, 90)."),
    ) -> None:
        """Issue an API token for a user; printed once, with its id and expiry."""
        from hipspine.registry import session_scope
        from hipspine.web import store

        max_days = _max_days()
        with session_scope(_engine()) as s:
            user = _user(s, username)
            secret, row = store.issue_api_token(s, None, label, days, user_id=user.id,
                                                max_days=max_days)
            print_json(_token_row(row, max_days, {user.id: user.username}) | {"token": secret})

    @token.command("list")
    def token_list_command(
        username: str = typer.Argument(None, help="Whose tokens (or --all)."),
        every: bool = typer.Option(False, "--all", help="Every user's tokens."),
    ) -> None:
        """API tokens (never the token itself): id, user, label, dates, active."""
        from hipspine.errors import InputError
        from hipspine.registry import session_scope
        from hipspine.web import store

        if not every and not username:
            raise InputError.single("USERNAME", None, "a username, or --all",
                                    what="command-line argument")
        max_days = _max_days()
        with session_scope(_engine()) as s:
            usernames = {u.id: u.username for u in store.list_users(s)}
            rows = (store.list_tokens(s, None, every_user=True) if every
                    else store.list_tokens(s, None, _user(s, username).id))
            print_json([_token_row(r, max_days, usernames) for r in rows])

    @token.command("revoke")
    def revoke_command(token_id: int = typer.Argument(..., min=1,
                                                      help="The token's id (token list).")
                       ) -> None:
        """Revoke an API token now: it answers 401 from here on."""
        from hipspine.registry import session_scope
        from hipspine.web import store

        max_days = _max_days()
        with session_scope(_engine()) as s:
            row = store.revoke_token(s, None, token_id)
            usernames = {u.id: u.username for u in store.list_users(s)}
            print_json(_token_row(row, max_days, usernames))

    @session.command("end")
    def end_sessions_command(username: str = typer.Argument(..., help="Whose sessions.")
                             ) -> None:
        """End every browser session of a user now (each must sign in again)."""
        from hipspine.registry import session_scope
        from hipspine.web import store

        with session_scope(_engine()) as s:
            user = _user(s, username)
            ended = store.end_user_sessions(s, None, user.id)
            print_json({"user": user.username, "sessions_ended": ended})

    app.add_typer(users, name="users")
