"""The outcomes registry: pseudonymous patients, episodes, treatments and PROMs.

Embedded SQLite by default (a file in the user's data directory, WAL, foreign keys on);
PostgreSQL when `HIPSPINE_DATABASE_URL` names one. Every write is one transaction.

    from hipspine.registry import get_engine, session_scope
    from hipspine.registry import repository as repo
    engine = get_engine()              # migrates a fresh SQLite file on first use
    with session_scope(engine) as s:
        patient = repo.create_patient(s, pseudonym="P-0001", year_of_birth=1950, sex="female")
"""

from __future__ import annotations

from hipspine.registry.database import (
    database_url,
    get_engine,
    migrate,
    session_scope,
)

__all__ = ["database_url", "get_engine", "migrate", "session_scope"]
