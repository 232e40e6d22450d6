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


# --------------------------------------------------------------------------- audience


def test_without_a_configured_base_url_every_call_is_refused_whatever_the_host(
        ehr: Ehr, caplog: pytest.LogCaptureFixture) -> None:
    """The audience comes from HIPSPINE_CDS_BASE_URL only. Unset, a token minted for another
    service (its URL as `aud`, its name in the Host header) used to pass the check against the
    request's own base URL; now every service call is refused and start-up says why."""
    with caplog.at_level("WARNING", logger="hipspine.ehr.cds"):
        client = TestClient(make_app(ehr, base_url=None))
    other = "http://other-service.example/cds-services/hipspine-consider"
    body = spec("patient-view-request.json")
    del body["fhirServer"], body["fhirAuthorization"]
    for aud, host in ((other, "other-service.example"), (AUD, "testserver")):
        response = client.post(URL, json=body, headers=ehr.auth(aud=aud) | {"Host": host})
        assert (response.status_code, response.json()) == (401, {})
        feedback = client.post(f"{URL}/feedback", json=spec("feedback-accepted.json"),
                               headers=ehr.auth(aud=aud + "/feedback") | {"Host": host})
        assert feedback.status_code == 401
    assert client.get("/cds-services").status_code == 200   # discovery stays open
    assert any("HIPSPINE_CDS_BASE_URL" in r.getMessage() and r.levelname == "WARNING"
               for r in caplog.records)


def test_with_a_base_url_the_host_header_changes_nothing(ehr: Ehr) -> None:
    client = TestClient(make_app(ehr, base_url="https://cds.example.org"))
    body = spec("patient-view-request.json")
    del body["fhirServer"], body["fhirAuthorization"]
    forged_host = {"Host": "other-service.example"}
    other = "http://other-service.example/cds-services/hipspine-consider"
    assert client.post(URL, json=body, headers=ehr.auth(aud=other) | forged_host
                       ).status_code == 401
    ours = "https://cds.example.org/cds-services/hipspine-consider"
    assert client.post(URL, json=body, headers=ehr.auth(aud=ours) | forged_host
                       ).status_code == 412


def test_base_url_from_the_environment_is_checked() -> None:
    from hipspine.errors import InputError

    assert CdsConfig.from_env({"HIPSPINE_CDS_BASE_URL": "https://cds.example.org/"}
                              ).service_base_url == "https://cds.example.org"
    assert CdsConfig.from_env({}).service_base_url is None
    for bad in ("cds.example.org", "ftp://cds.example.org", "https://", "https://x/?q=1"):
        with pytest.raises(InputError, match="HIPSPINE_CDS_BASE_URL"):
            CdsConfig.from_env({"HIPSPINE_CDS_BASE_URL": bad})


# --------------------------------------------------------------------------- key and claims


def _rsa_ehr(bits: int = 2048) -> tuple[Any, dict[str, Any]]:
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return key, public


def _signed(key: Any, alg: str, kid: str, **claims: Any) -> str:
    import uuid

    payload = {"iss": ISS, "aud": AUD, "iat": int(time.time()), "exp": int(time.time()) + 60,
               "jti": str(uuid.uuid4())} | claims
    return jwt.encode(payload, key, algorithm=alg, headers={"kid": kid})


def test_a_key_that_does_not_fit_the_algorithm_is_a_bare_401_on_both_endpoints(
        ehr: Ehr) -> None:
    """These used to raise inside the signature library (TypeError, AttributeError): an
    unauthenticated 500."""
    from cryptography.hazmat.primitives.asymmetric import ec

    rsa_key, rsa_public = _rsa_ehr()
    rsa_private_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key))
    p256 = ec.generate_private_key(ec.SECP256R1())
    p256_public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(p256.public_key()))
    small_key, small_public = _rsa_ehr(1024)
    jwks = {"keys": ehr.jwks["keys"] + [
        rsa_public | {"kid": "rsa"}, rsa_private_jwk | {"kid": "rsa-private"},
        p256_public | {"kid": "p256-labelled-es384", "alg": "ES384"},
        small_public | {"kid": "small"},
        {"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA", "kid": "oct"},
        rsa_public | {"kid": "rsa-enc", "use": "enc"}]}
    config = CdsConfig(issuers=(TrustedIssuer(iss=ISS, jwks=jwks),),
                       service_base_url="http://testserver")
    from fastapi import FastAPI

    from hipspine.ehr.cds import create_cds_router

    app = FastAPI()
    app.include_router(create_cds_router(config))
    client = TestClient(app, raise_server_exceptions=False)
    tokens = {
        "RS256 header, EC key": _signed(rsa_key, "RS256", ehr.kid),
        "ES384 header, RSA key": _signed(ehr.key, "ES384", "rsa"),
        "RS256 with RSA private key material in the JWKS": _signed(rsa_key, "RS256",
                                                                   "rsa-private"),
        "ES256 header, key labelled ES384": _signed(p256, "ES256", "p256-labelled-es384"),
        "ES256 header, P-384 key": _signed(p256, "ES256", ehr.kid),
        "RS256 with a 1024-bit key": _signed(small_key, "RS256", "small"),
        "RS256 header, symmetric key": _signed(rsa_key, "RS256", "oct"),
        "RS256, key for encryption": _signed(rsa_key, "RS256", "rsa-enc"),
        "HS256 with the RSA key's modulus as secret": jwt.encode(
            {"iss": ISS, "aud": AUD, "exp": int(time.time()) + 60, "jti": "hs"},
            rsa_public["n"], algorithm="HS256", headers={"kid": "rsa"}),
    }
    body = spec("patient-view-request.json")
    for name, token in tokens.items():
        for path, payload in ((URL, body), (f"{URL}/feedback", spec("feedback-accepted.json"))):
            auth = {"Authorization": f"Bearer {token}"}
            response = client.post(path, json=payload, headers=auth)
            assert (name, path, response.status_code, response.text) == (name, path, 401, "{}")
    # the RSA key itself works with its own algorithm
    assert client.post(f"{URL}/feedback", json=spec("feedback-accepted.json"), headers={
        "Authorization": f"Bearer {_signed(rsa_key, 'RS256', 'rsa', aud=AUD + '/feedback')}"}
    ).status_code == 200


