"""The EHR's JWT is checked on every call: unsigned, forged, expired, replayed, wrong-audience,
untrusted-issuer and wrong-algorithm calls are refused with 401; jku key sets are cached."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from hipspine.ehr.cds import CdsConfig, TrustedIssuer
from hipspine.ehr.cds.auth import JwtVerifier, Unauthorized
from hipspine.ehr.cds.replay import MemoryReplayStore, ReplayStore, SqliteReplayStore

from .cds_helpers import AUD, ISS, Ehr, make_app, spec

URL = "/cds-services/hipspine-consider"


@pytest.fixture(scope="module")
def ehr() -> Ehr:
    return Ehr()


@pytest.fixture(scope="module")
def client(ehr: Ehr) -> TestClient:
    return TestClient(make_app(ehr))


def _call(client: TestClient, headers: dict[str, str]) -> int:
    body = spec("patient-view-request.json")
    del body["fhirServer"], body["fhirAuthorization"]
    return client.post(URL, json=body, headers=headers).status_code


def test_a_valid_token_gets_through(client: TestClient, ehr: Ehr) -> None:
    assert _call(client, ehr.auth()) == 412   # past authentication; prefetch is missing


def test_each_bad_token_is_refused_with_401_and_no_detail(client: TestClient, ehr: Ehr) -> None:
    forger = Ehr(kid=ehr.kid)            # same kid, different private key
    unsigned = jwt.encode({"iss": ISS, "aud": AUD, "exp": int(time.time()) + 60, "jti": "u"},
                          key="", algorithm="none")
    hs256 = jwt.encode({"iss": ISS, "aud": AUD, "exp": int(time.time()) + 60, "jti": "h"},
                       key="shared-secret-of-at-least-32-bytes!!", algorithm="HS256")
    bad = {
        "missing": {},
        "not bearer": {"Authorization": "Basic abc"},
        "garbage": {"Authorization": "Bearer not.a.jwt"},
        "unsigned": {"Authorization": f"Bearer {unsigned}"},
        "hs256": {"Authorization": f"Bearer {hs256}"},
        "forged": forger.auth(),
        "expired": ehr.auth(exp_in=-120),
        "wrong audience": ehr.auth(aud="https://other.example.org/cds-services/x"),
        "untrusted issuer": ehr.auth(iss="https://evil.example.org/"),
        "too long-lived": ehr.auth(exp_in=24 * 3600),
        "no jti": {"Authorization": "Bearer " + jwt.encode(
            {"iss": ISS, "aud": AUD, "exp": int(time.time()) + 60}, ehr.key,
            algorithm="ES384", headers={"kid": ehr.kid})},
        "unknown kid": ehr.auth(headers={"kid": "other"}),
    }
    for name, headers in bad.items():
        response = TestClient(client.app).post(URL, json=spec("patient-view-request.json"),
                                               headers=headers)
        assert (name, response.status_code, response.json()) == (name, 401, {})


def test_a_replayed_token_is_refused(client: TestClient, ehr: Ehr) -> None:
    headers = ehr.auth()
    assert _call(client, headers) == 412
    assert _call(client, headers) == 401


def test_feedback_needs_a_token_too(client: TestClient) -> None:
    response = client.post(f"{URL}/feedback", json=spec("feedback-accepted.json"))
    assert response.status_code == 401


def test_the_specs_example_token_verifies_with_its_jwks_until_it_expires() -> None:
    """tests/data/cds-hooks holds the spec's ES384 example: signature from its JWKS, audience
    and issuer from its payload. At its own time it passes; today it is expired."""
    token = (spec_text("jwt-token.txt")).strip()
    payload = spec("jwt-payload.json")
    config = CdsConfig(issuers=(TrustedIssuer(iss=payload["iss"], jwks=spec("jwks.json")),),
                       max_token_lifetime_seconds=10 ** 9)
    at_issue = JwtVerifier(config, clock=lambda: payload["iat"] + 10)
    claims = at_issue.verify(f"Bearer {token}", [payload["aud"]])
    assert claims["jti"] == payload["jti"]
    with pytest.raises(Unauthorized, match="expired"):
        JwtVerifier(config).verify(f"Bearer {token}", [payload["aud"]])
    with pytest.raises(Unauthorized, match="InvalidAudience"):
        at_issue.verify(f"Bearer {token}", ["https://cds.example.org/cds-services/other"])


def spec_text(name: str) -> str:
    from .cds_helpers import DATA

    return (DATA / name).read_text(encoding="utf-8")


def test_jku_key_sets_are_fetched_only_from_allowed_urls_and_cached(ehr: Ehr) -> None:
    fetched: list[str] = []

    def fetch(url: str) -> Any:
        fetched.append(url)
        return ehr.jwks

    jku = "https://ehr.example.org/keys/jwks.json"
    config = CdsConfig(issuers=(TrustedIssuer(iss=ISS, jku_allowed=("https://ehr.example.org/keys",)),))
    verifier = JwtVerifier(config, fetch_json=fetch)
    for _ in range(3):
        verifier.verify(f"Bearer {ehr.token(headers={'jku': jku})}", [AUD])
    assert fetched == [jku]
    with pytest.raises(Unauthorized, match="allow-list"):
        verifier.verify(f"Bearer {ehr.token(headers={'jku': 'https://evil.example.org/k'})}",
                        [AUD])


def test_configured_jwks_url_and_unreachable_keys(ehr: Ehr) -> None:
    config = CdsConfig(issuers=(TrustedIssuer(iss=ISS, jwks_url="https://ehr.example.org/j"),))
    ok = JwtVerifier(config, fetch_json=lambda url: ehr.jwks)
    assert ok.verify(f"Bearer {ehr.token()}", [AUD])["iss"] == ISS

    def down(url: str) -> Any:
        raise OSError("network down")

    with pytest.raises(Unauthorized, match="not reachable"):
        JwtVerifier(config, fetch_json=down).verify(f"Bearer {ehr.token()}", [AUD])


def test_no_trusted_issuer_configured_refuses_everyone(ehr: Ehr) -> None:
    from fastapi import FastAPI

    from hipspine.ehr.cds import create_cds_router

    app = FastAPI()
    app.include_router(create_cds_router(CdsConfig()))
    client = TestClient(app)
    assert client.get("/cds-services").status_code == 200
    assert _call(client, ehr.auth()) == 401


def test_issuers_from_the_environment() -> None:
    env = {"HIPSPINE_CDS_ISSUERS": json.dumps([{"iss": ISS, "jwks_url": "https://x/j"}]),
           "HIPSPINE_CDS_BASE_URL": "https://cds.example.org",
           "HIPSPINE_CDS_APP_URL": "https://app.example.org/"}
    config = CdsConfig.from_env(env)
    assert config.issuer(ISS) is not None and config.app_url == "https://app.example.org"
    from hipspine.errors import InputError

    with pytest.raises(InputError):
        CdsConfig.from_env({"HIPSPINE_CDS_ISSUERS": "{"})


@pytest.fixture(params=["memory", "sqlite"])
def replay_store(request: pytest.FixtureRequest, tmp_path: Any) -> ReplayStore:
    if request.param == "memory":
        return MemoryReplayStore()
    return SqliteReplayStore(str(tmp_path / "jti.sqlite"))


def test_each_replay_store_admits_a_jti_once_until_its_time_is_up(
        replay_store: ReplayStore) -> None:
    assert replay_store.first_use("a", until=100, now=50)
    assert not replay_store.first_use("a", until=100, now=60)     # replay
    assert replay_store.first_use("b", until=100, now=60)         # another token
    assert not replay_store.first_use("a", until=300, now=100)    # still remembered at 100
    assert replay_store.first_use("a", until=300, now=101)        # forgotten after 100
    assert not replay_store.first_use("a", until=400, now=200)


def test_a_replayed_token_is_refused_by_every_worker(ehr: Ehr, tmp_path: Any) -> None:
    """Two routers stand for two worker processes sharing HIPSPINE_CDS_REPLAY_DB: the token
    the first accepted is refused by the second, and the first never sees it again either."""
    from fastapi import FastAPI

    from hipspine.ehr.cds import create_cds_router

    env = {"HIPSPINE_CDS_ISSUERS": json.dumps([{"iss": ISS, "jwks": ehr.jwks}]),
           "HIPSPINE_CDS_BASE_URL": "http://testserver",
           "HIPSPINE_CDS_REPLAY_DB": str(tmp_path / "jti.sqlite")}
    config = CdsConfig.from_env(env)
    assert config.replay_db == env["HIPSPINE_CDS_REPLAY_DB"]
    workers = []
    for _ in range(2):
        app = FastAPI()
        app.include_router(create_cds_router(config))
        workers.append(TestClient(app))
    first, second = workers
    headers = ehr.auth()
    assert _call(first, headers) == 412       # accepted (prefetch missing)
    assert _call(second, headers) == 401
    assert _call(first, headers) == 401
    assert _call(second, ehr.auth()) == 412   # a fresh token still gets through


_start: Any = None


def _hold_at(barrier: Any) -> None:
    global _start
    _start = barrier


def _admitted(path: str, jtis: list[str]) -> list[str]:
    store = SqliteReplayStore(path)   # each worker process opens the file itself
    _start.wait()                     # all at once, on a new file
    return [j for j in jtis if store.first_use(j, until=2e9, now=1e9)]


def test_processes_racing_on_the_same_jti_admit_it_exactly_once(tmp_path: Any) -> None:
    import multiprocessing

    fork = multiprocessing.get_context("fork")
    jtis = [f"jti-{n}" for n in range(50)]
    for attempt in range(5):
        path = str(tmp_path / f"jti-{attempt}.sqlite")
        with fork.Pool(4, initializer=_hold_at, initargs=(fork.Barrier(4),)) as pool:
            admitted = pool.starmap(_admitted, [(path, jtis)] * 4)
        flat = [j for worker in admitted for j in worker]
        assert sorted(flat) == sorted(jtis)   # each once: none lost, none admitted twice


def test_a_replay_store_that_cannot_answer_refuses(ehr: Ehr) -> None:
    class Broken:
        def first_use(self, jti: str, until: float, now: float) -> bool:
            raise OSError("disk gone")

    config = CdsConfig(issuers=(TrustedIssuer(iss=ISS, jwks=ehr.jwks),))
    with pytest.raises(Unauthorized, match="replay store unavailable"):
        JwtVerifier(config, replay_store=Broken()).verify(f"Bearer {ehr.token()}", [AUD])
