"""The named diagnosis within the verdict's source, the evidence that decided it, and how sure
the verdict is.

A clinician checks a tool's reasoning in this order (assessment-reasoning section 5): the
named diagnosis, the one or two findings that decided it, what argued against the rivals, and
what would change the answer. The names come from the knowledge base: a finding's
`diagnosis`, else its source's default `diagnosis` (sources.yaml).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hipspine.assess.compiled import CompiledKnowledge, ContributionRow
from hipspine.assess.sources import SourceWork
from hipspine.models.assessment import Verdict

_HIP_SPINE = {"hip": ["hip"], "spine": ["spine"], "both": ["hip", "spine"]}


def verdict_sources(verdict: Verdict, basis: set[str], work: Mapping[str, SourceWork],
                    mimics: frozenset[str]) -> list[str]:
    """The sources the verdict names: hip and/or spine, or the most probable acted-on mimic."""
    if verdict in _HIP_SPINE:
        return _HIP_SPINE[verdict]
    if verdict == "other":
        candidates = [s for s in basis if s in mimics]
        return [max(sorted(candidates), key=lambda s: work[s].probability)]
    return []


def _decisive(rows: list[ContributionRow], tiers: set[str], n: int) -> list[ContributionRow]:
    """The counted findings that moved a source up most, settling evidence first."""
    up = [r for r in rows if r.likelihood_ratio > 1]
    return sorted(up, key=lambda r: (r.tier not in tiers, -r.driver_weight, r.label))[:n]


def named_diagnoses(ck: CompiledKnowledge, work: Mapping[str, SourceWork], verdict: Verdict,
                    basis: set[str], settled: set[str]) -> list[dict[str, Any]]:
    """One entry per source the verdict names: the diagnosis, its basis, what argued against
    the rivals. An indeterminate verdict names none."""
    tiers: set[str] = set(ck.kb.rules.verdict.settling_tiers)
    named = verdict_sources(verdict, basis, work, ck.mimics)
    out = []
    for source in named:
        decisive = _decisive(work[source].counted, tiers, 3)
        specific = next((r.diagnosis for r in decisive if r.diagnosis), None)
        against = []
        for rival in ck.source_ids:
            if rival in named:
                continue
            down = [r for r in work[rival].counted if r.likelihood_ratio < 1]
            if down:
                strongest = max(down, key=lambda r: (r.driver_weight, r.label))
                against.append(f"{ck.short_labels[rival]}: {strongest.label} "
                               f"(LR {strongest.likelihood_ratio:.2g})")
        out.append({
            "source": source,
            "name": specific or ck.source_diagnoses[source],
            "settled": source in settled,
            "basis": [f"{r.label} (LR {r.likelihood_ratio:.3g}, {r.citation_label})"
                      for r in decisive],
            "against_rivals": against[:3],
        })
    return out


def diagnosis_text(diagnoses: list[dict[str, Any]], verdict: Verdict) -> str | None:
    """E.g. "hip: osteonecrosis of the femoral head"; "other: vascular claudication"."""
    if not diagnoses:
        return None
    if verdict == "other":
        return f"other: {diagnoses[0]['name']}"
    return "; ".join(f"{d['source']}: {d['name']}" for d in diagnoses)


def certainty(ck: CompiledKnowledge, verdict: Verdict, work: Mapping[str, SourceWork],
              basis: set[str], settled: set[str]) -> dict[str, str]:
    """How sure the verdict is, in one of four words, and why."""
    rule = ck.kb.rules.verdict
    if verdict != "indeterminate":
        if basis and basis <= settled:
            return {"level": "settled", "why": (
                "a reference test, a diagnostic block or a specific lesion supports each source "
                "the verdict names, and the findings together moved its odds at least "
                f"{rule.min_evidence_lr:g}-fold")}
        return {"level": "probable", "why": (
            "history, examination and degenerative imaging put the source past the acting line; "
            "no reference test, block or specific lesion confirms it yet")}
    close = sorted((s for s, w in work.items() if w.probability >= rule.close_call_probability),
                   key=lambda s: -work[s].probability)
    if len(close) >= 2:
        names = " and ".join(ck.short_labels[s] for s in close[:2])
        return {"level": "close_call", "why": (
            f"{names} are each at least {rule.close_call_probability:.0%} probable and nothing "
            "recorded separates them")}
    return {"level": "thin_evidence", "why": (
        "no source has findings enough to act on; the next tests below are ranked by how "
        "likely each is to settle it")}
