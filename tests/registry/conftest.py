"""Registry fixtures: every test runs on SQLite AND PostgreSQL, each on a fresh database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from hipspine.registry import get_engine


def _fresh_postgres(admin_url: str) -> tuple[str, sa.Engine]:
    admin = sa.create_engine(admin_url.rsplit("/", 1)[0] + "/postgres",
                             isolation_level="AUTOCOMMIT")
    name = f"hipspine_d_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return admin_url.rsplit("/", 1)[0] + f"/{name}", admin


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A URL of an empty registry database (the schema is created on first use)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.sqlite'}"
        return
    base = request.getfixturevalue("postgres_url")
    url, admin = _fresh_postgres(base)
    try:
        yield url
    finally:
        name = url.rsplit("/", 1)[1]
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE datname = :n"), {"n": name})
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    from hipspine.registry import migrate

    eng = get_engine(db_url)
    migrate(eng)
    try:
        yield eng
    finally:
        eng.dispose()


def counts(engine: sa.Engine) -> dict[str, int]:
    tables = ("patients", "episodes", "treatments", "prom_administrations")
    with engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
                for t in tables}


@pytest.fixture
def table_counts():
    """Row counts of the clinical tables (to prove a failed write changed nothing)."""
    return counts
