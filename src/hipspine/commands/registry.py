"""`hipspine registry import|export|migrate|where`: the outcomes registry from the shell."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from hipspine.commands._io import print_json
from hipspine.errors import InputError


def _read_file(path: str) -> str:
    """The import file (or stdin for '-') as text: UTF-8, a byte-order mark allowed."""
    from hipspine.registry.transfer import decode_text

    if path == "-":
        return decode_text(sys.stdin.buffer.read())
    p = Path(path)
    if not p.is_file():
        raise InputError.single("path", path, "an existing readable file, or - for stdin",
                                what="command-line argument")
    return decode_text(p.read_bytes())


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
        """Upgrade the registry schema, all or nothing (a new database is migrated on first
        use too); concurrent runs wait for each other."""
        from hipspine.registry import get_engine, migrate
        from hipspine.registry.database import current_revision

        engine = get_engine(auto_migrate=False)
        migrate(engine, revision)
        sys.stdout.write(f"registry at revision {current_revision(engine)}\n")

    @registry.command("import")
    def import_command(
        file: str = typer.Argument(..., help="CSV or JSON rows file, or - for stdin."),
        fmt: str = typer.Option(None, "--format", help="csv, json or fhir (default: from "
                                "the file extension)"),
        pseudonym: str = typer.Option(None, "--pseudonym", help="With --format fhir: the "
                                      "registry pseudonym of the patient the "
                                      "QuestionnaireResponses belong to."),
    ) -> None:
        """Import rows all-or-nothing: one bad row imports nothing and names row and field.

        With --format fhir, one patient's QuestionnaireResponses become PROM rows. A clash
        with patients already registered (e.g. by a concurrent import) exits 2 naming each
        row and pseudonym. The import is audited (as cli:<OS user>) in its own transaction.
        """
        from hipspine.registry import get_engine, session_scope
        from hipspine.registry.tables import Patient
        from hipspine.registry.transfer import import_rows, read_rows, rows_from_fhir

        chosen = _format_of(file, fmt)
        engine = get_engine()
        if chosen == "fhir":
            if not pseudonym:
                raise InputError.single("--pseudonym", None, "the patient's registry "
                                        "pseudonym", what="command-line option")
            from sqlalchemy import select

            with session_scope(engine) as session:
                known = session.scalar(select(Patient.id).where(
                    Patient.pseudonym == pseudonym)) is not None
            rows = rows_from_fhir(_read_file(file), pseudonym, register_patient=not known)
        else:
            rows = read_rows(_read_file(file), chosen)

        def progress(message: str) -> None:
            sys.stderr.write(message + "\n")
            sys.stderr.flush()

        result = import_rows(engine, rows, progress=progress, source=chosen)
        print_json({"imported": result.as_dict()})

    @registry.command("export")
    def export_command(
        out: str = typer.Option("-", "--out", help="Output file, or - for stdout."),
        fmt: str = typer.Option(None, "--format", help="csv or json (default: from --out, "
                                "else json)"),
        synthetic: bool = typer.Option(None, "--synthetic/--real",
                                       help="Only synthetic or only real patients."),
    ) -> None:
        """Export every record as import-compatible rows; synthetic rows are labelled.

        The export is audited (as cli:<OS user>): counts only, never a pseudonym."""
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
