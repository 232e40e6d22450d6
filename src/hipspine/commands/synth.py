"""`hipspine synth --patients N --seed S`: a synthetic cohort into the registry."""

from __future__ import annotations

import sys

import typer


def register(app: typer.Typer) -> None:
    @app.command("synth")
    def synth(
        patients: int = typer.Option(1000, "--patients", min=0,
                                     help="Number of synthetic patients."),
        seed: int = typer.Option(0, "--seed", min=0, help="Random seed (same seed, same "
                                 "cohort)."),
        batch_size: int = typer.Option(2000, "--batch-size", min=1,
                                       help="Patients generated and sent at a time (the "
                                       "whole run is one transaction)."),
    ) -> None:
        """Write a plausible, deterministic synthetic cohort; every record is marked synthetic.

        All or nothing: the run is one transaction, audited as cli:<OS user>, so an
        interrupted run leaves nothing and the same seed can be run again."""
        from rich.progress import Progress

        from hipspine.commands._io import print_json
        from hipspine.registry import get_engine
        from hipspine.synth import write_cohort

        engine = get_engine()
        with Progress(transient=True, console=None) as bar:
            task = bar.add_task("synthetic patients", total=patients)
            counts = write_cohort(engine, patients, seed, batch_size=batch_size,
                                  progress=lambda done, _total: bar.update(task,
                                                                           completed=done))
        print_json({"synthetic": True, "seed": seed, "written": counts})
        sys.stderr.write("every record written is marked synthetic = true\n")
