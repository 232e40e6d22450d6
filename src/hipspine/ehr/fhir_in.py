"""FHIR R4 in: one patient's resources -> a `hipspine.case/1`, with a report of what was used.

Real EHR and Synthea R4 data carry vendor extensions, missing narratives and fields the R5
models reject, so resources are read leniently as JSON and only the elements hipspine uses
are interpreted (code.coding, subject, status, dates, value[x]); everything else is ignored
and said so in the report. A coded diagnosis is not an examination finding: it is written
into `notes` (with its code) and into `findings` for CDS Hooks and screening, and fills a
case field only where the value set's `case_mapping` says so (for example a lumbar fusion
procedure -> a prior treatment). Knowledge (value sets, LOINC map) is a parameter.
"""

from __future__ import annotations

import base64
import binascii
import collections
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from hipspine.ehr.fhir_dates import fhir_date
from hipspine.ehr.medications import (
    Match,
    MedicationIndex,
    Verdict,
    allergy_verdict,
    medication_concept,
    packaged_index,
    request_verdict,
    statement_verdict,
)
from hipspine.ehr.valuesets import Code, CodeIndex, ValueSet, load_code_index
from hipspine.errors import InputError
from hipspine.kb import KBModel, Verification, load_section
from hipspine.models import Case, parse_case
from hipspine.models.validation import JsonSyntaxError, loads_strict
from hipspine.nlp.limits import TEXT_LIMIT_PER_CASE, cut_text

USED_TYPES = ("Patient", "Condition", "Observation", "Procedure", "QuestionnaireResponse",
              "DiagnosticReport", "DocumentReference", "MedicationRequest",
              "MedicationStatement", "AllergyIntolerance")
REFUTED = {"refuted", "entered-in-error"}
NOT_DONE = {"not-done", "entered-in-error", "preparation"}
INACTIVE = {"inactive", "resolved", "remission"}
TARGET_BY_CATEGORY = {"hip_procedure": "hip", "spine_procedure": "spine"}
QUESTIONNAIRE_PREFIX = "urn:hipspine:questionnaire:"


class QuantityMap(KBModel):
    loinc: str
    display: str
    field: Literal["history.bmi", "history.egfr", "tests.esr_mm_h"]
    units: list[str]
    citation: str
    verified: Verification


class SmokingMap(KBModel):
    loinc: str
    citation: str
    verified: Verification
    current_smoker: list[str]
    not_current_smoker: list[str]
    note: str | None = None


class ObservationMap(KBModel):
    quantities: list[QuantityMap]
    smoking_status: SmokingMap


def load_observation_map() -> ObservationMap:
    return load_section("ehr/observations.yaml", ObservationMap)


class ImagingReportRule(KBModel):
    category_codes: list[str]
    title_words: list[str]
    citation: str
    verified: Verification
    note: str | None = None


class ReportsFile(KBModel):
    imaging_report: ImagingReportRule


def load_report_rules() -> ImagingReportRule:
    return load_section("ehr/reports.yaml", ReportsFile).imaging_report


@dataclass(frozen=True)
class ReportLine:
    resource: str
    what: str
    why: str

    def as_dict(self) -> dict[str, str]:
        return {"resource": self.resource, "what": self.what, "why": self.why}


