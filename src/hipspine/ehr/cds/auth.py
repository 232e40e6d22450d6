"""Verification of the EHR's signed JWT on every CDS Hooks call (CDS Hooks "Trusting CDS
Clients"): asymmetric signature from a trusted issuer's keys, expiry, audience = the service
URL, and `jti` replay protection. Any failure is a bare 401 (no detail, per the spec's advice).

The key must fit the header's algorithm (an RSA public key of at least 2048 bits for RS*/PS*,
an EC public key on the algorithm's own curve for ES*; never private key material, never a
JWK whose own `alg` or `use` says otherwise): a mismatch is refused before the signature
library sees it. The time claims (`exp`, and `nbf` / `iat` when present) must be JSON numbers
that are finite (not a string, not a boolean, not NaN): a token whose `exp` is "NaN" would
otherwise never expire.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from hipspine.ehr.cds.config import ALLOWED_ALGORITHMS, CdsConfig, TrustedIssuer
from hipspine.ehr.cds.replay import ReplayStore, replay_store_for

FetchJson = Callable[[str], Any]

# Which curve each ES algorithm signs with (RFC 7518 section 3.4).
_EC_CURVES = {"ES256": "secp256r1", "ES384": "secp384r1", "ES512": "secp521r1"}
MIN_RSA_BITS = 2048
MAX_JTI_CHARS = 128   # longer ones are remembered by their SHA-256 (the store's column is 255)


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
    every `jti` until it expires, in `replay_store` (default: the table `cds_jti` of a
    PostgreSQL `registry_engine`, else the SQLite file `config.replay_db` names when several
    worker processes must share it, else in memory)."""

    def __init__(self, config: CdsConfig, fetch_json: FetchJson | None = None,
                 clock: Callable[[], float] = time.time,
                 replay_store: ReplayStore | None = None,
                 registry_engine: Any = None) -> None:
        self.config = config
        self._fetch = fetch_json or _http_fetch_json
        self._clock = clock
        self._jwks_cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._keys: dict[str, Any] = {}             # canonical JWK JSON -> public key
        self.replay_store: ReplayStore = replay_store or replay_store_for(config.replay_db,
                                                                          registry_engine)
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
        if not audiences:
            raise Unauthorized("no audience configured")
        key = self._key_for(issuer, header)
        _check_key_fits(key, str(alg))
        now = self._clock()
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key=key, algorithms=[alg], audience=audiences, issuer=issuer.iss,
                leeway=self.config.clock_skew_seconds,
                options={"require": ["exp", "iss", "aud", "jti"], "verify_iat": False,
                         "verify_exp": False, "verify_nbf": False})
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"token rejected: {type(exc).__name__}") from None
        except Exception as exc:  # a key the library cannot use: refused, never a 500
            raise Unauthorized(f"token not verifiable: {type(exc).__name__}") from None
        exp = self._check_times(claims, now)
        jti = claims["jti"]
        if not isinstance(jti, str) or not jti:
            raise Unauthorized("jti is not a non-empty string")
        self._check_replay(_replay_key(jti), exp, now)
        return claims

    def _check_times(self, claims: dict[str, Any], now: float) -> float:
        """Checks exp (required), nbf and iat (when present); returns exp."""
        skew = self.config.clock_skew_seconds
        exp = _numeric_date(claims, "exp")
        nbf = _numeric_date(claims, "nbf") if "nbf" in claims else None
        iat = _numeric_date(claims, "iat") if "iat" in claims else None
        if exp + skew < now:
            raise Unauthorized("expired")
        if nbf is not None and nbf - skew > now:
            raise Unauthorized("not yet valid")
        if iat is not None and iat - skew > now:
            raise Unauthorized("issued in the future")
        if exp - now > self.config.max_token_lifetime_seconds + skew:
            raise Unauthorized("expiry too far in the future")
        return exp

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
        keys = jwks.get("keys", [])
        keys = [k for k in keys if isinstance(k, dict)] if isinstance(keys, list) else []
        candidates = [k for k in keys if kid is None or k.get("kid") == kid]
        if not candidates:
            raise Unauthorized("no key with that kid")
        chosen = candidates[0]
        if "alg" in chosen and chosen["alg"] != header.get("alg"):
            raise Unauthorized("the key's alg differs from the token's")
        if "use" in chosen and chosen["use"] != "sig":
            raise Unauthorized("the key is not for signatures")
        # Parsing a JWK into a key object costs as much as the rest of the check; keep it,
        # keyed by the JWK's content, so a rotated or refetched key set is parsed afresh.
        jwk = json.dumps(chosen, sort_keys=True, default=repr)
        with self._lock:
            key = self._keys.get(jwk)
        if key is None:
            try:
                key = jwt.PyJWK.from_dict(chosen).key
            except Exception:  # PyJWTError, or a malformed member the parser trips on
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


def _numeric_date(claims: dict[str, Any], name: str) -> float:
    """A JWT NumericDate: a JSON number (int or float, not bool, not a string), finite."""
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Unauthorized(f"{name} is not a number")
    number = float(value) if not isinstance(value, int) or abs(value) < 2 ** 53 else math.inf
    if not math.isfinite(number):
        raise Unauthorized(f"{name} is not a finite number")
    return number


def _check_key_fits(key: Any, alg: str) -> None:
    """The key is a public key of the type (and EC curve) the algorithm signs with."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if alg.startswith(("RS", "PS")):
        if not isinstance(key, rsa.RSAPublicKey):
            raise Unauthorized(f"{alg} needs an RSA public key")
        if key.key_size < MIN_RSA_BITS:
            raise Unauthorized(f"RSA key under {MIN_RSA_BITS} bits")
    elif alg in _EC_CURVES:
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise Unauthorized(f"{alg} needs an EC public key")
        if key.curve.name != _EC_CURVES[alg]:
            raise Unauthorized(f"{alg} needs a key on {_EC_CURVES[alg]}")
    else:
        raise Unauthorized(f"algorithm {alg!r} not allowed")


def _replay_key(jti: str) -> str:
    if len(jti) <= MAX_JTI_CHARS:
        return jti
    return "sha256:" + hashlib.sha256(jti.encode("utf-8", "surrogatepass")).hexdigest()
