"""Settings of the CDS Hooks service: who may call it, and where its links point.

Built from environment variables by default (`CdsConfig.from_env`), or passed in by the web
app. Without at least one trusted issuer every service call is refused (401): a CDS service
must never answer an unauthenticated EHR by accident. Without the public base URL
(`HIPSPINE_CDS_BASE_URL`) every service call is refused too: the token's audience is checked
against configuration only, never against the request's Host header, which the caller
chooses (a token minted for another service would otherwise pass).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from hipspine.errors import InputError

ALLOWED_ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384")


@dataclass(frozen=True)
class TrustedIssuer:
    """An EHR allowed to call: its `iss`, and where its public keys come from."""

    iss: str
    jwks: dict[str, Any] | None = None          # keys configured in place
    jwks_url: str | None = None                 # or fetched (and cached) from here
    jku_allowed: tuple[str, ...] = ()           # jku header URLs accepted (exact or prefix)


@dataclass(frozen=True)
class CdsConfig:
    issuers: tuple[TrustedIssuer, ...] = ()
    service_base_url: str | None = None   # public base URL; aud = {base}/cds-services/{id};
    #                                       None: every service call is refused
    app_url: str = ""                     # web app base for "open the case" links
    jwks_cache_seconds: float = 3600.0
    max_token_lifetime_seconds: float = 600.0   # exp may be at most this far in the future
    clock_skew_seconds: float = 30.0
    fhir_timeout_seconds: float = 5.0
    source_url: str | None = None
    replay_db: str | None = None   # SQLite file of accepted jti values, shared by workers
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> CdsConfig:
        """HIPSPINE_CDS_ISSUERS (JSON list of {iss, jwks?, jwks_url?, jku_allowed?}),
        HIPSPINE_CDS_BASE_URL (this service's public base URL, http(s)://host[:port][/path];
        required for any call to be accepted), HIPSPINE_CDS_APP_URL, HIPSPINE_CDS_REPLAY_DB
        (a SQLite file path; needed when several worker processes serve the hook)."""
        env = dict(os.environ) if env is None else env
        raw = env.get("HIPSPINE_CDS_ISSUERS", "").strip()
        issuers: list[TrustedIssuer] = []
        if raw:
            try:
                rows = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise InputError.single("HIPSPINE_CDS_ISSUERS", raw[:40], "a JSON list of "
                                        "{iss, jwks | jwks_url, jku_allowed}", str(exc),
                                        what="configuration") from None
            if not isinstance(rows, list):
                raise InputError.single("HIPSPINE_CDS_ISSUERS", raw[:40], "a JSON list",
                                        what="configuration")
            for row in rows:
                if not isinstance(row, dict) or not isinstance(row.get("iss"), str):
                    raise InputError.single("HIPSPINE_CDS_ISSUERS", row, "objects with iss",
                                            what="configuration")
                issuers.append(TrustedIssuer(
                    iss=row["iss"], jwks=row.get("jwks"), jwks_url=row.get("jwks_url"),
                    jku_allowed=tuple(row.get("jku_allowed") or ())))
        return cls(issuers=tuple(issuers),
                   service_base_url=_base_url(env.get("HIPSPINE_CDS_BASE_URL", "")),
                   app_url=env.get("HIPSPINE_CDS_APP_URL", "").rstrip("/"),
                   replay_db=env.get("HIPSPINE_CDS_REPLAY_DB") or None)

    def issuer(self, iss: str) -> TrustedIssuer | None:
        return next((i for i in self.issuers if i.iss == iss), None)


def _base_url(raw: str) -> str | None:
    """The public base URL without its trailing slash; None when unset."""
    from urllib.parse import urlsplit

    value = raw.strip().rstrip("/")
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query \
            or parts.fragment:
        raise InputError.single("HIPSPINE_CDS_BASE_URL", raw[:80],
                                "this service's public base URL, http(s)://host[:port][/path]",
                                what="configuration")
    return value
