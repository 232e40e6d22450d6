"""Precompile the assessment knowledge into plain closures and tuples, once per knowledge base
and evidence policy.

Validation of the knowledge happens at load; here we only turn it into fast structures
(condition closures, per-state contribution rows, next-test rows) so that assessing a
case does no knowledge lookups. `benchmarks/bench_assess.py` measures what it costs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from hipspine.assess.conditions import Check, compile_all, field_getter
from hipspine.assess.knowledge import (
    AssessmentKnowledge,
    EvidenceLevel,
    Finding,
    Likelihood,
    Prior,
    Waiver,
)
from hipspine.kb import load_references


@dataclass(frozen=True)
class CompiledLikelihood:
    source: str
    lr_positive: float | None
    lr_negative: float | None
    citation: str
    citation_label: str
    verified: bool
    derived_note: str | None
    sensitivity: float  # for the next-test model: recovered from the LR pair, or assumed
    specificity: float
    sensitivity_assumed: bool
    counted: bool  # the evidence policy counts this figure's verification level
    policy_note: str | None  # why it is shown but not counted, when it is not


@dataclass(frozen=True)
class ContributionRow:
    """What a finding in one state (present or absent) contributes to one source."""

    source: str
    label: str  # "<finding label>" when present, "No: <finding label>" when absent
    likelihood_ratio: float  # as shown (rounded to 4 decimals) and as multiplied
    strength: float  # |log LR|: within a correlated group only the strongest counts
    citation_label: str
    verified: bool
    derived_note: str | None
    driver_text: str  # how the explanation names it among a source's main reasons
    driver_weight: float  # fold change either way: larger drives the estimate more
    policy_note: str | None  # set when the evidence policy shows but does not count it
    tier: str = "clinical"  # the finding's kind of evidence (findings.yaml `tier`)
    diagnosis: str | None = None  # the named diagnosis it points to, when positive


@dataclass(frozen=True)
class CompiledFinding:
    id: str
    label: str
    fields: tuple[str, ...]
    present: Check
    absent: Check | None
    applies: Check | None
    group: str | None
    likelihoods: tuple[CompiledLikelihood, ...]
    next_test_label: str | None
    next_test_kind: str | None
    when_present: tuple[ContributionRow, ...] = ()
    when_absent: tuple[ContributionRow, ...] = ()


@dataclass(frozen=True)
class CompiledWaiver:
    """A waiver (findings.yaml `waivers`): when `applies` holds, the LRs below 1 that the
    listed findings give `source` are shown and not counted."""

    id: str
    label: str
    source: str
    applies: Check
    findings: frozenset[str]
    note: str


@dataclass(frozen=True)
class CompiledPrior:
    label: str
    source: str
    settings: frozenset[str] | None
    age_min: int | None
    age_max: int | None
    when: Check | None
    probability: float
    citation: str
    verified: bool
    note: str | None


@dataclass(frozen=True)
class CompiledRedFlag:
    id: str
    category: str
    triggers: tuple[tuple[str, Check], ...]
    action: str
    urgency: str
    citation: str
    citation_label: str


@dataclass(frozen=True)
class CompiledKnowledge:
    kb: AssessmentKnowledge
    evidence: EvidenceLevel
    """The evidence policy this compilation counts (see `rules.yaml` `evidence_policy`)."""
    source_ids: tuple[str, ...]
    labels: dict[str, str]
    source_diagnoses: dict[str, str]
    """The diagnosis named for a source when no finding names a more specific one."""
    mimics: frozenset[str]
    priors: dict[str, tuple[CompiledPrior, ...]]
    findings: tuple[CompiledFinding, ...]
    waivers: tuple[CompiledWaiver, ...]
    states: StatesFn
    red_flags: tuple[CompiledRedFlag, ...]
    red_flag_checks: ChecksFn
    """Every red-flag trigger's result, in `red_flag_triggers` order."""
    red_flag_triggers: tuple[tuple[int, str, str, frozenset[str]], ...]
    """(index into `red_flags`, trigger finding, citation label: the trigger's own, else its
    rule's, the case fields it reads) per check."""
    hip_changes: Check
    spine_changes: Check
    secondary_when: Check
    group_labels: dict[str, str]
    short_labels: dict[str, str]
    """Source label without its parenthesis, lower case ("hip" for "Hip (osteoarthritis)")."""
    test_rows: tuple[TestRow, ...]
    """Findings offered as next tests, with the likelihood ratios that make them informative."""


POLICY_NOTE_PREFIX = "not counted:"
"""How the note of a contribution that the evidence policy leaves out begins."""


def left_out_by_policy(contribution: Any) -> bool:
    """Whether an output contribution is shown only because the evidence policy leaves it out
    (its note says so; grouped contributions that lost to a stronger one are not)."""
    return not contribution.counted and (contribution.note or "").startswith(POLICY_NOTE_PREFIX)

_CACHE: dict[tuple[int, str], CompiledKnowledge] = {}


