"""Clinical instruments as pure functions over a case, their definitions as cited data.

    from hipspine.instruments import evaluate_all, load_instrument_knowledge
    results = evaluate_all(case, load_instrument_knowledge())

Each result is an `InstrumentResult`: score (or "incomplete"), max, positive (True, False,
or None when the known items do not decide it), interpretation, citation, missing_items.
Unknown findings are never counted as negative. Patient questionnaires (Konno SSHQ,
Sugioka self-reported LSS rule) are scored from a dict of answers with `score_self_report`.
"""

from __future__ import annotations

from collections.abc import Mapping
from operator import attrgetter
from typing import Any

from hipspine.instruments.answers import Question, questions, validate_answers
from hipspine.instruments.definitions import InstrumentDefinition
from hipspine.instruments.knowledge import InstrumentKnowledge, load_instrument_knowledge
from hipspine.instruments.scoring import Audience, score_instrument
from hipspine.models.assessment import InstrumentResult
from hipspine.models.case import Case


def case_lookup(case: Case) -> Any:
    """A lookup for dotted case paths; a missing parent (e.g. no `imaging.hip_oa`) is None."""
    seen: dict[str, Any] = {}

    def lookup(path: str) -> Any:
        if path in seen:
            return seen[path]
        node: Any = case
        for part in path.split("."):
            if node is None:
                break
            node = getattr(node, part)
        seen[path] = node
        return node
    return lookup


def evaluate(instrument_id: str, case: Case, kb: InstrumentKnowledge) -> InstrumentResult:
    """Score one case-based instrument (by id) on `case`."""
    defn = kb.get(instrument_id)
    return score_instrument(defn, case_lookup(case), kb.citation(defn))


def evaluate_all(case: Case, kb: InstrumentKnowledge) -> list[InstrumentResult]:
    """Every case-based instrument in the knowledge base, in file order."""
    runner = _runner(kb)
    values = {path: _read(case, getter) for path, getter in runner.getters}
    lookup = values.get
    results: list[InstrumentResult] = []
    for defn, citation, fields in runner.definitions:
        if any(values[f] is not None for f in fields):
            results.append(score_instrument(defn, lookup, citation))
        else:  # nothing examined yet: the same answer for every such case
            results.append(runner.blank(defn, citation))
    return results


class _Runner:
    """The case-based definitions and the case fields they read, prepared once per kb."""

    def __init__(self, kb: InstrumentKnowledge) -> None:
        defs = [d for d in kb.instruments if d.subject == "case"]
        self.definitions = [(d, kb.citation(d), d.fields()) for d in defs]
        paths = sorted({f for d in defs for f in d.fields()})
        self.getters = [(p, attrgetter(p)) for p in paths]
        self._blank: dict[str, InstrumentResult] = {}

    def blank(self, defn: InstrumentDefinition, citation: str) -> InstrumentResult:
        if defn.id not in self._blank:
            self._blank[defn.id] = score_instrument(defn, lambda _: None, citation)
        return self._blank[defn.id]


_RUNNERS: dict[int, tuple[InstrumentKnowledge, _Runner]] = {}


def _runner(kb: InstrumentKnowledge) -> _Runner:
    hit = _RUNNERS.get(id(kb))
    if hit is None or hit[0] is not kb:
        hit = (kb, _Runner(kb))
        _RUNNERS[id(kb)] = hit
    return hit[1]


def summaries(kb: InstrumentKnowledge) -> list[dict[str, Any]]:
    """One row per instrument with its source and verification, for knowledge listings."""
    return [{"id": d.id, "name": d.name, "subject": d.subject, "target": d.target,
             "citation": kb.citation(d), "verified": d.verified, "strength": d.strength,
             "preliminary": d.preliminary} for d in kb.instruments]


def _read(case: Case, getter: attrgetter[Any]) -> Any:
    try:
        return getter(case)
    except AttributeError:  # a missing parent, e.g. no imaging.hip_oa: not known
        return None


def score_self_report(instrument_id: str, answers: Mapping[str, Any],
                      kb: InstrumentKnowledge,
                      audience: Audience = "patient") -> InstrumentResult:
    """Score a patient questionnaire from `{question_id: answer}`; unanswered = unknown.

    Raises `InputError` naming any unknown question id or wrongly typed answer.
    """
    defn = kb.get(instrument_id)
    clean = validate_answers(defn, answers)
    return score_instrument(defn, clean.get, kb.citation(defn), audience)


__all__ = [
    "InstrumentDefinition",
    "InstrumentKnowledge",
    "Question",
    "evaluate",
    "evaluate_all",
    "load_instrument_knowledge",
    "questions",
    "score_self_report",
    "summaries",
]
