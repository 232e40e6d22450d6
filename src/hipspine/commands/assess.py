"""`hipspine assess CASE.json|- [--format text|json]`: where does the pain come from?"""

from __future__ import annotations

from typing import Annotated

import typer

from hipspine.assess.compiled import left_out_by_policy
from hipspine.commands._io import OutputFormat, print_json, read_text
from hipspine.models.assessment import Assessment

_VERDICT_STYLE = {"hip": "bold green", "spine": "bold blue", "both": "bold magenta",
                  "other": "bold yellow", "indeterminate": "bold white"}


def register(app: typer.Typer) -> None:
    @app.command("assess")
    def assess_command(
        case: Annotated[str, typer.Argument(help="Case JSON (hipspine.case/1), or - for stdin")],
        output: Annotated[OutputFormat, typer.Option(
            "--format", "-f", help="text (default) or json")] = OutputFormat.text,
        evidence: Annotated[str | None, typer.Option(
            "--evidence", help="which likelihood ratios count, by how they were verified: "
            "verified (default: primary and secondary), primary, or all")] = None,
    ) -> None:
        """Estimate whether the pain comes from the hip, spine, both or a mimic, with reasons."""
        from hipspine.assess.api import assess

        result = assess(read_text(case), evidence=evidence)
        if output == OutputFormat.json:
            print_json(result)
        else:
            render(result)


def _bar(p: float, width: int = 24) -> str:
    filled = round(p * width)
    return "█" * filled + "░" * (width - filled)


def render(a: Assessment) -> None:
    """Print the assessment as a coloured terminal report (red flags first)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    con = Console()
    if a.red_flags:
        con.rule("[bold red]RED FLAGS - act first[/]")
        for f in a.red_flags:
            style = "bold white on red" if f.urgency == "emergency" else "bold red"
            read = " [yellow](read from the report text: check it)[/]" if f.from_text else ""
            con.print(f"[{style}]{f.urgency.upper()}[/] {escape(f.finding)}{read}: "
                      f"{escape(f.action)} [dim]({escape(f.citation)})[/]")
    con.rule("Assessment")
    title = f"Verdict: [{_VERDICT_STYLE[a.verdict]}]{a.verdict.upper()}[/]"
    if a.offierski_macnab:
        title += f"   Offierski-MacNab: [bold]{a.offierski_macnab}[/]"
    con.print(title)
    if a.diagnosis:
        level = f" [dim]({a.certainty.level.replace('_', ' ')})[/]" if a.certainty else ""
        con.print(f"Named diagnosis: [bold]{escape(a.diagnosis)}[/]{level}")
        for d in a.diagnoses:
            if d.basis:
                con.print(f"  decided by: {escape('; '.join(d.basis[:2]))}")
            if d.against_rivals:
                con.print(f"  against the rivals: {escape('; '.join(d.against_rivals))}")
    elif a.certainty:
        con.print(f"[dim]{a.certainty.level.replace('_', ' ')}: {escape(a.certainty.why)}[/]")
    acting = {r.split(":", 1)[1] for r in a.rules_fired if r.startswith("act:")}
    for s in a.sources:
        colour = ("bold green" if s.id in acting else "yellow" if s.probability >= 0.3
                  else "dim")
        mark = "  [bold green]<- act on this[/]" if s.id in acting else ""
        con.print(f"  {s.id:<13}[{colour}]{_bar(s.probability)}[/] {s.probability:6.0%}"
                  f"  [dim](pre-test {s.pretest:.0%})[/]{mark}")
    for s in a.sources:
        if not s.contributions:
            continue
        table = Table(title=f"{s.label}", title_justify="left", show_lines=False)
        table.add_column("finding")
        table.add_column("value")
        table.add_column("LR", justify="right")
        table.add_column("citation", overflow="fold")
        for c in s.contributions:
            lr = f"{c.likelihood_ratio:.3g}"
            tags = ("" if c.verified else " [red]unverified[/]") + (
                " [cyan]from text[/]" if c.from_text else "")
            if not c.counted:
                lr = f"[dim]({lr})[/]"
                note = (f"not counted (evidence policy {a.evidence_policy})"
                        if left_out_by_policy(c) else c.note or "")
                tags += f" [dim]{escape(note)}[/]"
            table.add_row(escape(c.finding) + tags, escape(str(c.value)), lr,
                          escape(", ".join(c.citation.split(", ")[:2])))
        con.print(table)
    if a.instruments:
        con.print("[bold]Instruments[/] (shown, not added: their items are counted above)")
        for i in a.instruments:
            pos = {True: "[green]positive[/]", False: "negative", None: "[yellow]undecided[/]"}
            con.print(f"  {i.id}: {i.score}/{i.max} {pos[i.positive]} - "
                      f"{escape(i.interpretation)}")
    if a.next_tests:
        con.print("[bold]Next tests[/] (most likely to change the verdict first)")
        for n, t in enumerate(a.next_tests, 1):
            con.print(f"  {n}. [bold]{escape(t.test)}[/] - {escape(t.why)}")
    if a.texts_not_read:
        con.print(f"[yellow]Texts not read:[/] {', '.join(a.texts_not_read)}")
    if a.texts_truncated:
        con.print(f"[yellow]Texts read in part:[/] {escape('; '.join(a.texts_truncated))}")
    con.rule("Explanation")
    con.print(escape(a.explanation))
    if a.unverified:
        con.print(f"[red]Rests on unverified figures:[/] {escape('; '.join(a.unverified))}")
    con.print(f"[dim]engine {a.engine_version} · knowledge {a.knowledge_version} · "
              f"evidence policy {a.evidence_policy} · "
              f"{escape(a.disclaimer)}[/]")
