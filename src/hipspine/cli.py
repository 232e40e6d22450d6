"""The one command-line entry point, `hipspine`.

Each command lives in `hipspine.commands.<area>` as a thin call into the core or an
adapter; this module only assembles them and maps errors to exit codes in one place:
0 ok, 2 bad input (the message names the field), 1 internal error.
"""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console

from hipspine.errors import HipspineError, InputError, NotFoundError

app = typer.Typer(
    name="hipspine",
    help="Decision support and outcomes research for hip-spine syndrome.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Each module exposes `register(app)` and imports its heavy libraries only when run.
COMMAND_MODULES = (
    "assess", "knowledge", "schema", "plan", "spinopelvic", "prom", "registry",
    "synth", "report", "serve", "fhir", "nlp", "screen", "eval", "users",
)

for _name in COMMAND_MODULES:
    importlib.import_module(f"hipspine.commands.{_name}").register(app)


def main() -> None:
    """Run the CLI, mapping hipspine errors to exit codes and clear messages."""
    err = Console(stderr=True)
    try:
        app(standalone_mode=False)
    except InputError as exc:
        err.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
        sys.exit(2)
    except NotFoundError as exc:
        err.print(f"[bold red]not found:[/] {exc}", highlight=False)
        sys.exit(2)
    except HipspineError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        sys.exit(1)
    except Exception as exc:  # click usage errors carry their own exit code (2)
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise


if __name__ == "__main__":
    main()