def _signed_text(ehr: Ehr, payload_text: str) -> str:
    """An ES384 token over exactly this payload text (PyJWT would re-encode a dict)."""
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, utils

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    signing_input = b64(json.dumps({"alg": "ES384", "kid": ehr.kid, "typ": "JWT"}).encode()) \
        + "." + b64(payload_text.encode())
    r, s = utils.decode_dss_signature(ehr.key.sign(signing_input.encode(),
                                                   ec.ECDSA(hashes.SHA384())))
    return signing_input + "." + b64(r.to_bytes(48, "big") + s.to_bytes(48, "big"))


def _claims_text(claim: str, value: str) -> str:
    import uuid

    now = int(time.time())
    claims = {"iss": ISS, "aud": AUD, "iat": now, "nbf": now - 10, "exp": now + 60,
              "jti": str(uuid.uuid4())}
    return json.dumps(claims).replace(f'"{claim}": {claims[claim]}', f'"{claim}": {value}')


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e999", "true", "false",
                                   '"NaN"', '"2000000000"', "null", "[1]", "{}",
                                   "1" + "0" * 400])
def test_time_claims_must_be_finite_json_numbers(ehr: Ehr, claim: str, value: str) -> None:
    """A signed token with `exp: "NaN"` (or NaN, or Infinity for `nbf`...) used to pass and
    never expire: every NumericDate is a JSON number, finite, not a boolean or a string."""
    verifier = JwtVerifier(CdsConfig(issuers=(TrustedIssuer(iss=ISS, jwks=ehr.jwks),)))
    control = _signed_text(ehr, _claims_text(claim, str(int(time.time()))))
    assert verifier.verify(f"Bearer {control}", [AUD])   # the hand-made signature is sound
    token = _signed_text(ehr, _claims_text(claim, value))
    with pytest.raises(Unauthorized, match=rf"{claim} is not a|MissingRequiredClaim"):
        verifier.verify(f"Bearer {token}", [AUD])
    client = TestClient(make_app(ehr), raise_server_exceptions=False)
    response = client.post(URL, json=spec("patient-view-request.json"),
                           headers={"Authorization": f"Bearer {token}"})
    assert (response.status_code, response.json()) == (401, {})


def test_numeric_time_claims_as_floats_are_accepted(ehr: Ehr) -> None:
    now = time.time()
    verifier = JwtVerifier(CdsConfig(issuers=(TrustedIssuer(iss=ISS, jwks=ehr.jwks),)))
    token = ehr.token(iat=now, nbf=now - 1.5, exp=now + 30.25)
    assert verifier.verify(f"Bearer {token}", [AUD])["exp"] == pytest.approx(now + 30.25)


def test_jti_must_be_a_string_and_a_long_one_is_remembered_by_digest(ehr: Ehr) -> None:
    verifier = JwtVerifier(CdsConfig(issuers=(TrustedIssuer(iss=ISS, jwks=ehr.jwks),)))
    for jti in (12345, {"a": 1}, ["x"]):
        with pytest.raises(Unauthorized, match=r"jti|JTI"):
            verifier.verify(f"Bearer {ehr.token(jti=jti)}", [AUD])  # type: ignore[arg-type]
    long_jti = "x" * 1000
    assert verifier.verify(f"Bearer {ehr.token(jti=long_jti)}", [AUD])
    with pytest.raises(Unauthorized, match="replayed"):
        verifier.verify(f"Bearer {ehr.token(jti=long_jti)}", [AUD])


# --------------------------------------------------------------------------- shared registry