@dataclass(frozen=True)
class CodedFinding:
    """A resource that fell in a value set: the evidence CDS Hooks and screening reason on."""

    category: str
    valueset: str
    resource: str
    display: str
    date: str | None
    laterality: str | None
    active: bool
    verified: str = "secondary"   # of the value-set code that matched

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class ImportReport:
    patient: str | None = None
    mapped: list[ReportLine] = field(default_factory=list)
    ignored: list[ReportLine] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # every medicine or allergy of a hipspine drug class, counted or not, and why
    medications: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"format": "hipspine.fhir-import-report/1",
                "mapped": [x.as_dict() for x in self.mapped],
                "ignored": [x.as_dict() for x in self.ignored],
                "medications": [dict(m) for m in self.medications],
                "warnings": list(self.warnings)}

    def render(self) -> str:
        """Mapped resources one per line; ignored ones counted by reason (details: --report)."""
        lines = [f"mapped {len(self.mapped)}, ignored {len(self.ignored)}"]
        lines += [f"  + {x.resource}: {x.what} ({x.why})" for x in self.mapped]
        by_reason: dict[str, collections.Counter[str]] = {}
        for x in self.ignored:
            by_reason.setdefault(x.why, collections.Counter())[x.resource.split("/")[0]] += 1
        for why, types in sorted(by_reason.items(), key=lambda kv: -sum(kv[1].values())):
            kinds = ", ".join(f"{t} {n}" for t, n in types.most_common())
            lines.append(f"  - {sum(types.values())} ignored: {why} ({kinds})")
        lines += [f"  {'*' if m['counted'] else '~'} {m['resource']}: {m['how']} -> "
                  f"{', '.join(m['classes']) or 'no class'}: {m['why']}"
                  f"{'' if m['counted'] else ': not counted'}" for m in self.medications]
        lines += [f"  ! {w}" for w in self.warnings]
        return "\n".join(lines)


@dataclass
class ImportResult:
    case: Case
    report: ImportReport
    findings: list[CodedFinding]

    @property
    def categories(self) -> set[str]:
        return {f.category for f in self.findings}


@dataclass(frozen=True)
class ImportKnowledge:
    index: CodeIndex
    observations: ObservationMap
    imaging_reports: ImagingReportRule
    medications: MedicationIndex = field(default_factory=packaged_index)


def load_import_knowledge() -> ImportKnowledge:
    return ImportKnowledge(load_code_index(), load_observation_map(), load_report_rules(),
                           packaged_index())


# ---------------------------------------------------------------- reading the input

def parse_fhir_text(text: str) -> list[dict[str, Any]]:
    """Resources from a Bundle, a single resource, a JSON array or NDJSON text."""
    stripped = text.strip()
    if not stripped:
        raise InputError.single("document", "", "a FHIR Bundle, resource, or NDJSON lines",
                                what="FHIR input")
    try:
        data: Any = loads_strict(stripped, "FHIR input")
    except JsonSyntaxError:
        if "\n" not in stripped:
            raise
        data = []
        for n, line in enumerate(stripped.splitlines(), start=1):
            if line.strip():
                data.append(loads_strict(line, f"FHIR input line {n}"))
    return resources_of(data)


def resources_of(data: Any) -> list[dict[str, Any]]:
    """Flatten a Bundle (nested Bundles too), a resource, or a list into resources."""
    if isinstance(data, list):
        out: list[dict[str, Any]] = []
        for item in data:
            out.extend(resources_of(item))
        return out
    if not isinstance(data, Mapping) or not isinstance(data.get("resourceType"), str):
        raise InputError.single("resourceType", _peek(data), "a FHIR resource or Bundle (JSON "
                                "object with resourceType)", what="FHIR input")
    if data["resourceType"] == "Bundle":
        out = []
        for n, entry in enumerate(_list(data.get("entry"))):
            res = entry.get("resource") if isinstance(entry, Mapping) else None
            if res is None:
                continue
            if not isinstance(res, Mapping) or not isinstance(res.get("resourceType"), str):
                raise InputError.single(f"entry[{n}].resource", _peek(res),
                                        "a FHIR resource with resourceType", what="FHIR Bundle")
            item = dict(res)
            full_url = entry.get("fullUrl")
            if isinstance(full_url, str):
                item.setdefault("_fullUrl", full_url)
            out.extend(resources_of(item))
        return out
    return [dict(data)]


def _list(value: Any) -> list[Any]:
    """A JSON array as a list; anything else (absent, null, a stray scalar) as empty."""
    return value if isinstance(value, list) else []


def _peek(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: value[k] for k in list(value)[:3]}
    return value


# ---------------------------------------------------------------- small FHIR readers

def _ref(res: Mapping[str, Any]) -> str:
    return f"{res.get('resourceType')}/{res.get('id', '?')}"


def _subject_id(res: Mapping[str, Any]) -> str | None:
    for key in ("subject", "patient"):
        value = res.get(key)
        if isinstance(value, Mapping) and isinstance(value.get("reference"), str):
            return value["reference"]
    return None


