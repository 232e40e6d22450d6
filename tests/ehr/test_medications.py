"""Medicines and allergies in the FHIR import: matched by ingredient whatever the product
code, counted only when the active rule says so, and reported either way."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from hipspine.ehr.fhir_in import import_resources, import_text
from hipspine.ehr.medications import (
    R4_REQUEST_INTENT,
    R4_REQUEST_STATUS,
    MedicationKnowledge,
    load_medication_knowledge,
    packaged_index,
    request_verdict,
    statement_verdict,
)
from hipspine.kb import read_yaml
from hipspine.plan import plan_case

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
AS_OF = dt.date(2026, 6, 1)
BUNDLE = Path(__file__).resolve().parents[1] / "data" / "medications" / \
    "anticoagulated-nsaid-allergy.json"
RULE = load_medication_knowledge().active_rule


def _patient(pid: str = "p1") -> dict[str, Any]:
    return {"resourceType": "Patient", "id": pid, "gender": "male", "birthDate": "1950-01-01"}


def _request(code: str, display: str, *, status: str = "active", intent: str = "order",
             n: int = 1, system: str = RXNORM, **extra: Any) -> dict[str, Any]:
    return {"resourceType": "MedicationRequest", "id": f"mr{n}", "status": status,
            "intent": intent, "subject": {"reference": "Patient/p1"},
            "authoredOn": "2025-01-10",
            "medicationCodeableConcept": {"coding": [{"system": system, "code": code,
                                                      "display": display}]}, **extra}


def _history(*resources: dict[str, Any]) -> dict[str, Any]:
    result = import_resources([_patient(), *resources], as_of=AS_OF)
    return result.case.history.model_dump(exclude_none=True, exclude={"prior_treatments"})


# --- the test bundle in Synthea's coding: import -> case -> plan ---------------------------

def test_an_active_warfarin_product_and_an_ibuprofen_allergy_make_oral_nsaids_avoid() -> None:
    result = import_text(BUNDLE.read_text(), as_of=AS_OF)
    history = result.case.history
    assert history.anticoagulant is True          # RxNorm 855332 is a product, not warfarin
    assert history.nsaid_intolerance is True      # RxNorm 5640 ibuprofen allergy
    assert history.antiplatelet is None           # clopidogrel stopped: reported, not counted
    rows = {m["resource"]: m for m in result.report.medications}
    assert rows["MedicationRequest/med-1-warfarin"]["counted"] is True
    assert rows["MedicationRequest/med-1-warfarin"]["ingredients"] == ["warfarin"]
    stopped = rows["MedicationRequest/med-1-clopidogrel"]
    assert not stopped["counted"] and "stopped" in stopped["why"] and "2019-03-02" in stopped["why"]
    refuted = rows["AllergyIntolerance/med-1-aspirin-refuted"]
    assert not refuted["counted"] and "refuted" in refuted["why"]
    assert "not counted" in result.report.render()
    plan = plan_case(result.case)
    oral = next(m for m in plan.medications if m.drug_class.startswith("oral NSAID"))
    assert oral.recommendation == "avoid"
    assert "anticoagulant" in oral.why.lower()


def test_the_bundle_is_coded_as_synthea_lists_it_not_as_our_table_spells_it() -> None:
    """The bundle's displays are Synthea's (lower-case 'warfarin sodium'); the match is by
    code, so no text fallback warning is raised."""
    result = import_text(BUNDLE.read_text(), as_of=AS_OF)
    assert not [w for w in result.report.warnings if "text only" in w]
    data = json.loads(BUNDLE.read_text())
    codes = {c["code"] for e in data["entry"]
             for key in ("medicationCodeableConcept", "code")
             for c in e["resource"].get(key, {}).get("coding", [])
             if c["system"] == RXNORM}
    assert codes == {"855332", "309362", "5640", "1191"}


# --- the shared Synthea sample --------------------------------------------------------------

def test_the_synthea_sample_imports_its_medicines_and_allergies(
        synthea_patients: dict[str, list[dict[str, Any]]]) -> None:
    counted = stopped = allergies = 0
    for pid, resources in synthea_patients.items():
        if resources[0]["resourceType"] != "Patient":
            continue
        result = import_resources(resources, as_of=AS_OF)
        for row in result.report.medications:
            res = next(r for r in resources if f"{r['resourceType']}/{r['id']}" == row["resource"])
            if res["resourceType"] == "AllergyIntolerance":
                allergies += 1
                continue
            # active and stopped told apart: counted exactly when the request is active
            assert row["counted"] == (res["status"] == "active"), row
            counted += row["counted"]
            stopped += res["status"] == "stopped"
        assert not [w for w in result.report.warnings if "text only" in w], pid
    assert counted >= 2 and stopped >= 10 and allergies >= 1


def test_the_sample_aspirin_allergy_sets_nsaid_intolerance_and_stopped_ibuprofen_does_not(
        synthea_patients: dict[str, list[dict[str, Any]]]) -> None:
    resources = synthea_patients["cbc86e51-9eca-3855-76ec-c058f72c5761"]
    result = import_resources(resources, as_of=AS_OF)
    assert result.case.history.nsaid_intolerance is True
    assert result.case.history.nsaid_use is None
    ibuprofen = [m for m in result.report.medications if "ibuprofen" in m["ingredients"]]
    assert ibuprofen and not any(m["counted"] for m in ibuprofen)


def test_every_medicine_class_product_in_the_sample_is_in_the_product_table(
        synthea_resources: list[dict[str, Any]]) -> None:
    """The sample's NSAID, aspirin and opioid products resolve by code, not by text."""
    index = packaged_index()
    by_text = {r["medicationCodeableConcept"]["text"] for r in synthea_resources
               if r["resourceType"] == "MedicationRequest"
               and (m := index.match(r["medicationCodeableConcept"])) is not None and m.from_text}
    assert by_text == set()


