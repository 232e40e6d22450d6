"""Score one instrument definition against a lookup (case fields or questionnaire answers).

Pure: the definition and the lookup come in, an `InstrumentResult` goes out. Unknown items
widen the score to a range [low, high]; the result is positive only when even the lowest
possible score reaches the cut-off, negative only when even the highest cannot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hipspine.instruments.definitions import InstrumentDefinition, Item
from hipspine.instruments.logic import Lookup, Outcome, any_of, evaluate, merge
from hipspine.models.assessment import InstrumentResult

Audience = Literal["clinician", "patient"]


@dataclass(frozen=True)
class ItemScore:
    low: int
    high: int
    present: Outcome  # whether any option's condition holds (the item "is present")
    missing: tuple[str, ...]

    @property
    def known(self) -> bool:
        """The points are settled (an unknown item whose options all score alike is settled)."""
        return self.low == self.high


def score_item(item: Item, lookup: Lookup) -> ItemScore:
    """Points of one item; options are tried in order, the first true one scores."""
    outcomes = [evaluate(option.when, lookup, {}) for option in item.scoring_options()]
    possible: list[int] = []
    missing: tuple[str, ...] = ()
    for option, outcome in zip(item.scoring_options(), outcomes, strict=True):
        if outcome.value is True:
            possible.append(option.points)
            break
        if outcome.value is None:
            possible.append(option.points)
            missing = merge(missing, outcome.missing)
    else:
        possible.append(item.otherwise)
    present = any_of(outcomes)
    return ItemScore(min(possible), max(possible), present, missing)


def score_instrument(defn: InstrumentDefinition, lookup: Lookup, citation: str,
                     audience: Audience = "clinician") -> InstrumentResult:
    """Evaluate `defn` (its knowledge-base entry) over `lookup`; see the module docstring."""
    scores = {item.id: score_item(item, lookup) for item in defn.items}
    truths = {item_id: s.present for item_id, s in scores.items()}
    low = sum(s.low for s in scores.values())
    high = sum(s.high for s in scores.values())
    complete = all(s.known for s in scores.values())

    rule = defn.positive_if.rule
    if rule is not None:
        decided = evaluate(rule, lookup, truths)
    else:
        cutoff = defn.positive_if.score_at_least
        assert cutoff is not None
        decided = Outcome(True if low >= cutoff else False if high < cutoff else None)

    if defn.score == "rule":
        score: int | Literal["incomplete"] = (
            "incomplete" if decided.value is None else int(decided.value))
        maximum = 1
        missing = decided.missing
    else:
        score = low if complete else "incomplete"
        maximum = defn.score_max
        missing = merge(*(s.missing for s in scores.values() if not s.known),
                        decided.missing if decided.value is None else ())

    text = _interpretation(defn, audience, decided.value, score, low, high, missing, lookup,
                           truths)
    return InstrumentResult(id=defn.id, score=score, max=maximum, positive=decided.value,
                            interpretation=text, citation=citation,
                            missing_items=list(missing), preliminary=defn.preliminary)


def _interpretation(defn: InstrumentDefinition, audience: Audience, positive: bool | None,
                    score: int | str, low: int, high: int, missing: tuple[str, ...],
                    lookup: Lookup, truths: dict[str, Outcome]) -> str:
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
    for remark in defn.remarks:
        if evaluate(remark.when, lookup, truths).value is True:
            parts.append(remark.text)
    if audience == "clinician" and missing and positive is None:
        parts.append("Still needed: " + ", ".join(missing) + ".")
    if audience == "clinician" and defn.preliminary:
        parts.append("Preliminary rule: derived in one study, never validated.")
    return " ".join(parts)
