"""Stepped care from a case and its assessment: `make_plan` (pure; rules in knowledge/plan).

Order of the plan: urgent referral for red flags first, then the steps to take now
(conservative before injections before surgical referral), then the steps to take if those
bring no relief. A step already tried without relief is listed under `already_tried` and not
offered again as new.
"""

from __future__ import annotations

from hipspine.errors import KnowledgeBaseError
from hipspine.kb import knowledge_version, load_references
from hipspine.models.assessment import Assessment
from hipspine.models.case import Case, PriorTreatment
from hipspine.models.landmarks import SpinopelvicResult
from hipspine.models.plan import (
    AlreadyTried,
    LifestyleAdvice,
    MedicationAdvice,
    Organ,
    Plan,
    Step,
    Surgery,
    SurgeryStatus,
    UrgentReferral,
)
from hipspine.plan.conflicts import find_conflicts, is_surgical_urgent
from hipspine.plan.facts import Facts, build_facts, holds, relieved
from hipspine.plan.knowledge import DrugClass, PlanKnowledge, StepRule
from hipspine.version import ENGINE_VERSION

_SEVERITY = {"use": 0, "caution": 1, "avoid": 2}


def make_plan(case: Case, assessment: Assessment, kb: PlanKnowledge,
              spinopelvic: SpinopelvicResult | None = None) -> Plan:
    """The plan a careful hip-spine clinician would write for this case and assessment.

    `spinopelvic` (optional) lets the surgical sequencing see sagittal deformity. The plan is
    checked against the conflict pairs of the knowledge base; one that remains is a
    knowledge-base error (raised, never output).
    """
    facts = build_facts(case, assessment, kb.facts, spinopelvic)
    fired: list[str] = []
    urgent_steps, urgent = _urgent(assessment, kb, facts, fired)
    steps, tried = _steps(case, assessment, kb, facts, fired)
    deferred: list[Step] = []
    if urgent_steps:
        steps, deferred = _defer(steps, kb, fired)
        steps = [s.model_copy(update={"why": "After the urgent assessment, if it excludes an "
                                            "emergency: " + s.why}) for s in steps]
    ordered = [*urgent_steps, *steps]
    numbered = [s.model_copy(update={"order": i}) for i, s in enumerate(ordered, start=1)]
    deferred = [s.model_copy(update={"order": i}) for i, s in enumerate(deferred, start=1)]
    medications = _medications(kb, facts, fired)
    lifestyle = _lifestyle(kb, facts, fired)
    planned = [*steps, *deferred]
    cautions = _cautions(kb, facts, {s.id for s in planned}, fired)
    if deferred and kb.steps.urgent.defer is not None:
        cautions.insert(0, f"{kb.steps.urgent.defer.why} Deferred: "
                           + ", ".join(s.id for s in deferred) + ".")
    if spinopelvic is not None and any(s.tier == "surgical_referral" and s.target == "hip"
                                       for s in planned):
        cautions.extend(_arthroplasty_notes(spinopelvic))
    surgery = _surgery(kb, facts, urgent_steps, steps, deferred, fired)
    unverified = sorted({s.id for s in [*numbered, *deferred] if s.verified == "unverified"}
                        | {f"medication.{m.drug_class}" for m in medications
                           if m.verified == "unverified"}
                        | {lf.id for lf in lifestyle if lf.verified == "unverified"})
    if unverified:
        cautions.append("Not yet verified against its source in this knowledge base (check "
                        "before relying on it): " + ", ".join(unverified) + ".")
    plan = Plan(
        engine_version=ENGINE_VERSION, knowledge_version=knowledge_version(),
        case_id=case.id, verdict=assessment.verdict, diagnosis=assessment.diagnosis,
        urgent_referral=urgent,
        steps=numbered, lifestyle=lifestyle, medications=medications, surgery=surgery,
        cautions=cautions, already_tried=tried, deferred=deferred,
        conflicts_checked=[c.id for c in kb.conflicts.conflicts],
        rules_fired=fired, unverified=unverified,
    )
    violations = find_conflicts(plan, kb, facts)
    if violations:
        raise KnowledgeBaseError("the plan rules produced a conflicting plan: "
                                 + "; ".join(str(v) for v in violations))
    return plan


def _defer(steps: list[Step], kb: PlanKnowledge,
           fired: list[str]) -> tuple[list[Step], list[Step]]:
    """Split off the elective steps that wait behind an urgent referral."""
    rule = kb.steps.urgent.defer
    if rule is None:
        return steps, []
    keep = [s for s in steps if s.tier not in rule.tiers]
    held = [s.model_copy(update={"why": f"{rule.why} {s.why}"}) for s in steps
            if s.tier in rule.tiers]
    fired.extend(f"deferred.{s.id}" for s in held)
    return keep, held


