"""Precompile every finding's conditions into one generated Python function.

Evaluating conditions is on every assessment's path, so instead of walking closures
per condition, the knowledge base is turned (once, at first use) into straight-line code:
one attribute read per case field and one comparison per condition. The generated source
contains no clinical number of its own: constants are passed in from the knowledge base.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hipspine.assess.knowledge import Condition, Finding

StatesFn = Callable[[Any], list[tuple[bool | None, bool, Any]]]
"""case -> per finding: (state: True present / False absent / None unknown, all fields
unknown, value of the first field)."""
ChecksFn = Callable[[Any], tuple[bool | None, ...]]
"""case -> the three-valued result of each condition list, in the order given."""

_OPS = {"lt": "<", "le": "<=", "gt": ">", "ge": ">="}


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.consts: list[Any] = []
        self.fields: dict[str, str] = {}

    def const(self, value: Any) -> str:
        if isinstance(value, list):
            value = frozenset(value)
        self.consts.append(value)
        return f"K[{len(self.consts) - 1}]"

    def field(self, path: str) -> str:
        """A local variable holding the field value (None when a parent object is None)."""
        if path in self.fields:
            return self.fields[path]
        name = f"f{len(self.fields)}"
        parts = path.split(".")
        self.lines.append(f"    {name} = case.{parts[0]}")
        for part in parts[1:]:
            self.lines.append(f"    {name} = None if {name} is None else {name}.{part}")
        self.fields[path] = name
        return name

    def condition(self, cond: Condition, out: str) -> None:
        v = self.field(cond.field)
        op = cond.op
        if op == "is_true":
            test = f"{v} is True"
        elif op == "is_false":
            test = f"{v} is False"
        elif op == "eq":
            test = f"{v} == {self.const(cond.value)}"
        elif op == "in":
            test = f"{v} in {self.const(cond.value)}"
        elif op == "contains":
            test = f"{self.const(cond.value)} in {v}"
        elif op == "contains_any":
            test = f"not {self.const(cond.value)}.isdisjoint({v})"
        else:
            test = f"{v} {_OPS[op]} {self.const(float(cond.value))}"  # type: ignore[arg-type]
        self.lines.append(f"    {out} = None if {v} is None else ({test})")

    def all_of(self, conds: Sequence[Condition], out: str) -> None:
        names = []
        for n, cond in enumerate(conds):
            name = f"{out}_{n}"
            self.condition(cond, name)
            names.append(name)
        if len(names) == 1:
            self.lines.append(f"    {out} = {names[0]}")
            return
        falses = " or ".join(f"{n} is False" for n in names)
        nones = " or ".join(f"{n} is None" for n in names)
        self.lines.append(f"    {out} = False if ({falses}) else (None if ({nones}) else True)")


def _function(w: _Writer, name: str, returned: str) -> Any:
    source = (f"def {name}(case):\n" + "\n".join(w.lines) + f"\n    return {returned}\n")
    namespace: dict[str, Any] = {"K": tuple(w.consts)}
    exec(compile(source, f"<hipspine assessment knowledge: {name}>", "exec"),  # noqa: S102
         namespace)
    return namespace[name]


def compile_checks(condition_lists: Sequence[Sequence[Condition]]) -> ChecksFn:
    """One function evaluating several condition lists (each: all must hold) on a case."""
    w = _Writer()
    for i, conds in enumerate(condition_lists):
        w.all_of(conds, f"c{i}")
    fn: ChecksFn = _function(w, "checks", "(" + "".join(
        f"c{i}, " for i in range(len(condition_lists))) + ")")
    return fn


def compile_states(findings: Sequence[Finding]) -> StatesFn:
    """One function evaluating every finding's state on a case, in knowledge-base order."""
    w = _Writer()
    results = []
    for i, f in enumerate(findings):
        st = f"s{i}"
        w.all_of(f.present_when, f"p{i}")
        if f.absent_when is None:
            w.lines.append(f"    {st} = True if p{i} is True else (False if p{i} is False "
                           "else None)")
        else:
            w.all_of(f.absent_when, f"a{i}")
            w.lines.append(f"    {st} = True if p{i} is True else (False if a{i} is True "
                           "else None)")
        if f.applies_when:
            w.all_of(f.applies_when, f"ap{i}")
            w.lines.append(f"    {st} = {st} if ap{i} is True else None")
        paths = dict.fromkeys(c.field for c in f.present_when + (f.absent_when or []))
        unknown = " and ".join(f"{w.field(p)} is None" for p in paths)
        results.append(f"({st}, {unknown}, {w.field(f.present_when[0].field)})")
    fn: StatesFn = _function(w, "states", "[" + ", ".join(results) + "]")
    return fn