def _matches_patient(reference: str, patient: Mapping[str, Any]) -> bool:
    pid = str(patient.get("id", ""))
    full_url = patient.get("_fullUrl")
    if full_url and reference == full_url:
        return True
    tail = reference.rstrip("/").split("/")
    return bool(pid) and ((tail[-1] == pid and (len(tail) == 1 or tail[-2] == "Patient"))
                          or reference == f"urn:uuid:{pid}")


def _code(concept: Any, system: str | None = None) -> str | None:
    if not isinstance(concept, Mapping):
        return None
    for coding in _list(concept.get("coding")):
        if isinstance(coding, Mapping) and (system is None or coding.get("system") == system):
            code = coding.get("code")
            if isinstance(code, str):
                return code
    return None


def _display(concept: Any) -> str:
    if not isinstance(concept, Mapping):
        return "(no code)"
    if isinstance(concept.get("text"), str):
        return str(concept["text"])
    for coding in _list(concept.get("coding")):
        if isinstance(coding, Mapping):
            label = coding.get("display") or coding.get("code")
            if isinstance(label, str):
                return f"{label} [{coding.get('system', '?')} {coding.get('code', '?')}]"
    return "(no code)"


def _date(value: Any) -> dt.date | None:
    if isinstance(value, Mapping):  # Period
        value = value.get("start") or value.get("end")
    return fhir_date(value)


def _first_date(res: Mapping[str, Any], *keys: str) -> dt.date | None:
    for key in keys:
        found = _date(res.get(key))
        if found:
            return found
    return None


def _status(res: Mapping[str, Any], key: str) -> str | None:
    value = res.get(key)
    if isinstance(value, str):
        return value
    code = _code(value)
    return code


# ---------------------------------------------------------------- the mapping itself