def _urgent(assessment: Assessment, kb: PlanKnowledge, facts: Facts,
            fired: list[str]) -> tuple[list[Step], UrgentReferral]:
    rules = kb.steps.urgent
    steps: list[Step] = []
    for flag in assessment.red_flags:
        target = next((t for key, t in rules.red_flag_targets.items() if key in flag.id),
                      rules.red_flag_default_target)
        steps.append(Step(order=0, id=f"red_flag.{flag.id}", tier="urgent", target=target,
                          action=f"Urgent referral: {flag.action}",
                          why=f"Red flag: {flag.finding}.", citation=_citekey(flag.citation),
                          verified="secondary"))
        fired.append(f"red_flag.{flag.id}")
    if not steps:
        for net in rules.safety_net:
            if holds(net.when, facts):
                steps.append(Step(order=0, id=net.id, tier="urgent", target=net.target,
                                  action=net.action, why=net.why, citation=net.citation,
                                  verified=net.verified))
                fired.append(net.id)
    if not steps and assessment.urgent:
        steps.append(Step(order=0, id="urgent_assessment", tier="urgent", target="both",
                          action="Urgent referral: the assessment marked this case urgent.",
                          why=assessment.explanation or "urgent finding",
                          citation=rules.safety_net[0].citation, verified="secondary"))
        fired.append("urgent_assessment")
    referral = UrgentReferral(
        needed=bool(steps),
        why=" ".join(s.why for s in steps),
        citations=sorted({s.citation for s in steps}),
    )
    return steps, referral


def _citekey(citation: str) -> str:
    """The reference's citekey, whether given as the key or as its printed short form."""
    refs = load_references()
    if citation in refs:
        return citation
    return next((key for key, ref in refs.items() if ref.short() == citation), citation)


def _matching_prior(rule: StepRule, case: Case) -> list[PriorTreatment]:
    return [p for p in case.history.prior_treatments
            if p.type in rule.treatment_types
            and (not rule.treatment_targets or p.target in rule.treatment_targets)]


def _fill(text: str, assessment: Assessment, facts: Facts) -> str:
    next_test = assessment.next_tests[0].test if assessment.next_tests else (
        "history, examination and the test that best separates hip from spine")
    other = next((s.label for s in assessment.sources
                  if s.id == facts.get("leading_other_source")), "a non-hip, non-spine source")
    return (text.replace("{next_test}", next_test).replace("{other_source}", other)
            .replace("{hip_side}", _hip_side(facts)))


def _hip_side(facts: Facts) -> str:
    """'the left hip', 'both hips' or 'the hip', from imaging first, then symptoms."""
    side = facts.get("imaging.hip_oa.side") or facts.get("symptoms.laterality")
    if side == "bilateral":
        return "both hips"
    return f"the {side} hip" if side in ("left", "right") else "the hip"


def _steps(case: Case, assessment: Assessment, kb: PlanKnowledge, facts: Facts,
           fired: list[str]) -> tuple[list[Step], list[AlreadyTried]]:
    threshold = kb.facts.relief_threshold_pct
    now: list[Step] = []
    later: list[Step] = []
    tried: list[AlreadyTried] = []
    for rule in kb.steps.steps:
        if holds(rule.now_when, facts):
            status = "now"
        elif holds(rule.later_when, facts):
            status = "if_no_relief"
        else:
            continue
        priors = _matching_prior(rule, case)
        failed = [p for p in priors if not relieved(p.relief_pct, threshold)]
        helped = [p for p in priors if relieved(p.relief_pct, threshold)]
        if failed and not helped:
            for p in failed:
                if any(t.type == p.type and t.target == p.target for t in tried):
                    continue
                tried.append(AlreadyTried(
                    type=p.type, target=p.target, relief_pct=p.relief_pct,
                    months_ago=p.months_ago,
                    note=(f"{p.type.replace('_', ' ')} ({p.target}) already tried"
                          f"{_relief_text(p)}: not offered again as new "
                          f"(step '{rule.id}' skipped)")))
            fired.append(f"already_tried.{rule.id}")
            continue
        why = rule.why
        if helped:
            why += " " + "; ".join(f"Previously gave {p.relief_pct:g}% relief"
                                   + (f" {p.months_ago:g} months ago" if p.months_ago else "")
                                   for p in helped if p.relief_pct is not None) + "."
        if rule.tier == "conservative" and rule.target in ("hip", "spine"):
            why += _other_organ_failed(case, rule.target, threshold)
        escalated = [t for t in tried if t.target in ("hip", "spine")]
        if status == "now" and rule.tier != "conservative" and escalated:
            why += " Escalated because earlier steps were tried without relief."
        step = Step(order=0, id=rule.id, tier=rule.tier, target=rule.target, status=status,
                    action=_fill(rule.action, assessment, facts), why=why,
                    citation=rule.citation, verified=rule.verified)
        (now if status == "now" else later).append(step)
        fired.append(f"step.{rule.id}.{status}")
    listed = {(t.type, t.target) for t in tried}
    for p in case.history.prior_treatments:
        if (p.type, p.target) not in listed and not relieved(p.relief_pct, threshold):
            listed.add((p.type, p.target))
            tried.append(AlreadyTried(
                type=p.type, target=p.target, relief_pct=p.relief_pct,
                months_ago=p.months_ago,
                note=f"{p.type.replace('_', ' ')} ({p.target}) already tried{_relief_text(p)}"))
    rank = {t: i for i, t in enumerate(kb.tier_order)}
    now.sort(key=lambda s: rank[s.tier])
    later.sort(key=lambda s: rank[s.tier])
    return [*now, *later], tried


