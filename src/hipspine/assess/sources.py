"""Per-source probability: pre-test odds times the likelihood ratio of every known finding.

Sources are not mutually exclusive, so each source gets its own independent odds update.
Within a group of correlated findings only the strongest contribution (largest |log LR|)
counts per source; figures the evidence policy leaves out (e.g. unverified ones by default)
are shown but never count. Both are shown with `counted=False` and a note saying why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hipspine.assess.compiled import (
    CompiledKnowledge,
    CompiledPrior,
    ContributionRow,
    to_odds,
    to_probability,
)
from hipspine.models.assessment import Contribution


@dataclass
class SourceWork:
    """Working state of one source while assessing (turned into `SourceEstimate`)."""

    id: str
    prior: CompiledPrior
    contributions: list[Contribution] = field(default_factory=list)
    """Output contributions, in finding then likelihood order."""
    counted: list[ContributionRow] = field(default_factory=list)
    """The knowledge rows of the contributions that count, in the same order."""
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


PARTIAL_WHEN_READ = frozenset({"symptoms.pain_locations"})
"""List fields that a text reader fills with what a note states: a location the note does not
name is unknown, not absent, so a finding that reads its absence does not apply."""


def _from_text(fields: tuple[str, ...], from_text: frozenset[str]) -> bool:
    """A finding came from text when the reader filled its field or a parent of it."""
    return any(path == t or path.startswith(t + ".") for path in fields for t in from_text)


def _shown(value: Any) -> Any:
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(sorted(str(v) for v in value))  # list order must change nothing
    return value


Picked = tuple[ContributionRow, Any, bool, str | None, str | None]
"""A finding's contribution to one source before grouping: (row, value, from text, group,
the note of the waiver that sets it aside, if any)."""


def _waived(ck: CompiledKnowledge, case: Any) -> dict[tuple[str, str], str]:
    """(finding id, source) -> the note of the waiver that applies to the case."""
    out: dict[tuple[str, str], str] = {}
    for w in ck.waivers:
        if w.applies(case) is True:
            for finding in w.findings:
                out.setdefault((finding, w.source), w.note)
    return out


def estimate_sources(ck: CompiledKnowledge, case: Any,
                     from_text: frozenset[str] = frozenset(),
                     states: list[tuple[bool | None, bool, Any]] | None = None,
                     ) -> dict[str, SourceWork]:
    """Every source's prior, contributions and posterior probability for `case`."""
    priors = {s: pick_prior(ck, s, case) for s in ck.source_ids}
    if states is None:
        states = ck.states(case)
    picked: dict[str, list[Picked]] = {s: [] for s in ck.source_ids}
    waived = _waived(ck, case) if ck.waivers else {}
    for f, (state, _, raw) in zip(ck.findings, states, strict=True):
        if state is None:
            continue
        rows = f.when_present if state else f.when_absent
        if not rows:
            continue
        texty = bool(from_text) and _from_text(f.fields, from_text)
        if not state and texty and PARTIAL_WHEN_READ.intersection(f.fields):
            continue
        value = _shown(raw)
        for row in rows:
            waiver = (waived.get((f.id, row.source)) if row.likelihood_ratio < 1 else None)
            picked[row.source].append((row, value, texty, f.group, waiver))
    work = {}
    for source in ck.source_ids:
        prior, items = priors[source], picked[source]
        if not items:  # nothing known bears on this source: the prior stands
            work[source] = SourceWork(source, prior, [], [], _posterior(prior, 1.0), 1.0)
            continue
        uncounted = _uncounted(items) if any(
            g is not None or row.policy_note or w for row, _, _, g, w in items) else ()
        contributions = [_contribution(ck, item, i not in uncounted)
                         for i, item in enumerate(items)]
        counted = [item[0] for i, item in enumerate(items) if i not in uncounted]
        product = 1.0
        for row in counted:
            product *= row.likelihood_ratio
        work[source] = SourceWork(source, prior, contributions, counted,
                                  _posterior(prior, product), product)
    return work


def _posterior(prior: CompiledPrior, lr_product: float) -> float:
    return min(1.0, max(0.0, to_probability(to_odds(prior.probability) * lr_product)))


def _uncounted(items: list[Picked]) -> set[int]:
    """Indexes of contributions that do not count: those the evidence policy leaves out or a
    waiver sets aside, and, among the rest, grouped ones that are not the strongest of their
    group."""
    best: dict[str, tuple[float, str, int]] = {}
    grouped = []
    left_out = set()
    for i, (row, _, _, group, waiver) in enumerate(items):
        if row.policy_note or waiver:
            left_out.add(i)
            continue
        if group is None:
            continue
        grouped.append((i, group))
        rank = (row.strength, row.label, i)
        held = best.get(group)
        if held is None or rank[:2] > held[:2]:
            best[group] = rank
    return left_out | {i for i, group in grouped if best[group][2] != i}


def _contribution(ck: CompiledKnowledge, item: Picked, counted: bool) -> Contribution:
    """The output contribution, its note saying why it does not count when it does not."""
    row, value, texty, group, waiver = item
    note = row.policy_note or waiver or row.derived_note
    if not counted and not (row.policy_note or waiver):
        label = ck.group_labels.get(group or "", group)
        note = f"counted in group '{group}' ({label}): only the strongest applies"
    return Contribution(finding=row.label, value=value, likelihood_ratio=row.likelihood_ratio,
                        citation=row.citation_label, verified=row.verified, group=group,
                        from_text=texty, counted=counted, note=note)


def to_estimate(sw: SourceWork, ck: CompiledKnowledge) -> dict[str, Any]:
    """The `SourceEstimate` payload (validated once, with the whole assessment)."""
    return {"id": sw.id, "label": ck.labels[sw.id], "pretest": round(sw.prior.probability, 4),
            "probability": round(sw.probability, 4),
            "contributions": sw.contributions,
            "pretest_citation": sw.prior.label, "pretest_note": sw.prior.note}
