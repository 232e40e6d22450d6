"""`hipspine registry import|export|migrate|where`: the outcomes registry from the shell."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from hipspine.commands._io import print_json, read_text


def _format_of(path: str, given: str | None) -> str:
    if given:
        return given.lower()
    suffix = Path(path).suffix.lower().lstrip(".")
    return suffix if suffix in ("csv", "json") else "json"


def register(app: typer.Typer) -> None:
    registry = typer.Typer(help="The outcomes registry (SQLite by default, PostgreSQL by "
                                "HIPSPINE_DATABASE_URL).", no_args_is_help=True)

    @registry.command("where")
    def where() -> None:
        """Print which database the registry uses (credentials hidden)."""
        from sqlalchemy.engine import make_url

        from hipspine.registry import database_url

        sys.stdout.write(make_url(database_url()).render_as_string(hide_password=True) + "\n")

    @registry.command("migrate")
    def migrate_command(
        revision: str = typer.Option("head", help="Alembic revision to upgrade to."),
    ) -> None:
        """Upgrade the registry schema (a fresh SQLite file is migrated on first use)."""
        from hipspine.registry import get_engine, migrate
        from hipspine.registry.database import current_revision

        engine = get_engine(auto_migrate=False)
        migrate(engine, revision)
        sys.stdout.write(f"registry at revision {current_revision(engine)}\n")

    @registry.command("import")
    def import_command(
        file: str = typer.Argument(..., help="CSV or JSON rows file, or - for stdin."),
        fmt: str = typer.Option(None, "--format", help="csv or json (default: from the "
                                "file extension)"),
    ) -> None:
        """Import rows all-or-nothing: one bad row imports nothing and names row and field."""
        from hipspine.registry import get_engine
        from hipspine.registry.transfer import import_rows, read_rows

        rows = read_rows(read_text(file), _format_of(file, fmt))
        def progress(message: str) -> None:
            sys.stderr.write(message + "\n")
            sys.stderr.flush()

        result = import_rows(get_engine(), rows, progress=progress)
        print_json({"imported": result.as_dict()})

    @registry.command("export")
    def export_command(
        out: str = typer.Option("-", "--out", help="Output file, or - for stdout."),
        fmt: str = typer.Option(None, "--format", help="csv or json (default: from --out, "
                                "else json)"),
        synthetic: bool = typer.Option(None, "--synthetic/--real",
                                       help="Only synthetic or only real patients."),
    ) -> None:
        """Export every record as import-compatible rows; synthetic rows are labelled."""
        from hipspine.registry import get_engine
        from hipspine.registry.transfer import export_registry

        chosen = _format_of(out, fmt) if out != "-" else (fmt or "json").lower()
        engine = get_engine()
        if out == "-":
            counts = export_registry(engine, sys.stdout, chosen, synthetic=synthetic)
        else:
            with open(out, "w", encoding="utf-8", newline="") as handle:
                counts = export_registry(engine, handle, chosen, synthetic=synthetic)
        sys.stderr.write(f"exported {counts['rows']} rows ({counts['synthetic_rows']} "
                         "synthetic)\n")

    app.add_typer(registry, name="registry")
