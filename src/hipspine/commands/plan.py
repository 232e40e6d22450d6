"""`hipspine plan CASE.json|-`: the stepped-care plan for a case."""

from __future__ import annotations

import typer

from hipspine.commands._io import OutputFormat, print_json, read_text


def register(app: typer.Typer) -> None:
    @app.command()
    def plan(
        case: str = typer.Argument(..., help="hipspine.case/1 JSON file, or - for stdin"),
        output: OutputFormat = typer.Option(OutputFormat.text, "--format", help="text or json"),
        assessment: str | None = typer.Option(
            None, "--assessment", help="use this hipspine.assessment/1 JSON instead of assessing"),
        landmarks: str | None = typer.Option(
            None, "--landmarks", help="hipspine.landmarks/1 JSON, so sequencing sees deformity"),
    ) -> None:
        """Stepped care: urgent referral, conservative first, injections, surgery, safety."""
        from hipspine.models import Assessment, parse_case, parse_model
        from hipspine.plan import load_plan_knowledge, make_plan, plan_case

        parsed = parse_case(read_text(case))
        spino = None
        if landmarks is not None:
            from hipspine.spinopelvic import measure_landmarks

            spino = measure_landmarks(read_text(landmarks))
        if assessment is not None:
            given = parse_model(Assessment, read_text(assessment), what="assessment")
            result = make_plan(parsed, given, load_plan_knowledge(), spino)
        else:
            result = plan_case(parsed, spinopelvic=spino)
        if output is OutputFormat.json:
            print_json(result)
        else:
            render_text(result)


SURGERY_WORDS = {"urgent": "urgent surgical referral", "now": "indicated now",
                 "if_no_relief": "if the steps above bring no relief",
                 "deferred": "deferred until the urgent assessment",
                 "not_indicated": "not indicated now"}


def render_text(result) -> None:  # type: ignore[no-untyped-def]
    """Readable, coloured plan for a terminal (the same content as the JSON)."""
    from rich.console import Console
    from rich.markup import escape

    console = Console()

    def cite(key: str) -> str:
        return f"[dim]{escape(f'[{key}]')}[/]" if key else ""

    console.print(f"[bold]Plan[/] for {escape(result.case_id or 'case')}: "
                  f"verdict [bold]{result.verdict}[/]"
                  + (f" ({escape(result.diagnosis)})" if result.diagnosis else ""))
    if result.urgent_referral.needed:
        console.print(f"[bold red]URGENT REFERRAL FIRST:[/] {escape(result.urgent_referral.why)}")
    console.print("\n[bold]Steps[/]")
    for step in result.steps:
        when = "" if step.status == "now" else " [yellow](if no relief)[/]"
        flag = " [yellow](unverified)[/]" if step.verified == "unverified" else ""
        colour = "red" if step.tier == "urgent" else "cyan"
        console.print(f" [{colour}]{step.order}.[/] {escape(f'[{step.target}]')}{when} "
                      f"{escape(step.action)}{flag}")
        console.print(f"    [dim]why:[/] {escape(step.why)} {cite(step.citation)}")
    if result.deferred:
        console.print("\n[bold]Deferred until the urgent assessment[/]")
        for step in result.deferred:
            console.print(f" [dim]-[/] {escape(f'[{step.target}]')} {escape(step.action)}")
    for tried in result.already_tried:
        console.print(f" [dim]- {escape(tried.note)}[/]")
    if result.medications:
        console.print("\n[bold]Medicines[/]")
        colours = {"use": "green", "caution": "yellow", "avoid": "red"}
        for med in result.medications:
            console.print(f" [{colours[med.recommendation]}]{med.recommendation.upper()}[/] "
                          f"{escape(med.drug_class)}: {escape(med.why)} {cite(med.citation)}")
    if result.lifestyle:
        console.print("\n[bold]Lifestyle[/]")
        for item in result.lifestyle:
            console.print(f" • {escape(item.advice)} [dim]{escape(item.why)}[/] "
                          f"{cite(item.citation)}")
    s = result.surgery
    console.print("\n[bold]Surgery[/]: " + SURGERY_WORDS.get(s.status, s.status)
                  + (f", sequence {' then '.join(s.sequence)}" if s.sequence else ""))
    if s.why:
        console.print(f"    {escape(s.why)}")
    if s.shared_decision:
        console.print(f"    [yellow]{escape(s.consensus)}[/] "
                      + " ".join(cite(c) for c in s.citations))
    if result.cautions:
        console.print("\n[bold]Cautions[/]")
        for caution in result.cautions:
            console.print(f" ! {escape(caution)}")
    console.print(f"\n[dim]engine {result.engine_version}, knowledge "
                  f"{result.knowledge_version}. {escape(result.disclaimer)}[/]")
