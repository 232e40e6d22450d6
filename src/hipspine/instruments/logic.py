"""Three-valued (Kleene) evaluation of instrument conditions.

True, False or None ("not known"). An AND with one False is False whatever the unknowns are;
an OR with one True is True; otherwise unknowns keep the answer open and are reported as the
items still needed. This is what lets an instrument say "already positive" from a partial
examination without ever counting an unexamined finding as negative.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hipspine.instruments.definitions import Predicate

Lookup = Callable[[str], Any]


@dataclass(frozen=True)
class Outcome:
    value: bool | None
    missing: tuple[str, ...] = ()


def merge(*groups: tuple[str, ...]) -> tuple[str, ...]:
    """Union of missing-item names, first-seen order kept."""
    out: list[str] = []
    for group in groups:
        for name in group:
            if name not in out:
                out.append(name)
    return tuple(out)


def evaluate(p: Predicate, lookup: Lookup, items: Mapping[str, Outcome]) -> Outcome:
    """Evaluate one condition; `items` gives the truth of already-scored items."""
    if p.field is not None:
        return _field_test(p, lookup(p.field))
    if p.item is not None:
        return items[p.item]
    if p.not_ is not None:
        inner = evaluate(p.not_, lookup, items)
        return Outcome(None if inner.value is None else not inner.value, inner.missing)
    if p.first_known is not None:
        outcomes = [evaluate(k, lookup, items) for k in p.first_known]
        for o in outcomes:
            if o.value is not None:
                return Outcome(o.value)
        return Outcome(None, merge(*(o.missing for o in outcomes)))
    if p.all_ is not None:
        return _count([evaluate(k, lookup, items) for k in p.all_], len(p.all_))
    if p.any_ is not None:
        return _count([evaluate(k, lookup, items) for k in p.any_], 1)
    assert p.at_least_n is not None and p.of is not None
    return _count([evaluate(k, lookup, items) for k in p.of], p.at_least_n)


def any_of(outcomes: list[Outcome]) -> Outcome:
    """Kleene OR of already evaluated outcomes."""
    return _count(outcomes, 1)


def _count(outcomes: list[Outcome], needed: int) -> Outcome:
    """At least `needed` of the outcomes true (all = len, any = 1), in Kleene logic."""
    true = sum(o.value is True for o in outcomes)
    unknown = [o for o in outcomes if o.value is None]
    if true >= needed:
        return Outcome(True)
    if true + len(unknown) < needed:
        return Outcome(False)
    return Outcome(None, merge(*(o.missing for o in unknown)))


def _field_test(p: Predicate, value: Any) -> Outcome:
    assert p.field is not None
    if value is None:
        return Outcome(None, (p.field,))
    if p.is_ is not None:
        return Outcome(bool(value == p.is_))
    if p.contains_any is not None:
        return Outcome(any(v in value for v in p.contains_any))
    if p.map is not None:
        mapped = p.map.get(int(value))
        if mapped is None:
            return Outcome(None, (p.undetermined or p.field,))
        return Outcome(mapped)
    number = float(value)
    if p.at_least is not None:
        return Outcome(number >= p.at_least)
    if p.above is not None:
        return Outcome(number > p.above)
    if p.at_most is not None:
        return Outcome(number <= p.at_most)
    assert p.below is not None
    return Outcome(number < p.below)
