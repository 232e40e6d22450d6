"""FHIR R4 out: assessment -> RiskAssessment, plan -> CarePlan, PROMs -> QuestionnaireResponse
plus a score Observation. Every resource is checked against the R4(B) models before it leaves.

Engine and knowledge versions travel in `meta.tag` (system `urn:hipspine:version`) so a
receiving system can tell which rules produced a resource.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from hipspine.ehr.fhir_in import QUESTIONNAIRE_PREFIX
from hipspine.ehr.r4 import require_r4
from hipspine.errors import InputError
from hipspine.kb import KBModel, Verification, knowledge_version, load_section
from hipspine.models.assessment import Assessment
from hipspine.models.case import Case
from hipspine.version import ENGINE_VERSION

INSTRUMENT_SYSTEM = "urn:hipspine:instrument"
VERSION_SYSTEM = "urn:hipspine:version"
SOURCE_SYSTEM = "urn:hipspine:pain-source"
VERDICT_TEXT = {
    "hip": "Pain mainly from the hip",
    "spine": "Pain mainly from the lumbar spine",
    "both": "Hip-spine syndrome: hip and lumbar spine both contribute",
    "other": "Pain mainly from another source (mimic)",
    "indeterminate": "Source of pain indeterminate on current findings",
}


class PromCode(KBModel):
    instrument: str
    loinc: str
    display: str
    citation: str
    verified: Verification
    note: str | None = None


class PromCodesFile(KBModel):
    instruments: list[PromCode]


def load_prom_codes() -> dict[str, PromCode]:
    return {p.instrument: p for p in load_section("ehr/prom_codes.yaml", PromCodesFile).instruments}


def _subject(patient_id: str | None) -> dict[str, str] | None:
    return {"reference": f"Patient/{patient_id}"} if patient_id else None


def _meta(engine: str, kb: str) -> dict[str, Any]:
    return {"tag": [{"system": VERSION_SYSTEM, "code": f"engine-{engine}",
                     "display": f"hipspine engine {engine}"},
                    {"system": VERSION_SYSTEM, "code": f"knowledge-{kb}",
                     "display": f"hipspine knowledge base {kb}"}]}


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def risk_assessment(assessment: Assessment, patient_id: str | None = None) -> dict[str, Any]:
    """The assessment as a FHIR R4 RiskAssessment: one prediction per pain source."""
    predictions: list[dict[str, Any]] = []
    for source in assessment.sources:
        reasons = "; ".join(f"{c.finding} (LR {c.likelihood_ratio:g}, {c.citation})"
                            for c in source.contributions)
        prediction: dict[str, Any] = {
            "outcome": {"coding": [{"system": SOURCE_SYSTEM, "code": source.id,
                                    "display": source.label}],
                        "text": f"Pain from {source.label}"},
            "probabilityDecimal": round(source.probability, 4),
        }
        rationale = (f"Pre-test {source.pretest:.2f}; " + reasons) if reasons else (
            f"Pre-test {source.pretest:.2f}; no informative findings")
        prediction["rationale"] = rationale
        predictions.append(prediction)
    notes = [{"text": assessment.explanation}]
    notes += [{"text": f"Red flag: {f.finding} - {f.action} ({f.citation})"}
              for f in assessment.red_flags]
    resource: dict[str, Any] = {
        "resourceType": "RiskAssessment",
        "id": str(uuid.uuid4()),
        "meta": _meta(assessment.engine_version, assessment.knowledge_version),
        "status": "final",
        "method": {"coding": [{"system": VERSION_SYSTEM, "code": "hipspine-assessment",
                               "display": "hipspine source-of-pain assessment"}],
                   "text": f"hipspine {assessment.engine_version}, knowledge "
                           f"{assessment.knowledge_version}: verdict {assessment.verdict}"},
        "code": {"text": VERDICT_TEXT[assessment.verdict]
                 + (f" - {assessment.diagnosis}" if assessment.diagnosis else "")},
        "occurrenceDateTime": _now(),
        "prediction": predictions,
        "note": notes,
    }
    basis = [{"display": f"{d.source}: {d.name}: " + "; ".join(d.basis[:3])}
             for d in assessment.diagnoses if d.basis]
    if basis:  # the decisive evidence behind the named diagnosis
        resource["basis"] = basis
    if assessment.next_tests:
        resource["mitigation"] = "Next tests: " + "; ".join(
            f"{t.test} ({t.why})" for t in assessment.next_tests)
    subject = _subject(patient_id or assessment.case_id)
    if subject:
        resource["subject"] = subject
    else:
        resource["subject"] = {"display": "patient not identified"}
    return require_r4(resource)


def care_plan(plan: Any, patient_id: str | None = None) -> dict[str, Any]:
    """A `hipspine.plan/1` (model) as a FHIR R4 CarePlan (status draft, intent proposal)."""
    activities = []
    for step in plan.steps:
        activities.append({"detail": {
            "status": "not-started",
            "description": f"{step.order}. {step.action} [{step.target}] - {step.why} "
                           f"({step.citation})"}})
    for med in plan.medications:
        activities.append({"detail": {
            "status": "not-started",
            "description": f"{med.drug_class}: {med.recommendation} - {med.why}"}})
    notes = [{"text": f"Lifestyle: {item.advice} - {item.why}"} for item in plan.lifestyle]
    notes += [{"text": f"Caution: {c}"} for c in plan.cautions]
    if plan.urgent_referral.needed:
        notes.insert(0, {"text": f"URGENT referral: {plan.urgent_referral.why}"})
    if plan.surgery.indicated:
        notes.append({"text": "Surgery indicated, sequence "
                              f"{' then '.join(plan.surgery.sequence) or 'to decide'}: "
                              f"{plan.surgery.why}"})
    resource: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": str(uuid.uuid4()),
        "meta": _meta(plan.engine_version, plan.knowledge_version),
        "status": "draft",
        "intent": "proposal",
        "title": "hipspine stepped-care plan",
        "description": VERDICT_TEXT[plan.verdict],
        "created": _now(),
        "subject": _subject(patient_id or plan.case_id) or {"display": "patient not identified"},
        "activity": activities,
    }
    if notes:
        resource["note"] = notes
    return require_r4(resource)


def prom_resources(instrument: str, items: list[int | None], *, date: str | None = None,
                   patient_id: str | None = None,
                   score: Any | None = None) -> list[dict[str, Any]]:
    """One PROM administration as a QuestionnaireResponse and, when scored, an Observation."""
    from hipspine.proms import find_instrument
    from hipspine.proms import score as score_prom

    spec = find_instrument(instrument)
    result = score if score is not None else score_prom(spec.id, items)
    qr_id = str(uuid.uuid4())
    answers = []
    for n, value in enumerate(items):
        link = spec.items[n].id if n < len(spec.items) else f"item{n + 1}"
        entry: dict[str, Any] = {"linkId": link}
        if value is not None:
            entry["answer"] = [{"valueInteger": int(value)}]
        answers.append(entry)
    subject = _subject(patient_id)
    qr: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse", "id": qr_id,
        "meta": _meta(ENGINE_VERSION, knowledge_version()),
        "questionnaire": f"{QUESTIONNAIRE_PREFIX}{spec.id}",
        "status": "completed", "item": answers,
    }
    if date:
        qr["authored"] = date
    if subject:
        qr["subject"] = subject
    out = [require_r4(qr)]
    if result.score is None:
        return out
    codes = load_prom_codes()
    coding = [{"system": INSTRUMENT_SYSTEM, "code": spec.id, "display": spec.name}]
    if spec.id in codes:
        coding.insert(0, {"system": "http://loinc.org", "code": codes[spec.id].loinc,
                          "display": codes[spec.id].display})
    obs: dict[str, Any] = {
        "resourceType": "Observation", "id": str(uuid.uuid4()),
        "meta": _meta(result.engine_version, result.knowledge_version),
        "status": "final",
        "category": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "survey", "display": "Survey"}]}],
        "code": {"coding": coding, "text": f"{spec.name} score"},
        "valueQuantity": {"value": result.score, "unit": "{score}",
                          "system": "http://unitsofmeasure.org", "code": "{score}"},
        "derivedFrom": [{"reference": f"QuestionnaireResponse/{qr_id}"}],
        "interpretation": [{"text": result.interpretation}] if result.interpretation else [],
        "note": [{"text": f"Range {result.range[0]:g}-{result.range[1]:g}; "
                          f"{'higher' if result.higher_is_better else 'lower'} is better "
                          f"({result.citation})"}],
    }
    if not obs["interpretation"]:
        del obs["interpretation"]
    if date:
        obs["effectiveDateTime"] = date
    if subject:
        obs["subject"] = subject
    out.append(require_r4(obs))
    return out


def bundle(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """A `collection` Bundle with urn:uuid fullUrls, validated as R4."""
    return require_r4({
        "resourceType": "Bundle", "type": "collection", "timestamp": _now(),
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources]})


def export_document(kind: str, data: Any, *, patient_id: str | None = None) -> dict[str, Any]:
    """CLI entry: `kind` assessment|plan|prom; `data` a case, assessment or plan document."""
    if kind not in ("assessment", "plan", "prom"):
        raise InputError.single("kind", kind, "assessment | plan | prom",
                                what="command-line argument")
    if not isinstance(data, Mapping):
        raise InputError.single("document", type(data).__name__, "a JSON object")
    fmt = data.get("format")
    if kind == "assessment":
        if fmt == "hipspine.assessment/1":
            from hipspine.models import parse_model

            assessment = parse_model(Assessment, dict(data), what="assessment")
        else:
            assessment = _assess(_case(data))
        return bundle([risk_assessment(assessment, patient_id)])
    if kind == "plan":
        from hipspine.models import parse_model
        from hipspine.models.plan import Plan

        if fmt == "hipspine.plan/1":
            plan = parse_model(Plan, dict(data), what="plan")
        else:
            from hipspine.plan import plan_case

            plan = plan_case(_case(data))
        return bundle([care_plan(plan, patient_id)])
    case = _case(data)
    if not case.proms:
        raise InputError.single("proms", [], "at least one PROM administration with items",
                                what="case")
    resources: list[dict[str, Any]] = []
    for n, entry in enumerate(case.proms):
        if entry.items is None:
            raise InputError.single(f"proms[{n}].items", None, "item responses to export",
                                    what="case")
        resources += prom_resources(entry.instrument, list(entry.items), date=entry.date,
                                    patient_id=patient_id or case.id)
    return bundle(resources)


def _case(data: Mapping[str, Any]) -> Case:
    from hipspine.models import parse_case

    return parse_case(dict(data))


def _assess(case: Case) -> Assessment:
    import hipspine

    result: Assessment = hipspine.assess(case)  # type: ignore[attr-defined,unused-ignore]
    return result
