"""ConText-style modifiers: is a finding negated, hedged or historical in its sentence?

Implements the scope rules of ConText (Harkema 2009; knowledge/nlp/context.yaml): triggers
reach forward or backward within their clause, pseudo-triggers are removed first, and a
clause break (semicolon, "but", a new severity-qualified finding after a comma) ends scope.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from hipspine.nlp.knowledge import NlpKnowledge
from hipspine.nlp.text import clause_bounds


@dataclass(frozen=True)
class Modifiers:
    negated: bool = False
    uncertain: bool = False
    historical: bool = False
    rules: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Trigger:
    rule: str
    category: str
    direction: str
    start: int
    end: int


class SentenceContext:
    """The triggers of one sentence, found once and asked about each target span.

    Clauses and triggers are found on first use: most sentences hold no target, and then
    no ConText rule needs to run on them at all."""

    def __init__(self, sentence: str, kb: NlpKnowledge) -> None:
        self.sentence = sentence
        self._kb = kb

    @functools.cached_property
    def clauses(self) -> list[tuple[int, int]]:
        return clause_bounds(self.sentence, self._kb)

    @functools.cached_property
    def triggers(self) -> list[_Trigger]:
        pseudo: list[tuple[int, int]] = []
        triggers: list[_Trigger] = []
        for rule, rx in self._kb.context_rules:
            for m in rx.finditer(self.sentence):
                if rule.direction == "pseudo":
                    pseudo.append((m.start(), m.end()))
                    continue
                if any(s <= m.start() < e for s, e in pseudo):
                    continue
                triggers.append(_Trigger(rule.id, rule.category, rule.direction,
                                         m.start(), m.end()))
        return triggers

    def clause_of(self, start: int) -> tuple[int, int]:
        for s, e in self.clauses:
            if s <= start < e:
                return s, e
        return self.clauses[-1]

    def modifiers(self, start: int, end: int) -> Modifiers:
        """Which categories reach the target at [start, end)."""
        c_start, c_end = self.clause_of(start)
        fired: dict[str, list[str]] = {}
        for t in self.triggers:
            if t.start < c_start or t.end > c_end:
                continue
            if start <= t.start < end or start < t.end <= end:
                continue  # a trigger inside the finding's own words is part of the finding
            ahead = t.end <= start
            behind = t.start >= end
            if (t.direction == "forward" and ahead) or (t.direction == "backward" and behind) \
                    or (t.direction == "bidirectional" and (ahead or behind)):
                fired.setdefault(t.category, []).append(t.rule)
        rules = tuple(r for rs in fired.values() for r in rs)
        return Modifiers("negated" in fired, "uncertain" in fired, "historical" in fired, rules)
