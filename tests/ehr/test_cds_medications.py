"""CDS Hooks: the medication safety warnings beside the hip-spine card, from the optional
`medications` and `allergies` prefetch keys (end to end: POST with prefetch -> cards)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from hipspine.ehr.cds.cards import load_card_rules

from .cds_helpers import Ehr, check_card, spec

URL = "/cds-services/hipspine-consider"
BUNDLE = Path(__file__).resolve().parents[1] / "data" / "medications" / \
    "anticoagulated-nsaid-allergy.json"
ANTICOAGULANT = load_card_rules().medication_warnings[0].summary
NSAID_ALLERGY = load_card_rules().medication_warnings[1].summary


def _searchset(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset",
            "entry": [{"resource": r} for r in resources]}


def _of(kind: str) -> list[dict[str, Any]]:
    entries = json.loads(BUNDLE.read_text())["entry"]
    return [copy.deepcopy(e["resource"]) for e in entries if e["resource"]["resourceType"] == kind]


def request(*, medications: bool = True, allergies: bool = True,
            drop: tuple[str, ...] = ()) -> dict[str, Any]:
    body = copy.deepcopy(spec("patient-view-request.json"))
    body["context"]["patientId"] = "med-1"
    body["prefetch"] = {"patient": _of("Patient")[0],
                        "conditions": _searchset(_of("Condition")),
                        "procedures": _searchset([])}
    if medications:
        body["prefetch"]["medications"] = _searchset(
            [r for r in _of("MedicationRequest") if r["id"] not in drop])
    if allergies:
        body["prefetch"]["allergies"] = _searchset(
            [r for r in _of("AllergyIntolerance") if r["id"] not in drop])
    return body


def _summaries(client: TestClient, ehr: Ehr, body: dict[str, Any]) -> list[str]:
    response = client.post(URL, json=body, headers=ehr.auth())
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    assert all(check_card(c) == [] for c in cards)
    return [c["summary"] for c in cards]


def test_discovery_asks_for_medicines_and_allergies(client: TestClient) -> None:
    [service] = client.get("/cds-services").json()["services"]
    assert service["prefetch"]["medications"].startswith("MedicationRequest?patient="
                                                         "{{context.patientId}}")
    assert service["prefetch"]["allergies"] == "AllergyIntolerance?patient={{context.patientId}}"


def test_the_anticoagulated_patient_with_an_nsaid_allergy_gets_both_warnings(
        client: TestClient, ehr: Ehr) -> None:
    response = client.post(URL, json=request(), headers=ehr.auth())
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    summaries = [c["summary"] for c in cards]
    assert summaries[0].startswith("Hip osteoarthritis and lumbar spine disease")  # hip-spine
    assert ANTICOAGULANT in summaries and NSAID_ALLERGY in summaries
    warning = next(c for c in cards if c["summary"] == ANTICOAGULANT)
    assert warning["indicator"] == "warning" and check_card(warning) == []
    # the card names the record that set the fact: the product, its ingredient, its status
    assert "855332" in warning["detail"] and "warfarin" in warning["detail"]
    assert "status active" in warning["detail"]
    assert "clopidogrel" not in warning["detail"]          # stopped: not on the card


def test_a_stopped_or_refuted_record_gives_no_warning(client: TestClient, ehr: Ehr) -> None:
    summaries = _summaries(client, ehr, request(drop=("med-1-warfarin", "med-1-ibuprofen")))
    assert ANTICOAGULANT not in summaries and NSAID_ALLERGY not in summaries
    assert not any(s.startswith("On an antiplatelet") for s in summaries)  # clopidogrel stopped
    assert summaries  # the hip-spine card itself still shows


def test_the_medicine_keys_are_optional(client: TestClient, ehr: Ehr) -> None:
    """Without them nothing is fetched and nothing is refused: the hip-spine card alone."""
    summaries = _summaries(client, ehr, request(medications=False, allergies=False))
    assert summaries and ANTICOAGULANT not in summaries and NSAID_ALLERGY not in summaries


def test_only_the_allergy_key_gives_only_the_allergy_warning(client: TestClient,
                                                             ehr: Ehr) -> None:
    summaries = _summaries(client, ehr, request(medications=False))
    assert NSAID_ALLERGY in summaries and ANTICOAGULANT not in summaries


def test_no_hip_spine_content_means_no_medication_card_either(client: TestClient,
                                                              ehr: Ehr) -> None:
    """The service speaks about hip-spine syndrome; an anticoagulant alone is not its topic."""
    body = request()
    body["prefetch"]["conditions"] = _searchset([])
    assert _summaries(client, ehr, body) == []
