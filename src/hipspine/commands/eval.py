"""`hipspine eval cases DIR`: the published-case benchmark of the assessment."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import typer

from hipspine.commands._io import OutputFormat, print_json


def _last_run_file(folder: Path) -> Path:
    """Where the verdicts of the last run on `folder` are kept (a per-user cache file)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hipspine"
    key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    return base / f"eval-cases-{key}.json"


def register(app: typer.Typer) -> None:
    ev = typer.Typer(no_args_is_help=True, help="Benchmarks of the clinical core.")

    @ev.command("cases")
    def cases_command(
        folder: Path = typer.Argument(..., help="Folder of hipspine.eval-case/1 files "
                                                "(docs/case-format.md)."),
        output_format: OutputFormat = typer.Option(OutputFormat.text, "--format",
                                                   help="text or json"),
        evidence: str = typer.Option(None, "--evidence",
                                     help="Evidence policy: verified (default), primary, all."),
        ablate: bool = typer.Option(False, "--ablate",
                                    help="Also score without each design choice in turn."),
        last: Path = typer.Option(None, "--last",
                                  help="File holding the last run's verdicts (default: a "
                                       "per-user cache file for this folder)."),
    ) -> None:
        """Agreement, wrong calls and indeterminate verdicts per split, truth class and
        kind of truth; a confusion table; the cases that changed since the last run; an
        imaging-only reading beside the engine."""
        from hipspine.assess import benchmark
        from hipspine.assess.api import evidence_level, load_knowledge
        from hipspine.models.eval_case import load_eval_cases

        kb = load_knowledge()
        level = evidence_level(evidence, kb)
        cases = load_eval_cases(folder)
        rows = benchmark.score_cases(cases, kb, level)
        state = last or _last_run_file(folder)
        try:
            before = json.loads(state.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            before = {}
        data = benchmark.report(rows, before if isinstance(before, dict) else {})
        if ablate:
            data["ablation"] = benchmark.ablate(cases, kb, benchmark.summarise(rows), level)
        try:
            state.parent.mkdir(parents=True, exist_ok=True)
            state.write_text(json.dumps({r.name: r.verdict for r in rows}, indent=1),
                             encoding="utf-8")
        except OSError:
            pass  # a read-only cache only loses the "changed since" list next time
        if output_format == OutputFormat.json:
            print_json(data)
            return
        typer.echo(benchmark.render_text(data))
        if ablate:
            typer.echo(benchmark.render_ablation(data["ablation"]))

    app.add_typer(ev, name="eval")
