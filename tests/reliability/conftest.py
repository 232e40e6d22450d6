"""Reliability fixtures: as many fresh registries (SQLite files, PostgreSQL databases) as a
test needs, each dropped afterwards; the random generator choosing kill points, seeded from
HIPSPINE_RELIABILITY_SEED when set so a failing run can be repeated."""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """A factory of URLs of new, empty registry databases of one kind."""
    made: list[str] = []
    if request.param == "sqlite":
        def new_sqlite() -> str:
            url = f"sqlite:///{tmp_path / f'r{len(made)}.sqlite'}"
            made.append(url)
            return url

        yield new_sqlite
        return
    base = request.getfixturevalue("postgres_url")
    admin = sa.create_engine(base.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")

    def new_postgres() -> str:
        name = f"hipspine_rel_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return base.rsplit("/", 1)[0] + f"/{name}"

    try:
        yield new_postgres
    finally:
        with admin.connect() as conn:
            for name in made:
                conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                     "WHERE datname = :n"), {"n": name})
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    seed = int(os.environ.get("HIPSPINE_RELIABILITY_SEED") or random.SystemRandom().randrange(
        2**32))
    request.node.user_properties.append(("HIPSPINE_RELIABILITY_SEED", seed))
    print(f"HIPSPINE_RELIABILITY_SEED={seed}")
    return random.Random(seed)