# --- matching by ingredient -----------------------------------------------------------------

@pytest.mark.parametrize(("code", "display", "system", "fact"), [
    ("855332", "warfarin sodium 5 MG Oral Tablet", RXNORM, "anticoagulant"),   # SCD
    ("11289", "warfarin", RXNORM, "anticoagulant"),                             # ingredient
    ("206905", "Ibuprofen 400 MG Oral Tablet [Ibu]", RXNORM, "nsaid_use"),      # SBD
    ("1049636", "Acetaminophen 325 MG / oxyCODONE Hydrochloride 2.5 MG [Percocet]", RXNORM,
     "opioid_use"),                                                             # combination
    ("483438", "pregabalin 100 MG Oral Capsule", RXNORM, "gabapentinoid_use"),
    ("312617", "predniSONE 5 MG Oral Tablet", RXNORM, "corticosteroid_use"),
    ("B01AC04", "clopidogrel", ATC, "antiplatelet"),                            # ATC exact
    ("B01AF01", "", ATC, "anticoagulant"),                                      # ATC group
])
def test_a_medicine_is_matched_by_its_ingredient_whatever_the_code(
        code: str, display: str, system: str, fact: str) -> None:
    assert _history(_request(code, display, system=system)) == {fact: True}


def test_an_unknown_code_falls_back_to_the_text_with_a_warning() -> None:
    res = _request("999999999", "Ibuprofen 800 MG Oral Tablet")
    result = import_resources([_patient(), res], as_of=AS_OF)
    assert result.case.history.nsaid_use is True
    assert any("text only" in w and "ibuprofen" in w for w in result.report.warnings)


def test_a_topical_corticosteroid_is_reported_but_not_counted() -> None:
    res = _request("106258", "Hydrocortisone 10 MG/ML Topical Cream")
    result = import_resources([_patient(), res], as_of=AS_OF)
    assert result.case.history.corticosteroid_use is None
    [row] = result.report.medications
    assert not row["counted"] and "not systemic" in row["why"]