def _arthroplasty_notes(result: SpinopelvicResult) -> list[str]:
    """Carry the spinopelvic class and its advice to whoever plans the hip replacement."""
    notes = []
    if result.hip_spine_class is not None:
        notes.append(f"For the hip replacement: Hip-Spine class {result.hip_spine_class} "
                     f"({result.hip_spine_class_why}).")
    for rec in result.recommendations:
        mark = " (unverified)" if rec.verified == "unverified" else ""
        notes.append(f"{rec.text} [{rec.citation}]{mark}")
    notes.extend(f"{f.text} [{f.citation}]" for f in result.flags)
    return notes


def _other_organ_failed(case: Case, organ: str, threshold: float) -> str:
    """Say so when treatment aimed at the other organ did not help (Offierski-MacNab's
    'misdiagnosed' pattern): it supports this organ as the source."""
    other = "spine" if organ == "hip" else "hip"
    failed = sorted({p.type.replace("_", " ") for p in case.history.prior_treatments
                     if p.target == other and not relieved(p.relief_pct, threshold)})
    if not failed:
        return ""
    return (f" Treatment aimed at the {other} ({', '.join(failed)}) brought no relief, "
            f"which fits the {organ} as the main source.")


def _relief_text(p: PriorTreatment) -> str:
    parts = []
    parts.append(f" with {p.relief_pct:g}% relief" if p.relief_pct is not None
                 else " (relief not recorded)")
    if p.months_ago is not None:
        parts.append(f" {p.months_ago:g} months ago")
    return "".join(parts)


def _medications(kb: PlanKnowledge, facts: Facts, fired: list[str]) -> list[MedicationAdvice]:
    out: list[MedicationAdvice] = []
    for drug in kb.medications.drug_classes:
        if drug.show_when is not None and not holds(drug.show_when, facts):
            continue
        advice = _advise(drug, facts)
        facts[f"{drug.id}_avoid"] = advice.recommendation == "avoid"
        facts[f"{drug.id}_unsafe"] = advice.recommendation != "use"
        fired.extend(f"medication.{r}" for r in advice.rules)
        out.append(advice)
    return out


def _advise(drug: DrugClass, facts: Facts) -> MedicationAdvice:
    advice = _advise_known(drug, facts)
    if advice.recommendation == "avoid":
        return advice
    unknown = [f for f in drug.check_before_use if facts.get(f.fact) is None]
    if not unknown:
        return advice
    labels = [f.label for f in unknown]
    update: dict[str, object] = {
        "check_first": labels,
        "why": "Check before prescribing: " + ", ".join(labels) + " (not recorded). "
               + advice.why,
        "rules": [*advice.rules, f"{drug.id}.check_first"],
    }
    if advice.recommendation == "use":
        update.update(recommendation="caution", citation=unknown[0].citation,
                      verified="unverified" if any(f.verified == "unverified" for f in unknown)
                      else unknown[0].verified)
    return advice.model_copy(update=update)


def _advise_known(drug: DrugClass, facts: Facts) -> MedicationAdvice:
    matched = [r for r in drug.rules if holds(r.when, facts)]
    if not matched:
        d = drug.default
        return MedicationAdvice(drug_class=drug.label, recommendation=d.recommendation,
                                why=d.why, citation=d.citation, verified=d.verified,
                                rules=[f"{drug.id}.default"])
    worst = max(_SEVERITY[r.recommendation] for r in matched)
    top = [r for r in matched if _SEVERITY[r.recommendation] == worst]
    # Lesser cautions still matter; a "use" note beside an "avoid" would only confuse.
    also = [r for r in matched if 0 < _SEVERITY[r.recommendation] < worst]
    why = " ".join(r.why for r in top)
    if also:
        why += " Also: " + " ".join(r.why for r in also)
    verified = "unverified" if any(r.verified == "unverified" for r in top) else top[0].verified
    return MedicationAdvice(drug_class=drug.label, recommendation=top[0].recommendation,
                            why=why, citation=top[0].citation, verified=verified,
                            rules=[r.id for r in matched])


