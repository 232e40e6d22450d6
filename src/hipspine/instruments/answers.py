"""Questionnaire answers for self-report instruments: the questions, and strict validation.

A web form or registry import hands in `{question_id: answer}`; an unknown id or a wrong
type is an input error naming the question, never silently ignored.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from hipspine.errors import InputError, Problem
from hipspine.instruments.definitions import InstrumentDefinition, Item, Predicate, sub_conditions

AnswerKind = Literal["yes_no", "number"]


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    kind: AnswerKind
    answer_range: tuple[float, float] | None = None


def questions(defn: InstrumentDefinition) -> list[Question]:
    """The questions to ask, in the instrument's order, with their published wording."""
    out: list[Question] = []
    seen: set[str] = set()
    for item in defn.items:
        for key, kind in _item_fields(item):
            if key not in seen:
                seen.add(key)
                out.append(Question(key, item.question or item.label, kind, item.answer_range))
    return out


def validate_answers(defn: InstrumentDefinition, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Check `answers` against the instrument's questions; None means not answered."""
    if not isinstance(answers, Mapping):
        raise InputError.single("(answers)", type(answers).__name__,
                                "an object of question id to answer", what=defn.id)
    asked = {q.id: q for q in questions(defn)}
    problems: list[Problem] = []
    clean: dict[str, Any] = {}
    for key, value in answers.items():
        q = asked.get(key)
        if q is None:
            problems.append(Problem(field=str(key), value=value,
                                    allowed=", ".join(asked),
                                    message="not a question of this instrument"))
            continue
        if value is None:
            continue
        if q.kind == "yes_no" and not isinstance(value, bool):
            problems.append(Problem(field=key, value=value, allowed="true, false or null"))
            continue
        if q.kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value):
                problems.append(Problem(field=key, value=value, allowed="a number or null"))
                continue
            if q.answer_range and not q.answer_range[0] <= value <= q.answer_range[1]:
                low, high = q.answer_range
                problems.append(Problem(field=key, value=value,
                                        allowed=f"{low:g} to {high:g}"))
                continue
        clean[key] = value
    if problems:
        raise InputError(problems, what=defn.id)
    return clean


def _item_fields(item: Item) -> list[tuple[str, AnswerKind]]:
    found: list[tuple[str, AnswerKind]] = []
    for option in item.scoring_options():
        _walk(option.when, found)
    return found


def _walk(p: Predicate, found: list[tuple[str, AnswerKind]]) -> None:
    if p.field is not None:
        kind: AnswerKind = "yes_no" if p.is_ is not None or p.map is not None else "number"
        if all(f != p.field for f, _ in found):
            found.append((p.field, kind))
    for kid in sub_conditions(p):
        _walk(kid, found)