def compiled(kb: AssessmentKnowledge, evidence: EvidenceLevel | None = None) -> CompiledKnowledge:
    """The compiled form of `kb` under an evidence policy (default: the knowledge base's),
    cached per knowledge-base object and policy."""
    level = evidence or kb.rules.evidence_policy.default
    hit = _CACHE.get((id(kb), level))
    if hit is not None and hit.kb is kb:
        return hit
    result = _compile(kb, level)
    _CACHE[(id(kb), level)] = result
    return result


def _label(citation: str) -> str:
    ref = load_references().get(citation)
    return ref.short() if ref else citation


def _likelihood(lk: Likelihood, assumed_sensitivity: float, level: EvidenceLevel,
                counted_levels: list[str]) -> CompiledLikelihood:
    lr_pos, lr_neg = lk.effective()
    counted = lk.verified in counted_levels
    verified = lk.verified in ("primary", "secondary")
    policy_note = None if counted else (
        f"{POLICY_NOTE_PREFIX} the figure is {lk.verified}, and the evidence policy "
        f"'{level}' counts only {' and '.join(counted_levels)} figures")
    note = None
    if lk.verified == "design_choice":
        note = "design choice, not a published figure: " + (lk.note or "")
    elif lk.derived:
        note = (f"no published LR; derived from sensitivity {lk.sensitivity:g} and "
                f"specificity {lk.specificity:g}: LR+ = sens/(1-spec), LR- = (1-sens)/spec")
    sens, spec, assumed = _test_model(lr_pos, lr_neg, assumed_sensitivity)
    return CompiledLikelihood(lk.source, lr_pos, lr_neg, lk.citation, _label(lk.citation),
                              verified, note, sens, spec, assumed, counted, policy_note)


def _test_model(lr_pos: float | None, lr_neg: float | None,
                assumed_sensitivity: float) -> tuple[float, float, bool]:
    """(sensitivity, specificity, assumed) consistent with the LR pair, for P(positive).

    With LR+ only, the sensitivity is the knowledge base's `next_tests.assumed_sensitivity`.
    """
    if lr_pos is None or lr_pos <= 1:
        return 0.0, 1.0, True
    if lr_neg is not None and lr_neg < 1:
        spec = (lr_pos - 1) / (lr_pos - lr_neg)
        return lr_pos * (1 - spec), spec, False
    return assumed_sensitivity, 1 - assumed_sensitivity / lr_pos, True


def _rows(likelihoods: tuple[CompiledLikelihood, ...], f: Finding,
          present: bool) -> tuple[ContributionRow, ...]:
    label = f.label
    rows = []
    for lk in likelihoods:
        lr = lk.lr_positive if present else lk.lr_negative
        if lr is None:
            continue
        shown = round(lr, 4)
        name = label if present else f"No: {label}"
        driver = (f"{name.lower()} (LR {shown:.2g}" + ("" if lk.verified else ", unverified")
                  + ")")
        rows.append(ContributionRow(lk.source, name, shown, abs(math.log(shown)),
                                    lk.citation_label, lk.verified, lk.derived_note, driver,
                                    shown if shown >= 1 else 1 / shown, lk.policy_note,
                                    f.tier, f.diagnosis if shown > 1 else None))
    return tuple(rows)


def _finding(f: Finding, assumed_sensitivity: float, level: EvidenceLevel,
             counted_levels: list[str]) -> CompiledFinding:
    fields = tuple(dict.fromkeys(c.field for c in f.present_when + (f.absent_when or [])))
    likelihoods = tuple(_likelihood(lk, assumed_sensitivity, level, counted_levels)
                        for lk in f.likelihoods)
    return CompiledFinding(
        id=f.id, label=f.label, fields=fields,
        present=compile_all(f.present_when),
        absent=compile_all(f.absent_when) if f.absent_when is not None else None,
        applies=compile_all(f.applies_when) if f.applies_when else None,
        group=f.group,
        likelihoods=likelihoods,
        next_test_label=f.next_test.label if f.next_test else None,
        next_test_kind=f.next_test.kind if f.next_test else None,
        when_present=_rows(likelihoods, f, True),
        when_absent=() if f.positive_only else _rows(likelihoods, f, False),
    )


def _waiver(w: Waiver) -> CompiledWaiver:
    alternatives = tuple(compile_all(conds) for conds in w.any_of)

    def applies(case: Any) -> bool | None:
        return True if any(check(case) is True for check in alternatives) else None

    choice = "design choice: " if w.verified == "design_choice" else ""
    return CompiledWaiver(w.id, w.label, w.source, applies, frozenset(w.findings),
                          f"set aside, {choice}{w.label} ({_label(w.citation)})")


def _prior(p: Prior) -> CompiledPrior:
    return CompiledPrior(_label(p.citation), p.source,
                         frozenset(p.settings) if p.settings else None, p.age_min,
                         p.age_max, compile_all(p.when) if p.when else None, p.probability,
                         p.citation, p.verified in ("primary", "secondary"), p.note)


