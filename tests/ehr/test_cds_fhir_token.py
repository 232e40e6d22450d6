"""The EHR's FHIR access token (`fhirAuthorization`) goes only to the origin of `fhirServer`:
a `next` link naming another scheme, host or port is refused, never followed with the token
(nor without it)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from .cds_helpers import Ehr, make_app, spec

URL = "/cds-services/hipspine-consider"
TOKEN = "some-opaque-fhir-access-token"   # the spec request's fhirAuthorization


def _bundle(next_url: str | None = None) -> dict[str, Any]:
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "entry": []}
    if next_url is not None:
        bundle["link"] = [{"relation": "next", "url": next_url}]
    return bundle


@pytest.mark.parametrize("next_url", [
    "https://evil.example/fhir/Condition?page=2",                 # another host
    "https://hooks.smarthealthit.org:9080/Condition?page=2",      # another scheme
    "http://hooks.smarthealthit.org:9081/Condition?page=2",       # another port
    "http://hooks.smarthealthit.org/Condition?page=2",            # default port 80 != 9080
    "http://hooks.smarthealthit.org.evil.example:9080/Condition?page=2",
    "http://hooks.smarthealthit.org:9080@evil.example/Condition?page=2",  # userinfo trick
    "//evil.example/Condition?page=2",                            # scheme-relative
    "file:///etc/passwd",
])
def test_a_next_link_to_another_origin_is_refused_and_gets_no_token(
        ehr: Ehr, next_url: str) -> None:
    seen: list[httpx.Request] = []

    def fhir(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/Condition") and "page" not in str(request.url):
            return httpx.Response(200, json=_bundle(next_url))
        return httpx.Response(200, json={"resourceType": "Patient", "id": "1288992"}
                              if "/Patient/" in request.url.path else _bundle())

    client = TestClient(make_app(ehr, fhir_client=httpx.Client(
        transport=httpx.MockTransport(fhir))))
    response = client.post(URL, json=spec("patient-view-request.json"), headers=ehr.auth())
    assert response.status_code == 412, response.text
    text = response.json()["issue"][0]["details"]["text"]
    assert "next" in text and "only to the FHIR server's origin" in text
    assert seen, "the FHIR server itself was queried"
    for request in seen:   # nothing, and no token, went anywhere else
        url = request.url
        assert (url.scheme, url.host, url.port) == ("http", "hooks.smarthealthit.org", 9080)
        assert request.headers["authorization"] == f"Bearer {TOKEN}"


def test_next_links_on_the_same_origin_are_followed_with_the_token(ehr: Ehr) -> None:
    seen: list[httpx.Request] = []

    def fhir(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/Condition") and "page" not in str(request.url):
            # relative and explicit-origin next links both stay on the server
            return httpx.Response(200, json=_bundle("Condition?patient=1288992&page=2"))
        if request.url.path.endswith("/Procedure") and "page" not in str(request.url):
            return httpx.Response(200, json=_bundle(
                "HTTP://Hooks.SmartHealthIT.org:9080/Procedure?page=2"))
        return httpx.Response(200, json={"resourceType": "Patient", "id": "1288992"}
                              if "/Patient/" in request.url.path else _bundle())

    client = TestClient(make_app(ehr, fhir_client=httpx.Client(
        transport=httpx.MockTransport(fhir))))
    response = client.post(URL, json=spec("patient-view-request.json"), headers=ehr.auth())
    assert response.status_code == 200, response.text
    pages = [str(r.url) for r in seen if "page=2" in str(r.url)]
    assert len(pages) == 2
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in seen)


def test_origin_fills_in_default_ports_and_ignores_case() -> None:
    from hipspine.ehr.cds.router import origin

    assert origin("https://EHR.example/fhir") == ("https", "ehr.example", 443)
    assert origin("http://ehr.example:8080/") == ("http", "ehr.example", 8080)
    assert origin("ftp://ehr.example/") is None
    assert origin("http://ehr.example:99999/") is None
    assert origin("not a url") is None
