"""`hipspine schema case|assessment`: JSON Schema of the formats, for integrators."""

from __future__ import annotations

import json
import sys

import typer

from hipspine.errors import InputError


def register(app: typer.Typer) -> None:
    @app.command()
    def schema(
        name: str = typer.Argument(..., help="case | assessment | plan | landmarks | spinopelvic"),
    ) -> None:
        """Print the JSON Schema of one of hipspine's formats."""
        from hipspine.models import schemas

        models = schemas.available()
        if name not in models:
            raise InputError.single("name", name, "one of " + ", ".join(sorted(models)),
                                    what="command-line argument")
        sys.stdout.write(json.dumps(models[name].model_json_schema(), indent=2) + "\n")