def test_a_medicine_of_no_class_sets_nothing() -> None:
    assert _history(_request("314076", "lisinopril 10 MG Oral Tablet")) == {}


def test_no_record_is_not_known_never_false() -> None:
    history = import_resources([_patient()], as_of=AS_OF).case.history
    for name in ("anticoagulant", "antiplatelet", "nsaid_use", "opioid_use",
                 "gabapentinoid_use", "corticosteroid_use", "nsaid_intolerance"):
        assert getattr(history, name) is None


def test_medication_reference_is_resolved_contained_and_in_the_bundle() -> None:
    medication = {"resourceType": "Medication", "id": "m1",
                  "code": {"coding": [{"system": RXNORM, "code": "309362"}]}}
    by_bundle = _request("x", "x")
    del by_bundle["medicationCodeableConcept"]
    by_bundle["medicationReference"] = {"reference": "Medication/m1"}
    assert _history(medication, by_bundle) == {"antiplatelet": True}
    contained = copy.deepcopy(by_bundle)
    contained["medicationReference"] = {"reference": "#c1"}
    contained["contained"] = [{"resourceType": "Medication", "id": "c1",
                               "code": {"coding": [{"system": RXNORM, "code": "864718"}]}}]
    assert _history(contained) == {"opioid_use": True}


# --- the active rule ------------------------------------------------------------------------

@pytest.mark.parametrize(("changes", "counts"), [
    ({"status": "on-hold"}, True),
    ({"intent": "plan"}, True),
    ({"intent": "proposal"}, False),
    ({"status": "completed"}, False),
    ({"status": "entered-in-error"}, False),
    ({"authoredOn": "2026-07-01"}, False),                   # after as-of
    ({"dispenseRequest": {"validityPeriod": {"start": "2025-01-10", "end": "2025-12-31"}}},
     False),                                                   # ended before as-of
    ({"dispenseRequest": {"validityPeriod": {"start": "2026-07-01"}}}, False),
    ({"dispenseRequest": {"validityPeriod": {"start": "2026-01-01", "end": "2026-12-31"}}},
     True),
])
def test_request_status_intent_and_period(changes: dict[str, Any], counts: bool) -> None:
    res = _request("855332", "warfarin sodium 5 MG Oral Tablet", **changes)
    assert request_verdict(res, RULE, AS_OF).counts is counts
    assert (_history(res).get("anticoagulant") is True) is counts


def test_an_old_active_request_counts_with_a_warning() -> None:
    res = _request("855332", "warfarin", authoredOn="2015-02-01")
    result = import_resources([_patient(), res], as_of=AS_OF)
    assert result.case.history.anticoagulant is True
    assert any("check it is still taken" in w for w in result.report.warnings)


@pytest.mark.parametrize(("status", "period", "counts"), [
    ("active", None, True), ("intended", None, False), ("completed", None, False),
    ("not-taken", None, False), ("active", {"start": "2024-01-01", "end": "2025-01-01"}, False),
])
def test_medication_statement(status: str, period: dict[str, str] | None, counts: bool) -> None:
    res: dict[str, Any] = {"resourceType": "MedicationStatement", "id": "ms1", "status": status,
                           "subject": {"reference": "Patient/p1"},
                           "medicationCodeableConcept": {"coding": [{"system": RXNORM,
                                                                     "code": "198014"}]}}
    if period:
        res["effectivePeriod"] = period
    assert statement_verdict(res, RULE, AS_OF).counts is counts
    assert (_history(res).get("nsaid_use") is True) is counts


def _allergy(code: str, clinical: str | None, verification: str | None,
             system: str = RXNORM, text: str = "") -> dict[str, Any]:
    res: dict[str, Any] = {"resourceType": "AllergyIntolerance", "id": "a1",
                           "patient": {"reference": "Patient/p1"},
                           "code": {"coding": [{"system": system, "code": code}], "text": text}}
    if clinical:
        res["clinicalStatus"] = {"coding": [{"code": clinical}]}
    if verification:
        res["verificationStatus"] = {"coding": [{"code": verification}]}
    return res


