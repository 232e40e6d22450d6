"""Rank the not-yet-done tests by the information they are expected to add.

For each unknown finding that the knowledge base offers as a test, model the chance of a
positive result from the current estimate (P(+) = p*sens + (1-p)*(1-spec), with sens/spec
recovered from the LR pair) and compute the expected reduction in the entropy of the
source probabilities that decide the verdict, plus the probability that the verdict changes.
Where only LR+ is published, sensitivity is assumed to be 50% and a negative result changes
nothing (as in the engine) - stated in the output.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from hipspine.assess.compiled import CompiledFinding, CompiledKnowledge, to_odds, to_probability
from hipspine.assess.sources import SourceWork
from hipspine.models.assessment import NextTest, Verdict

ASSUMED_SENSITIVITY = 0.5
Decide = Callable[[dict[str, float], dict[str, float]], Verdict]


def _entropy(p: float) -> float:
    if p <= 0.0 or p >= 1.0:
        return 0.0
    return -(p * math.log2(p) + (1 - p) * math.log2(1 - p))


def _update(p: float, lr: float) -> float:
    return to_probability(to_odds(min(max(p, 1e-9), 1 - 1e-9)) * lr)


def _undone(f: CompiledFinding, case: Any) -> bool:
    if f.next_test_label is None:
        return False
    if f.applies is not None and f.applies(case) is False:
        return False
    return all(_value(case, path) is None for path in f.fields)


def _value(case: Any, path: str) -> Any:
    node = case
    for part in path.split("."):
        if node is None:
            return None
        node = getattr(node, part)
    return node


def rank_next_tests(ck: CompiledKnowledge, case: Any, work: dict[str, SourceWork],
                    verdict: Verdict, decide: Decide,
                    limit: int = 5) -> list[NextTest]:
    """Candidate tests: most likely to change the verdict first, then most expected information."""
    prob = {s: w.probability for s, w in work.items()}
    support = {s: w.evidence_lr for s, w in work.items()}
    scored: list[tuple[float, float, str, NextTest]] = []
    for f in ck.findings:
        if not _undone(f, case):
            continue
        bits = 0.0
        change = 0.0
        reasons: list[str] = []
        for lk in f.likelihoods:
            lr_pos, lr_neg = lk.lr_positive, lk.lr_negative
            if lr_pos is None or lr_pos <= 1:
                continue
            p = prob[lk.source]
            if lr_neg is not None and lr_neg < 1:
                spec = (lr_pos - 1) / (lr_pos - lr_neg)
                sens = lr_pos * (1 - spec)
            else:
                sens, spec = ASSUMED_SENSITIVITY, 1 - ASSUMED_SENSITIVITY / lr_pos
            p_pos = p * sens + (1 - p) * (1 - spec)
            post_pos = _update(p, lr_pos)
            post_neg = _update(p, lr_neg) if lr_neg is not None else p
            gain = _entropy(p) - (p_pos * _entropy(post_pos) + (1 - p_pos) * _entropy(post_neg))
            bits += max(0.0, gain)
            if_pos = decide({**prob, lk.source: post_pos},
                            {**support, lk.source: support[lk.source] * lr_pos})
            if_neg = decide({**prob, lk.source: post_neg},
                            {**support, lk.source: support[lk.source] * (lr_neg or 1.0)})
            change += p_pos * (if_pos != verdict) + (1 - p_pos) * (if_neg != verdict)
            reasons.append(
                f"{ck.labels[lk.source].split(' (')[0].lower()} {p:.0%} -> {post_pos:.0%} if "
                f"positive" + (f", {post_neg:.0%} if negative" if lr_neg is not None else "")
                + f" (LR+ {lr_pos:.3g}" + (f", LR- {lr_neg:.3g}" if lr_neg is not None else
                                           "; sensitivity unknown, 50% assumed") + ")")
        if not reasons or bits <= 0.0005:
            continue
        why = (f"Expected information {bits:.2f} bits; chance the verdict changes "
               f"{min(change, 1.0):.0%}. " + "; ".join(reasons) + ".")
        scored.append((bits, change, f.id, NextTest(
            test=f.next_test_label or f.label, why=why,
            expected_information_bits=round(bits, 4), citation=f.likelihoods[0].citation_label)))
    scored.sort(key=lambda t: (-round(t[1], 3), -t[0], t[2]))
    return [t[3] for t in scored[:limit]]
