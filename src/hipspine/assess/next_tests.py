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

from hipspine.assess.compiled import CompiledFinding, CompiledKnowledge, TestLikelihood
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
    now: dict[str, tuple[float, float, float, bool, bool]] = {}
    scored: list[tuple[float, float, str, CompiledFinding, tuple[TestLikelihood, ...]]] = []
    for index, f, rows in ck.test_rows:
        if not states[index][1] or (f.applies is not None and f.applies(case) is False):
            continue  # already done (some field known), or not applicable
        bits = change = 0.0
        for source, lr_pos, lr_neg, sens, fpr, _, _ in rows:
            if source not in now:
                now[source] = _now(ck, work[source], verdict, acting)
            p, h, ev, is_acting, moves_verdict = now[source]
            p_pos = p * sens + (1 - p) * fpr
            odds = p / (1 - p) if p < 1 else 1e12
            post_pos = odds * lr_pos / (1 + odds * lr_pos)
            if moves_verdict and (post_pos >= threshold and ev * lr_pos >= min_lr) != is_acting:
                change += p_pos
            if lr_neg is None:  # a negative result changes nothing
                gain = h - p_pos * _entropy(post_pos) - (1 - p_pos) * h
            else:
                post_neg = odds * lr_neg / (1 + odds * lr_neg)
                gain = h - p_pos * _entropy(post_pos) - (1 - p_pos) * _entropy(post_neg)
                if moves_verdict and (post_neg >= threshold
                                      and ev * lr_neg >= min_lr) != is_acting:
                    change += 1 - p_pos
            if gain > 0.0:
                bits += gain
        if bits > 0.0005:
            scored.append((round(min(change, 1.0), 3), bits, f.id, f, rows))
    scored.sort(key=lambda t: (-t[0], -t[1], t[2]))
    return [_describe(work, f, rows, change, bits) for change, bits, _, f, rows in scored[:limit]]


def _now(ck: CompiledKnowledge, w: SourceWork, verdict: Verdict,
         acting: set[str]) -> tuple[float, float, float, bool, bool]:
    """(probability, entropy, evidence LR, acting?, would crossing the acting line change
    the verdict?): a result changes the verdict only if it moves its source across the
    line (probability and evidence both) AND that move changes the verdict."""
    return (w.probability, _entropy(w.probability), w.evidence_lr, w.id in acting,
            verdict_of(ck, acting ^ {w.id}) != verdict)


def _describe(work: dict[str, SourceWork], f: CompiledFinding,
              rows: tuple[TestLikelihood, ...], change: float, bits: float) -> dict[str, Any]:
    reasons = "; ".join(_reason(work[row.source].probability, row) for row in rows)
    why = (f"Chance the verdict changes {change:.0%}; expected information {bits:.2f} bits. "
           f"{reasons}.")
    return {"test": f.next_test_label or f.label, "why": why,
            "expected_information_bits": round(bits, 4),
            "citation": f.likelihoods[0].citation_label, "kind": f.next_test_kind,
            "chance_verdict_changes": change}


def _reason(p: float, row: TestLikelihood) -> str:
    """E.g. "hip 40% -> 75% if positive, 20% if negative (LR+ 4.5, LR- 0.4)"."""
    text = f"{row.source_name} {p:.0%} -> {_update(p, row.lr_positive):.0%} if positive"
    if row.lr_negative is not None:
        text += f", {_update(p, row.lr_negative):.0%} if negative"
    return text + row.lr_text
