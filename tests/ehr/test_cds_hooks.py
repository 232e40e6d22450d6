"""CDS Hooks service: discovery, cards, prefetch fallback / 412 and feedback, replaying the
specification's own examples (tests/data/cds-hooks) and checking every card against its rules."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from .bundles import CPT, ICD, SCT, condition
from .cds_helpers import Ehr, check_card, make_app, spec

URL = "/cds-services/hipspine-consider"


def _searchset(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset",
            "entry": [{"resource": r} for r in resources]}


def request_for(pid: str, conditions: list[dict[str, Any]],
                procedures: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body = copy.deepcopy(spec("patient-view-request.json"))
    body["context"]["patientId"] = pid
    body["prefetch"] = {
        "patient": {"resourceType": "Patient", "id": pid, "gender": "female",
                    "birthDate": "1952-04-01"},
        "conditions": _searchset(*conditions),
        "procedures": _searchset(*(procedures or [])),
        "observations": None,            # spec: null = the EHR has no data for this key
    }
    return body


def test_discovery_follows_the_spec_shape(client: TestClient) -> None:
    response = client.get("/cds-services")
    assert response.status_code == 200
    [service] = response.json()["services"]
    example = spec("discovery.json")["services"][0]
    assert set(example) <= set(service) | {"usageRequirements"}
    assert (service["hook"], service["id"]) == ("patient-view", "hipspine-consider")
    assert all("{{context.patientId}}" in q for q in service["prefetch"].values())


def test_hip_oa_in_spine_care_gives_a_warning_card(client: TestClient, ehr: Ehr) -> None:
    body = request_for("p-spine", [condition("p-spine", 1, ICD, "M16.12", "OA left hip")],
                       [{"resourceType": "Procedure", "id": "pr1", "status": "completed",
                         "subject": {"reference": "Patient/p-spine"},
                         "performedDateTime": "2024-02-01",
                         "code": {"coding": [{"system": CPT, "code": "22612"}]}}])
    response = client.post(URL, json=body, headers=ehr.auth())
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    assert [c["summary"] for c in cards] == [
        "Consider hip-spine syndrome: hip osteoarthritis findings in a patient under spine care"]
    card = cards[0]
    assert check_card(card) == [] and card["indicator"] == "warning"
    assert card["links"][0]["url"].startswith("https://hipspine.example.org/intake?prefill=")
    assert "p-spine" not in card["links"][0]["url"]       # no identifiers in the link
    reasons = {r["code"] for r in card["overrideReasons"]}
    assert "action-completed" in reasons                  # the spec's non-adherence codes


def test_spine_findings_in_hip_care_give_the_reverse_card(client: TestClient, ehr: Ehr) -> None:
    body = request_for("p-hip", [condition("p-hip", 1, SCT, "18347007", "Lumbar stenosis")],
                       [{"resourceType": "Procedure", "id": "pr2", "status": "completed",
                         "subject": {"reference": "Patient/p-hip"},
                         "code": {"coding": [{"system": SCT, "code": "52734007"}]}}])
    cards = client.post(URL, json=body, headers=ehr.auth()).json()["cards"]
    assert [c["summary"] for c in cards] == [
        "Consider hip-spine syndrome: lumbar spine findings in a patient under hip care"]
    assert all(check_card(c) == [] for c in cards)


def test_both_coded_gives_one_card_not_three(client: TestClient, ehr: Ehr) -> None:
    body = request_for("p-both", [condition("p-both", 1, ICD, "M16.11", "OA right hip"),
                                  condition("p-both", 2, ICD, "M48.062", "LSS")])
    cards = client.post(URL, json=body, headers=ehr.auth()).json()["cards"]
    assert len(cards) == 1 and check_card(cards[0]) == []
    assert cards[0]["summary"].startswith("Hip osteoarthritis and lumbar spine disease are both")
    assert cards[0]["indicator"] == "info"


def test_nothing_to_say_means_no_cards(client: TestClient, ehr: Ehr) -> None:
    body = request_for("p-none", [condition("p-none", 1, SCT, "444814009", "Viral sinusitis")])
    response = client.post(URL, json=body, headers=ehr.auth())
    assert response.json() == spec("empty-response.json")


def test_spec_request_without_our_prefetch_and_no_server_gets_412(client: TestClient,
                                                                  ehr: Ehr) -> None:
    body = spec("patient-view-request.json")
    del body["fhirServer"], body["fhirAuthorization"]
    response = client.post(URL, json=body, headers=ehr.auth())
    assert response.status_code == 412
    example = spec("operation-outcome-412.json")
    assert response.json()["resourceType"] == example["resourceType"]
    assert set(response.json()["issue"][0]) <= set(example["issue"][0])


def test_spec_request_falls_back_to_the_fhir_server(ehr: Ehr) -> None:
    """The spec's request prefetches only `patientToGreet`: the rest is fetched from
    fhirServer with the fhirAuthorization token, following `next` links."""
    seen: list[httpx.Request] = []
    pid = "1288992"

    def fhir(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        path = request.url.path
        if path.endswith(f"/Patient/{pid}"):
            return httpx.Response(200, json={"resourceType": "Patient", "id": pid,
                                             "birthDate": "1950-01-01"})
        if path.endswith("/Condition") and "page" not in str(request.url):
            return httpx.Response(200, json=_searchset(condition(pid, 1, ICD, "M48.062", "LSS"))
                                  | {"link": [{"relation": "next",
                                               "url": str(request.url) + "&page=2"}]})
        if path.endswith("/Condition"):
            return httpx.Response(200, json=_searchset(condition(pid, 2, ICD, "M16.0", "OA")))
        return httpx.Response(200, json=_searchset())

    client = TestClient(make_app(ehr, fhir_client=httpx.Client(
        transport=httpx.MockTransport(fhir))))
    response = client.post(URL, json=spec("patient-view-request.json"), headers=ehr.auth())
    assert response.status_code == 200, response.text
    assert seen[0].headers["authorization"] == "Bearer some-opaque-fhir-access-token"
    assert str(seen[0].url).startswith("http://hooks.smarthealthit.org:9080/")
    assert len(response.json()["cards"]) == 1      # hip OA (page 2) + stenosis: co-occurring


def test_fhir_server_errors_give_412(ehr: Ehr) -> None:
    client = TestClient(make_app(ehr, fhir_client=httpx.Client(
        transport=httpx.MockTransport(lambda r: httpx.Response(503)))))
    response = client.post(URL, json=spec("patient-view-request.json"), headers=ehr.auth())
    assert response.status_code == 412


def test_prefetch_operation_outcome_counts_as_missing(client: TestClient, ehr: Ehr) -> None:
    body = request_for("p-oo", [])
    body["prefetch"]["conditions"] = spec("operation-outcome-412.json")
    del body["fhirServer"]
    assert client.post(URL, json=body, headers=ehr.auth()).status_code == 412


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda b: b.update(hook="order-sign"), "hook"),
    (lambda b: b.pop("hookInstance"), "hookInstance"),
    (lambda b: b["context"].pop("patientId"), "context.patientId"),
    (lambda b: b.update(prefetch=[1]), "prefetch"),
])
def test_bad_requests_are_422_naming_the_field(client: TestClient, ehr: Ehr, mutate: Any,
                                               field: str) -> None:
    body = spec("patient-view-request.json")
    mutate(body)
    response = client.post(URL, json=body, headers=ehr.auth())
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == field


def test_spec_cards_pass_the_card_checker_and_broken_ones_fail() -> None:
    assert all(check_card(c) == [] for c in spec("card-response.json")["cards"])
    # The spec's own autolaunchable example omits the REQUIRED indicator: the checker sees it.
    [auto] = spec("autolaunchable-response.json")["cards"]
    assert check_card(auto) == ["indicator must be info, warning or critical"]
    assert check_card(auto | {"indicator": "info"}) == []
    bad = spec("card-response.json")["cards"][0] | {"summary": "x" * 140, "indicator": "hard-stop"}
    assert len(check_card(bad)) == 2


@pytest.mark.parametrize("name", ["feedback-accepted.json", "feedback-overridden.json",
                                  "feedback-overridden-reason.json"])
def test_spec_feedback_examples_are_accepted(ehr: Ehr, name: str) -> None:
    received: list[dict[str, Any]] = []
    client = TestClient(make_app(ehr, feedback_sink=received.extend))
    response = client.post(f"{URL}/feedback", json=spec(name),
                           headers=ehr.auth(aud=f"http://testserver{URL}/feedback"))
    assert response.status_code == 200 and response.json() == {}
    assert [r["card"] for r in received] == [f["card"] for f in spec(name)["feedback"]]


def test_bad_feedback_is_422(client: TestClient, ehr: Ehr) -> None:
    body = spec("feedback-accepted.json")
    body["feedback"][0]["outcome"] = "ignored"
    response = client.post(f"{URL}/feedback", json=body, headers=ehr.auth())
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "feedback[0].outcome"


def test_a_report_suggesting_metastasis_leads_with_a_critical_card(client: TestClient,
                                                                   ehr: Ehr) -> None:
    """The red flag comes from the radiology report's text, not from a coded condition."""
    import base64

    report = ("MRI pelvis. Findings: lytic lesion of the right greater trochanter with "
              "aggressive features, suspicious for metastasis.")
    body = request_for("p-flag", [condition("p-flag", 1, ICD, "M70.61", "Trochanteric "
                                            "bursitis, right hip")],
                       [{"resourceType": "Procedure", "id": "pr3", "status": "completed",
                         "subject": {"reference": "Patient/p-flag"},
                         "code": {"coding": [{"system": CPT, "code": "22612"}]}}])
    body["prefetch"]["reports"] = _searchset({
        "resourceType": "DiagnosticReport", "id": "dr1", "status": "final",
        "subject": {"reference": "Patient/p-flag"}, "code": {"text": "MRI pelvis"},
        "presentedForm": [{"contentType": "text/plain",
                           "data": base64.b64encode(report.encode()).decode()}]})
    cards = client.post(URL, json=body, headers=ehr.auth()).json()["cards"]
    assert cards and all(check_card(c) == [] for c in cards)
    assert cards[0]["indicator"] == "critical"
    assert cards[0]["summary"].startswith("Red flag: Imaging suggests a bone tumour, metastasis")
    assert "Scottish" in cards[0]["detail"]


