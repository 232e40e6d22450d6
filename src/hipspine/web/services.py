"""Calls into the clinical core and the other adapters; the web never re-implements a rule.

Each function imports its module when first called, so the web app starts even while an
optional part is not installed, and answers with a clear error instead.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from hipspine.errors import HipspineError
from hipspine.models import Case


class ServiceUnavailableError(HipspineError):
    """A part of hipspine the request needs is not installed in this build."""


def _need(module: str, attribute: str) -> Any:
    import importlib

    try:
        mod = importlib.import_module(module)
        return getattr(mod, attribute)
    except (ImportError, AttributeError) as exc:
        raise ServiceUnavailableError(f"{module}.{attribute} is not available: {exc}") from exc


@lru_cache(maxsize=1)
def knowledge() -> Any:
    """The assessment knowledge base, loaded once per process."""
    return _need("hipspine", "load_knowledge")()


def assess(case: Case, evidence: str | None = None) -> Any:
    """`hipspine.assess(case, kb)` -> Assessment, under the knowledge base's evidence policy
    unless `evidence` names another."""
    return _need("hipspine", "assess")(case, knowledge(), evidence=evidence)


@lru_cache(maxsize=1)
def plan_knowledge() -> Any:
    return _need("hipspine.plan", "load_plan_knowledge")()


def plan(case: Case, assessment: Any | None = None, spinopelvic: Any | None = None) -> Any:
    """Engineer C's plan for `case`, reusing `assessment` when the caller already has it;
    `spinopelvic` (a SpinopelvicResult or its JSON) lets the sequencing and cautions see it."""
    if assessment is None:
        assessment = assess(case)
    if isinstance(spinopelvic, dict):
        from hipspine.models.landmarks import SpinopelvicResult

        spinopelvic = SpinopelvicResult.model_validate(spinopelvic)
    return _need("hipspine.plan", "make_plan")(case, assessment, plan_knowledge(), spinopelvic)


def spinopelvic(landmarks: Any) -> Any:
    """Engineer C's spinopelvic calculation: landmarks -> `hipspine.spinopelvic/1`."""
    return _need("hipspine.spinopelvic", "measure_landmarks")(landmarks)


def spinopelvic_svg(landmarks: Any, result: Any) -> str:
    """Engineer C's drawing of the landmarks, lines and angles."""
    render_svg = _need("hipspine.spinopelvic.picture", "render_svg")
    return str(render_svg(landmarks, result))


def plan_or_none(case: Case, assessment: Any | None = None,
                 spinopelvic: Any | None = None) -> dict[str, Any] | None:
    """The plan as JSON, or None while the planner is not installed."""
    try:
        result = plan(case, assessment, spinopelvic)
    except ServiceUnavailableError:
        return None
    return result.model_dump(mode="json") if hasattr(result, "model_dump") else dict(result)


class ScoredProm:
    """A PROM score as the registry stores it."""

    def __init__(self, score: float | None, missing_items: int,
                 detail: dict[str, Any] | None) -> None:
        self.score = score
        self.missing_items = missing_items
        self.detail = detail


def score_prom(instrument: str, items: list[int | None]) -> ScoredProm:
    """Engineer D's `hipspine.proms.score(instrument, items)`; raises InputError when invalid."""
    result = _need("hipspine.proms", "score")(instrument, items)
    data = result.model_dump(mode="json") if hasattr(result, "model_dump") else dict(result)
    score = data.get("score")
    missing = data.get("missing_items") or []
    return ScoredProm(score=float(score) if isinstance(score, (int, float)) else None,
                      missing_items=len(missing) if isinstance(missing, list) else int(missing),
                      detail=data)


def study_summary(engine: Any) -> Any:
    """Engineer E's de-identified cohort summary."""
    result = _need("hipspine.studies", "study_summary")(engine)
    return result.model_dump(mode="json") if hasattr(result, "model_dump") else result


def self_report_instruments() -> list[Any]:
    """Engineer B's patient questionnaires (instruments scored from answers, not a case)."""
    kb = _need("hipspine.instruments", "load_instrument_knowledge")()
    return [d for d in kb.instruments if d.subject == "answers"]


def self_report_questions(defn: Any) -> list[Any]:
    return list(_need("hipspine.instruments", "questions")(defn))


def score_self_report(instrument_id: str, answers: dict[str, Any]) -> Any:
    kb = _need("hipspine.instruments", "load_instrument_knowledge")()
    return _need("hipspine.instruments", "score_self_report")(instrument_id, answers, kb,
                                                              "patient")


def is_case_field(path: str) -> bool:
    return bool(_need("hipspine.instruments.knowledge", "case_field_exists")(path))
