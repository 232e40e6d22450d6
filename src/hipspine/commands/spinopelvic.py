"""`hipspine spinopelvic LANDMARKS.json|-`: parameters, Hip-Spine class, pictures."""

from __future__ import annotations

import typer

from hipspine.commands._io import OutputFormat, print_json, read_text
from hipspine.errors import InputError


def register(app: typer.Typer) -> None:
    @app.command()
    def spinopelvic(
        landmarks: str = typer.Argument(..., help="hipspine.landmarks/1 JSON file, or - for stdin"),
        output: OutputFormat = typer.Option(OutputFormat.text, "--format", help="text or json"),
        dicom: str | None = typer.Option(None, "--dicom", help="DICOM file to read pixel spacing"),
        svg: str | None = typer.Option(None, "--svg", help="write a picture of the angles (SVG)"),
        png: str | None = typer.Option(None, "--png", help="write a picture of the angles (PNG)"),
    ) -> None:
        """Spinopelvic parameters (PI, PT, SS, LL, PI-LL, SVA) and the Hip-Spine class."""
        from hipspine.spinopelvic import load_spinopelvic_knowledge, measure, parse_landmarks

        marks = parse_landmarks(read_text(landmarks))
        if dicom is not None:
            marks = with_dicom_spacing(marks, dicom)
        result = measure(marks, load_spinopelvic_knowledge())
        if svg is not None:
            from pathlib import Path

            from hipspine.spinopelvic.picture import render_svg

            Path(svg).write_text(render_svg(marks, result), encoding="utf-8")
        if png is not None:
            from hipspine.spinopelvic.picture import render_png

            render_png(marks, result, png)
        if output is OutputFormat.json:
            print_json(result)
        else:
            _print_text(result)


def with_dicom_spacing(marks, dicom: str):  # type: ignore[no-untyped-def]
    """Take pixel spacing (and image size, to catch stray landmarks) from the DICOM file;
    refuse a conflicting typed-in spacing."""
    from hipspine.spinopelvic.dicom import read_image_size, read_pixel_spacing

    row, col = read_pixel_spacing(dicom)
    given = marks.pixel_spacing_mm
    if given is not None:
        g_row, g_col = given if isinstance(given, tuple) else (given, given)
        if abs(g_row - row) > 0.01 * row or abs(g_col - col) > 0.01 * col:
            raise InputError.single(
                "pixel_spacing_mm", given, f"absent, or the DICOM value [{row}, {col}]",
                "the landmarks file and the DICOM header disagree", what="landmarks")
    spacing: float | tuple[float, float] = row if row == col else (row, col)
    update: dict[str, object] = {"pixel_spacing_mm": spacing}
    size = read_image_size(dicom)
    if marks.image_size_px is None and size is not None:
        update["image_size_px"] = size
    return marks.model_copy(update=update)


def _print_text(result) -> None:  # type: ignore[no-untyped-def]
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    table = Table(title="Spinopelvic parameters (degrees; SVA in mm)")
    table.add_column("view")
    views = [getattr(result, n) for n in ("standing", "sitting", "flexed_seated")]
    with_pfa = any(v is not None and v.pfa is not None for v in views)
    for col in ("PI", "PT", "SS", "LL", "PI-LL", "SVA mm") + (("PFA",) if with_pfa else ()):
        table.add_column(col, justify="right")
    notes = []
    for name in ("standing", "sitting", "flexed_seated"):
        view = getattr(result, name)
        if view is None:
            continue
        cells = [view.pi, view.pt, view.ss, view.ll, view.pi_ll, view.sva_mm]
        cells += [view.pfa] if with_pfa else []
        table.add_row(name.replace("_", " "), *("n/c" if c is None else f"{c:g}" for c in cells))
        notes += [f"{name} {k}: not computable, {v}" for k, v in view.not_computable.items()
                  if k != "pfa" or with_pfa]
    console.print(table)
    for note in notes:
        console.print(f"  [dim]{escape(note)}[/]")

    def show(v: float | None) -> str:
        return "n/c" if v is None else f"{v:g}"

    console.print(f"delta SS (standing - sitting): {show(result.delta_ss)}   "
                  f"delta PT (sitting - standing): {show(result.delta_pt)}   "
                  f"mobility: {result.mobility or 'n/c'}")
    if result.lumbar_flexion is not None:
        console.print(f"lumbar flexion (standing LL - flexed-seated LL): {result.lumbar_flexion:g}")
    console.print(f"[bold]Hip-Spine class: {result.hip_spine_class or 'not computable'}[/] "
                  f"({escape(result.hip_spine_class_why)})")
    s = result.schwab_modifiers
    console.print(f"SRS-Schwab modifiers: PI-LL {s.pi_ll or 'n/c'}, PT {s.pt or 'n/c'}, "
                  f"SVA {s.sva or 'n/c'}")
    for rec in result.recommendations:
        mark = " [yellow](unverified)[/]" if rec.verified == "unverified" else ""
        console.print(f"[green]•[/] {escape(rec.text)} [dim]{escape(f'[{rec.citation}]')}[/]{mark}")
    for flag in result.flags:
        console.print(f"[yellow]![/] {escape(flag.text)} [dim]{escape(f'[{flag.citation}]')}[/]")
    console.print(f"[dim]engine {result.engine_version}, knowledge {result.knowledge_version}[/]")