@dataclass
class _Builder:
    knowledge: ImportKnowledge
    as_of: dt.date
    report: ImportReport
    case: dict[str, Any] = field(default_factory=lambda: {"format": "hipspine.case/1"})
    findings: list[CodedFinding] = field(default_factory=list)
    dated: dict[str, dt.date] = field(default_factory=dict)
    text_room: int = TEXT_LIMIT_PER_CASE  # characters of notes and reports still imported
    medicines: dict[str, Mapping[str, Any]] = field(default_factory=dict)  # Medication by ref

    def section(self, name: str) -> dict[str, Any]:
        return self.case.setdefault(name, {})

    def mapped(self, res: Mapping[str, Any], what: str, why: str) -> None:
        self.report.mapped.append(ReportLine(_ref(res), what, why))

    def ignored(self, res: Mapping[str, Any], why: str) -> None:
        self.report.ignored.append(ReportLine(_ref(res), _display(res.get("code")), why))

    def set_latest(self, path: str, value: Any, when: dt.date | None) -> bool:
        """Keep the most recent value of a field (undated values lose to dated ones)."""
        when = when or dt.date.min
        if path in self.dated and self.dated[path] > when:
            return False
        section, name = path.split(".")
        self.section(section)[name] = value
        self.dated[path] = when
        return True

    # -- Patient
    def patient(self, res: Mapping[str, Any]) -> None:
        self.case["id"] = str(res.get("id")) if res.get("id") is not None else None
        gender = res.get("gender")
        if gender in ("female", "male", "other"):
            self.case["sex"] = gender
            self.mapped(res, f"sex = {gender}", "Patient.gender")
        born = _date(res.get("birthDate"))
        if born is not None:
            end = _date(res.get("deceasedDateTime")) or self.as_of
            age = end.year - born.year - ((end.month, end.day) < (born.month, born.day))
            if 18 <= age <= 110:
                self.case["age"] = age
                self.mapped(res, f"age = {age}", f"Patient.birthDate at {end.isoformat()}")
            else:
                self.report.warnings.append(
                    f"{_ref(res)}: age {age} is outside the case format's 18-110; age left unknown")

    # -- Condition
    def condition(self, res: Mapping[str, Any]) -> None:
        verification = _status(res, "verificationStatus")
        if verification in REFUTED:
            self.ignored(res, f"verificationStatus {verification}")
            return
        matches = self.knowledge.index.match_concept(res.get("code"))
        if not matches:
            self.ignored(res, "code in no hipspine value set")
            return
        clinical = _status(res, "clinicalStatus")
        active = clinical not in INACTIVE
        when = _first_date(res, "onsetDateTime", "onsetPeriod", "recordedDate")
        for vs, code in matches:
            self._finding(res, vs, code, when, active)
            mapping = vs.case_mapping
            if mapping and mapping.history_flag:
                self.section("history")[mapping.history_flag] = True
                self.mapped(res, f"history.{mapping.history_flag} = true", f"value set {vs.id}")
            elif mapping and mapping.pain_location and active:
                locations = self.section("symptoms").setdefault("pain_locations", [])
                if mapping.pain_location not in locations:
                    locations.append(mapping.pain_location)
                self.mapped(res, f"symptoms.pain_locations += {mapping.pain_location}",
                            f"active condition in value set {vs.id}")
            elif mapping and mapping.prior_treatment:
                self._treatment(res, vs, when)
            else:
                self._note(res, vs, "Coded diagnosis", when, clinical)

    def _note(self, res: Mapping[str, Any], vs: ValueSet, kind: str, when: dt.date | None,
              status: str | None) -> None:
        parts = [f"{kind} (FHIR {res.get('resourceType')}): {_display(res.get('code'))}"]
        if when:
            parts.append(f"since {when.isoformat()}")
        if status:
            parts.append(f"status {status}")
        note = "; ".join(parts) + "."
        self.case.setdefault("notes", []).append(note)
        self.text_room = max(0, self.text_room - len(note))
        self.mapped(res, "notes += coded diagnosis", f"value set {vs.id} ({vs.category})")

    def _finding(self, res: Mapping[str, Any], vs: ValueSet, code: Code,
                 when: dt.date | None, active: bool) -> None:
        self.findings.append(CodedFinding(
            category=vs.category, valueset=vs.id, resource=_ref(res),
            display=_display(res.get("code")), date=when.isoformat() if when else None,
            laterality=code.laterality, active=active,
            verified=code.verified or vs.verified))

    def _treatment(self, res: Mapping[str, Any], vs: ValueSet, when: dt.date | None) -> None:
        assert vs.case_mapping is not None and vs.case_mapping.prior_treatment is not None
        treatment: dict[str, Any] = {"type": vs.case_mapping.prior_treatment,
                                     "target": TARGET_BY_CATEGORY.get(vs.category, "other")}
        if when is not None and when <= self.as_of:
            months = round((self.as_of - when).days / 30.4375, 1)
            if months <= 1200:
                treatment["months_ago"] = months
        treatments = self.section("history").setdefault("prior_treatments", [])
        if treatment not in treatments:
            treatments.append(treatment)
        self.mapped(res, f"history.prior_treatments += {treatment['type']}",
                    f"value set {vs.id}")

    # -- Procedure
    def procedure(self, res: Mapping[str, Any]) -> None:
        status = _status(res, "status")
        if status in NOT_DONE:
            self.ignored(res, f"status {status}")
            return
        matches = self.knowledge.index.match_concept(res.get("code"))
        if not matches:
            self.ignored(res, "code in no hipspine value set")
            return
        when = _first_date(res, "performedDateTime", "performedPeriod")
        for vs, code in matches:
            self._finding(res, vs, code, when, True)
            if vs.case_mapping and vs.case_mapping.prior_treatment:
                self._treatment(res, vs, when)
            else:
                self._note(res, vs, "Procedure", when, status)

    # -- Observation
    def observation(self, res: Mapping[str, Any]) -> None:
        status = _status(res, "status")
        if status in ("entered-in-error", "cancelled"):
            self.ignored(res, f"status {status}")
            return
        loinc = _loinc(res.get("code"))
        when = _first_date(res, "effectiveDateTime", "effectivePeriod", "issued")
        omap = self.knowledge.observations
        if loinc == omap.smoking_status.loinc:
            answer = _code(res.get("valueCodeableConcept"))
            if answer in omap.smoking_status.current_smoker:
                value: Any = True
            elif answer in omap.smoking_status.not_current_smoker:
                value = False
            else:
                self.ignored(res, f"smoking status answer {answer!r} does not say current or not")
                return
            if self.set_latest("history.smoker", value, when):
                self.mapped(res, f"history.smoker = {str(value).lower()}",
                            f"LOINC {loinc}, answer {answer}")
            return
        rule = next((q for q in omap.quantities if q.loinc == loinc), None)
        matches = self.knowledge.index.match_concept(res.get("code"))
        if rule is None:
            for vs, code in matches:
                self._finding(res, vs, code, when, True)
                self._note(res, vs, "Observation", when, status)
            if not matches:
                self.ignored(res, f"LOINC {loinc} is not mapped to the case" if loinc
                             else "no LOINC code")
            return
        quantity = res.get("valueQuantity")
        if not isinstance(quantity, Mapping) or not isinstance(quantity.get("value"),
                                                               (int, float)):
            self.ignored(res, f"{rule.display}: no numeric valueQuantity")
            return
        unit = quantity.get("code") or quantity.get("unit")
        if unit not in rule.units:
            self.ignored(res, f"{rule.display}: unit {unit!r} not one of {rule.units}")
            return
        number = float(quantity["value"])
        if not self._in_range(rule.field, number):
            self.ignored(res, f"{rule.display}: value {number} outside the case format's range")
            return
        if self.set_latest(rule.field, number, when):
            self.mapped(res, f"{rule.field} = {number:g}", f"LOINC {loinc}")
        else:
            self.ignored(res, f"{rule.display}: a more recent value is already mapped")

    @staticmethod
    def _in_range(path: str, number: float) -> bool:
        section, name = path.split(".")
        try:
            parse_case({"format": "hipspine.case/1", section: {name: number}})
        except InputError:
            return False
        return True

    # -- DiagnosticReport / DocumentReference
    def diagnostic_report(self, res: Mapping[str, Any]) -> None:
        status = _status(res, "status")
        if status in ("entered-in-error", "cancelled"):
            self.ignored(res, f"status {status}")
            return
        texts = []
        if isinstance(res.get("conclusion"), str) and res["conclusion"].strip():
            texts.append(res["conclusion"].strip())
        texts += _attachment_texts(res.get("presentedForm"))
        when = _first_date(res, "effectiveDateTime", "effectivePeriod", "issued")
        matches = self.knowledge.index.match_concept(res.get("code"))
        for vs, code in matches:
            self._finding(res, vs, code, when, True)
        if not texts:
            self.ignored(res, "no conclusion or plain-text presentedForm to read")
            return
        why = self._imaging_reason(res, matches)
        if why is None:
            self._add_texts(res, self.case.setdefault("notes", []), texts)
            self.mapped(res, f"notes += {len(texts)} text(s)",
                        "report text that is not an imaging report")
            return
        self._add_texts(res, self.section("imaging").setdefault("reports", []), texts)
        self.mapped(res, f"imaging.reports += {len(texts)} text(s)", why)

    def _add_texts(self, res: Mapping[str, Any], into: list[str], texts: list[str]) -> None:
        """Add the texts not already there, within the per-case text limit
        (`hipspine.nlp.limits`): text beyond it is cut (at a sentence end where it can be)
        and the cut is a warning, never a refusal."""
        for text in texts:
            if text in into:
                continue
            kept = cut_text(text, self.text_room)
            if len(kept) < len(text):
                self.report.warnings.append(
                    f"{_ref(res)}: {len(text) - len(kept):,} of {len(text):,} characters of "
                    f"text not imported (text limit {TEXT_LIMIT_PER_CASE:,} characters of "
                    f"notes and reports per case)")
                self.text_room = 0  # the text after a cut one is not imported either
            else:
                self.text_room -= len(kept)
            if kept.strip():
                into.append(kept.strip())

    def _imaging_reason(self, res: Mapping[str, Any],
                        matches: list[tuple[ValueSet, Any]]) -> str | None:
        """Why this report counts as imaging (category, code, or title), or None."""
        rule = self.knowledge.imaging_reports
        for category in _list(res.get("category")):
            if isinstance(category, Mapping):
                for coding in _list(category.get("coding")):
                    if isinstance(coding, Mapping) and coding.get("code") in rule.category_codes:
                        return f"imaging report (category {coding.get('code')})"
        if any(vs.category in ("hip_imaging", "spine_imaging") for vs, _ in matches):
            return "imaging report (code in an imaging value set)"
        title = _display(res.get("code")).lower() + " "
        word = next((w for w in rule.title_words if w in title), None)
        return f"imaging report (title mentions {word.strip()!r})" if word else None

    def document_reference(self, res: Mapping[str, Any]) -> None:
        if _status(res, "status") == "entered-in-error":
            self.ignored(res, "status entered-in-error")
            return
        texts = _attachment_texts([c.get("attachment") for c in _list(res.get("content"))
                                   if isinstance(c, Mapping)])
        if not texts:
            self.ignored(res, "no plain-text attachment to read")
            return
        self._add_texts(res, self.case.setdefault("notes", []), texts)
        self.mapped(res, f"notes += {len(texts)} text(s)", "clinical note text")

    # -- MedicationRequest / MedicationStatement / AllergyIntolerance
    def medication(self, res: Mapping[str, Any]) -> None:
        """A medicine of a hipspine drug class sets its class's fact when the active rule
        says it counts; otherwise it is reported and sets nothing."""
        meds = self.knowledge.medications
        match = meds.match(medication_concept(res, self.medicines))
        if match is None or not match.classes:
            self.ignored(res, "medicine in no hipspine drug class")
            return
        rule = meds.knowledge.active_rule
        verdict = (request_verdict(res, rule, self.as_of)
                   if res.get("resourceType") == "MedicationRequest"
                   else statement_verdict(res, rule, self.as_of))
        counted = meds.counted_classes(match) if verdict.counts else []
        if verdict.counts and not counted:
            verdict = Verdict(False, f"{match.local_form.lower() if match.local_form else 'local'}"
                                     f" form, not systemic")
        self._medication_row(res, match, [meds.classes[c].label for c in match.classes],
                             verdict)
        for cls in counted:
            self.section("history")[cls.fact.split(".", 1)[1]] = True
            self.mapped(res, f"{cls.fact} = true", f"{match.how} -> {cls.label}; {verdict.why}")
        if not verdict.counts:
            self.ignored(res, f"{', '.join(meds.classes[c].label for c in match.classes)}: "
                              f"{verdict.why}: not counted")

    def allergy(self, res: Mapping[str, Any]) -> None:
        meds = self.knowledge.medications
        match = meds.match(res.get("code"))
        facts = meds.allergy_facts(match) if match is not None else []
        if match is None or not facts:
            self.ignored(res, "substance in no hipspine allergy class")
            return
        verdict = allergy_verdict(res, meds.knowledge.active_rule)
        self._medication_row(res, match, [f.fact for f in facts], verdict)
        if not verdict.counts:
            self.ignored(res, f"allergy or intolerance: {verdict.why}: not counted")
            return
        kind = res.get("type") if isinstance(res.get("type"), str) else "allergy"
        for fact in facts:
            self.section("history")[fact.fact.split(".", 1)[1]] = True
            self.mapped(res, f"{fact.fact} = true", f"{kind}: {match.how}; {verdict.why}")

    def _medication_row(self, res: Mapping[str, Any], match: Match, classes: list[str],
                        verdict: Verdict) -> None:
        self.report.medications.append({
            "resource": _ref(res), "how": match.how, "ingredients": list(match.ingredients),
            "classes": classes, "counted": verdict.counts, "why": verdict.why})
        if match.from_text:
            self.report.warnings.append(f"{_ref(res)}: matched by its text only: {match.how}")
        if verdict.stale:
            self.report.warnings.append(f"{_ref(res)}: counted, but {verdict.why}: check it is "
                                        "still taken")

    # -- QuestionnaireResponse
    def questionnaire_response(self, res: Mapping[str, Any], instruments: set[str]) -> None:
        if _status(res, "status") not in ("completed", "amended"):
            self.ignored(res, f"status {_status(res, 'status')!r} (only completed or amended)")
            return
        canonical = res.get("questionnaire")
        instrument = _instrument_of(canonical, instruments)
        if instrument is None:
            self.ignored(res, f"questionnaire {canonical!r} is not a known PROM instrument")
            return
        items = [_answer_int(item) for item in _leaf_items(_list(res.get("item")))]
        when = _date(res.get("authored"))
        entry = {"instrument": instrument, "items": items,
                 "date": when.isoformat() if when else None}
        self.case.setdefault("proms", []).append(entry)
        self.mapped(res, f"proms += {instrument} ({len(items)} items)",
                    f"questionnaire {canonical}")