def test_a_coded_cancer_history_leads_with_a_critical_card(client: TestClient,
                                                           ehr: Ehr) -> None:
    body = request_for("p-ca", [condition("p-ca", 1, ICD, "Z85.46", "History of prostate "
                                          "cancer"),
                                condition("p-ca", 2, ICD, "M16.12", "OA left hip")],
                       [{"resourceType": "Procedure", "id": "pr4", "status": "completed",
                         "subject": {"reference": "Patient/p-ca"},
                         "code": {"coding": [{"system": CPT, "code": "22612"}]}}])
    cards = client.post(URL, json=body, headers=ehr.auth()).json()["cards"]
    assert [c["indicator"] for c in cards] == ["critical", "warning"]
    assert cards[0]["summary"].startswith("Red flag: History of cancer")


def test_a_clinic_note_with_cauda_equina_symptoms_leads_with_a_critical_card(
        client: TestClient, ehr: Ehr) -> None:
    """The optional `notes` prefetch (DocumentReference) is read for red-flag symptoms."""
    import base64

    note = ("Back pain for 6 weeks. Since yesterday new difficulty passing urine and numbness "
            "around the back passage.")
    body = request_for("p-ces", [condition("p-ces", 1, ICD, "M48.062", "LSS"),
                                 condition("p-ces", 2, ICD, "M16.12", "OA left hip")])
    body["prefetch"]["notes"] = _searchset({
        "resourceType": "DocumentReference", "id": "doc1", "status": "current",
        "subject": {"reference": "Patient/p-ces"},
        "content": [{"attachment": {"contentType": "text/plain",
                                    "data": base64.b64encode(note.encode()).decode()}}]})
    cards = client.post(URL, json=body, headers=ehr.auth()).json()["cards"]
    assert cards[0]["indicator"] == "critical"
    assert cards[0]["summary"].startswith("Red flag: Bladder or bowel dysfunction; Saddle")
    assert all(check_card(c) == [] for c in cards)
