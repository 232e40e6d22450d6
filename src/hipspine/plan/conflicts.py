"""Check a plan against the conflict pairs of `knowledge/plan/conflicts.yaml`.

Each pair names two kinds of plan item that must never appear together; `find_conflicts`
returns the pairs a plan holds (empty for every plan `make_plan` returns).
"""

from __future__ import annotations

from dataclasses import dataclass

from hipspine.models.plan import Plan
from hipspine.plan.facts import Facts
from hipspine.plan.knowledge import Conflict, PlanItem, PlanKnowledge


@dataclass(frozen=True)
class Item:
    """One plan item as the conflict selectors see it."""

    kind: str
    id: str = ""
    tier: str | None = None
    status: str | None = None
    surgical: bool | None = None
    indicated: bool | None = None
    surgery_status: str | None = None
    recommendation: str | None = None
    drug_class: str | None = None


@dataclass(frozen=True)
class Violation:
    conflict: Conflict
    first: Item
    second: Item

    def __str__(self) -> str:
        return (f"{self.conflict.id}: {self.first.kind} {self.first.id!r} with "
                f"{self.second.kind} {self.second.id!r} ({self.conflict.reason})")


def surgical_urgent_ids(kb: PlanKnowledge) -> tuple[set[str], list[str]]:
    """Safety-net ids that are surgical, and the red-flag id parts that are."""
    rules = kb.steps.urgent
    return {n.id for n in rules.safety_net if n.surgical}, list(rules.red_flag_surgical)


def is_surgical_urgent(step_id: str, kb: PlanKnowledge) -> bool:
    nets, parts = surgical_urgent_ids(kb)
    if step_id in nets:
        return True
    return step_id.startswith("red_flag.") and any(p in step_id for p in parts)


def plan_items(plan: Plan, kb: PlanKnowledge, facts: Facts) -> list[Item]:
    """Steps, the surgery section, medications and the unknown safety facts of listed drugs."""
    items = [Item(kind="step", id=s.id, tier=s.tier, status=s.status,
                  surgical=s.tier == "urgent" and is_surgical_urgent(s.id, kb))
             for s in plan.steps]
    items.append(Item(kind="surgery", id="surgery", indicated=plan.surgery.indicated,
                      surgery_status=plan.surgery.status))
    by_label = {d.label: d for d in kb.medications.drug_classes}
    for med in plan.medications:
        drug = by_label.get(med.drug_class)
        drug_id = drug.id if drug else med.drug_class
        items.append(Item(kind="medication", id=drug_id, recommendation=med.recommendation,
                          drug_class=drug_id))
        for safety in drug.check_before_use if drug else []:
            if facts.get(safety.fact) is None:
                items.append(Item(kind="unknown_safety_fact", id=safety.fact,
                                  drug_class=drug_id))
    return items


def _matches(sel: PlanItem, item: Item) -> bool:
    if sel.kind != item.kind:
        return False
    lists = ((sel.id, item.id), (sel.tier, item.tier), (sel.status, item.status),
             (sel.surgery_status, item.surgery_status),
             (sel.recommendation, item.recommendation))
    if any(allowed is not None and value not in allowed for allowed, value in lists):
        return False
    flags = ((sel.surgical, item.surgical), (sel.indicated, item.indicated))
    return all(want is None or bool(got) == want for want, got in flags)


def find_conflicts(plan: Plan, kb: PlanKnowledge, facts: Facts) -> list[Violation]:
    """Every conflict pair the plan holds (each pair reported once, first offending items)."""
    items = plan_items(plan, kb, facts)
    found: list[Violation] = []
    for conflict in kb.conflicts.conflicts:
        hit = next(((a, b) for a in items if _matches(conflict.first, a)
                    for b in items if b is not a and _matches(conflict.second, b)
                    and (not conflict.same_drug_class or a.drug_class == b.drug_class)),
                   None)
        if hit is not None:
            found.append(Violation(conflict, *hit))
    return found
