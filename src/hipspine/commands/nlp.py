"""`hipspine nlp REPORT|-` reads a radiology report; `hipspine nlp eval` scores the reader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from hipspine.commands._io import OutputFormat, print_json, read_text


class DefaultCommandGroup(TyperGroup):
    """A group whose first argument, when it is not a subcommand, goes to `default_command`:
    `hipspine nlp report.txt` means `hipspine nlp read report.txt`."""

    default_command = "read"

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


def register(app: typer.Typer) -> None:
    nlp = typer.Typer(cls=DefaultCommandGroup, no_args_is_help=True,
                      help="Read radiology reports into imaging fields (hip OA grade and side, "
                           "lumbar stenosis, spondylolisthesis), with negation and hedging. "
                           "`hipspine nlp REPORT.txt|-` runs `nlp read`.")

    @nlp.command("read")
    def read_command(
        report: str = typer.Argument(..., help="Report text file, or - for stdin."),
        output_format: OutputFormat = typer.Option(OutputFormat.text, "--format",
                                                   help="text or json"),
    ) -> None:
        """Read one report and print the imaging fields and the evidence for each."""
        from hipspine.nlp import read_report

        reading = read_report(read_text(report))
        if output_format == OutputFormat.json:
            print_json(reading.model_dump(mode="json", exclude_none=True))
            return
        _render_reading(reading.model_dump(mode="json", exclude_none=True))

    @nlp.command("eval")
    def eval_command(
        eval_dir: Path = typer.Option(None, "--eval-dir",
                                      help="Folder of labelled *.jsonl sentences "
                                           "(default: the repository's tests/nlp/eval)."),
        output_format: OutputFormat = typer.Option(OutputFormat.text, "--format",
                                                   help="text or json"),
    ) -> None:
        """Print precision, recall and F1 per field on the labelled evaluation set (imaging
        fields, and red-flag alarms from `alarms/*.jsonl`)."""
        from hipspine.nlp.evaluate import DEFAULT_EVAL_DIR, evaluate_all, render_text

        result = evaluate_all(eval_dir or DEFAULT_EVAL_DIR)
        if output_format == OutputFormat.json:
            print_json(result)
        else:
            typer.echo(render_text(result))

    app.add_typer(nlp, name="nlp")


def _render_reading(reading: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False)
    imaging = reading["imaging"]
    labels = {"hip_oa": "Hip osteoarthritis", "lumbar_stenosis": "Lumbar stenosis",
              "spondylolisthesis": "Spondylolisthesis"}
    for key, label in labels.items():
        value = imaging.get(key)
        shown = ", ".join(f"{k}={'/'.join(v) if isinstance(v, list) else v}"
                          for k, v in value.items()) if value else "[dim]not stated[/]"
        console.print(f"[bold]{label}:[/] {shown}")  # values are our own vocabulary
    if reading.get("replaced_hips"):
        console.print(f"[bold]Replaced hips:[/] {', '.join(reading['replaced_hips'])}")
    if reading["evidence"]:
        console.print("\n[bold]Evidence[/]")
    for ev in reading["evidence"]:
        flags = [f for f in ("negated", "uncertain", "historical") if ev.get(f)]
        if ev.get("value", {}).get("section"):
            flags.append("indication/history section")
        tag = f" [yellow]({', '.join(flags)})[/]" if flags else ""
        console.print(f"  {ev['field']}{tag}: {escape(ev['text'])}")
    console.print(f"\n[dim]engine {reading['engine_version']}, "
                  f"knowledge {reading['knowledge_version']}[/]")
