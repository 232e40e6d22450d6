"""FHIR R4 import: hand-built bundles map to case fields; real Synthea R4 never crashes."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hipspine.ehr.fhir_in import import_resources, import_text, parse_fhir_text, resources_of
from hipspine.ehr.r4 import r4_problem
from hipspine.errors import InputError

from .bundles import AS_OF, CPT, ICD, LOINC, SCT, bundle_for_case, condition


def _import(resources: list[dict[str, Any]], **kw: Any) -> Any:
    return import_resources(resources, as_of=AS_OF, **kw)


def test_demographics_and_coded_hip_oa_become_case_and_finding() -> None:
    res = resources_of(bundle_for_case({"age": 71, "sex": "female",
                                        "imaging": {"hip_oa": {"side": "left"}}}))
    result = _import(res)
    assert (result.case.age, result.case.sex) == (71, "female")
    assert result.case.imaging.hip_oa is None            # a diagnosis code is not an X-ray
    assert any("M16.12" in note for note in result.case.notes)
    [finding] = result.findings
    assert (finding.category, finding.laterality, finding.active) == ("hip_oa", "left", True)


def test_procedures_become_prior_treatments_with_months_ago() -> None:
    case = {"age": 66, "history": {"prior_treatments": [
        {"type": "lumbar_fusion", "target": "spine"},
        {"type": "total_hip_arthroplasty", "target": "hip"}]}}
    result = _import(resources_of(bundle_for_case(case)))
    treatments = {(t.type, t.target, t.months_ago) for t in result.case.history.prior_treatments}
    assert treatments == {("lumbar_fusion", "spine", 12.0),
                          ("total_hip_arthroplasty", "hip", 12.0)}
    assert {"spine_procedure", "hip_procedure"} <= result.categories


def test_report_texts_bmi_and_low_back_pain() -> None:
    case = {"age": 60, "history": {"bmi": 31.5}, "symptoms": {"pain_locations": ["low_back"]},
            "imaging": {"reports": ["MRI L-spine: severe central stenosis at L4-L5."]}}
    result = _import(resources_of(bundle_for_case(case)))
    assert result.case.history.bmi == 31.5
    assert result.case.imaging.reports == ["MRI L-spine: severe central stenosis at L4-L5."]
    assert result.case.symptoms.pain_locations == ["low_back"]


def test_refuted_resolved_and_not_done_are_reported_not_used() -> None:
    refuted = condition("p1", 1, ICD, "M48.062", "LSS", verificationStatus={"coding": [
        {"code": "refuted"}]})
    resolved = condition("p1", 2, SCT, "278860009", "Chronic LBP",
                         clinicalStatus={"coding": [{"code": "resolved"}]})
    not_done = {"resourceType": "Procedure", "id": "x", "status": "not-done",
                "subject": {"reference": "Patient/p1"},
                "code": {"coding": [{"system": CPT, "code": "27130"}]}}
    result = _import([{"resourceType": "Patient", "id": "p1"}, refuted, resolved, not_done])
    assert result.case.history.prior_treatments == []
    assert result.case.symptoms.pain_locations is None     # resolved pain is not current pain
    whys = {line.resource: line.why for line in result.report.ignored}
    assert whys["Condition/p1-c1"] == "verificationStatus refuted"
    assert whys["Procedure/x"] == "status not-done"
    assert [f.active for f in result.findings] == [False]


def test_observation_units_and_ranges_are_checked_not_converted() -> None:
    def bmi(value: float, unit: str, when: str) -> dict[str, Any]:
        return {"resourceType": "Observation", "id": f"b{value}", "status": "final",
                "effectiveDateTime": when, "code": {"coding": [{"system": LOINC,
                                                                "code": "39156-5"}]},
                "valueQuantity": {"value": value, "code": unit}}
    result = _import([bmi(28, "kg/m2", "2020-01-01"), bmi(30, "kg/m2", "2024-01-01"),
                      bmi(31, "lb/in2", "2025-01-01"), bmi(400, "kg/m2", "2025-02-01")])
    assert result.case.history.bmi == 30                    # latest valid one
    whys = " ".join(line.why for line in result.report.ignored)
    assert "lb/in2" in whys and "outside" in whys


@pytest.mark.parametrize(("answer", "expected"), [("449868002", True), ("8517006", False),
                                                  ("266927001", None)])
def test_smoking_status(answer: str, expected: bool | None) -> None:
    obs = {"resourceType": "Observation", "id": "s", "status": "final",
           "code": {"coding": [{"system": LOINC, "code": "72166-2"}]},
           "valueCodeableConcept": {"coding": [{"system": SCT, "code": answer}]}}
    assert _import([obs]).case.history.smoker is expected


def test_questionnaire_response_becomes_a_prom_entry() -> None:
    qr = {"resourceType": "QuestionnaireResponse", "id": "q", "status": "completed",
          "questionnaire": "urn:hipspine:questionnaire:odi", "authored": "2026-05-02",
          "item": [{"linkId": f"s{i}", "answer": [{"valueInteger": i % 5}]} for i in range(9)]
          + [{"linkId": "s10"}]}
    [prom] = _import([qr]).case.proms
    assert (prom.instrument, prom.date) == ("odi", "2026-05-02")
    assert prom.items == [0, 1, 2, 3, 4, 0, 1, 2, 3, None]


def test_document_reference_text_goes_to_notes() -> None:
    doc = {"resourceType": "DocumentReference", "id": "d", "status": "current",
           "content": [{"attachment": {"contentType": "text/plain; charset=utf-8",
                                       "data": base64.b64encode(b"Groin pain on walking.")
                                       .decode()}}]}
    assert _import([doc]).case.notes == ["Groin pain on walking."]


def test_other_patients_resources_are_ignored_and_two_patients_need_a_choice() -> None:
    res = [{"resourceType": "Patient", "id": "a"}, {"resourceType": "Patient", "id": "b"},
           condition("b", 1, ICD, "M16.11", "OA right hip")]
    with pytest.raises(InputError) as err:
        _import(res)
    assert err.value.problems[0].field == "patient"
    assert _import(res, patient_id="a").findings == []
    assert [f.category for f in _import(res, patient_id="b").findings] == ["hip_oa"]
    with pytest.raises(InputError):
        _import(res, patient_id="nobody")


def test_children_get_no_age_but_a_warning() -> None:
    result = _import([{"resourceType": "Patient", "id": "k", "birthDate": "2019-03-01"}])
    assert result.case.age is None and "outside" in result.report.warnings[0]


@pytest.mark.parametrize("text", ["", "{", '{"no": "type"}', '[1, 2]',
                                  '{"resourceType": "Bundle", "entry": [{"resource": 3}]}'])
def test_bad_documents_name_the_problem(text: str) -> None:
    with pytest.raises(InputError):
        import_text(text)


def test_ndjson_and_single_resource_inputs() -> None:
    lines = "\n".join(json.dumps(r) for r in [{"resourceType": "Patient", "id": "n"},
                                               condition("n", 1, ICD, "M48.062", "LSS")])
    assert len(parse_fhir_text(lines)) == 2
    assert import_text(lines, as_of=AS_OF).categories == {"lumbar_stenosis"}


def test_every_synthea_resource_is_valid_r4_and_read_without_crash(
        synthea_resources: list[dict[str, Any]],
        synthea_patients: dict[str, list[dict[str, Any]]]) -> None:
    assert len(synthea_resources) > 5000
    assert [r for r in synthea_resources if r4_problem(r)] == []
    used = 0
    for _pid, resources in synthea_patients.items():
        if resources[0].get("resourceType") != "Patient":
            continue
        result = import_resources(resources, as_of=dt.date(2026, 1, 1))
        used += len(result.report.mapped) + len(result.report.ignored)
    assert used >= len(synthea_resources) - 200   # only resources with no subject stay outside
    low_back = [pid for pid, res in synthea_patients.items() if any(
        "278860009" in json.dumps(r.get("code", {})) for r in res)]
    assert low_back, "the sample holds chronic low back pain; the import must find it"


_json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8))
_json = st.recursive(_json_leaf, lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.sampled_from(
                         ["code", "coding", "system", "status", "valueQuantity", "value",
                          "subject", "reference", "answer", "item", "presentedForm", "data",
                          "clinicalStatus", "performedDateTime", "onsetDateTime"]),
                         inner, max_size=4), max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["Condition", "Procedure", "Observation", "DiagnosticReport",
                        "QuestionnaireResponse", "DocumentReference", "Encounter"]),
       st.dictionaries(st.sampled_from(["code", "status", "subject", "valueQuantity", "item",
                                        "presentedForm", "clinicalStatus", "conclusion",
                                        "performedDateTime", "content", "questionnaire"]),
                       _json, max_size=5))
def test_malformed_resources_never_crash_the_import(rtype: str, body: dict[str, Any]) -> None:
    result = import_resources([{"resourceType": rtype, "id": "z", **body}], as_of=AS_OF,
                              instruments={"odi"})
    assert len(result.report.mapped) + len(result.report.ignored) >= 1


def _report(rid: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"resourceType": "DiagnosticReport", "id": rid, "status": "final",
            "presentedForm": [{"contentType": "text/plain",
                               "data": base64.b64encode(text.encode()).decode()}], **extra}


@pytest.mark.parametrize(("extra", "where"), [
    ({"category": [{"coding": [{"code": "LP29684-5"}]}]}, "imaging"),       # US Core radiology
    ({"code": {"coding": [{"system": CPT, "code": "72148"}]}}, "imaging"),  # MRI lumbar spine
    ({"code": {"text": "XR PELVIS AP"}}, "imaging"),                        # Epic-style title
    ({"code": {"text": "Basic metabolic panel"}}, "notes"),
    ({"code": {"text": "MRI lumbar spine without contrast"}}, "imaging"),
    ({"code": {"coding": [{"system": LOINC, "code": "34117-2",
                           "display": "History and physical note"}]}}, "notes"),
])
def test_only_imaging_reports_go_to_imaging_reports(extra: dict[str, Any], where: str) -> None:
    case = _import([_report("r", "Some report text.", **extra)]).case
    assert (case.imaging.reports, case.notes) == (
        (["Some report text."], []) if where == "imaging" else ([], ["Some report text."]))
