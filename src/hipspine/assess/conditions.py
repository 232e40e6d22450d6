"""Evaluate knowledge-base conditions against a case: True, False, or None (not known).

A condition whose field is null is unknown, never false: unknown findings change nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hipspine.assess.knowledge import Condition

Check = Callable[[Any], bool | None]


def field_getter(path: str) -> Callable[[Any], Any]:
    """A fast getter for a dotted case path; a missing parent object reads as None."""
    parts = tuple(path.split("."))

    def get(case: Any) -> Any:
        node = case
        for part in parts:
            if node is None:
                return None
            node = getattr(node, part)
        return node

    return get


def compile_condition(cond: Condition) -> Check:
    get = field_getter(cond.field)
    op, want = cond.op, cond.value

    def check(case: Any) -> bool | None:
        got = get(case)
        if got is None:
            return None
        if op == "is_true":
            return got is True
        if op == "is_false":
            return got is False
        if op == "eq":
            return bool(got == want)
        if op == "in":
            return got in want  # type: ignore[operator]
        if op == "contains":
            return want in got
        if op == "contains_any":
            return any(w in got for w in want)  # type: ignore[union-attr]
        number = float(want)  # type: ignore[arg-type]
        if op == "lt":
            return bool(got < number)
        if op == "le":
            return bool(got <= number)
        if op == "gt":
            return bool(got > number)
        return bool(got >= number)

    return check


def compile_all(conds: Sequence[Condition]) -> Check:
    """All conditions together: False if any is False, None if any unknown, else True."""
    checks = [compile_condition(c) for c in conds]

    def check(case: Any) -> bool | None:
        unknown = False
        for one in checks:
            result = one(case)
            if result is False:
                return False
            if result is None:
                unknown = True
        return None if unknown else True

    return check