def _compile(kb: AssessmentKnowledge, level: EvidenceLevel) -> CompiledKnowledge:
    srcs = kb.sources.sources
    short_labels: dict[str, str] = {s.id: s.label.split(" (")[0].lower() for s in srcs}
    priors: dict[str, list[CompiledPrior]] = {s.id: [] for s in srcs}
    for p in kb.sources.priors:
        priors[p.source].append(_prior(p))
    om = kb.rules.offierski_macnab
    assumed = kb.rules.next_tests.assumed_sensitivity
    counted_levels = [str(v) for v in kb.rules.evidence_policy.levels[level]]
    findings = tuple(_finding(f, assumed, level, counted_levels)
                     for f in kb.findings.findings)
    triggers = [(i, t) for i, r in enumerate(kb.rules.red_flags) for t in r.triggers]
    return CompiledKnowledge(
        kb=kb,
        evidence=level,
        source_ids=tuple(s.id for s in srcs),
        labels={s.id: s.label for s in srcs},
        source_diagnoses={s.id: s.diagnosis for s in srcs},
        mimics=frozenset(s.id for s in srcs if s.mimic),
        priors={k: tuple(v) for k, v in priors.items()},
        findings=findings,
        waivers=tuple(_waiver(w) for w in kb.findings.waivers),
        states=_states_function(findings),
        red_flags=tuple(
            CompiledRedFlag(r.id, r.category,
                            tuple((t.finding, compile_all(t.all_of)) for t in r.triggers),
                            r.action, r.urgency, r.citation, _label(r.citation))
            for r in kb.rules.red_flags),
        red_flag_checks=_checks_function([compile_all(t.all_of) for _, t in triggers]),
        red_flag_triggers=tuple(
            (i, t.finding, _label(t.citation or kb.rules.red_flags[i].citation),
             frozenset(c.field for c in t.all_of))
            for i, t in triggers),
        hip_changes=compile_all(om.hip_changes),
        spine_changes=compile_all(om.spine_changes),
        secondary_when=compile_all(om.secondary_when),
        group_labels=dict(kb.findings.groups),
        short_labels=short_labels,
        test_rows=_test_rows(findings, short_labels, assumed),
    )


class TestLikelihood(NamedTuple):
    """One source a candidate test informs, as the next-test model needs it."""

    source: str
    lr_positive: float
    lr_negative: float | None
    sensitivity: float
    false_positive_rate: float
    source_name: str  # short lower-case source label, as the reason text names it
    lr_text: str  # the likelihood ratios (and any assumption) as the reason text shows them


TestRow = tuple[int, "CompiledFinding", tuple[TestLikelihood, ...]]
"""A finding offered as a next test: (index in `findings`, finding, its informative LRs)."""


def _test_rows(findings: tuple[CompiledFinding, ...], short_labels: dict[str, str],
               assumed_sensitivity: float) -> tuple[TestRow, ...]:
    rows = []
    for i, f in enumerate(findings):
        if f.next_test_label is None:
            continue
        lks = tuple(TestLikelihood(lk.source, lk.lr_positive, lk.lr_negative, lk.sensitivity,
                                   1 - lk.specificity, short_labels[lk.source],
                                   _lr_text(lk.lr_positive, lk.lr_negative,
                                            assumed_sensitivity))
                    for lk in f.likelihoods
                    if lk.counted and lk.lr_positive is not None and lk.lr_positive > 1)
        if lks:
            rows.append((i, f, lks))
    return tuple(rows)


def _lr_text(lr_pos: float, lr_neg: float | None, assumed_sensitivity: float) -> str:
    if lr_neg is not None:
        return f" (LR+ {lr_pos:.3g}, LR- {lr_neg:.3g})"
    return (f" (LR+ {lr_pos:.3g}; no published LR-, sensitivity assumed "
            f"{assumed_sensitivity:.0%})")


StatesFn = Callable[[Any], list[tuple[bool | None, bool, Any]]]
"""case -> per finding: (state: True present / False absent / None unknown, all fields
unknown, value of the first field)."""
ChecksFn = Callable[[Any], tuple[bool | None, ...]]
"""case -> the three-valued result of each condition list, in the order given."""


def _state(f: CompiledFinding, case: Any) -> bool | None:
    """True = present, False = absent (negative), None = unknown, equivocal or not applicable."""
    if f.applies is not None and f.applies(case) is not True:
        return None
    present = f.present(case)
    if present is True:
        return True
    if f.absent is None:
        return False if present is False else None
    return False if f.absent(case) is True else None


def _states_function(findings: tuple[CompiledFinding, ...]) -> StatesFn:
    getters = [(f, tuple(field_getter(path) for path in f.fields)) for f in findings]

    def states(case: Any) -> list[tuple[bool | None, bool, Any]]:
        out = []
        for f, gets in getters:
            values = [get(case) for get in gets]
            out.append((_state(f, case), all(v is None for v in values), values[0]))
        return out

    return states


def _checks_function(checks: list[Check]) -> ChecksFn:
    def run(case: Any) -> tuple[bool | None, ...]:
        return tuple(check(case) for check in checks)

    return run


def to_odds(p: float) -> float:
    return p / (1.0 - p)


def to_probability(odds: float) -> float:
    if math.isinf(odds):
        return 1.0
    return odds / (1.0 + odds)
