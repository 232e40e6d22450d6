"""Verification of the EHR's signed JWT on every CDS Hooks call (CDS Hooks "Trusting CDS
Clients"): asymmetric signature from a trusted issuer's keys, expiry, audience = the service
URL, and `jti` replay protection. Any failure is a bare 401 (no detail, per the spec's advice).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from hipspine.ehr.cds.config import ALLOWED_ALGORITHMS, CdsConfig, TrustedIssuer
from hipspine.ehr.cds.replay import MemoryReplayStore, ReplayStore, SqliteReplayStore

FetchJson = Callable[[str], Any]


class Unauthorized(Exception):
    """The call is refused; `reason` is for tests and server-side debugging only."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _http_fetch_json(url: str) -> Any:
    import httpx

    response = httpx.get(url, timeout=5.0, follow_redirects=False)
    response.raise_for_status()
    return response.json()


class JwtVerifier:
    """Checks bearer tokens; caches key sets (and the keys parsed from them) and remembers
    every `jti` until it expires, in `replay_store` (default: in memory, or the SQLite file
    `config.replay_db` names when several worker processes must share it)."""

    def __init__(self, config: CdsConfig, fetch_json: FetchJson | None = None,
                 clock: Callable[[], float] = time.time,
                 replay_store: ReplayStore | None = None) -> None:
        self.config = config
        self._fetch = fetch_json or _http_fetch_json
        self._clock = clock
        self._jwks_cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._keys: dict[str, Any] = {}             # canonical JWK JSON -> public key
        self.replay_store: ReplayStore = replay_store or (
            SqliteReplayStore(config.replay_db) if config.replay_db else MemoryReplayStore())
        self._lock = threading.Lock()

    def verify(self, authorization: str | None, audiences: list[str]) -> dict[str, Any]:
        import jwt

        if not authorization or not authorization.startswith("Bearer "):
            raise Unauthorized("no bearer token")
        token = authorization[len("Bearer "):].strip()
        try:  # header and claims in one parse; trusted only after the signature check below
            unverified_token = jwt.decode_complete(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"malformed token: {type(exc).__name__}") from None
        header: dict[str, Any] = unverified_token["header"]
        unverified: dict[str, Any] = unverified_token["payload"]
        alg = header.get("alg")
        if alg not in ALLOWED_ALGORITHMS:
            raise Unauthorized(f"algorithm {alg!r} not allowed")
        issuer = self.config.issuer(str(unverified.get("iss")))
        if issuer is None:
            raise Unauthorized("issuer not trusted")
        key = self._key_for(issuer, header)
        now = self._clock()
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key=key, algorithms=[alg], audience=audiences, issuer=issuer.iss,
                leeway=self.config.clock_skew_seconds,
                options={"require": ["exp", "iss", "aud", "jti"], "verify_iat": False,
                         "verify_exp": False, "verify_nbf": False})
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"token rejected: {type(exc).__name__}") from None
        self._check_times(claims, now)
        self._check_replay(str(claims["jti"]), float(claims["exp"]), now)
        return claims

    def _check_times(self, claims: dict[str, Any], now: float) -> None:
        skew = self.config.clock_skew_seconds
        try:
            exp = float(claims["exp"])
            nbf = float(claims.get("nbf", now))
        except (TypeError, ValueError):
            raise Unauthorized("exp/nbf not numbers") from None
        if exp + skew < now:
            raise Unauthorized("expired")
        if nbf - skew > now:
            raise Unauthorized("not yet valid")
        if exp - now > self.config.max_token_lifetime_seconds + skew:
            raise Unauthorized("expiry too far in the future")

    def _check_replay(self, jti: str, exp: float, now: float) -> None:
        until = exp + self.config.clock_skew_seconds
        try:
            first = self.replay_store.first_use(jti, until, now)
        except Exception as exc:  # a store that cannot answer cannot rule out a replay
            raise Unauthorized(f"replay store unavailable: {type(exc).__name__}") from None
        if not first:
            raise Unauthorized("replayed jti")

    def _key_for(self, issuer: TrustedIssuer, header: dict[str, Any]) -> Any:
        import jwt

        jwks = self._jwks(issuer, header)
        kid = header.get("kid")
        keys = [k for k in jwks.get("keys", []) if isinstance(k, dict)]
        candidates = [k for k in keys if kid is None or k.get("kid") == kid]
        if not candidates:
            raise Unauthorized("no key with that kid")
        # Parsing a JWK into a key object costs as much as the rest of the check; keep it,
        # keyed by the JWK's content, so a rotated or refetched key set is parsed afresh.
        jwk = json.dumps(candidates[0], sort_keys=True, default=repr)
        with self._lock:
            key = self._keys.get(jwk)
        if key is None:
            try:
                key = jwt.PyJWK.from_dict(candidates[0]).key
            except jwt.PyJWTError:
                raise Unauthorized("unusable key") from None
            with self._lock:
                if len(self._keys) >= 256:
                    self._keys.clear()
                self._keys[jwk] = key
        return key

    def _jwks(self, issuer: TrustedIssuer, header: dict[str, Any]) -> dict[str, Any]:
        jku = header.get("jku")
        if isinstance(jku, str) and jku:
            if not any(jku == a or jku.startswith(a.rstrip("/") + "/")
                       for a in issuer.jku_allowed):
                if issuer.jwks is None and issuer.jwks_url is None:
                    raise Unauthorized("jku not on the issuer's allow-list")
            else:
                return self._cached(jku)
        if issuer.jwks is not None:
            return issuer.jwks
        if issuer.jwks_url:
            return self._cached(issuer.jwks_url)
        raise Unauthorized("no keys configured for issuer")

    def _cached(self, url: str) -> dict[str, Any]:
        now = self._clock()
        with self._lock:
            hit = self._jwks_cache.get(url)
            if hit and now - hit[0] < self.config.jwks_cache_seconds:
                return hit[1]
        try:
            data = self._fetch(url)
        except Exception as exc:  # network or JSON failure: refuse, never 5xx
            raise Unauthorized(f"key set not reachable: {type(exc).__name__}") from None
        if not isinstance(data, dict):
            raise Unauthorized("key set is not a JSON object")
        with self._lock:
            self._jwks_cache[url] = (now, data)
        return data
