"""`assess_case`: the pure assessment of one case (no I/O; knowledge comes in as a parameter).

Order: red flags first (they set `urgent`), then an independent odds update per source,
the verdict from the knowledge-base thresholds, the Offierski-MacNab category, the next
tests ranked by expected information, and a plain-language explanation.
"""

from __future__ import annotations

from collections.abc import Iterable

from hipspine.assess.compiled import CompiledKnowledge, compiled
from hipspine.assess.explain import explain
from hipspine.assess.knowledge import AssessmentKnowledge
from hipspine.assess.next_tests import rank_next_tests
from hipspine.assess.sources import estimate_sources, to_estimate
from hipspine.assess.verdict import acting_sources, offierski_macnab, verdict_of
from hipspine.kb import knowledge_version
from hipspine.models.assessment import Assessment, InstrumentResult, RedFlag, Verdict
from hipspine.models.case import Case
from hipspine.version import ENGINE_VERSION


def red_flags(ck: CompiledKnowledge, case: Case) -> list[RedFlag]:
    """Every red-flag rule with at least one trigger whose conditions all hold."""
    found = []
    for rule in ck.red_flags:
        fired = [name for name, check in rule.triggers if check(case) is True]
        if fired:
            found.append(RedFlag(id=rule.id, finding="; ".join(fired), action=rule.action,
                                 citation=_label(ck, rule.citation),
                                 urgency=rule.urgency))
    return found


def _label(ck: CompiledKnowledge, citation: str) -> str:
    from hipspine.kb import load_references

    ref = load_references().get(citation)
    return ref.short() if ref else citation


def assess_case(case: Case, kb: AssessmentKnowledge, *, from_text: Iterable[str] = (),
                instruments: Iterable[InstrumentResult] = (),
                texts_not_read: Iterable[str] = ()) -> Assessment:
    """Assess one validated case against `kb`.

    `from_text`: case field paths filled by a text reader (their contributions are marked);
    `instruments`: instrument results to display (never added as extra likelihood ratios);
    `texts_not_read`: which free texts nobody read (shown so the clinician knows).
    """
    ck = compiled(kb)
    flags = red_flags(ck, case)
    work = estimate_sources(ck, case, frozenset(from_text))
    prob = {s: w.probability for s, w in work.items()}
    support = {s: w.evidence_lr for s, w in work.items()}
    acting = acting_sources(ck, prob, support)
    verdict = verdict_of(ck, acting)

    def decide(p: dict[str, float], s: dict[str, float]) -> Verdict:
        return verdict_of(ck, acting_sources(ck, p, s))

    om, om_reason = offierski_macnab(ck, case, verdict, acting)
    tests = rank_next_tests(ck, case, work, verdict, decide)
    estimates = [to_estimate(work[s], ck, _label(ck, work[s].prior.citation))
                 for s in ck.source_ids]
    unverified = [f"{est.id}: {c.finding} ({c.citation})" for est in estimates
                  for c in est.contributions if not c.verified]
    unverified += [f"{est.id}: pre-test probability ({est.pretest_citation})"
                   for est in estimates if not work[est.id].prior.verified]
    not_read = list(texts_not_read)
    text_findings = sorted({c.finding for est in estimates for c in est.contributions
                            if c.from_text})
    rules = [f"red_flag:{f.id}" for f in flags] + [f"act:{s}" for s in sorted(acting)]
    if om:
        rules.append(f"offierski_macnab:{om}")
    n_unverified_contribs = sum(1 for est in estimates for c in est.contributions
                                if not c.verified)
    return Assessment(
        engine_version=ENGINE_VERSION, knowledge_version=knowledge_version(),
        case_id=case.id, verdict=verdict, urgent=bool(flags), red_flags=flags,
        sources=estimates, instruments=list(instruments), offierski_macnab=om,
        next_tests=tests,
        explanation=explain(verdict, estimates, flags, kb.rules.verdict.act_probability, tests,
                            n_unverified_contribs, not_read, om_reason),
        rules_fired=rules, texts_not_read=not_read, findings_from_text=text_findings,
        unverified=unverified)
