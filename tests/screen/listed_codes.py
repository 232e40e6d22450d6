"""Small Bulk FHIR exports for the screening category tests, coded from the code systems'
own listings and never from hipspine's value sets (which these exports put to the test).

- ICD-10-CM: the CMS tabular list as the `simple_icd_10_cm` package ships it. Each code is
  checked to be a billable (leaf) code below the category it is meant to stand for, and its
  display is the tabular list's own title.
- SNOMED CT (no licence-free release to read): the concepts Synthea writes, named with the
  module that writes them, or ones a public code listing pairs with the ICD-10-CM code.
- LOINC: the pain score Synthea records.
- NUCC provider taxonomy (the system URI as Synthea's PractitionerRole.specialty writes it)
  and CPT: codes read on public code listings, named per code.
ICD-10-CM has no procedure codes, so procedures are coded as Synthea codes them (SNOMED CT)
in every export.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

import simple_icd_10_cm as icd

ICD = "http://hl7.org/fhir/sid/icd-10-cm"
SCT = "http://snomed.info/sct"
LOINC = "http://loinc.org"
Coding = dict[str, str]
Style = Literal["icd10cm", "snomed", "both"]


def icd10cm(code: str, under: str) -> Coding:
    """A billable ICD-10-CM code below `under`, with its tabular-list title."""
    assert icd.is_valid_item(code) and icd.is_leaf(code), f"{code} is no billable ICD-10-CM code"
    assert icd.is_descendant(code, under), f"{code} is not below {under} in ICD-10-CM"
    return {"system": ICD, "code": code, "display": icd.get_description(code)}


def snomed(code: str, display: str, source: str) -> Coding:
    """A SNOMED CT concept; `source` names where it was read (kept for the reader)."""
    assert source, "every SNOMED CT concept here names the listing it was read from"
    return {"system": SCT, "code": code, "display": display}


@dataclass(frozen=True)
class Concept:
    """One clinical idea in each code system that has it."""

    icd10cm: Coding | None
    snomed: Coding | None

    def codings(self, style: Style) -> list[Coding]:
        picked = {"icd10cm": [self.icd10cm], "snomed": [self.snomed],
                  "both": [self.snomed, self.icd10cm]}[style]
        out = [c for c in picked if c is not None]
        assert out, f"no {style} coding for this concept"
        return out


SYNTHEA_OA = "synthea modules/osteoarthritis.json"
SYNTHEA_TJR = "synthea modules/total_joint_replacement.json"
SYNTHEA_SAMPLE = "a Synthea Bulk FHIR export (shared/data/synthea-bulk-10, Condition)"
VISUALDX = "VisualDx diagnosis page, Codes section (ICD10CM and SNOMEDCT pair)"
FHIR_MAPPINGS = "public FHIR body-site mappings pairing it with ICD-10-CM M25.551"

HIP_OA = Concept(icd10cm("M16.11", "M16"), snomed("239872002", "Osteoarthritis of hip", SYNTHEA_OA))
HIP_OA_LEFT = Concept(icd10cm("M16.12", "M16"), None)
LUMBAR_STENOSIS = Concept(icd10cm("M48.062", "M48.06"),
                          snomed("18347007", "Spinal stenosis of lumbar region", VISUALDX))
SPONDYLOLISTHESIS = Concept(icd10cm("M43.16", "M43.1"), None)
SCIATICA = Concept(icd10cm("M54.31", "M54.3"), snomed("23056005", "Sciatica", VISUALDX))
LUMBAGO_WITH_SCIATICA = Concept(icd10cm("M54.41", "M54.4"), None)
RADICULOPATHY = Concept(icd10cm("M54.16", "M54.1"), None)
LOW_BACK_PAIN = Concept(icd10cm("M54.50", "M54.5"),
                        snomed("278860009", "Chronic low back pain (finding)", SYNTHEA_SAMPLE))
HIP_PAIN = Concept(icd10cm("M25.552", "M25.55"), snomed("49218002", "Hip pain", FHIR_MAPPINGS))
TROCHANTERIC_BURSITIS = Concept(icd10cm("M70.61", "M70.6"), None)
KNEE_OA = Concept(icd10cm("M17.11", "M17"),
                  snomed("239873007", "Osteoarthritis of knee", SYNTHEA_OA))

TOTAL_HIP_REPLACEMENT = snomed("52734007", "Total replacement of hip (procedure)", SYNTHEA_TJR)
PAIN_SCORE = {"system": LOINC, "code": "72514-3",
              "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported"}
ENCOUNTER_FOR_PROBLEM = snomed("185347001", "Encounter for problem (procedure)", SYNTHEA_OA)
ORTHOPEDIC_ADMISSION = snomed("183495009", "Non-urgent orthopedic admission (procedure)",
                              SYNTHEA_TJR)

NUCC = "http://nucc.org/provider-taxonomy"
CPT = "http://www.ama-assn.org/go/cpt"
NUCC_LISTINGS = "public NUCC taxonomy listings (and CMS specialty crosswalks)"
CPT_PAGES = "public CPT code pages quoting the AMA descriptor"
SPINE_SURGEON = {"system": NUCC, "code": "207XS0117X",
                 "display": "Orthopaedic Surgery of the Spine"}  # NUCC_LISTINGS
HIP_KNEE_SURGEON = {"system": NUCC, "code": "207XS0114X",
                    "display": "Adult Reconstructive Orthopaedic Surgery"}  # NUCC_LISTINGS
LUMBAR_FACET_INJECTION = {"system": CPT, "code": "64493",
                          "display": "Injection(s), diagnostic or therapeutic agent, paravertebral "
                                     "facet joint, lumbar or sacral; single level"}  # CPT_PAGES
MAJOR_JOINT_INJECTION = {"system": CPT, "code": "20610",
                         "display": "Arthrocentesis, aspiration and/or injection, major joint or "
                                    "bursa; without ultrasound guidance"}  # CPT_PAGES

START = date(2019, 1, 7)


def _day(offset: int) -> str:
    return f"{(START + timedelta(days=offset)).isoformat()}T10:00:00Z"


def _concept(codings: list[Coding]) -> dict[str, Any]:
    return {"coding": codings, "text": codings[0].get("display", codings[0]["code"])}


class Patient:
    """The resources of one patient, dated by day offsets from one start date."""

    def __init__(self, pid: str) -> None:
        self.pid = pid
        self.resources: list[dict[str, Any]] = [{"resourceType": "Patient", "id": pid}]

    def _add(self, rtype: str, **fields: Any) -> Patient:
        n = len(self.resources)
        self.resources.append({"resourceType": rtype, "id": f"{self.pid}-{n}",
                               "subject": {"reference": f"Patient/{self.pid}"}, **fields})
        return self

    def condition(self, day: int, codings: list[Coding],
                  verification: str = "confirmed") -> Patient:
        return self._add("Condition", code=_concept(codings), onsetDateTime=_day(day),
                         recordedDate=_day(day), verificationStatus=_concept([{
                             "system": "http://terminology.hl7.org/CodeSystem/"
                                       "condition-ver-status", "code": verification}]))

    def procedure(self, day: int, coding: Coding, status: str = "completed") -> Patient:
        return self._add("Procedure", status=status, code=_concept([coding]),
                         performedPeriod={"start": _day(day), "end": _day(day)})

    def pain(self, day: int, value: int) -> Patient:
        return self._add("Observation", status="final", code=_concept([PAIN_SCORE]),
                         effectiveDateTime=_day(day), valueQuantity={"value": value})

    def encounter(self, day: int, types: list[Coding], reason: list[Coding] | None = None,
                  service_type: list[Coding] | None = None,
                  status: str = "finished") -> Patient:
        fields: dict[str, Any] = {"status": status, "type": [_concept(types)],
                                  "period": {"start": _day(day), "end": _day(day)}}
        if reason:
            fields["reasonCode"] = [_concept(reason)]
        if service_type:
            fields["serviceType"] = _concept(service_type)
        return self._add("Encounter", **fields)

    def report(self, day: int, conclusion: str) -> Patient:
        return self._add("DiagnosticReport", status="final", conclusion=conclusion,
                         code={"text": "Imaging report"}, effectiveDateTime=_day(day))


def write_export(folder: Path, patients: Iterable[Patient]) -> Path:
    """<Type>.ndjson files, one resource a line, for `patients`."""
    by_type: dict[str, list[str]] = defaultdict(list)
    for patient in patients:
        for resource in patient.resources:
            by_type[resource["resourceType"]].append(json.dumps(resource))
    folder.mkdir(parents=True, exist_ok=True)
    for rtype, lines in by_type.items():
        (folder / f"{rtype}.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder
