"""The same SQL on PostgreSQL gives the same study as on SQLite."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from hipspine.registry import migrate
from hipspine.studies import study_summary
from studies.cohort import Cohort, write_cohort

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg_engine(postgres_url: str, cohort: Cohort) -> Iterator[Engine]:
    # A private schema, so registry tests sharing this database are never disturbed.
    schema = f"studies_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine = sa.create_engine(postgres_url,
                              connect_args={"options": f"-csearch_path={schema}"})
    try:
        migrate(engine)
        write_cohort(engine, cohort)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_postgres_and_sqlite_agree(pg_engine: Engine,
                                   registry: tuple[str, Engine]) -> None:
    pg = study_summary(pg_engine).model_dump(exclude={"generated_at", "database"})
    lite = study_summary(registry[1]).model_dump(exclude={"generated_at", "database"})
    assert pg["cohort"] == lite["cohort"]
    assert pg["completeness"] == lite["completeness"]
    for a, b in zip(pg["change"], lite["change"], strict=True):
        assert (a["instrument"], a["strategy"], a["timepoint"], a["n"]) == (
            b["instrument"], b["strategy"], b["timepoint"], b["n"])
        assert a["mean_change"] == pytest.approx(b["mean_change"])
        assert [r["responders"] for r in a["responders"]] == \
            [r["responders"] for r in b["responders"]]
    assert [c["difference"] for c in pg["comparisons"]] == pytest.approx(
        [c["difference"] for c in lite["comparisons"]])
    assert [c["events"] for c in pg["survival"]] == [c["events"] for c in lite["survival"]]


def test_postgres_registry_streams_into_duckdb(pg_engine: Engine) -> None:
    from hipspine.studies import StudyOptions

    in_place = study_summary(pg_engine)
    staged = study_summary(pg_engine, options=StudyOptions(backend="duckdb"))
    assert staged.cohort == in_place.cohort
    assert staged.completeness == in_place.completeness
    assert [r.n for r in staged.change] == [r.n for r in in_place.change]
