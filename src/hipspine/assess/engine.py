"""`assess_case`: the pure assessment of one case (no I/O; knowledge comes in as a parameter).

Order: red flags first (they set `urgent`), then an independent odds update per source,
the verdict from the knowledge-base thresholds, the Offierski-MacNab category, the next
tests ranked by expected information, and a plain-language explanation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hipspine.assess.compiled import CompiledKnowledge, compiled, left_out_by_policy
from hipspine.assess.diagnosis import certainty, diagnosis_text, named_diagnoses
from hipspine.assess.explain import explain
from hipspine.assess.knowledge import AssessmentKnowledge, EvidenceLevel
from hipspine.assess.next_tests import rank_next_tests
from hipspine.assess.sources import estimate_sources, to_estimate
from hipspine.assess.verdict import acting_sources, decide, offierski_macnab
from hipspine.kb import knowledge_version
from hipspine.models.assessment import Assessment, InstrumentResult
from hipspine.models.case import Case
from hipspine.version import ENGINE_VERSION


def red_flags(ck: CompiledKnowledge, case: Case,
              from_text: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """Every red-flag rule with at least one trigger whose conditions all hold, citing what
    supports the triggers that fired, and saying whether one rests on text the reader read."""
    fired: dict[int, list[tuple[str, str, bool]]] = {}
    for (index, trigger, cited, fields), result in zip(ck.red_flag_triggers,
                                                       ck.red_flag_checks(case), strict=True):
        if result is True:
            fired.setdefault(index, []).append((trigger, cited, bool(fields & from_text)))
    found = []
    for index in sorted(fired):
        rule, hits = ck.red_flags[index], fired[index]
        found.append({"id": rule.id, "finding": "; ".join(t for t, _, _ in hits),
                      "action": rule.action,
                      "citation": "; ".join(dict.fromkeys(c for _, c, _ in hits)),
                      "urgency": rule.urgency, "from_text": any(x for _, _, x in hits)})
    return found


def red_flag_work_up(flags: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A fired red flag's own action comes before any test of the pain source."""
    return [{"test": flag["action"], "kind": "red_flag", "citation": flag["citation"],
             "why": f"Red flag ({flag['finding']}): this comes before any test that would "
                    "only tell hip from spine."}
            for flag in flags]


def assess_case(case: Case, kb: AssessmentKnowledge, *, from_text: Iterable[str] = (),
                instruments: Iterable[InstrumentResult] = (),
                texts_not_read: Iterable[str] = (),
                evidence: EvidenceLevel | None = None) -> Assessment:
    """Assess one validated case against `kb`.

    `from_text`: case field paths filled by a text reader (their contributions are marked);
    `instruments`: instrument results to display (never added as extra likelihood ratios);
    `texts_not_read`: which free texts nobody read (shown so the clinician knows);
    `evidence`: which verification levels count (default: the knowledge base's policy).
    """
    payload = assessment_payload(case, kb, from_text=from_text, instruments=instruments,
                                 texts_not_read=texts_not_read, evidence=evidence)
    return Assessment.model_validate(payload)  # one validation of the whole result


def assessment_payload(case: Case, kb: AssessmentKnowledge, *, from_text: Iterable[str] = (),
                       instruments: Iterable[InstrumentResult] = (),
                       texts_not_read: Iterable[str] = (),
                       evidence: EvidenceLevel | None = None) -> dict[str, Any]:
    """The assessment as plain data (what `assess_case` validates into `Assessment`)."""
    ck = compiled(kb, evidence)
    read = frozenset(from_text)
    flags = red_flags(ck, case, read)
    states = ck.states(case)
    work = estimate_sources(ck, case, read, states)
    prob = {s: w.probability for s, w in work.items()}
    evidence_lr = {s: w.evidence_lr for s, w in work.items()}
    acting = acting_sources(ck, prob, evidence_lr)
    verdict, basis, settled = decide(ck, work, acting)
    diagnoses = named_diagnoses(ck, work, verdict, basis, settled)
    om, om_reason = offierski_macnab(ck, case, verdict, basis)
    tests = red_flag_work_up(flags) + rank_next_tests(ck, case, work, verdict, basis, states)
    ordered = [work[s] for s in ck.source_ids]
    left_out = sum(left_out_by_policy(c) for w in ordered for c in w.contributions)
    unverified = [f"{w.id}: {c.finding} ({c.citation})"
                  + (" - not counted (evidence policy)" if left_out_by_policy(c) else "")
                  for w in ordered for c in w.contributions if not c.verified]
    n_unverified = len(unverified)
    unverified += [f"{w.id}: pre-test probability ({w.prior.label})"
                   for w in ordered if not w.prior.verified]
    not_read = list(texts_not_read)
    rules = ([f"red_flag:{f['id']}" for f in flags] + [f"act:{s}" for s in sorted(acting)]
             + [f"settled:{s}" for s in sorted(settled)])
    if om:
        rules.append(f"offierski_macnab:{om}")
    payload = {
        "engine_version": ENGINE_VERSION, "knowledge_version": knowledge_version(),
        "evidence_policy": ck.evidence, "case_id": case.id, "verdict": verdict,
        "urgent": bool(flags), "red_flags": flags,
        "diagnosis": diagnosis_text(diagnoses, verdict), "diagnoses": diagnoses,
        "certainty": certainty(ck, verdict, work, basis, settled),
        "sources": [to_estimate(w, ck) for w in ordered],
        "instruments": list(instruments), "offierski_macnab": om, "next_tests": tests,
        "explanation": explain(verdict, ordered, ck.labels, flags,
                               kb.rules.verdict.act_probability, tests, n_unverified,
                               not_read, om_reason, acting, kb.rules.verdict.min_evidence_lr,
                               left_out, ck.evidence, diagnoses),
        "rules_fired": rules, "texts_not_read": not_read,
        "findings_from_text": sorted({c.finding for w in ordered for c in w.contributions
                                     if c.from_text}
                                    | {f"Red flag: {f['finding']}" for f in flags
                                       if f["from_text"]}),
        "unverified": unverified,
    }
    return payload
