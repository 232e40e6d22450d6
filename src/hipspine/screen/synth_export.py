"""Synthetic Bulk FHIR exports with planted screening cases, for tests and benchmarks.

    planted = write_synthetic_export("out/", patients=200, seed=7)
    planted["<patient id>"]  # {"unrecognised_hip"} - the categories the worklist must list
    write_synthetic_export_streamed("out/", 1_000_000, "planted.csv")  # flat memory at any size

Patients cycle through twenty kinds: planted cases of every category (several spellings:
ICD-10-CM with and without dots, SNOMED CT under its OID, codes in Encounter.reasonCode,
report phrases), look-alike controls that must NOT be listed (worked-up hips, same-day
assessment, pain too soon after surgery, denied report phrases, entered-in-error and
not-done records), and background patients with unrelated conditions. Every record is
synthetic; the output is deterministic for a seed.
"""

# ruff: noqa: S311  (synthetic test data, not security)

from __future__ import annotations

import base64
import gzip
import json
import random
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Any

ICD = "http://hl7.org/fhir/sid/icd-10-cm"
SCT = "http://snomed.info/sct"
SCT_OID = "urn:oid:2.16.840.1.113883.6.96"
CPT = "http://www.ama-assn.org/go/cpt"
LOINC = "http://loinc.org"
# Report types use a local code system: the screen reads report text, not report codes, and
# synthetic data should not assert codes nobody checked.
REPORT_TYPE = "https://hipspine.org/synthetic/report-type"

CYCLE = 20
PLANTED: dict[int, str] = {
    0: "unrecognised_hip", 1: "unrecognised_hip", 14: "unrecognised_hip", 15: "unrecognised_hip",
    2: "unrecognised_spine", 3: "unrecognised_spine", 12: "unrecognised_spine",
    4: "failed_single_organ_treatment", 5: "failed_single_organ_treatment",
    6: "co_occurring",
}
_PLAIN = {"Patient", "DiagnosticReport"}  # written uncompressed, the rest gzipped


class _Writer:
    """One output stream per resource type, split into numbered files."""

    def __init__(self, out: Path, lines_per_file: int) -> None:
        self.out = out
        self.lines_per_file = lines_per_file
        self.handles: dict[str, tuple[IO[str], int, int]] = {}
        self.counts: Counter[str] = Counter()

    def write(self, resource: dict[str, Any]) -> None:
        rtype = resource["resourceType"]
        handle, part, lines = self.handles.get(rtype, (None, -1, self.lines_per_file))
        if handle is None or lines >= self.lines_per_file:
            if handle is not None:
                handle.close()
            part += 1
            handle = self._open(rtype, part)
            lines = 0
        handle.write(json.dumps(resource, separators=(",", ":")) + "\n")
        self.handles[rtype] = (handle, part, lines + 1)
        self.counts[rtype] += 1

    def _open(self, rtype: str, part: int) -> IO[str]:
        name = f"{rtype}.{part:03d}.ndjson"
        if rtype in _PLAIN:
            return (self.out / name).open("w", encoding="utf-8")
        return gzip.open(self.out / f"{name}.gz", "wt", encoding="utf-8", compresslevel=1)

    def close(self) -> None:
        for handle, _, _ in self.handles.values():
            handle.close()


