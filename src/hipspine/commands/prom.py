"""`hipspine prom score|list`: score a PROM from the command line."""

from __future__ import annotations

import sys

import typer

from hipspine.commands._io import OutputFormat, print_json


def register(app: typer.Typer) -> None:
    prom = typer.Typer(help="Score patient-reported outcome measures (ODI, HOOS JR, OHS, ZCQ, "
                            "NRS, EQ-5D-5L).", no_args_is_help=True)

    @prom.command("score")
    def score_command(
        instrument: str = typer.Argument(..., help="Instrument id, e.g. odi (see `prom list`)."),
        items: str = typer.Argument(..., help="Item responses in the instrument's order, "
                                    "comma-separated, empty for missing: 2,3,1,,0,2,1,3,2,1"),
        output_format: OutputFormat = typer.Option(OutputFormat.text, "--format",
                                            help="text or json"),
    ) -> None:
        """Score one administration and print the score, missing items and interpretation."""
        from hipspine.proms import parse_items, score

        result = score(instrument, parse_items(items))
        if output_format == OutputFormat.json:
            print_json(result)
            return
        lines = [f"{result.instrument} (version {result.instrument_version}): "
                 f"{'—' if result.score is None else f'{result.score:g}'} "
                 f"[range {result.range[0]:g}-{result.range[1]:g}, "
                 f"{'higher' if result.higher_is_better else 'lower'} is better]",
                 f"status: {result.status}"]
        if result.raw_score is not None:
            lines.append(f"raw score: {result.raw_score:g}")
        if result.profile:
            lines.append(f"profile: {result.profile}")
        for name, sub in result.subscales.items():
            lines.append(f"  {name}: {'—' if sub.score is None else f'{sub.score:g}'}")
        lines.append(f"missing items: {', '.join(result.missing_items) or 'none'}")
        lines.append(f"interpretation: {result.interpretation}")
        for note in result.notes:
            lines.append(f"note: {note}")
        for t in result.thresholds:
            mark = " (default)" if t.default else ""
            unit = "%" if t.unit == "percent" else " points"
            lines.append(f"threshold {t.id}: {t.kind} {t.value:g}{unit}{mark} [{t.citation}]")
        lines.append(f"citation: {result.citation}; engine {result.engine_version}, "
                     f"knowledge {result.knowledge_version}")
        sys.stdout.write("\n".join(lines) + "\n")

    @prom.command("list")
    def list_command(
        output_format: OutputFormat = typer.Option(OutputFormat.text, "--format",
                                                   help="text or json"),
    ) -> None:
        """List the instruments, their items, licences and default thresholds."""
        from hipspine.proms import list_instruments

        instruments = list_instruments()
        if output_format == OutputFormat.json:
            print_json([i.model_dump(mode="json") for i in instruments])
            return
        for i in instruments:
            default = next((t for t in i.thresholds if t.default), None)
            sys.stdout.write(
                f"{i.id:9} {i.name} (v{i.version}); {len(i.items)} items "
                f"[{','.join(it.id for it in i.items)}]; range {i.range[0]:g}-{i.range[1]:g}"
                + (f"; default threshold {default.kind} {default.value:g}" if default else "")
                + f"; wording shipped: {'yes' if i.licence.item_wording_shipped else 'no'}\n")

    app.add_typer(prom, name="prom")
