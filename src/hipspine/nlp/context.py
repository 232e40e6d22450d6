"""ConText-style modifiers: is a finding negated, hedged or historical in its sentence?

Implements the scope rules of ConText (Harkema 2009; knowledge/nlp/context.yaml): triggers
reach forward or backward within their clause, pseudo-triggers are removed first, and a
clause break (semicolon, "but", a new severity-qualified finding after a comma) ends scope.
"""

from __future__ import annotations

import bisect
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


class _Spans:
    """Pseudo-trigger spans, asked "does one cover this position?" in O(log n)."""

    def __init__(self) -> None:
        self._spans: list[tuple[int, int]] = []
        self._starts: list[int] = []
        self._reach: list[int] = []  # the furthest end among spans starting at or before

    def add(self, start: int, end: int) -> None:
        self._spans.append((start, end))
        self._starts = []  # re-indexed on the next question

    def covers(self, pos: int) -> bool:
        if not self._spans:
            return False
        if not self._starts:
            ordered = sorted(self._spans)
            self._starts = [s for s, _ in ordered]
            self._reach = []
            furthest = -1
            for _, e in ordered:
                furthest = max(furthest, e)
                self._reach.append(furthest)
        i = bisect.bisect_right(self._starts, pos) - 1
        return i >= 0 and self._reach[i] > pos


class SentenceContext:
    """The triggers of one sentence, found once and asked about each target span.

    Clauses and triggers are found on first use: most sentences hold no target, and then
    no ConText rule needs to run on them at all. Triggers are filed under their clause, so
    asking about one target costs a binary search and the triggers of its own clause."""

    def __init__(self, sentence: str, kb: NlpKnowledge) -> None:
        self.sentence = sentence
        self._kb = kb

    @functools.cached_property
    def clauses(self) -> list[tuple[int, int]]:
        return clause_bounds(self.sentence, self._kb)

    @functools.cached_property
    def _clause_starts(self) -> list[int]:
        return [s for s, _ in self.clauses]

    @functools.cached_property
    def triggers(self) -> list[_Trigger]:
        pseudo = _Spans()
        triggers: list[_Trigger] = []
        for rule, rx in self._kb.context_rules:
            for m in rx.finditer(self.sentence):
                if rule.direction == "pseudo":
                    pseudo.add(m.start(), m.end())
                    continue
                if pseudo.covers(m.start()):
                    continue
                triggers.append(_Trigger(rule.id, rule.category, rule.direction,
                                         m.start(), m.end()))
        return triggers

    @functools.cached_property
    def _by_clause(self) -> list[list[_Trigger]]:
        """The triggers lying wholly inside each clause, in `triggers` order."""
        filed: list[list[_Trigger]] = [[] for _ in self.clauses]
        for t in self.triggers:
            i = bisect.bisect_right(self._clause_starts, t.start) - 1
            for j in (i - 1, i):  # a zero-width trigger may end the clause before
                if j >= 0 and self.clauses[j][0] <= t.start and t.end <= self.clauses[j][1]:
                    filed[j].append(t)
        return filed

    def _clause_index(self, start: int) -> int:
        i = bisect.bisect_right(self._clause_starts, start) - 1
        if i >= 0 and start < self.clauses[i][1]:
            return i
        return len(self.clauses) - 1  # in a break, or past the end: the last clause

    def clause_of(self, start: int) -> tuple[int, int]:
        return self.clauses[self._clause_index(start)]

    def modifiers(self, start: int, end: int) -> Modifiers:
        """Which categories reach the target at [start, end)."""
        fired: dict[str, list[str]] = {}
        for t in self._by_clause[self._clause_index(start)]:
            if start <= t.start < end or start < t.end <= end:
                continue  # a trigger inside the finding's own words is part of the finding
            ahead = t.end <= start
            behind = t.start >= end
            if (t.direction == "forward" and ahead) or (t.direction == "backward" and behind) \
                    or (t.direction == "bidirectional" and (ahead or behind)):
                fired.setdefault(t.category, []).append(t.rule)
        rules = tuple(r for rs in fired.values() for r in rs)
        return Modifiers("negated" in fired, "uncertain" in fired, "historical" in fired, rules)
