"""Keys, tokens and an app for CDS Hooks tests: an EHR signing with ES384 as the spec shows."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI

from hipspine.ehr.cds import CdsConfig, TrustedIssuer, create_cds_router

DATA = Path(__file__).resolve().parents[1] / "data" / "cds-hooks"
ISS = "https://ehr.example.org/"
BASE = "http://testserver"
AUD = f"{BASE}/cds-services/hipspine-consider"


def spec(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


class Ehr:
    """A CDS client holding a private key; publishes the matching JWKS."""

    def __init__(self, kid: str = "ehr-key-1") -> None:
        self.kid = kid
        self.key = ec.generate_private_key(ec.SECP384R1())
        public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))
        self.jwks = {"keys": [public | {"kid": kid, "use": "sig", "alg": "ES384"}]}

    def token(self, *, aud: str = AUD, iss: str = ISS, exp_in: float = 120,
              jti: str | None = None, headers: dict[str, Any] | None = None,
              **claims: Any) -> str:
        now = time.time()
        payload = {"iss": iss, "aud": aud, "iat": int(now), "exp": int(now + exp_in),
                   "jti": jti or str(uuid.uuid4())} | claims
        return jwt.encode(payload, self.key, algorithm="ES384",
                          headers={"kid": self.kid} | (headers or {}))

    def auth(self, **kw: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(**kw)}"}


def make_app(ehr: Ehr, *, base_url: str | None = BASE, **router_kw: Any) -> FastAPI:
    """The CDS router on its own, its public base URL configured (the audience is never taken
    from the request's Host header)."""
    config = CdsConfig(issuers=(TrustedIssuer(iss=ISS, jwks=ehr.jwks),),
                       service_base_url=base_url, app_url="https://hipspine.example.org")
    app = FastAPI()
    app.include_router(create_cds_router(config, **router_kw))
    return app


def check_card(card: dict[str, Any]) -> list[str]:
    """The CDS Hooks rules for one card; returns the broken ones (empty = valid)."""
    problems = []
    summary = card.get("summary")
    if not isinstance(summary, str) or not summary or len(summary) >= 140:
        problems.append("summary must be a string under 140 characters")
    if card.get("indicator") not in ("info", "warning", "critical"):
        problems.append("indicator must be info, warning or critical")
    source = card.get("source")
    if not isinstance(source, dict) or not isinstance(source.get("label"), str):
        problems.append("source.label is required")
    if "uuid" in card and not isinstance(card["uuid"], str):
        problems.append("uuid must be a string")
    for link in card.get("links", []):
        if not all(isinstance(link.get(k), str) for k in ("label", "url", "type")):
            problems.append("links need label, url and type")
        elif link["type"] not in ("absolute", "smart"):
            problems.append("link type must be absolute or smart")
        elif "appContext" in link and link["type"] != "smart":
            problems.append("appContext only on smart links")
    if card.get("suggestions") and card.get("selectionBehavior") not in ("at-most-one", "any"):
        problems.append("selectionBehavior required with suggestions")
    for reason in card.get("overrideReasons", []):
        if not isinstance(reason.get("display"), str):
            problems.append("overrideReasons need a display")
    return problems
