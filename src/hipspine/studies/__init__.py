"""Study analytics over the outcomes registry: which plan works best, for whom.

Aggregation runs in the database (SQLite or PostgreSQL), statistics on the aggregates, and
every output is de-identified (cells under `min_cell` patients withheld).

    from hipspine.registry import get_engine
    from hipspine.studies import StudyFilters, StudyOptions, render_report, study_summary
    summary = study_summary(get_engine(), StudyFilters(synthetic="exclude"))
    render_report(get_engine(), "report.html", StudyOptions(min_cell=10))

Pure statistics (`mean_ci`, `wilson_ci`, `kaplan_meier`, `iptw_difference`) take plain
numbers or pandas DataFrames and are usable on their own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hipspine.studies.report import render_html, render_report
    from hipspine.studies.stats import (
        cells_from_units,
        iptw_difference,
        kaplan_meier,
        mean_ci,
        wilson_ci,
    )
    from hipspine.studies.summary import (
        StudyFilters,
        StudyOptions,
        StudySummary,
        study_summary,
    )

_EXPORTS = {
    "StudyFilters": "summary", "StudyOptions": "summary", "StudySummary": "summary",
    "study_summary": "summary", "render_report": "report", "render_html": "report",
    "cells_from_units": "stats", "iptw_difference": "stats", "kaplan_meier": "stats",
    "mean_ci": "stats", "wilson_ci": "stats",
}


def __getattr__(name: str) -> Any:
    # Lazy: pandas, statsmodels and SQLAlchemy load only when a study is actually run.
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(f"hipspine.studies.{_EXPORTS[name]}"), name)
    raise AttributeError(name)


__all__ = [
    "StudyFilters", "StudyOptions", "StudySummary", "cells_from_units", "iptw_difference",
    "kaplan_meier", "mean_ci", "render_html", "render_report", "study_summary", "wilson_ci",
]