def _loinc(concept: Any) -> str | None:
    if not isinstance(concept, Mapping):
        return None
    for coding in _list(concept.get("coding")):
        if isinstance(coding, Mapping) and str(coding.get("system", "")).rstrip("/") in (
                "http://loinc.org", "urn:oid:2.16.840.1.113883.6.1"):
            code = coding.get("code")
            return code if isinstance(code, str) else None
    return None


def _attachment_texts(attachments: Any) -> list[str]:
    out: list[str] = []
    for att in _list(attachments):
        if not isinstance(att, Mapping):
            continue
        ctype = str(att.get("contentType", "text/plain"))
        if not ctype.startswith("text/plain"):
            continue
        data = att.get("data")
        if not isinstance(data, str):
            continue
        try:
            text = base64.b64decode(data, validate=False).decode("utf-8", errors="replace")
        except (binascii.Error, ValueError):
            continue
        if text.strip():
            out.append(text.strip())
    return out


def _instrument_of(canonical: Any, instruments: set[str]) -> str | None:
    if not isinstance(canonical, str):
        return None
    base = canonical.split("|", 1)[0]
    if base.startswith(QUESTIONNAIRE_PREFIX):
        name = base[len(QUESTIONNAIRE_PREFIX):]
    else:
        name = base.rstrip("/").rsplit("/", 1)[-1]
    name = name.lower().replace("-", "_")
    return name if name in instruments else None


