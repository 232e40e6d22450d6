"""The plain-language paragraph a clinician can check against the numbers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hipspine.assess.sources import SourceWork
from hipspine.models.assessment import Verdict

_VERDICT_TEXT = {
    "hip": "the hip is the probable source",
    "spine": "the lumbar spine is the probable source",
    "both": "hip-spine syndrome: the hip and the lumbar spine are each probable enough to act on",
    "other": "a mimic rather than the hip or spine is the probable source",
    "indeterminate": "the findings so far do not settle the source",
}


def _drivers(est: SourceWork, n: int = 3) -> str:
    """The counted findings that moved the estimate most (stable order on ties)."""
    strongest = sorted(est.counted, key=lambda row: -row.driver_weight)[:n]
    return ", ".join(row.driver_text for row in strongest)


def explain(verdict: Verdict, sources: Sequence[SourceWork], labels: dict[str, str],
            red_flags: Sequence[dict[str, Any]], act_probability: float,
            next_tests: Sequence[dict[str, Any]], unverified: int,
            texts_not_read: list[str], om_reason: str | None,
            acting: set[str] | None = None, min_evidence_lr: float = 1.0,
            left_out: int = 0, evidence: str = "all",
            diagnoses: Sequence[dict[str, Any]] = ()) -> str:
    out: list[str] = []
    if red_flags:
        cats = "; ".join(f"{f['finding']} ({f['id'].replace('_', ' ')})" for f in red_flags)
        out.append(f"Red flags first: {cats} - act on these before anything below.")
    text = _VERDICT_TEXT[verdict]
    if diagnoses:
        named = "; ".join(f"{d['name']}" + (" (settled by " + d["basis"][0] + ")"
                                            if d["settled"] and d["basis"] else "")
                          for d in diagnoses)
        text += f" - {named}"
    out.append(f"Verdict: {text} (a source is acted on at "
               f"{act_probability:.0%} or more when findings, not the prior alone, put it there).")
    for est in sources:
        pretest, label = est.prior.probability, labels[est.id]
        moved = abs(est.probability - pretest) >= 0.005
        if not moved and est.id not in ("hip", "spine"):
            continue
        if not est.counted:
            out.append(f"{label}: {pretest:.0%} before findings; no known finding "
                       "bears on it.")
            continue
        line = (f"{label}: {pretest:.0%} before findings, {est.probability:.0%} "
                f"after; main reasons: {_drivers(est)}")
        if (acting is not None and est.id not in acting and est.probability >= act_probability):
            line += (f" - not acted on: the findings moved the odds only "
                     f"{est.evidence_lr:.2g}-fold (at least {min_evidence_lr:g}-fold needed)")
        out.append(line + ".")
    if om_reason:
        out.append(f"Offierski-MacNab reasoning: {om_reason}.")
    if unverified:
        out.append(f"{unverified} contribution(s) rest on figures not verified against their "
                   "source; they are marked and listed.")
    if left_out:
        out.append(f"{left_out} contribution(s) are shown but not counted under the evidence "
                   f"policy '{evidence}' (the policy 'all' counts them).")
    if texts_not_read:
        out.append(f"Not read: {', '.join(texts_not_read)} - findings written only there "
                   "were not used.")
    if next_tests:
        top = next_tests[0]
        bedside = next((t for t in next_tests if t.get("kind") in ("history", "exam")
                        and (t.get("chance_verdict_changes") or 0) > 0), None)
        if verdict == "indeterminate" and bedside is not None and bedside is not top:
            out.append(f"To settle it, start at the bedside: {bedside['test']}; the single "
                       f"most informative test is: {top['test']}.")
        else:
            lead = "To settle it, next" if verdict == "indeterminate" else "Most informative next"
            out.append(f"{lead}: {top['test']}.")
    return " ".join(out)