@pytest.fixture()
def pg_registry(postgres_url: str) -> Any:
    """The migrated PostgreSQL registry (its table cds_jti emptied for each test)."""
    from sqlalchemy import text

    from hipspine.registry import get_engine, migrate

    engine = get_engine(postgres_url)
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM cds_jti"))
    yield engine
    engine.dispose()


@pytest.mark.postgres
def test_registry_replay_store_admits_a_jti_once_until_its_time_is_up(pg_registry: Any) -> None:
    from hipspine.ehr.cds.replay import RegistryReplayStore

    store = RegistryReplayStore(pg_registry)
    test_each_replay_store_admits_a_jti_once_until_its_time_is_up(store)


@pytest.mark.postgres
def test_servers_on_several_machines_share_replays_through_a_postgres_registry(
        ehr: Ehr, pg_registry: Any, postgres_url: str) -> None:
    """Two verifiers, each with its own engine (two machines): a token accepted by one is a
    replay for the other. The web app wires the registry store when its registry is
    PostgreSQL, whatever HIPSPINE_CDS_REPLAY_DB says."""
    from fastapi import FastAPI

    from hipspine.ehr.cds import create_cds_router
    from hipspine.ehr.cds.replay import RegistryReplayStore
    from hipspine.registry import get_engine

    config = CdsConfig(issuers=(TrustedIssuer(iss=ISS, jwks=ehr.jwks),),
                       service_base_url="http://testserver", replay_db="/nonexistent/x.db")
    engines = [get_engine(postgres_url) for _ in range(2)]
    try:
        verifiers = [JwtVerifier(config, registry_engine=e) for e in engines]
        assert all(isinstance(v.replay_store, RegistryReplayStore) for v in verifiers)
        first, second = verifiers
        token = f"Bearer {ehr.token()}"
        first.verify(token, [AUD])
        for verifier in (second, first):
            with pytest.raises(Unauthorized, match="replayed"):
                verifier.verify(token, [AUD])
        assert second.verify(f"Bearer {ehr.token()}", [AUD])
        machines = []
        for engine in engines:
            app = FastAPI()
            app.include_router(create_cds_router(config, registry_engine=engine))
            machines.append(TestClient(app))
        headers = ehr.auth()
        assert _call(machines[0], headers) == 412
        assert _call(machines[1], headers) == 401
    finally:
        for engine in engines:
            engine.dispose()


def _race_on_postgres(url: str, jtis: list[str]) -> list[str]:
    from hipspine.ehr.cds.replay import RegistryReplayStore
    from hipspine.registry import get_engine

    engine = get_engine(url, auto_migrate=False)
    store = RegistryReplayStore(engine)
    _start.wait()
    try:
        return [j for j in jtis if store.first_use(j, until=2e9, now=1e9)]
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_servers_racing_on_postgres_admit_each_jti_exactly_once(pg_registry: Any,
                                                                postgres_url: str) -> None:
    import multiprocessing

    fork = multiprocessing.get_context("fork")
    jtis = [f"pg-jti-{n}" for n in range(40)]
    with fork.Pool(4, initializer=_hold_at, initargs=(fork.Barrier(4),)) as pool:
        admitted = pool.starmap(_race_on_postgres, [(postgres_url, jtis)] * 4)
    assert sorted(j for worker in admitted for j in worker) == sorted(jtis)


def test_replay_store_choice() -> None:
    from sqlalchemy import create_engine

    from hipspine.ehr.cds.replay import replay_store_for

    sqlite_engine = create_engine("sqlite://")
    assert isinstance(replay_store_for(None, sqlite_engine), MemoryReplayStore)
    assert isinstance(replay_store_for("/tmp/x.db", sqlite_engine), SqliteReplayStore)
    assert isinstance(replay_store_for(None), MemoryReplayStore)


@pytest.mark.postgres
def test_the_web_app_on_a_postgres_registry_shares_replays(
        ehr: Ehr, pg_registry: Any, postgres_url: str, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Any) -> None:
    """`create_app` wires the registry store: two app servers (separate engines, each with
    its own SQLite replay file as `hipspine serve --workers` would set) refuse each other's
    replays."""
    from hipspine.registry import get_engine
    from hipspine.web.app import create_app
    from hipspine.web.settings import WebSettings

    monkeypatch.setenv("HIPSPINE_CDS_ISSUERS", json.dumps([{"iss": ISS, "jwks": ehr.jwks}]))
    monkeypatch.setenv("HIPSPINE_CDS_BASE_URL", "http://testserver")
    engines, servers = [], []
    try:
        for n in range(2):
            monkeypatch.setenv("HIPSPINE_CDS_REPLAY_DB", str(tmp_path / f"machine-{n}.sqlite"))
            engines.append(get_engine(postgres_url))
            servers.append(TestClient(create_app(WebSettings(secret_key="k"),
                                                 engine=engines[-1])))
        headers = ehr.auth()
        assert _call(servers[0], headers) == 412
        assert _call(servers[1], headers) == 401
    finally:
        for engine in engines:
            engine.dispose()
