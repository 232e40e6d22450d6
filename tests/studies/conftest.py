"""A 2,000-patient synthetic registry (temporary SQLite) shared by a module's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from hipspine.registry import get_engine
from studies.cohort import Cohort, make_cohort, write_cohort


@pytest.fixture(scope="module")
def cohort() -> Cohort:
    return make_cohort(2000, seed=11)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory,
             cohort: Cohort) -> Iterator[tuple[str, Engine]]:
    path: Path = tmp_path_factory.mktemp("studies") / "registry.sqlite"
    url = f"sqlite:///{path}"
    engine = get_engine(url)
    write_cohort(engine, cohort)
    yield url, engine
    engine.dispose()
