"""docs/assessment.md stays in step with the knowledge files."""

from __future__ import annotations

from pathlib import Path

from hipspine.assess import load_assessment_knowledge

DOC = Path(__file__).resolve().parents[2] / "docs" / "assessment.md"


def test_every_finding_and_citation_is_documented() -> None:
    text = DOC.read_text()
    for f in load_assessment_knowledge().findings.findings:
        assert f"`{f.id}`" in text, f.id
        for lk in f.likelihoods:
            assert f"`{lk.citation}`" in text, (f.id, lk.citation)
