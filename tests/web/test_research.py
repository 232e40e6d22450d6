"""Researcher views: de-identified cohort dashboard and report; clinicians are refused."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def _seed(engine: Any) -> None:
    from hipspine.synth import write_cohort

    write_cohort(engine, n=12, seed=3)


def test_dashboard_shows_cohort_without_pseudonyms(engine: Any, researcher: TestClient) -> None:
    _seed(engine)
    page = researcher.get("/research")
    assert page.status_code == 200
    assert 'id="completeness"' in page.text and 'id="survival"' in page.text
    from sqlalchemy import select

    from hipspine.registry import session_scope
    from hipspine.registry.tables import Patient

    with session_scope(engine) as s:
        pseudonyms = list(s.scalars(select(Patient.pseudonym)))
    assert pseudonyms and not any(p in page.text for p in pseudonyms)


def test_report_downloads_as_html(engine: Any, researcher: TestClient) -> None:
    _seed(engine)
    r = researcher.get("/research/report.html")
    assert r.status_code == 200
    assert "attachment" in r.headers["content-disposition"]
    assert "<html" in r.text.lower()


def test_study_summary_api_for_researchers_only(engine: Any, researcher: TestClient,
                                                clinician: TestClient) -> None:
    _seed(engine)
    summary = researcher.get("/api/v1/studies/summary").json()
    assert summary["cohort"]["patients"] == 12
    assert clinician.get("/api/v1/studies/summary").status_code == 403
    assert clinician.get("/research").status_code == 403
