"""Web settings: one pydantic-settings class, read from `HIPSPINE_*` environment variables.

    HIPSPINE_DATABASE_URL=sqlite:///clinic.db HIPSPINE_SECRET_KEY=... hipspine serve
"""

from __future__ import annotations

import secrets

from pydantic import Field
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
        description="Signs session cookies. Set it so sessions survive a restart.",
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