def _leaf_items(items: Iterable[Any]) -> list[Mapping[str, Any]]:
    out: list[Mapping[str, Any]] = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        if _list(item.get("item")) and not item.get("answer"):
            out.extend(_leaf_items(_list(item.get("item"))))
        else:
            out.append(item)
    return out


def _answer_int(item: Mapping[str, Any]) -> int | None:
    for answer in _list(item.get("answer")):
        if not isinstance(answer, Mapping):
            continue
        for key in ("valueInteger", "valueDecimal"):
            value = answer.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return int(value)
        coding = answer.get("valueCoding")
        if isinstance(coding, Mapping):
            code = coding.get("code")
            if isinstance(code, str) and code.lstrip("-").isdigit():
                return int(code)
    return None


def _known_instruments() -> set[str]:
    try:
        from hipspine.proms.knowledge import packaged_instruments
    except ImportError:  # registry-proms not installed in this build
        return set()
    return set(packaged_instruments())


# ---------------------------------------------------------------- public entry point

def import_resources(resources: list[dict[str, Any]], *, patient_id: str | None = None,
                     as_of: dt.date | None = None, setting: str | None = None,
                     knowledge: ImportKnowledge | None = None,
                     instruments: set[str] | None = None) -> ImportResult:
    """Map one patient's FHIR R4 resources to a case, reporting what was used and why not.

    `as_of` is the date ages and "months ago" are counted to (default: today).
    """
    knowledge = knowledge or load_import_knowledge()
    instruments = _known_instruments() if instruments is None else instruments
    resources = _unique(resources)
    patients = [r for r in resources if r.get("resourceType") == "Patient"]
    if patient_id is not None:
        patients = [p for p in patients if str(p.get("id")) == patient_id]
        if not patients:
            raise InputError.single("patient", patient_id, "the id of a Patient in the input",
                                    what="FHIR input")
    if len(patients) > 1:
        raise InputError.single("patient", sorted(str(p.get("id")) for p in patients),
                                "one Patient per input, or choose one with --patient",
                                what="FHIR input")
    patient = patients[0] if patients else None
    report = ImportReport(patient=str(patient.get("id")) if patient else None)
    builder = _Builder(knowledge, as_of or dt.date.today(), report)
    if setting is not None:
        builder.case["setting"] = setting
    if patient is None:
        report.warnings.append("no Patient resource: age and sex unknown; every resource used")
    builder.medicines = _medications_by_ref(resources)
    for res in resources:
        rtype = res.get("resourceType")
        if rtype == "Patient":
            if res is patient:
                builder.patient(res)
            else:
                builder.ignored(res, "another patient")
            continue
        subject = _subject_id(res)
        if patient is not None and subject is not None and not _matches_patient(subject, patient):
            builder.ignored(res, f"belongs to {subject}, not the imported patient")
            continue
        try:
            _dispatch(builder, res, str(rtype), instruments)
        except (TypeError, AttributeError, KeyError, ValueError) as exc:
            # Malformed content in one resource is reported, never a crash of the import.
            builder.ignored(res, f"could not read: {type(exc).__name__}")
    case = parse_case(builder.case)
    return ImportResult(case=case, report=report, findings=builder.findings)


