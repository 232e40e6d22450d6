"""`hipspine serve`: the clinician web app, REST API (/api/v1, docs at /docs) and CDS Hooks."""

from __future__ import annotations

from typing import Any

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: str = typer.Option("127.0.0.1", help="Address to bind (loopback by default)."),
        port: int = typer.Option(8000, min=1, max=65535, help="TCP port."),
        demo: bool = typer.Option(False, "--demo", help="Use a separate demo database seeded "
                                  "with SYNTHETIC patients and demo accounts (printed)."),
        create_admin: str = typer.Option(
            "", "--create-admin", metavar="USERNAME",
            help="Create this admin account first (password from HIPSPINE_ADMIN_PASSWORD, "
            "else asked for). A new clinic's first account; the admin page adds the rest."),
        workers: int = typer.Option(1, min=1, max=64, help="Worker processes (Linux): one per "
                                    "core serves that many requests at once."),
    ) -> None:
        """Run the web app and REST API on the registry (HIPSPINE_DATABASE_URL or SQLite)."""
        from rich.console import Console

        from hipspine.registry import get_engine
        from hipspine.web.settings import WebSettings

        settings = WebSettings()
        out = Console()
        if demo:
            from hipspine.web.demo import demo_database_url, prepare_demo

            if not settings.database_url:
                settings = settings.model_copy(update={"database_url": demo_database_url()})
            engine = get_engine(settings.database_url)
            info = prepare_demo(engine)
            out.print(f"[bold]hipspine demo[/] on {engine.url.render_as_string()}: "
                      f"{info.patients} patients, all [bold magenta]SYNTHETIC[/]"
                      + (" (seeded now)" if info.seeded_now else ""))
            for username, role, password in info.accounts:
                out.print(f"  log in as [bold]{username}[/] / {password}  ({role})")
        else:
            engine = get_engine(settings.database_url)
        if create_admin:
            _create_admin(engine, create_admin)
            out.print(f"admin account [bold]{create_admin}[/] created")
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
        out.print(f"Open http://{shown}:{port}/  (API docs: http://{shown}:{port}/docs)")
        if not demo and not _has_accounts(engine):
            out.print("[yellow]No accounts yet:[/] restart with --create-admin USERNAME.")
        engine.dispose()  # the app (in each worker) opens its own connections
        _serve(settings, host, port, workers)


def _serve(settings: Any, host: str, port: int, workers: int) -> None:
    """One process, or `workers` processes (see `hipspine.web.server`). Several workers share
    what must be shared: the settings object (its signing key too, so a pre-session CSRF
    cookie is good on every worker), the registry (which holds the sessions), and the CDS
    `jti` replay store (the registry's table with PostgreSQL, else a SQLite file: a temporary
    one unless HIPSPINE_CDS_REPLAY_DB names one). Failed log-ins are counted per worker, so
    each worker allows its share of each limit and all of them together never more.

    uvicorn's own X-Forwarded-For handling is off (`hipspine.web.server`): the app believes
    the header only from HIPSPINE_TRUSTED_PROXIES."""
    import os
    import tempfile

    from hipspine.web.server import AppTarget, ServeOptions, run

    shared = {name: max(1, getattr(settings, name) // workers)
              for name in ("login_max_attempts", "login_max_per_user", "login_max_per_address")}
    options = ServeOptions(host=host, port=port, workers=workers,
                           uvicorn={"log_level": "info", "proxy_headers": False})
    target = AppTarget("hipspine.web.app:create_app", (settings.model_copy(update=shared),))
    with tempfile.TemporaryDirectory(prefix="hipspine-serve-") as scratch:
        own_store = workers > 1 and not os.environ.get("HIPSPINE_CDS_REPLAY_DB")
        if own_store:  # workers are spawned with this process's environment
            os.environ["HIPSPINE_CDS_REPLAY_DB"] = os.path.join(scratch, "cds-jti.sqlite")
        try:
            run(target, options)  # a ServerError is shown and exits 1, as every hipspine error
        finally:
            if own_store:
                del os.environ["HIPSPINE_CDS_REPLAY_DB"]


def _has_accounts(engine: object) -> bool:
    from sqlalchemy import func, select

    from hipspine.registry import session_scope
    from hipspine.registry.tables import User

    with session_scope(engine) as s:  # type: ignore[arg-type]
        return bool(s.scalar(select(func.count()).select_from(User)))


def _create_admin(engine: object, username: str) -> None:
    import os

    from hipspine.registry import session_scope
    from hipspine.web import store

    password = os.environ.get("HIPSPINE_ADMIN_PASSWORD") or typer.prompt(
        f"Password for {username}", hide_input=True, confirmation_prompt=True)
    with session_scope(engine) as s:  # type: ignore[arg-type]
        user = store.create_user(s, username, password, "admin")
        store.audit(s, None, "user.create", "user", user.id, {"via": "command line"})
