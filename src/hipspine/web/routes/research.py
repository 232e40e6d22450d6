"""Researcher cohort dashboard: de-identified study views only (engineer E's analytics).

Completeness by timepoint, trajectories, MCID responder rates, survival curves, and the
self-contained HTML report to download. No patient-level row is ever shown here.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from hipspine.web import store
from hipspine.web.deps import page_actor, transaction
from hipspine.web.plots import step_curves
from hipspine.web.templating import render

router = APIRouter(include_in_schema=False)
Synthetic = Literal["include", "exclude", "only"]


def _summary(request: Request, synthetic: Synthetic) -> Any:
    from hipspine.studies import StudyFilters, study_summary

    return study_summary(request.app.state.engine, StudyFilters(synthetic=synthetic))


@router.get("/research")
def research_page(request: Request,
                  synthetic: Annotated[Synthetic, Query()] = "include") -> Response:
    actor = page_actor(request)
    store.require_role(actor, "researcher", "admin")
    summary = _summary(request, synthetic)
    with transaction(request) as s:
        store.audit(s, actor, "study.dashboard", "cohort", None, {"synthetic": synthetic})
    survival = []
    for analysis in ("time_to_surgery", "time_to_reoperation"):
        curves = [(c.group, [(p.time, p.survival) for p in c.points])
                  for c in summary.survival if c.analysis == analysis and not c.suppressed]
        svg = step_curves(analysis.replace("_", " ").capitalize(), curves)
        if svg:
            survival.append(svg)
    responders = [(row, r) for row in summary.change for r in row.responders
                  if r.default and not row.suppressed]
    return render(request, "research.html", {"s": summary, "survival": survival,
                                             "responders": responders,
                                             "synthetic": synthetic})


@router.get("/research/report.html")
def research_report(request: Request,
                    synthetic: Annotated[Synthetic, Query()] = "include") -> Response:
    actor = page_actor(request)
    store.require_role(actor, "researcher", "admin")
    from hipspine.studies import render_html

    html = render_html(_summary(request, synthetic))
    with transaction(request) as s:
        store.audit(s, actor, "study.report", "cohort", None, {"synthetic": synthetic})
    return HTMLResponse(html, headers={
        "Content-Disposition": 'attachment; filename="hipspine-study-report.html"'})
