"""Facts the plan rules test: case fields, assessment, prior treatments, named definitions.

Absent means unknown: a fact that is None satisfies no condition, so a missing eGFR never
reads as "normal kidneys" and a missing deficit never reads as "no deficit" in a rule that
asks for `equals: false` (named facts are always true/false, computed from known values).
"""

from __future__ import annotations

from typing import Any

from hipspine.models.assessment import Assessment
from hipspine.models.case import Case
from hipspine.models.landmarks import SpinopelvicResult
from hipspine.plan.knowledge import Condition, FactsFile, When

Facts = dict[str, Any]

_MIMICS = ("sacroiliac", "trochanteric", "vascular", "neuropathy")


def _flatten(prefix: str, value: Any, out: Facts) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}" if prefix else key, inner, out)
    else:
        out[prefix] = value


def relieved(relief_pct: float | None, threshold: float) -> bool:
    """Relief at or above the threshold; relief not recorded counts as not relieved."""
    return relief_pct is not None and relief_pct >= threshold


def build_facts(case: Case, assessment: Assessment, kb: FactsFile,
                spinopelvic: SpinopelvicResult | None = None) -> Facts:
    """Every fact the rules may name, then the named definitions in file order."""
    facts: Facts = {}
    _flatten("", case.model_dump(
        exclude={"proms": True, "notes": True, "history": {"prior_treatments": True}},
        mode="json"), facts)
    facts["verdict"] = assessment.verdict
    facts["urgent"] = assessment.urgent
    facts["red_flag_count"] = len(assessment.red_flags)
    facts["offierski_macnab"] = assessment.offierski_macnab
    for prior in case.history.prior_treatments:
        ok = relieved(prior.relief_pct, kb.relief_threshold_pct)
        for target in (prior.target, "any"):
            facts[f"tried.{prior.type}.{target}"] = True
            if ok:
                facts[f"relieved.{prior.type}.{target}"] = True
            else:
                facts[f"failed.{prior.type}.{target}"] = True
    mimics = [s for s in assessment.sources if s.id in _MIMICS]
    if mimics:
        facts["leading_other_source"] = max(mimics, key=lambda s: s.probability).id
    if spinopelvic is not None:
        s = spinopelvic.standing
        facts.update({"spinopelvic.pt": s.pt, "spinopelvic.pi_ll": s.pi_ll,
                      "spinopelvic.sva_mm": s.sva_mm,
                      "spinopelvic.schwab_pt": spinopelvic.schwab_modifiers.pt,
                      "spinopelvic.schwab_pi_ll": spinopelvic.schwab_modifiers.pi_ll,
                      "spinopelvic.hip_spine_class": spinopelvic.hip_spine_class})
    for definition in kb.definitions:
        facts[definition.id] = holds(definition, facts)
    return facts


def satisfied(cond: Condition, facts: Facts) -> bool:
    """One condition; `known: false` is the only way to ask for an unknown value."""
    value = facts.get(cond.fact)
    if cond.known is not None and (value is not None) != cond.known:
        return False
    if value is None:
        return cond.known is False or (
            cond.equals is False and cond.fact.startswith(("tried.", "failed.", "relieved.")))
    if cond.equals is not None and value != cond.equals:
        return False
    if cond.one_of is not None and str(value) not in cond.one_of:
        return False
    bounds = ((cond.lt, lambda v, b: v < b), (cond.le, lambda v, b: v <= b),
              (cond.gt, lambda v, b: v > b), (cond.ge, lambda v, b: v >= b))
    for bound, test in bounds:
        if bound is not None:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return False
            if not test(value, bound):
                return False
    return True


def holds(when: When | None, facts: Facts) -> bool:
    """True when every `all` condition and at least one `any` condition is satisfied."""
    if when is None:
        return False
    if not all(satisfied(c, facts) for c in when.all):
        return False
    return not when.any or any(satisfied(c, facts) for c in when.any)
