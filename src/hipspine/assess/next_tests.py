"""Rank the not-yet-done tests by how likely they are to change the verdict and how much
information they are expected to add.

For each unknown finding that the knowledge base offers as a test, the chance of a positive
result comes from the current estimate: P(+) = p*sens + (1-p)*(1-spec), with sens/spec
recovered from the published LR pair. Where only LR+ is published, sensitivity is the
knowledge base's stated assumption (`next_tests.assumed_sensitivity`) and a negative result
changes nothing (as in the engine); the output says so.
Score: probability that the verdict changes, then the expected reduction in the entropy
(bits) of the source probabilities that decide the verdict.
"""

from __future__ import annotations

from math import log2
from typing import Any

from hipspine.assess.compiled import CompiledFinding, CompiledKnowledge, CompiledLikelihood
from hipspine.assess.sources import SourceWork
from hipspine.assess.verdict import verdict_of
from hipspine.models.assessment import Verdict


def _entropy(p: float, log2: Any = log2) -> float:
    if p <= 0.0 or p >= 1.0:
        return 0.0
    q = 1.0 - p
    return -(p * log2(p) + q * log2(q))


def _update(p: float, lr: float) -> float:
    p = min(max(p, 1e-12), 1 - 1e-12)
    odds = p / (1 - p) * lr
    return odds / (1 + odds)


def rank_next_tests(ck: CompiledKnowledge, case: Any, work: dict[str, SourceWork],
                    verdict: Verdict, acting: set[str], states: list[tuple[bool | None, bool, Any]],
                    limit: int = 5) -> list[dict[str, Any]]:
    """Candidate tests: most likely to change the verdict first, then most information."""
    rule = ck.kb.rules.verdict
    threshold, min_lr = rule.act_probability, rule.min_evidence_lr

    def verdict_if(source: str, p: float, evidence: float) -> Verdict:
        now = p >= threshold and evidence >= min_lr
        if now == (source in acting):
            return verdict
        return verdict_of(ck, acting | {source} if now else acting - {source})

    scored: list[tuple[float, float, str, CompiledFinding]] = []
    now = {s: (w.probability, _entropy(w.probability), w.evidence_lr) for s, w in work.items()}
    for index, f, rows in ck.test_rows:
        if not states[index][1] or (f.applies is not None and f.applies(case) is False):
            continue  # already done (some field known), or not applicable
        bits = change = 0.0
        for source, lr_pos, lr_neg, sens, fpr in rows:
            p, h, ev = now[source]
            p_pos = p * sens + (1 - p) * fpr
            odds = p / (1 - p) if p < 1 else 1e12
            post_pos = odds * lr_pos / (1 + odds * lr_pos)
            if lr_neg is None:
                post_neg, h_neg = p, h
            else:
                post_neg = odds * lr_neg / (1 + odds * lr_neg)
                h_neg = _entropy(post_neg)
            gain = h - p_pos * _entropy(post_pos) - (1 - p_pos) * h_neg
            if gain > 0.0:
                bits += gain
            if verdict_if(source, post_pos, ev * lr_pos) != verdict:
                change += p_pos
            if verdict_if(source, post_neg, ev * (lr_neg or 1.0)) != verdict:
                change += 1 - p_pos
        if bits > 0.0005:
            scored.append((round(min(change, 1.0), 3), bits, f.id, f))
    scored.sort(key=lambda t: (-t[0], -t[1], t[2]))
    return [_describe(ck, work, f, change, bits) for change, bits, _, f in scored[:limit]]


def _describe(ck: CompiledKnowledge, work: dict[str, SourceWork], f: CompiledFinding,
              change: float, bits: float) -> dict[str, Any]:
    reasons = [_reason(ck, work[lk.source].probability, lk) for lk in f.likelihoods
               if lk.lr_positive is not None and lk.lr_positive > 1]
    why = (f"Chance the verdict changes {change:.0%}; expected information {bits:.2f} bits. "
           + "; ".join(reasons) + ".")
    return {"test": f.next_test_label or f.label, "why": why,
            "expected_information_bits": round(bits, 4),
            "citation": f.likelihoods[0].citation_label, "kind": f.next_test_kind,
            "chance_verdict_changes": change}


def _reason(ck: CompiledKnowledge, p: float, lk: CompiledLikelihood) -> str:
    lr_pos, lr_neg = lk.lr_positive or 1.0, lk.lr_negative
    name = ck.labels[lk.source].split(" (")[0].lower()
    text = f"{name} {p:.0%} -> {_update(p, lr_pos):.0%} if positive"
    if lr_neg is not None:
        text += f", {_update(p, lr_neg):.0%} if negative (LR+ {lr_pos:.3g}, LR- {lr_neg:.3g})"
    else:
        assumed = ck.kb.rules.next_tests.assumed_sensitivity
        text += f" (LR+ {lr_pos:.3g}; no published LR-, sensitivity assumed {assumed:.0%})"
    return text