def _lifestyle(kb: PlanKnowledge, facts: Facts, fired: list[str]) -> list[LifestyleAdvice]:
    out = []
    for rule in kb.lifestyle.advice:
        if holds(rule.when, facts):
            out.append(LifestyleAdvice(id=rule.id, advice=rule.advice, why=rule.why,
                                       citation=rule.citation, verified=rule.verified))
            fired.append(f"lifestyle.{rule.id}")
    return out


def _cautions(kb: PlanKnowledge, facts: Facts, step_ids: set[str],
              fired: list[str]) -> list[str]:
    out = []
    for caution in [*kb.medications.injection_cautions, *kb.cautions.cautions]:
        if step_ids & set(caution.applies_to) and holds(caution.when, facts):
            mark = " (unverified)" if caution.verified == "unverified" else ""
            out.append(f"{caution.text} [{caution.citation}]{mark}")
            fired.append(f"caution.{caution.id}")
    return out


def _surgery(kb: PlanKnowledge, facts: Facts, urgent_steps: list[Step], steps: list[Step],
             deferred: list[Step], fired: list[str]) -> Surgery:
    """The surgery section, derived from the steps so that the two always agree."""
    elective = _elective_surgery(kb, facts, [*steps, *deferred], fired)
    surgical_urgent = [s for s in urgent_steps if is_surgical_urgent(s.id, kb)]
    if surgical_urgent:
        organs: list[Organ] = []
        for s in surgical_urgent:
            organs.extend(o for o in (("hip", "spine") if s.target == "both" else (s.target,))
                          if o not in organs)
        sequence = [*organs, *(o for o in elective.sequence if o not in organs)]
        why = "Emergency surgical assessment first: " + " ".join(s.why for s in surgical_urgent)
        if elective.sequence:
            why += " Elective surgery only after the emergency is excluded or treated: " \
                   + elective.why
        return elective.model_copy(update={
            "indicated": True, "status": "urgent", "sequence": sequence, "why": why,
            "citations": sorted({*(s.citation for s in surgical_urgent),
                                 *elective.citations})})
    if deferred and elective.sequence:
        defer = kb.steps.urgent.defer
        return elective.model_copy(update={
            "indicated": False, "status": "deferred",
            "why": f"{defer.why if defer else 'Deferred.'} Then: {elective.why}"})
    return elective


def _elective_surgery(kb: PlanKnowledge, facts: Facts, steps: list[Step],
                      fired: list[str]) -> Surgery:
    surgical = [s for s in steps if s.tier == "surgical_referral"]
    now_organs = {s.target for s in surgical if s.status == "now"}
    organs = {s.target for s in surgical}
    status: SurgeryStatus = "now" if now_organs else "if_no_relief"
    seq_rules = kb.sequencing
    if {"hip", "spine"} <= organs:
        exceptions = [e for e in seq_rules.exceptions if holds(e.when, facts)]
        if exceptions:
            sequence: list[Organ] = ["spine", "hip"]
            why = " ".join(e.why for e in exceptions)
            cites = [e.citation for e in exceptions]
            fired.extend(f"sequence.{e.id}" for e in exceptions)
        else:
            sequence = list(seq_rules.default.sequence)
            supports = [e for e in seq_rules.supports if holds(e.when, facts)]
            why = " ".join([seq_rules.default.why, *(e.why for e in supports)])
            cites = [seq_rules.default.citation, *(e.citation for e in supports)]
            fired.append("sequence.default_hip_first")
            fired.extend(f"sequence.{e.id}" for e in supports)
        when = "" if {"hip", "spine"} <= now_organs else (
            " Applies if both operations become indicated.")
        return Surgery(indicated=True, status=status, sequence=sequence,
                       why=f"{why}{when} {seq_rules.consensus.why}",
                       shared_decision=True, consensus=seq_rules.consensus.label,
                       citations=[*cites, *seq_rules.consensus.citations])
    if organs:
        organ: Organ = "hip" if "hip" in organs else "spine"
        step = next(s for s in surgical if s.target == organ)
        why = step.why if now_organs else (
            f"If the steps above bring no relief: {step.why}")
        return Surgery(indicated=True, status=status, sequence=[organ], why=why,
                       citations=[step.citation])
    return Surgery(indicated=False, status="not_indicated", sequence=[],
                   why="No surgical referral: the picture is not advanced, or conservative "
                       "care has not yet been tried.")
