"""Small builders for plan tests: cases and assessments with only what a test needs."""

from __future__ import annotations

from typing import Any

from hipspine.models import Assessment, parse_case
from hipspine.models.assessment import RedFlag, SourceEstimate
from hipspine.models.case import Case

PROBABLE = {"hip": {"hip": 0.85, "spine": 0.2}, "spine": {"hip": 0.15, "spine": 0.85},
            "both": {"hip": 0.8, "spine": 0.8}, "other": {"hip": 0.1, "spine": 0.1},
            "indeterminate": {"hip": 0.4, "spine": 0.4}}


def assessment(verdict: str, *, red_flags: list[RedFlag] | None = None,
               other: str | None = None) -> Assessment:
    sources = [SourceEstimate(id=i, label=f"{i} source", pretest=0.3, probability=p)
               for i, p in PROBABLE[verdict].items()]
    if other:
        sources.append(SourceEstimate(id=other, label=f"{other} mimic", pretest=0.1,  # type: ignore[arg-type]
                                      probability=0.7))
    return Assessment(engine_version="test", knowledge_version="test", verdict=verdict,  # type: ignore[arg-type]
                      urgent=bool(red_flags), red_flags=red_flags or [], sources=sources,
                      explanation="test")


def case(**sections: Any) -> Case:
    return parse_case({"format": "hipspine.case/1", **sections})
