"""Three-valued (Kleene) evaluation of instrument conditions.

True, False or None ("not known"). An AND with one False is False whatever the unknowns are;
an OR with one True is True; otherwise unknowns keep the answer open and are reported as the
items still needed. This is what lets an instrument say "already positive" from a partial
examination without ever counting an unexamined finding as negative.

Conditions are compiled once into closures (`compile_condition`), because instruments run
inside every assessment and must cost little next to validating the case.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from hipspine.instruments.definitions import Predicate

Lookup = Callable[[str], Any]


class Outcome(NamedTuple):
    value: bool | None
    missing: tuple[str, ...] = ()


TRUE = Outcome(True)
FALSE = Outcome(False)
Condition = Callable[[Lookup, Mapping[str, Outcome]], Outcome]


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
    return compile_condition(p)(lookup, items)


_COMPILED: dict[int, tuple[Predicate, Condition]] = {}


def compile_condition(p: Predicate) -> Condition:
    """The condition as a closure (cached per definition object, which is immutable)."""
    hit = _COMPILED.get(id(p))
    if hit is not None and hit[0] is p:
        return hit[1]
    fn = _compile(p)
    _COMPILED[id(p)] = (p, fn)
    return fn


def _compile(p: Predicate) -> Condition:
    if p.field is not None:
        return _compile_field(p)
    if p.item is not None:
        item_id = p.item
        return lambda lookup, items: items[item_id]
    if p.not_ is not None:
        inner = compile_condition(p.not_)

        def negate(lookup: Lookup, items: Mapping[str, Outcome]) -> Outcome:
            o = inner(lookup, items)
            return o if o.value is None else (FALSE if o.value else TRUE)
        return negate
    if p.first_known is not None:
        kids = [compile_condition(k) for k in p.first_known]

        def first_known(lookup: Lookup, items: Mapping[str, Outcome]) -> Outcome:
            gaps: list[tuple[str, ...]] = []
            for kid in kids:
                o = kid(lookup, items)
                if o.value is not None:
                    return TRUE if o.value else FALSE
                gaps.append(o.missing)
            return Outcome(None, merge(*gaps))
        return first_known
    if p.all_ is not None:
        return _at_least([compile_condition(k) for k in p.all_], len(p.all_))
    if p.any_ is not None:
        return _at_least([compile_condition(k) for k in p.any_], 1)
    assert p.at_least_n is not None and p.of is not None
    return _at_least([compile_condition(k) for k in p.of], p.at_least_n)


def _at_least(kids: list[Condition], needed: int) -> Condition:
    """At least `needed` of the sub-conditions true (all = len, any = 1), Kleene style."""
    def run(lookup: Lookup, items: Mapping[str, Outcome]) -> Outcome:
        return count_true([kid(lookup, items) for kid in kids], needed)
    return run


def count_true(outcomes: list[Outcome], needed: int) -> Outcome:
    true = 0
    unknown: list[tuple[str, ...]] = []
    for o in outcomes:
        if o.value is True:
            true += 1
        elif o.value is None:
            unknown.append(o.missing)
    if true >= needed:
        return TRUE
    if true + len(unknown) < needed:
        return FALSE
    return Outcome(None, merge(*unknown))


def any_of(outcomes: list[Outcome]) -> Outcome:
    """Kleene OR of already evaluated outcomes."""
    return count_true(outcomes, 1)


def _compile_field(p: Predicate) -> Condition:
    field = p.field
    assert field is not None
    gap = Outcome(None, (field,))
    test: Callable[[Any], Outcome]
    if p.is_ is not None:
        target = p.is_
        test = lambda v: TRUE if v == target else FALSE  # noqa: E731
    elif p.contains_any is not None:
        wanted = tuple(p.contains_any)
        test = lambda v: TRUE if any(w in v for w in wanted) else FALSE  # noqa: E731
    elif p.map is not None:
        table = {k: (Outcome(None, (p.undetermined or field,)) if m is None
                     else TRUE if m else FALSE) for k, m in p.map.items()}
        test = lambda v: table.get(int(v), gap)  # noqa: E731
    elif p.at_least is not None:
        bound = p.at_least
        test = lambda v: TRUE if v >= bound else FALSE  # noqa: E731
    elif p.above is not None:
        bound = p.above
        test = lambda v: TRUE if v > bound else FALSE  # noqa: E731
    elif p.at_most is not None:
        bound = p.at_most
        test = lambda v: TRUE if v <= bound else FALSE  # noqa: E731
    else:
        assert p.below is not None
        bound = p.below
        test = lambda v: TRUE if v < bound else FALSE  # noqa: E731

    def run(lookup: Lookup, items: Mapping[str, Outcome]) -> Outcome:
        value = lookup(field)
        return gap if value is None else test(value)
    return run
