"""Verdict and Offierski-MacNab category from the per-source probabilities.

Thresholds come from `knowledge/assessment/rules.yaml` (`verdict`, `offierski_macnab`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hipspine.assess.compiled import CompiledKnowledge
from hipspine.models.assessment import OffierskiMacnab, Verdict


def acting_sources(ck: CompiledKnowledge, probability: Mapping[str, float],
                   evidence_lr: Mapping[str, float]) -> set[str]:
    """Sources probable enough to act on: probability >= threshold AND odds moved enough."""
    rule = ck.kb.rules.verdict
    return {s for s, p in probability.items()
            if p >= rule.act_probability and evidence_lr.get(s, 1.0) >= rule.min_evidence_lr}


def settled_sources(ck: CompiledKnowledge, work: Mapping[str, Any],
                    acting: set[str]) -> set[str]:
    """Sources that a counted finding of a settling tier (a reference test, a block, a
    specific lesion) supports by at least `settling_min_lr`, and that are probable enough to
    act on (the probability threshold alone: the settling finding is what the odds-moved
    threshold asks for) or whose counted findings together moved the odds
    `establishing_evidence_lr`-fold: a lesion or a reference test that explains the pain
    establishes a rare mimic from a low prior (rules.yaml `verdict`)."""
    rule = ck.kb.rules.verdict
    tiers = set(rule.settling_tiers)
    return {s for s, w in work.items()
            if (s in acting or w.probability >= rule.act_probability
                or w.evidence_lr >= rule.establishing_evidence_lr)
            and any(row.tier in tiers and row.likelihood_ratio >= rule.settling_min_lr
                    for row in w.counted)}


def decide(ck: CompiledKnowledge, work: Mapping[str, Any],
           acting: set[str]) -> tuple[Verdict, set[str], set[str]]:
    """(verdict, the sources it rests on, the settled sources). When any source is settled,
    only settled sources decide: a mimic established by a reference test or a lesion is the
    source beside merely degenerative hip or spine change, and "both" needs settling evidence
    for each."""
    settled = settled_sources(ck, work, acting)
    basis = settled or acting
    return verdict_of(ck, basis), basis, settled


def verdict_of(ck: CompiledKnowledge, acting: set[str]) -> Verdict:
    hip, spine = "hip" in acting, "spine" in acting
    if hip and spine:
        return "both"
    if hip:
        return "hip"
    if spine:
        return "spine"
    if acting & ck.mimics:
        return "other"
    return "indeterminate"


def offierski_macnab(ck: CompiledKnowledge, case: Any, verdict: Verdict,
                     acting: set[str]) -> tuple[OffierskiMacnab | None, str | None]:
    """(category, rule that fired). Precedence: misdiagnosed, secondary, complex, simple."""
    rules = ck.kb.rules.offierski_macnab
    if verdict in ("hip", "spine", "both"):
        ordered = sorted(case.history.prior_treatments,  # list order must change nothing
                         key=lambda t: (t.relief_pct if t.relief_pct is not None else 101,
                                        t.type, t.target, t.months_ago or 0.0))
        for treatment in ordered:
            target = treatment.target
            if (target in ("hip", "spine") and target not in acting
                    and treatment.relief_pct is not None
                    and treatment.relief_pct < rules.misdiagnosed_relief_below_pct):
                return "misdiagnosed", (
                    f"earlier {treatment.type.replace('_', ' ')} aimed at the {target} gave "
                    f"{treatment.relief_pct:g}% relief, and the {target} is not now judged "
                    "the source")
    hip_changes = ck.hip_changes(case) is True
    spine_changes = ck.spine_changes(case) is True
    if verdict == "both":
        if ck.secondary_when(case) is True:
            return "secondary", "hip flexion contracture with hip and spine both in play"
        return "complex", "hip and spine both contribute; no single primary source"
    if verdict == "hip" and ck.secondary_when(case) is True and spine_changes:
        return "secondary", ("hip flexion contracture with lumbar changes: the hip may drive "
                             "the back")
    if verdict == "hip" and spine_changes:
        return "simple", "lumbar changes present but the hip is the clear source"
    if verdict == "spine" and hip_changes:
        return "simple", "hip changes present but the spine is the clear source"
    return None, None