def _medications_by_ref(resources: list[dict[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Medication resources by every name a reference may use: id, Medication/id, fullUrl."""
    out: dict[str, Mapping[str, Any]] = {}
    for res in resources:
        if res.get("resourceType") != "Medication":
            continue
        for key in (str(res.get("id")), f"Medication/{res.get('id')}", res.get("_fullUrl")):
            if isinstance(key, str):
                out[key] = res
    return out


def _unique(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop repeated copies of one resource (same type and id), e.g. prefetch + search."""
    seen: set[tuple[str, str]] = set()
    out: list[dict[str, Any]] = []
    for res in resources:
        rid = res.get("id")
        if rid is not None:
            key = (str(res.get("resourceType")), str(rid))
            if key in seen:
                continue
            seen.add(key)
        out.append(res)
    return out


def _dispatch(builder: _Builder, res: dict[str, Any], rtype: str, instruments: set[str]) -> None:
    if rtype == "Condition":
        builder.condition(res)
    elif rtype == "Procedure":
        builder.procedure(res)
    elif rtype == "Observation":
        builder.observation(res)
    elif rtype == "DiagnosticReport":
        builder.diagnostic_report(res)
    elif rtype == "DocumentReference":
        builder.document_reference(res)
    elif rtype == "QuestionnaireResponse":
        builder.questionnaire_response(res, instruments)
    elif rtype in ("MedicationRequest", "MedicationStatement"):
        builder.medication(res)
    elif rtype == "AllergyIntolerance":
        builder.allergy(res)
    elif rtype == "Medication":
        builder.report.ignored.append(ReportLine(
            _ref(res), _display(res.get("code")),
            "read through the MedicationRequest or MedicationStatement that names it"))
    else:
        builder.report.ignored.append(ReportLine(
            _ref(res), rtype, "resource type not used by the case format"))


def read_bulk_patient(folder: str, patient_id: str) -> list[dict[str, Any]]:
    """One patient's resources from a Bulk FHIR export folder (`*.ndjson`, `*.ndjson.gz`),
    streamed line by line so large exports are never loaded whole."""
    import gzip
    from pathlib import Path

    root = Path(folder)
    files = sorted([*root.glob("*.ndjson"), *root.glob("*.ndjson.gz")])
    if not files:
        raise InputError.single("path", folder, "a folder holding *.ndjson or *.ndjson.gz files",
                                what="Bulk FHIR export")
    wanted = {f"Patient/{patient_id}", f"urn:uuid:{patient_id}", patient_id}
    out: list[dict[str, Any]] = []
    for path in files:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as handle:
            for n, line in enumerate(handle, start=1):
                if patient_id not in line:
                    continue  # cheap pre-filter; the JSON check below decides
                res = loads_strict(line, f"Bulk FHIR export {path.name} line {n}")
                if not isinstance(res, dict):
                    continue
                if res.get("resourceType") == "Patient":
                    if str(res.get("id")) == patient_id:
                        out.insert(0, res)
                elif _subject_id(res) in wanted:
                    out.append(res)
    if not out or out[0].get("resourceType") != "Patient":
        raise InputError.single("patient", patient_id, "the id of a Patient in the export",
                                what="Bulk FHIR export")
    return out


def import_text(text: str, **kwargs: Any) -> ImportResult:
    """`import_resources` over a Bundle / resource / NDJSON document."""
    return import_resources(parse_fhir_text(text), **kwargs)
