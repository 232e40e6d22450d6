"""kill -9 a real `hipspine` process at random points of a write; the registry must be
either untouched or complete, and usable again.

For each of `registry migrate` (first use), `registry import` and `synth`, on SQLite and
PostgreSQL: one whole run announces its SQL steps (tests/reliability/_child.py); the process
is then killed just before randomly chosen steps inside its write transaction and just
before that transaction's COMMIT (and, for synth, at a random time, inside PostgreSQL COPY
the step hooks cannot see). After each kill the registry is checked: untouched or complete
(data and its audit event together), PRAGMA integrity_check ok on SQLite, and the same
command can be completed afterwards. Repeat a run's kill points with the seed it prints:
HIPSPINE_RELIABILITY_SEED=<n>.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.reliability import harness

from hipspine.errors import InputError
from hipspine.registry import get_engine
from hipspine.registry.transfer import import_rows

pytestmark = pytest.mark.slow

REGISTRY_TABLES = {"alembic_version", "patients", "episodes", "treatments",
                   "prom_administrations", "assessments", "plans", "users", "api_tokens",
                   "patient_assignments", "audit_events", "cds_jti", "web_sessions",
                   "patient_links"}
CLINICAL = ("patients", "episodes", "treatments", "prom_administrations")
SEED_ROWS = [{"record": "patient", "pseudonym": "KEEP-1", "year_of_birth": 1948},
             {"record": "episode", "pseudonym": "KEEP-1", "opened_on": "2023-01-05"}]
KILLS = 2  # random kill points inside the write transaction, besides the one before COMMIT


def kill_points(outcome: harness.Outcome, begin: str, rng: random.Random) -> list[int]:
    """Steps to kill before: random ones from the write transaction's first statement to
    its COMMIT, and the COMMIT itself."""
    starts = [n for n, line in enumerate(outcome.steps, 1) if begin in line]
    first = starts[0] if starts else 1
    commit = outcome.step_of("COMMIT", last=True)
    inside = list(range(first, commit))
    return [*sorted(rng.sample(inside, min(KILLS, len(inside)))), commit]


def write_begin(url: str) -> str:
    return "BEGIN IMMEDIATE" if url.startswith("sqlite") else "SELECT pg_advisory_xact_lock"


def counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            found = {t: conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
                     for t in (*CLINICAL, "audit_events")}
            if url.startswith("sqlite"):
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    finally:
        engine.dispose()
    return found


def schema_state(url: str) -> str:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            names = set(sa.inspect(conn).get_table_names())
            revision = (conn.execute(sa.text("SELECT version_num FROM alembic_version"))
                        .scalar() if "alembic_version" in names else None)
            if url.startswith("sqlite"):
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    finally:
        engine.dispose()
    if not names & REGISTRY_TABLES:
        return "untouched"
    if revision == "0003" and REGISTRY_TABLES <= names:
        return "complete"
    return f"half-made: revision {revision}, tables {sorted(names)}"


def test_killed_first_use_migration_leaves_no_schema(fresh_url, rng):
    url = fresh_url()
    whole = harness.run(url, "registry", "migrate")
    assert whole.returncode == 0, whole.stderr
    assert schema_state(url) == "complete"
    for step in kill_points(whole, write_begin(url), rng):
        url = fresh_url()
        assert harness.kill_at(url, step, "registry", "migrate"), f"finished before {step}"
        state = schema_state(url)  # killed before the COMMIT: nothing of it may remain
        assert state == "untouched", f"killed before step {step} ({whole.steps[step - 1]}): " \
                                     f"{state}"
        engine = get_engine(url)  # first use again, as `registry import` does
        try:
            assert import_rows(engine, SEED_ROWS).patients == 1
        finally:
            engine.dispose()


def _import_file(path: Path, patients: int, proms_each: int) -> list[dict]:
    rows: list[dict] = []
    for n in range(patients):
        key = f"K{n:05d}"
        rows.append({"record": "patient", "pseudonym": key, "year_of_birth": 1950})
        rows.append({"record": "episode", "pseudonym": key, "opened_on": "2023-01-01"})
        rows += [{"record": "prom", "pseudonym": key, "instrument": "nrs_back",
                  "administered_on": f"2023-{1 + k % 12:02d}-15", "items": [k % 11],
                  "episode_opened_on": "2023-01-01"} for k in range(proms_each)]
    path.write_text(json.dumps(rows))
    return rows


def _prepared(new_url: Callable[[], str]) -> tuple[str, dict[str, int]]:
    """A registry with committed data that every kill must leave intact."""
    url = new_url()
    engine = get_engine(url)
    try:
        import_rows(engine, SEED_ROWS)
    finally:
        engine.dispose()
    return url, counts(url)


def test_killed_import_leaves_the_registry_untouched_or_complete(fresh_url, rng, tmp_path):
    big = tmp_path / "big.json"
    rows = _import_file(big, patients=150, proms_each=4)
    url, before = _prepared(fresh_url)
    whole = harness.run(url, "registry", "import", str(big))
    assert whole.returncode == 0, whole.stderr
    after = counts(url)
    added = {t: after[t] - before[t] for t in after}
    assert added == {"patients": 150, "episodes": 150, "treatments": 0,
                     "prom_administrations": 600, "audit_events": 1}
    for step in kill_points(whole, write_begin(url), rng):
        url, before = _prepared(fresh_url)
        assert harness.kill_at(url, step, "registry", "import", str(big)), step
        now = counts(url)  # killed before the COMMIT: untouched, the audit event included
        assert now == before, f"killed before step {step} ({whole.steps[step - 1]}): {now}"
        engine = get_engine(url)
        try:  # the same import simply runs again; once done, again is a clean refusal
            assert import_rows(engine, rows).patients == 150
            with pytest.raises(InputError):
                import_rows(engine, rows)
        finally:
            engine.dispose()


def test_killed_synth_leaves_no_cohort_or_all_of_it(fresh_url, rng):
    from hipspine.synth import write_cohort

    args = ("synth", "--patients", "300", "--seed", "7", "--batch-size", "50")
    url, before = _prepared(fresh_url)
    whole = harness.run(url, *args)
    assert whole.returncode == 0, whole.stderr
    after = counts(url)
    added = {t: after[t] - before[t] for t in after}
    assert added["patients"] == 300 and added["audit_events"] == 1
    steps = kill_points(whole, write_begin(url), rng)
    delays = [rng.uniform(0, whole.busy_s)]  # anywhere, COPY on PostgreSQL included
    for point in [*steps, *(-d for d in delays)]:
        url, before = _prepared(fresh_url)
        complete = {t: before[t] + added[t] for t in before}
        if point > 0:
            assert harness.kill_at(url, int(point), *args), point
            allowed = [before]  # killed before the COMMIT
        else:
            harness.kill_after(url, -point, *args)
            allowed = [before, complete]  # it may have committed first
        now = counts(url)
        assert now in allowed, f"killed at {point}: {now}"
        engine = get_engine(url)
        try:
            if now == before:  # nothing left behind: the same seed runs again
                assert write_cohort(engine, 300, seed=7, batch_size=50)["patients"] == 300
            else:
                with pytest.raises(InputError):
                    write_cohort(engine, 300, seed=7)
        finally:
            engine.dispose()
