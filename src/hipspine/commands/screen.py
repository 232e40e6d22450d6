"""`hipspine screen EXPORT_DIR --out worklist.csv` and `hipspine screen synth-export OUT_DIR`."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import typer

from hipspine.commands._io import OutputFormat, print_json
from hipspine.commands.nlp import DefaultCommandGroup
from hipspine.errors import InputError


class _ScreenGroup(DefaultCommandGroup):
    default_command = "run"


def register(app: typer.Typer) -> None:
    screen = typer.Typer(cls=_ScreenGroup, no_args_is_help=True,
                         help="Screen a Bulk FHIR export for patients whose hip or spine problem "
                              "may have been missed; write a worklist CSV. "
                              "`hipspine screen EXPORT_DIR --out worklist.csv` runs `screen run`.")

    @screen.command("run")
    def run_command(
        export_dir: Path = typer.Argument(..., help="Folder of Bulk FHIR NDJSON files "
                                          "(<Type>.ndjson or .ndjson.gz)."),
        out: Path = typer.Option(..., "--out", help="Worklist CSV to write."),
        engine: str = typer.Option("duckdb", "--engine", help="duckdb (embedded) or spark."),
        spark_master: str = typer.Option("local[2]", "--spark-master",
                                         help="Spark master URL (spark engine only)."),
        memory_limit: str = typer.Option(None, "--memory-limit",
                                         help="DuckDB memory limit, e.g. 4GB."),
        progress: bool = typer.Option(True, "--progress/--no-progress",
                                      help="Show progress on standard error."),
        output_format: OutputFormat = typer.Option(OutputFormat.text, "--format",
                                                   help="text or json summary"),
    ) -> None:
        """Screen EXPORT_DIR; write patient_id, category, evidence, first_seen, last_seen, rule,
        rule_description (the rule that listed the row)."""
        from hipspine.screen import screen_export, write_worklist

        if engine not in ("duckdb", "spark"):
            raise InputError.single("--engine", engine, "duckdb or spark",
                                    what="command-line option")
        result = _with_progress(progress, lambda step: screen_export(
            export_dir, engine=engine, progress=step, spark_master=spark_master,  # type: ignore[arg-type]
            memory_limit=memory_limit))
        write_worklist(result.rows, out)
        counts = Counter(r.category for r in result.rows)
        summary = {"engine": result.engine, "resources_read": result.resources_read,
                   "seconds": round(result.seconds, 3), "worklist": str(out),
                   "rows": len(result.rows), "by_category": dict(sorted(counts.items())),
                   "patients": len({r.patient_id for r in result.rows})}
        if output_format == OutputFormat.json:
            print_json(summary)
            return
        typer.echo(f"{result.resources_read} resources screened with {result.engine} in "
                   f"{result.seconds:.1f} s; {len(result.rows)} worklist rows "
                   f"({summary['patients']} patients) written to {out}")
        for category, n in sorted(counts.items()):
            typer.echo(f"  {category}: {n}")

    @screen.command("synth-export")
    def synth_export_command(
        out_dir: Path = typer.Argument(..., help="Folder to write the NDJSON files into."),
        patients: int = typer.Option(1000, "--patients", min=1, help="Number of patients."),
        seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same export)."),
    ) -> None:
        """Write a synthetic export with planted cases of every category, and planted.csv."""
        from hipspine.screen.synth_export import write_synthetic_export

        truth = write_synthetic_export(out_dir, patients=patients, seed=seed)
        with (out_dir / "planted.csv").open("w", encoding="utf-8") as handle:
            handle.write("patient_id,category\n")
            for pid in sorted(truth):
                for category in sorted(truth[pid]):
                    handle.write(f"{pid},{category}\n")
        planted = sum(len(c) for c in truth.values())
        typer.echo(f"wrote {patients} synthetic patients ({planted} planted worklist rows) "
                   f"to {out_dir}")

    app.add_typer(screen, name="screen")


def _with_progress(enabled: bool, run):  # type: ignore[no-untyped-def]
    if not enabled or not sys.stderr.isatty():
        return run(None)
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  transient=True) as bar:
        task = bar.add_task("screening", total=None)
        return run(lambda message: bar.update(task, description=message))
