"""Hand-built FHIR R4 Bundles for tests: what an EHR would hold for a hipspine case."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

ICD = "http://hl7.org/fhir/sid/icd-10-cm"
SCT = "http://snomed.info/sct"
CPT = "http://www.ama-assn.org/go/cpt"
LOINC = "http://loinc.org"
AS_OF = dt.date(2026, 6, 1)
HIP_OA_ICD = {"left": "M16.12", "right": "M16.11", "bilateral": "M16.0", None: "M16.9"}
TREATMENT_CPT = {"total_hip_arthroplasty": "27130", "lumbar_decompression": "63047",
                 "lumbar_fusion": "22612", "epidural_injection": "62323",
                 "hip_arthroscopy": "29862"}


def _subject(pid: str) -> dict[str, str]:
    return {"reference": f"Patient/{pid}"}


def condition(pid: str, n: int, system: str, code: str, display: str,
              **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Condition", "id": f"{pid}-c{n}", "subject": _subject(pid),
            "clinicalStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                "code": "active"}]},
            "code": {"coding": [{"system": system, "code": code, "display": display}]}, **extra}


def bundle_for_case(case: dict[str, Any], pid: str = "p1") -> dict[str, Any]:
    """The FHIR picture of a case: demographics, coded diagnoses, procedures, report texts."""
    born = dt.date(AS_OF.year - int(case.get("age", 60)), 1, 1)
    patient = {"resourceType": "Patient", "id": pid, "birthDate": born.isoformat(),
               "gender": case.get("sex", "unknown")}
    resources: list[dict[str, Any]] = [patient]
    imaging = case.get("imaging", {})
    n = 0
    if imaging.get("hip_oa"):
        n += 1
        resources.append(condition(pid, n, ICD, HIP_OA_ICD[imaging["hip_oa"].get("side")],
                                   "Osteoarthritis of hip"))
    if imaging.get("lumbar_stenosis", {}).get("severity") not in (None, "none"):
        n += 1
        resources.append(condition(pid, n, ICD, "M48.062", "Spinal stenosis, lumbar region "
                                   "with neurogenic claudication"))
    if "low_back" in case.get("symptoms", {}).get("pain_locations", []):
        n += 1
        resources.append(condition(pid, n, SCT, "278860009", "Chronic low back pain"))
    for m, treatment in enumerate(case.get("history", {}).get("prior_treatments", [])):
        if treatment["type"] in TREATMENT_CPT:
            resources.append({"resourceType": "Procedure", "id": f"{pid}-proc{m}",
                              "status": "completed", "subject": _subject(pid),
                              "performedDateTime": "2025-06-01",
                              "code": {"coding": [{"system": CPT,
                                                   "code": TREATMENT_CPT[treatment["type"]]}]}})
    for m, text in enumerate(imaging.get("reports", [])):
        resources.append({"resourceType": "DiagnosticReport", "id": f"{pid}-dr{m}",
                          "status": "final", "subject": _subject(pid),
                          "category": [{"coding": [{
                              "system": "http://terminology.hl7.org/CodeSystem/v2-0074",
                              "code": "RAD"}]}],
                          "code": {"text": "Radiology report"},
                          "presentedForm": [{"contentType": "text/plain",
                                             "data": base64.b64encode(text.encode()).decode()}]})
    bmi = case.get("history", {}).get("bmi")
    if bmi is not None:
        resources.append({"resourceType": "Observation", "id": f"{pid}-bmi", "status": "final",
                          "subject": _subject(pid), "effectiveDateTime": "2026-05-01",
                          "code": {"coding": [{"system": LOINC, "code": "39156-5"}]},
                          "valueQuantity": {"value": bmi, "unit": "kg/m2",
                                            "system": "http://unitsofmeasure.org",
                                            "code": "kg/m2"}})
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources]}
