"""Web settings: one pydantic-settings class, read from `HIPSPINE_*` environment variables.

    HIPSPINE_DATABASE_URL=sqlite:///clinic.db HIPSPINE_SECRET_KEY=... hipspine serve
"""

from __future__ import annotations

import secrets

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebSettings(BaseSettings):
    """Everything a clinic may want to set for the web app and REST API."""

    model_config = SettingsConfigDict(env_prefix="HIPSPINE_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the registry; default: the registry's own default "
        "(a SQLite file in the user's data directory).",
    )
    secret_key: str = Field(
        default_factory=lambda: secrets.token_urlsafe(32),
        description="Signs the anonymous visitor's CSRF cookie (sessions themselves are "
        "server-side). Set it so open forms survive a restart.",
    )
    cookie_secure: bool = Field(
        default=False, description="Send the session cookie over HTTPS only (set behind TLS)."
    )
    session_max_age_s: int = Field(default=8 * 3600, ge=60)
    login_max_attempts: int = Field(default=5, ge=1, description="Failed log-ins allowed ...")
    login_window_s: int = Field(default=300, ge=1, description="... per this many seconds.")
    page_size_max: int = Field(default=200, ge=1)
    max_body_bytes: int = Field(
        default=5 * 1024 * 1024, ge=64 * 1024,
        description="Largest request body accepted; a larger one is answered 413. The "
        "default holds a case with more than 1 MB of notes and reports.")
    patient_link_days: int = Field(default=14, ge=1, le=365,
                                   description="How long a PROM link for a patient's phone works.")
    api_token_days: int = Field(
        default=90, ge=1, le=3650,
        description="Longest lifetime of an API token, in days (also the default; issuance "
        "may ask for fewer). A token from before expiry existed counts from its creation.")
    login_max_per_user: int = Field(
        default=10, ge=1, description="Failed log-ins allowed for one user name from all "
        "addresses together per login_window_s (against guessing from many addresses).")
    login_max_per_address: int = Field(
        default=20, ge=1, description="Failed log-ins allowed from one client address for all "
        "user names together per login_window_s (against spraying many user names).")
    trusted_proxies: str = Field(
        default="", description="Comma-separated addresses or CIDR networks of the reverse "
        "proxies in front of the app. X-Forwarded-For is believed only when the connection "
        "comes from one of them; default none: the connecting address is the client's.")

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_parse(cls, value: str) -> str:
        from hipspine.web.security import parse_trusted_proxies

        parse_trusted_proxies(value)  # a wrong entry stops start-up, naming it
        return value