def iter_synthetic_export(out_dir: str | Path, patients: int, seed: int = 0,
                          lines_per_file: int = 500_000,
                          counts: Counter[str] | None = None) -> Iterator[tuple[str, set[str]]]:
    """Write the export patient by patient, yielding (patient id, planted categories) as
    each is written, so a 10^6-patient export needs no more memory than a 10-patient one.

    `counts`, when given, receives the number of resources written per type."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    writer = _Writer(out, lines_per_file)
    if counts is not None:
        writer.counts = counts
    try:
        for i in range(patients):
            pid = _uuid(rng)
            kind = i % CYCLE
            for resource in _patient_resources(rng, pid, kind):
                writer.write(resource)
            yield pid, ({PLANTED[kind]} if kind in PLANTED else set())
    finally:
        writer.close()


def write_synthetic_export(out_dir: str | Path, patients: int, seed: int = 0,
                           lines_per_file: int = 500_000) -> dict[str, set[str]]:
    """Write the export and return the planted truth: patient id -> expected categories."""
    return dict(iter_synthetic_export(out_dir, patients, seed, lines_per_file))


def write_synthetic_export_streamed(out_dir: str | Path, patients: int, planted_csv: str | Path,
                                    seed: int = 0, lines_per_file: int = 500_000
                                    ) -> Counter[str]:
    """Write the export and its planted worklist rows (`patient_id,category`, in the order
    written) to `planted_csv`; memory stays flat at any size. Returns resources per type."""
    counts: Counter[str] = Counter()
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    with Path(planted_csv).open("w", encoding="utf-8") as handle:
        handle.write("patient_id,category\n")
        for pid, categories in iter_synthetic_export(out_dir, patients, seed, lines_per_file,
                                                     counts):
            for category in sorted(categories):
                handle.write(f"{pid},{category}\n")
    return counts


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _coding(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


class _Patient:
    def __init__(self, rng: random.Random, pid: str) -> None:
        self.rng = rng
        self.pid = pid
        self.start = date(2015, 1, 1) + timedelta(days=rng.randrange(0, 6 * 365))

    def day(self, offset: int) -> str:
        d = self.start + timedelta(days=offset)
        return f"{d.isoformat()}T{self.rng.randrange(8, 18):02d}:{self.rng.randrange(60):02d}:00Z"

    def base(self, rtype: str) -> dict[str, Any]:
        return {"resourceType": rtype, "id": _uuid(self.rng),
                "subject": {"reference": f"Patient/{self.pid}"}}

    def condition(self, offset: int, system: str, code: str, display: str,
                  verification: str = "confirmed") -> dict[str, Any]:
        return {**self.base("Condition"),
                "clinicalStatus": _coding("http://terminology.hl7.org/CodeSystem/condition-clinical",
                                          "active", "Active"),
                "verificationStatus": _coding(
                    "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    verification, verification),
                "code": _coding(system, code, display), "onsetDateTime": self.day(offset),
                "recordedDate": self.day(offset)}

    def procedure(self, offset: int, system: str, code: str, display: str,
                  status: str = "completed") -> dict[str, Any]:
        t = self.day(offset)
        return {**self.base("Procedure"), "status": status, "code": _coding(system, code, display),
                "performedPeriod": {"start": t, "end": t}}

    def pain(self, offset: int, value: int) -> dict[str, Any]:
        return {**self.base("Observation"), "status": "final",
                "category": [_coding("http://terminology.hl7.org/CodeSystem/observation-category",
                                     "vital-signs", "Vital signs")],
                "code": _coding(LOINC, "72514-3",
                                "Pain severity - 0-10 verbal numeric rating [Score] - Reported"),
                "effectiveDateTime": self.day(offset), "issued": self.day(offset),
                "valueQuantity": {"value": value, "unit": "{score}",
                                  "system": "http://unitsofmeasure.org", "code": "{score}"}}

    def report(self, offset: int, code: str, display: str, conclusion: str,
               as_attachment: bool = False) -> dict[str, Any]:
        resource = {**self.base("DiagnosticReport"), "status": "final",
                    "code": _coding(REPORT_TYPE, code, display),
                    "effectiveDateTime": self.day(offset), "issued": self.day(offset)}
        if as_attachment:
            resource["presentedForm"] = [{"contentType": "text/plain; charset=utf-8",
                                          "data": base64.b64encode(conclusion.encode()).decode()}]
        else:
            resource["conclusion"] = conclusion
        return resource

    def note(self, offset: int, text: str) -> dict[str, Any]:
        return {**self.base("DocumentReference"), "status": "current",
                "type": _coding(REPORT_TYPE, "consult-note", "Consult note"),
                "date": self.day(offset),
                "content": [{"attachment": {"contentType": "text/plain",
                                            "data": base64.b64encode(text.encode()).decode()}}]}

    def encounter(self, offset: int, reason: tuple[str, str, str] | None = None) -> dict[str, Any]:
        t = self.day(offset)
        resource = {**self.base("Encounter"), "status": "finished",
                    "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                              "code": "AMB"},
                    "type": [_coding(SCT, "185349003", "Encounter for check up (procedure)")],
                    "period": {"start": t, "end": t}}
        if reason:
            resource["reasonCode"] = [_coding(*reason)]
        return resource


HIP_OA = (ICD, "M16.11", "Unilateral primary osteoarthritis, right hip")
HIP_OA_SCT = (SCT, "239872002", "Osteoarthritis of hip")
HIP_XR = (CPT, "73502", "Radiograph of hip, unilateral, two or three views")
HIP_PAIN = (ICD, "M25.551", "Pain in right hip")
THA = (CPT, "27130", "Total hip arthroplasty")
STENOSIS = (ICD, "M48.062", "Spinal stenosis, lumbar region with neurogenic claudication")
STENOSIS_NODOT = (ICD, "M48062", "Spinal stenosis, lumbar region with neurogenic claudication")
SPINE_MRI = (CPT, "72148", "MRI of lumbar spine without contrast")
DECOMPRESSION = (CPT, "63047", "Lumbar laminectomy, facetectomy and foraminotomy")
LBP = (ICD, "M54.50", "Low back pain, unspecified")
LBP_SCT_OID = (SCT_OID, "278860009", "Chronic low back pain (finding)")


def _patient_resources(rng: random.Random, pid: str, kind: int) -> Iterator[dict[str, Any]]:
    p = _Patient(rng, pid)
    yield {"resourceType": "Patient", "id": pid, "gender": rng.choice(["female", "male"]),
           "birthDate": f"{rng.randrange(1935, 1975)}-{rng.randrange(1, 13):02d}-15",
           "meta": {"tag": [{"system": "https://hipspine.org/synthetic", "code": "synthetic"}]}}
    yield from _background(p)
    gap = rng.randrange(20, 400)
    if kind == 0:    # spine worked up, hip pain coded later, hip never examined
        yield p.condition(0, *STENOSIS)
        yield p.procedure(0, *SPINE_MRI)
        yield p.condition(gap, *HIP_PAIN)
    elif kind == 1:  # spine MRI report mentions hip OA in passing
        yield p.condition(0, *STENOSIS_NODOT)
        yield p.procedure(0, *SPINE_MRI)
        yield p.report(0, "mr-lumbar-spine", "MR Lumbar spine",
                       "Moderate central canal stenosis at L4-5. Incidental moderate "
                       "osteoarthritis of the left hip is partly imaged.", as_attachment=True)
    elif kind == 14:  # hip pain only as the reason for a spine-clinic encounter
        yield p.procedure(0, *SPINE_MRI)
        yield p.encounter(gap, reason=(ICD, "M25.552", "Pain in left hip"))
    elif kind == 2:  # hip OA worked up, back pain coded later, spine never examined
        yield p.condition(0, *HIP_OA)
        yield p.procedure(0, *HIP_XR)
        yield p.condition(gap, *LBP)
    elif kind == 3:
        yield p.condition(0, *HIP_OA_SCT)
        yield p.procedure(0, *HIP_XR)
        yield p.condition(gap, *LBP_SCT_OID)
    elif kind == 12:  # pelvis radiograph report mentions a slip
        yield p.condition(0, *HIP_OA)
        yield p.procedure(0, *HIP_XR)
        yield p.report(0, "xr-pelvis-hips", "XR Pelvis and hips",
                       "Severe right hip osteoarthritis. Grade 1 anterolisthesis of L4 on L5 "
                       "on the lateral view.")
    elif kind == 4:  # hip replaced, pain still high six months later
        yield p.condition(0, *HIP_OA)
        yield p.procedure(0, *HIP_XR)
        yield p.procedure(30, *THA)
        yield p.pain(30 + 90 + gap, 7)
    elif kind == 5:  # spine decompressed, pain still high later
        yield p.condition(0, *STENOSIS)
        yield p.procedure(0, *SPINE_MRI)
        yield p.procedure(60, *DECOMPRESSION)
        yield p.pain(60 + 90 + gap, 6)
    elif kind == 6:  # both diagnosed, on different days, never together
        yield p.condition(0, *HIP_OA)
        yield p.procedure(0, *HIP_XR)
        yield p.condition(gap, *STENOSIS)
        yield p.procedure(gap, *SPINE_MRI)
    elif kind == 7:  # control: hip pain after spine care, but the hip was imaged
        yield p.condition(0, *STENOSIS)
        yield p.procedure(0, *SPINE_MRI)
        yield p.condition(gap, *HIP_PAIN)
        yield p.procedure(gap + 14, *HIP_XR)
    elif kind == 8:  # control: both diagnosed at the same visit
        yield p.condition(0, *HIP_OA)
        yield p.condition(0, *STENOSIS)
        yield p.procedure(0, *SPINE_MRI)
    elif kind == 9:  # control: pain soon after surgery only, low later
        yield p.condition(0, *HIP_OA)
        yield p.procedure(30, *THA)
        yield p.pain(60, 8)
        yield p.pain(30 + 90 + gap, 2)
    elif kind == 10:  # control: spine report denies hip OA
        yield p.condition(0, *STENOSIS)
        yield p.procedure(0, *SPINE_MRI)
        yield p.report(0, "mr-lumbar-spine", "MR Lumbar spine",
                       "Severe L4-5 central canal stenosis. No significant osteoarthritis of "
                       "either hip.")
    elif kind == 11:  # control: the hip pain diagnosis was entered in error
        yield p.condition(0, *STENOSIS)
        yield p.procedure(0, *SPINE_MRI)
        yield p.condition(gap, *HIP_PAIN, verification="entered-in-error")
    elif kind == 15:  # a spine-clinic letter mentions hip OA nobody followed up
        yield p.condition(0, *STENOSIS)
        yield p.procedure(0, *SPINE_MRI)
        yield p.note(gap, "Spine clinic follow-up. Walking limited by buttock pain. The pelvic "
                          "views show moderate osteoarthritis of the right hip.")
    elif kind == 16:  # control: a spine-clinic letter denies hip OA
        yield p.condition(0, *STENOSIS)
        yield p.procedure(0, *SPINE_MRI)
        yield p.note(gap, "Spine clinic follow-up. No osteoarthritis of either hip on the "
                          "pelvic views.")
    elif kind == 13:  # control: a THA that was not done, pain later
        yield p.condition(0, *HIP_OA)
        yield p.procedure(30, *THA, status="not-done")
        yield p.pain(30 + 90 + gap, 7)


_NOISE_CONDITIONS = [
    (SCT, "59621000", "Essential hypertension (disorder)"),
    (SCT, "239873007", "Osteoarthritis of knee"),
    (SCT, "1121000119107", "Chronic neck pain (finding)"),
    (ICD, "E11.9", "Type 2 diabetes mellitus without complications"),
    (SCT, "444814009", "Viral sinusitis (disorder)"),
]


def _background(p: _Patient) -> Iterator[dict[str, Any]]:
    """Realistic clutter: check-ups, unrelated diagnoses, low pain ratings."""
    rng = p.rng
    for _ in range(rng.randrange(1, 4)):
        yield p.encounter(rng.randrange(-700, 900))
    for _ in range(rng.randrange(0, 3)):
        yield p.condition(rng.randrange(-700, 900), *rng.choice(_NOISE_CONDITIONS))
    for _ in range(rng.randrange(0, 3)):
        yield p.pain(rng.randrange(-700, 900), rng.randrange(0, 4))