@pytest.mark.parametrize(("clinical", "verification", "counts"), [
    ("active", "confirmed", True), ("active", "unconfirmed", True), (None, None, True),
    ("active", "refuted", False), ("active", "entered-in-error", False),
    ("inactive", "confirmed", False), ("resolved", "confirmed", False),
])
def test_allergy_status(clinical: str | None, verification: str | None, counts: bool) -> None:
    assert (_history(_allergy("1191", clinical, verification))
            .get("nsaid_intolerance") is True) is counts


def test_a_snomed_coded_nsaid_allergy_is_read_from_its_text_with_a_warning() -> None:
    res = _allergy("000000", "active", "confirmed", system="http://snomed.info/sct",
                   text="Allergy to naproxen")
    result = import_resources([_patient(), res], as_of=AS_OF)
    assert result.case.history.nsaid_intolerance is True
    assert any("text only" in w for w in result.report.warnings)


def test_an_allergy_to_another_drug_sets_nothing() -> None:
    assert _history(_allergy("7984", "active", "confirmed", text="Penicillin V")) == {}


STATUS = st.sampled_from(sorted(R4_REQUEST_STATUS | {"", "bogus"}))
INTENT = st.sampled_from(sorted(R4_REQUEST_INTENT | {"bogus"}))
DAY = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2035, 12, 31))


@settings(max_examples=300, deadline=None)
@given(status=STATUS, intent=INTENT, authored=st.none() | DAY, start=st.none() | DAY,
       end=st.none() | DAY, as_of=DAY)
def test_no_stopped_or_ended_medicine_ever_counts(status: str, intent: str,
                                                  authored: dt.date | None,
                                                  start: dt.date | None, end: dt.date | None,
                                                  as_of: dt.date) -> None:
    res: dict[str, Any] = {"resourceType": "MedicationRequest", "status": status,
                           "intent": intent}
    if authored:
        res["authoredOn"] = authored.isoformat()
    if start or end:
        res["dispenseRequest"] = {"validityPeriod": {k: v.isoformat() for k, v in
                                                     (("start", start), ("end", end)) if v}}
    verdict = request_verdict(res, RULE, as_of)
    if verdict.counts:
        assert status in ("active", "on-hold")
        assert intent not in ("proposal", "option", "bogus")
        assert end is None or end >= as_of
        assert start is None or start <= as_of
        assert authored is None or authored <= as_of
    else:
        assert verdict.why  # a record that does not count always says why


# --- the knowledge file is checked --------------------------------------------------------

def test_an_r4_status_left_out_of_the_rule_is_a_knowledge_error() -> None:
    data = read_yaml("ehr/medications.yaml")
    data["active_rule"]["medication_request"]["skip_status"].remove("stopped")
    with pytest.raises(ValidationError, match="stopped"):
        MedicationKnowledge.model_validate(data)


def test_a_product_naming_an_unknown_ingredient_is_a_knowledge_error() -> None:
    data = read_yaml("ehr/medications.yaml")
    data["products"]["rows"][0]["ingredients"] = ["warfarine"]
    with pytest.raises(ValidationError, match="warfarine"):
        MedicationKnowledge.model_validate(data)


def test_every_class_and_product_row_says_where_it_comes_from() -> None:
    kb = load_medication_knowledge()
    assert all(p.source and p.how for p in kb.products.rows)
    assert all(i.source for c in kb.classes for i in c.ingredients)
    assert {c.fact for c in kb.classes} == {
        "history.anticoagulant", "history.antiplatelet", "history.nsaid_use",
        "history.opioid_use", "history.gabapentinoid_use", "history.corticosteroid_use"}
