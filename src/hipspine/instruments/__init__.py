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
from typing import Any

from hipspine.instruments.answers import Question, questions, validate_answers
from hipspine.instruments.definitions import InstrumentDefinition
from hipspine.instruments.knowledge import InstrumentKnowledge, load_instrument_knowledge
from hipspine.instruments.scoring import Audience, score_instrument
from hipspine.models.assessment import InstrumentResult
from hipspine.models.case import Case


def case_lookup(case: Case) -> Any:
    """A lookup for dotted case paths; a missing parent (e.g. no `imaging.hip_oa`) is None."""
    def lookup(path: str) -> Any:
        node: Any = case
        for part in path.split("."):
            if node is None:
                return None
            node = getattr(node, part)
        return node
    return lookup


def evaluate(instrument_id: str, case: Case, kb: InstrumentKnowledge) -> InstrumentResult:
    """Score one case-based instrument (by id) on `case`."""
    defn = kb.get(instrument_id)
    return score_instrument(defn, case_lookup(case), kb.citation(defn))


def evaluate_all(case: Case, kb: InstrumentKnowledge) -> list[InstrumentResult]:
    """Every case-based instrument in the knowledge base, in file order."""
    lookup = case_lookup(case)
    return [score_instrument(d, lookup, kb.citation(d))
            for d in kb.instruments if d.subject == "case"]


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
]
