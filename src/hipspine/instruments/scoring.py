"""Score one instrument definition against a lookup (case fields or questionnaire answers).

Pure: the definition and the lookup come in, an `InstrumentResult` goes out. Unknown items
widen the score to a range [low, high]; the result is positive only when even the lowest
possible score reaches the cut-off, negative only when even the highest cannot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from hipspine.instruments.definitions import InstrumentDefinition, Item
from hipspine.instruments.logic import (
    FALSE,
    TRUE,
    Condition,
    Lookup,
    Outcome,
    any_of,
    compile_condition,
    merge,
)
from hipspine.models.assessment import InstrumentResult

Audience = Literal["clinician", "patient"]


class ItemScore(NamedTuple):
    low: int
    high: int
    present: Outcome  # whether any option's condition holds (the item "is present")
    missing: tuple[str, ...]

    @property
    def known(self) -> bool:
        """The points are settled (an unknown item whose options all score alike is settled)."""
        return self.low == self.high


_NO_ITEMS: dict[str, Outcome] = {}
Options = list[tuple[Condition, int]]


@dataclass(frozen=True)
class _Plan:
    """A definition compiled to closures once; scoring then does no model work."""

    items: list[tuple[str, ItemScorer]]
    rule: Condition | None
    cutoff: int | None
    remarks: list[tuple[Condition, str]]
    results: dict[tuple[Any, ...], InstrumentResult] = field(default_factory=dict)


_PLANS: dict[int, tuple[InstrumentDefinition, _Plan]] = {}


def _plan(defn: InstrumentDefinition) -> _Plan:
    hit = _PLANS.get(id(defn))
    if hit is not None and hit[0] is defn:
        return hit[1]
    plan = _Plan(
        items=[(i.id, _item_scorer(_options(i), i.otherwise)) for i in defn.items],
        rule=compile_condition(defn.positive_if.rule) if defn.positive_if.rule else None,
        cutoff=defn.positive_if.score_at_least,
        remarks=[(compile_condition(r.when), r.text) for r in defn.remarks],
    )
    _PLANS[id(defn)] = (defn, plan)
    return plan


def _options(item: Item) -> Options:
    return [(compile_condition(o.when), o.points) for o in item.scoring_options()]


def score_item(item: Item, lookup: Lookup) -> ItemScore:
    """Points of one item; options are tried in order, the first true one scores."""
    return _score_options(_options(item), item.otherwise, lookup)


ItemScorer = Callable[[Lookup], ItemScore]


def _item_scorer(options: Options, otherwise: int) -> ItemScorer:
    """A single-condition item (the common case) gets a fast closure with preset results."""
    if len(options) != 1:
        return lambda lookup: _score_options(options, otherwise, lookup)
    condition, points = options[0]
    yes = ItemScore(points, points, TRUE, ())
    no = ItemScore(otherwise, otherwise, FALSE, ())
    low, high = min(points, otherwise), max(points, otherwise)

    def score(lookup: Lookup) -> ItemScore:
        outcome = condition(lookup, _NO_ITEMS)
        if outcome.value is None:
            return ItemScore(low, high, outcome, outcome.missing)
        return yes if outcome.value else no
    return score


def _score_options(options: Options, otherwise: int, lookup: Lookup) -> ItemScore:
    outcomes = [condition(lookup, _NO_ITEMS) for condition, _ in options]
    possible: list[int] = []
    missing: tuple[str, ...] = ()
    for (_, points), outcome in zip(options, outcomes, strict=True):
        if outcome.value is True:
            possible.append(points)
            break
        if outcome.value is None:
            possible.append(points)
            missing = merge(missing, outcome.missing) if missing else outcome.missing
    else:
        possible.append(otherwise)
    if len(outcomes) == 1:
        present = outcomes[0]
    else:
        present = any_of(outcomes)
    return ItemScore(min(possible), max(possible), present, missing)


def score_instrument(defn: InstrumentDefinition, lookup: Lookup, citation: str,
                     audience: Audience = "clinician") -> InstrumentResult:
    """Evaluate `defn` (its knowledge-base entry) over `lookup`; see the module docstring.

    The text and result object depend only on the item scores, the positivity outcome and
    which remarks fire, so they are memoised on those (results are shared: read-only).
    """
    plan = _plan(defn)
    scores = tuple(scorer(lookup) for _, scorer in plan.items)
    truths = {item_id: s.present for (item_id, _), s in zip(plan.items, scores, strict=True)}
    low = sum(s.low for s in scores)
    high = sum(s.high for s in scores)
    if plan.rule is not None:
        decided = plan.rule(lookup, truths)
    else:
        cutoff = plan.cutoff
        assert cutoff is not None
        decided = TRUE if low >= cutoff else FALSE if high < cutoff else Outcome(None)
    fired = tuple(condition(lookup, truths).value is True for condition, _ in plan.remarks)
    key = (citation, audience, scores, decided, fired)
    cached = plan.results.get(key)
    if cached is None:
        cached = _result(defn, plan, scores, low, high, decided, fired, citation, audience)
        if len(plan.results) >= _MEMO_SIZE:
            plan.results.clear()
        plan.results[key] = cached
    return cached


_MEMO_SIZE = 4096


def _result(defn: InstrumentDefinition, plan: _Plan, scores: tuple[ItemScore, ...],
            low: int, high: int, decided: Outcome, fired: tuple[bool, ...], citation: str,
            audience: Audience) -> InstrumentResult:
    gaps = [s.missing for s in scores if s.low != s.high]
    if defn.score == "rule":
        score: int | Literal["incomplete"] = (
            "incomplete" if decided.value is None else int(decided.value))
        maximum = 1
        missing = decided.missing
    else:
        score = "incomplete" if gaps else low
        maximum = defn.score_max
        if decided.value is None:
            gaps.append(decided.missing)
        missing = merge(*gaps) if gaps else ()
    remarks = [text for (_, text), on in zip(plan.remarks, fired, strict=True) if on]
    text = _interpretation(defn, audience, decided.value, score, low, high, missing, remarks)
    return InstrumentResult(
        id=defn.id, score=score, max=maximum, positive=decided.value, interpretation=text,
        citation=citation, missing_items=list(missing), preliminary=defn.preliminary)


def _interpretation(defn: InstrumentDefinition, audience: Audience, positive: bool | None,
                    score: int | str, low: int, high: int, missing: tuple[str, ...],
                    remarks: list[str]) -> str:
    texts = defn.plain_language if audience == "patient" and defn.plain_language else \
        defn.interpretation
    verdict = texts.positive if positive else texts.negative if positive is False else \
        texts.undecided
    parts: list[str] = []
    if audience == "clinician":
        if defn.score == "points" and score != "incomplete":
            parts.append(f"Score {score} of {defn.score_max}.")
        elif defn.score == "points":
            parts.append(f"Incomplete: the score lies between {low} and {high} of "
                         f"{defn.score_max} until the unknown items are known.")
        elif score == "incomplete":
            parts.append("Criteria cannot be decided from the known items.")
    parts.append(verdict)
    if audience == "clinician" and score != "incomplete" and defn.bands:
        band = max((b for b in defn.bands if isinstance(score, int) and score >= b.at_least),
                   key=lambda b: b.at_least, default=None)
        if band is not None:
            parts.append(band.text)
    parts.extend(remarks)
    if audience == "clinician" and missing and positive is None:
        parts.append("Still needed: " + ", ".join(missing) + ".")
    if audience == "clinician" and defn.preliminary:
        parts.append("Preliminary rule: derived in one study, never validated.")
    return " ".join(parts)
