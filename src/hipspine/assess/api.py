"""The adapter-facing entry point: validate, read free text if a reader exists, assess.

`assess` wraps the pure `assess_case` with the optional neighbours: the report reader
(`hipspine.nlp.enrich_case`) fills imaging findings from `imaging.reports`/`notes` and the
contributions it enabled are marked `from_text`; without it the assessment says which texts
were not read, and with it which were read only in part (the per-case text limit).
Instrument results (`hipspine.instruments`) are displayed, never added as extra likelihood
ratios (their items are already counted as findings).
"""

from __future__ import annotations

import importlib
from typing import Any

from hipspine.assess.engine import assess_case
from hipspine.assess.knowledge import (
    AssessmentKnowledge,
    EvidenceLevel,
    load_assessment_knowledge,
)
from hipspine.errors import InputError
from hipspine.models import parse_case
from hipspine.models.assessment import Assessment, InstrumentResult
from hipspine.models.case import Case


def load_knowledge() -> AssessmentKnowledge:
    """The packaged assessment knowledge, validated at first load and cached."""
    return load_assessment_knowledge()


def assess(case: Case | dict[str, Any] | str, kb: AssessmentKnowledge | None = None,
           *, read_texts: bool = True, evidence: str | None = None) -> Assessment:
    """Assess a case (a `Case`, a dict or JSON text); bad input raises `InputError`.

    `evidence`: which likelihood ratios count, by how they were verified: "verified"
    (primary and secondary; the knowledge base's default), "primary" or "all".

    >>> assess({"format": "hipspine.case/1", "age": 72}).verdict
    'indeterminate'
    """
    knowledge = kb or load_knowledge()
    level = evidence_level(evidence, knowledge)
    parsed = case if isinstance(case, Case) else parse_case(case)
    from_text: list[str] = []
    truncated: list[str] = []
    not_read = _texts(parsed)
    if not_read and read_texts:
        enriched = _enrich(parsed)
        if enriched is not None:
            parsed, from_text, read, truncated = enriched
            not_read = [t for t in not_read if t not in set(read)]
    result = assess_case(parsed, knowledge, from_text=from_text,
                         instruments=_instruments(parsed), texts_not_read=not_read,
                         evidence=level)
    return result.model_copy(update={"texts_truncated": truncated}) if truncated else result


def evidence_level(value: str | None, kb: AssessmentKnowledge) -> EvidenceLevel:
    """The evidence policy to apply: `value` checked against the knowledge base's levels."""
    if value is None:
        return kb.rules.evidence_policy.default
    for level in kb.rules.evidence_policy.levels:
        if value == level:
            return level
    raise InputError.single("evidence", value, "one of " + ", ".join(
        f"'{level}'" for level in kb.rules.evidence_policy.levels), what="evidence policy")


def _texts(case: Case) -> list[str]:
    return ([f"imaging.reports[{i}]" for i in range(len(case.imaging.reports))]
            + [f"notes[{i}]" for i in range(len(case.notes))])


def _enrich(case: Case) -> tuple[Case, list[str], list[str], list[str]] | None:
    try:
        nlp = importlib.import_module("hipspine.nlp")
    except Exception:  # not installed, or broken: the texts are reported as not read
        return None
    enrich = getattr(nlp, "enrich_case", None)
    if enrich is None:
        return None
    try:
        result = enrich(case)
    except Exception:  # a failing optional reader must not block the assessment:
        return None    # the texts are then reported as not read
    read = [str(t) for t in getattr(result, "texts_read", [])]
    cut = [str(t) for t in getattr(result, "truncated", [])]
    return result.case, [str(p) for p in result.from_text], read, cut


def _instruments(case: Case) -> list[InstrumentResult]:
    try:
        inst = importlib.import_module("hipspine.instruments")
    except Exception:  # not installed, or broken: instruments are display-only
        return []
    evaluate_all = getattr(inst, "evaluate_all", None)
    loader = getattr(inst, "load_instrument_knowledge", None)
    if evaluate_all is None or loader is None:
        return []
    try:
        return list(evaluate_all(case, loader()))
    except Exception:  # instruments are displayed only; their failure must not block
        return []
