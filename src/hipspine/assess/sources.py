"""Per-source probability: pre-test odds times the likelihood ratio of every known finding.

Sources are not mutually exclusive, so each source gets its own independent odds update.
Within a group of correlated findings only the strongest contribution (largest |log LR|)
counts per source; the others are shown with `counted=False`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from hipspine.assess.compiled import (
    CompiledFinding,
    CompiledKnowledge,
    CompiledPrior,
    to_odds,
    to_probability,
)


@dataclass(slots=True)
class Contribution:
    """One finding's effect on one source (becomes `models.assessment.Contribution`)."""

    finding: str
    value: Any
    likelihood_ratio: float
    citation: str
    verified: bool
    group: str | None
    from_text: bool
    counted: bool
    note: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"finding": self.finding, "value": self.value,
                "likelihood_ratio": self.likelihood_ratio, "citation": self.citation,
                "verified": self.verified, "group": self.group, "from_text": self.from_text,
                "counted": self.counted, "note": self.note}


@dataclass
class SourceWork:
    """Working state of one source while assessing (turned into `SourceEstimate`)."""

    id: str
    prior: CompiledPrior
    contributions: list[Contribution] = field(default_factory=list)
    probability: float = 0.0
    evidence_lr: float = 1.0
    """How many-fold the counted findings moved the pre-test odds (product of LRs)."""


def pick_prior(ck: CompiledKnowledge, source: str, case: Any) -> CompiledPrior:
    """The first prior row for `source` whose setting, age band and conditions match."""
    for prior in ck.priors[source]:
        if prior.settings is not None and case.setting not in prior.settings:
            continue
        if prior.age_min is not None and (case.age is None or case.age < prior.age_min):
            continue
        if prior.age_max is not None and (case.age is None or case.age > prior.age_max):
            continue
        if prior.when is not None and prior.when(case) is not True:
            continue
        return prior
    raise LookupError(source)  # unreachable: the loader requires a fallback row


def _priors(ck: CompiledKnowledge, case: Any) -> dict[str, CompiledPrior]:
    """The prior of every source, memoised on what priors depend on (setting, age, `when`)."""
    key = (case.setting, case.age, *(p.when(case) for rows in ck.priors.values()
                                     for p in rows if p.when is not None))
    hit = ck.prior_cache.get(key)
    if hit is None:
        hit = {s: pick_prior(ck, s, case) for s in ck.source_ids}
        if len(ck.prior_cache) < 4096:
            ck.prior_cache[key] = hit
    return hit


def finding_state(f: CompiledFinding, case: Any) -> bool | None:
    """True = present, False = absent (negative), None = unknown or equivocal."""
    if f.applies is not None and f.applies(case) is not True:
        return None
    present = f.present(case)
    if present is True:
        return True
    if f.absent is None:
        return False if present is False else None
    return False if f.absent(case) is True else None


def _from_text(fields: tuple[str, ...], from_text: frozenset[str]) -> bool:
    """A finding came from text when the reader filled its field or a parent of it."""
    return any(path == t or path.startswith(t + ".") for path in fields for t in from_text)


def _shown(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return ", ".join(sorted(str(v) for v in value))  # list order must change nothing
    return value


def estimate_sources(ck: CompiledKnowledge, case: Any,
                     from_text: frozenset[str] = frozenset(),
                     states: list[tuple[bool | None, bool, Any]] | None = None,
                     ) -> dict[str, SourceWork]:
    """Every source's prior, contributions and posterior probability for `case`."""
    priors = _priors(ck, case)
    work = {s: SourceWork(s, priors[s]) for s in ck.source_ids}
    if states is None:
        states = ck.states(case)
    for f, (state, _, raw) in zip(ck.findings, states, strict=True):
        if state is None:
            continue
        value = _shown(raw)
        texty = bool(from_text) and _from_text(f.fields, from_text)
        for lk in f.likelihoods:
            lr = lk.lr_positive if state else lk.lr_negative
            if lr is None:
                continue
            name = f.label if state else f"No: {f.label}"
            work[lk.source].contributions.append(Contribution(
                name, value, round(lr, 4), lk.citation_label, lk.verified, f.group, texty,
                True, lk.derived_note))
    for sw in work.values():
        if sw.contributions:
            _apply_groups(sw, ck)
        product = 1.0
        for c in sw.contributions:
            if c.counted:
                product *= c.likelihood_ratio
        sw.evidence_lr = product
        sw.probability = min(1.0, max(0.0, to_probability(to_odds(sw.prior.probability)
                                                          * product)))
    return work


def _apply_groups(sw: SourceWork, ck: CompiledKnowledge) -> None:
    best: dict[str, Contribution] = {}
    for c in sw.contributions:
        if c.group is None:
            continue
        held = best.get(c.group)
        if held is None or _strength(c) > _strength(held):
            best[c.group] = c
    for c in sw.contributions:
        if c.group is not None and best[c.group] is not c:
            label = ck.group_labels.get(c.group, c.group)
            c.counted = False
            c.note = f"counted in group '{c.group}' ({label}): only the strongest applies"


def _strength(c: Contribution) -> tuple[float, str]:
    return abs(math.log(c.likelihood_ratio)), c.finding


def to_estimate(sw: SourceWork, ck: CompiledKnowledge) -> dict[str, Any]:
    """The `SourceEstimate` payload (validated once, with the whole assessment)."""
    return {"id": sw.id, "label": ck.labels[sw.id], "pretest": round(sw.prior.probability, 4),
            "probability": round(sw.probability, 4),
            "contributions": [c.as_dict() for c in sw.contributions],
            "pretest_citation": sw.prior.label, "pretest_note": sw.prior.note}
