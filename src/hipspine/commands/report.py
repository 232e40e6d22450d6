"""`hipspine report`: the de-identified study report of the registry, as HTML or JSON."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer


class ReportFormat(enum.StrEnum):
    html = "html"
    json = "json"


class StrategySource(enum.StrEnum):
    treatments = "treatments"
    pathway = "pathway"


class SyntheticChoice(enum.StrEnum):
    include = "include"
    exclude = "exclude"
    only = "only"


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report(
        out: Annotated[Path, typer.Option("--out", "-o", help="File to write (.html or .json).")],
        min_cell: Annotated[int | None, typer.Option(
            "--min-cell", min=1,
            help="Suppress cells with fewer patients (default 10, from the knowledge base).")
        ] = None,
        output_format: Annotated[ReportFormat, typer.Option(
            "--format", help="html: self-contained page; json: the hipspine.study/1 summary.")
        ] = ReportFormat.html,
        synthetic: Annotated[SyntheticChoice, typer.Option(
            "--synthetic", help="Include, exclude or only use synthetic patients.")
        ] = SyntheticChoice.include,
        verdict: Annotated[list[str] | None, typer.Option(
            "--verdict", help="Only episodes with this verdict (repeatable).")] = None,
        outcome_timepoint: Annotated[str | None, typer.Option(
            "--outcome-timepoint", help="Timepoint for responders and comparisons (default 12m).")
        ] = None,
        strategy_from: Annotated[StrategySource, typer.Option(
            "--strategy-from",
            help="treatments: as treated (first surgery's target); pathway: as planned.")
        ] = StrategySource.treatments,
        progress: Annotated[bool, typer.Option(
            "--progress/--no-progress", help="Show a progress bar on stderr.")] = True,
    ) -> None:
        """Study report of the registry that HIPSPINE_DATABASE_URL names: completeness,
        change from baseline, responders, survival and weighted strategy comparisons."""
        from sqlalchemy.exc import SQLAlchemyError

        from hipspine.errors import HipspineError, InputError
        from hipspine.registry import get_engine
        from hipspine.registry.tables import VERDICTS
        from hipspine.studies.report import render_report
        from hipspine.studies.summary import StudyFilters, StudyOptions

        for value in verdict or []:
            if value not in VERDICTS:
                raise InputError.single("--verdict", value, ", ".join(VERDICTS),
                                        what="command-line option")
        engine = get_engine()
        try:
            summary = render_report(
                engine, out,
                StudyOptions(min_cell=min_cell, outcome_timepoint=outcome_timepoint,
                             strategy_source=strategy_from.value),
                StudyFilters(synthetic=synthetic.value, verdicts=list(verdict or [])),
                progress=progress, output_format=output_format.value)
        except SQLAlchemyError as exc:
            raise HipspineError(
                "could not read the registry (is it migrated? `hipspine registry migrate`): "
                + type(exc).__name__) from None
        finally:
            engine.dispose()
        typer.echo(f"wrote {out} ({summary.cohort.patients or 0} patients, "
                   f"min cell {summary.min_cell})", err=True)
