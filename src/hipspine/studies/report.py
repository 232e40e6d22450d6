"""The self-contained HTML study report (Jinja2 template inside the package, SVG inlined).

The report embeds its own numbers as JSON (`<script id="hipspine-study">`), so anyone can
re-check a figure against the registry, and it opens offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from hipspine.studies.summary import StudyFilters, StudyOptions, StudySummary, study_summary

TEMPLATE = "report.html.j2"


def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("hipspine.studies", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "suppressed"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def figures(summary: StudySummary) -> dict[str, Any]:
    """Every figure of the report as SVG text, keyed by what it shows."""
    from hipspine.studies import plots

    order = [w.timepoint for w in sorted(summary.windows, key=lambda w: w.target_day)]
    better = {r.instrument: r.higher_is_better for r in summary.change}
    instruments = sorted({p.instrument for p in summary.trajectories})
    out: dict[str, Any] = {"trajectories": {}, "responders": {}, "survival": {}}
    for instrument in instruments:
        out["trajectories"][instrument] = plots.trajectory_svg(
            summary.trajectories, instrument, order, better.get(instrument))
        rows = [r for r in summary.change if r.instrument == instrument
                and r.timepoint == summary.outcome_timepoint and r.responders]
        if rows:
            out["responders"][instrument] = plots.responder_svg(
                rows, instrument, summary.outcome_timepoint)
    titles = {"time_to_surgery": "Time to first surgery (from first episode)",
              "time_to_reoperation": "Time to re-operation (from first surgery)"}
    for analysis, title in titles.items():
        curves = [c for c in summary.survival if c.analysis == analysis]
        if any(not c.suppressed and c.points for c in curves):
            out["survival"][analysis] = plots.survival_svg(curves, title)
    return out


def render_html(summary: StudySummary, svg: dict[str, Any] | None = None) -> str:
    """The report page for a computed summary."""
    from markupsafe import Markup

    svg = svg if svg is not None else figures(summary)
    # matplotlib escapes every text it writes into the SVG; the JSON cannot close the script.
    safe = {group: {k: Markup(v) for k, v in items.items()}  # noqa: S704
            for group, items in svg.items()}
    data = summary.to_json().replace("</", "<\\/")
    template = _environment().get_template(TEMPLATE)
    return template.render(s=summary, fig=safe, fmt=_fmt, data_json=Markup(data),  # noqa: S704
                           references=_references(summary))


def _references(summary: StudySummary) -> list[str]:
    from hipspine.kb import load_references

    refs = load_references()
    used = {summary.suppression.citation, *(m.citation for m in summary.methods.values()),
            *(w.citation for w in summary.windows), *(t.citation for t in summary.thresholds)}
    return [f"[{key}] {refs[key].short()} — {refs[key].title}" for key in sorted(used)
            if key in refs]


def render_report(engine: Engine, out_path: str | Path, options: StudyOptions | None = None,
                  filters: StudyFilters | None = None, *, progress: bool = False,
                  output_format: str = "html") -> StudySummary:
    """Compute the study and write it to `out_path` as HTML (or JSON); return the summary."""
    steps = ["copying the registry's study columns", "building the long-format tables",
             "completeness", "trajectories",
             "change from baseline and responders", "survival",
             "weighted strategy comparisons", "figures", "writing"]
    path = Path(out_path)
    if progress:
        from rich.console import Console
        from rich.progress import Progress

        with Progress(console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("study report", total=len(steps))

            def advance(message: str) -> None:
                bar.update(task, advance=1, description=message)

            summary = study_summary(engine, filters, options, progress=advance)
            advance("figures")
            text = (summary.to_json() if output_format == "json" else render_html(summary))
            advance("writing")
            _write(path, text)
        return summary
    summary = study_summary(engine, filters, options)
    _write(path, summary.to_json() if output_format == "json" else render_html(summary))
    return summary


def _write(path: Path, text: str) -> None:
    # Write beside the target and rename, so a killed run never leaves half a report.
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
