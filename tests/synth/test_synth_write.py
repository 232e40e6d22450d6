"""write_cohort on SQLite and PostgreSQL; the synth CLI; a run is all or nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest
import sqlalchemy as sa

from hipspine.errors import InputError
from hipspine.registry import get_engine
from hipspine.synth import generate, write_cohort


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'synth.sqlite'}"
        engine = get_engine(url)
        yield url, engine
        engine.dispose()
        return
    base = request.getfixturevalue("postgres_url")
    admin = sa.create_engine(base.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    name = f"hipspine_synth_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = base.rsplit("/", 1)[0] + f"/{name}"
    engine = get_engine(url)
    try:
        yield url, engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE datname = :n"), {"n": name})
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def table_counts(engine):
    with engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
                for t in ("patients", "episodes", "treatments", "prom_administrations")}


def test_write_cohort_writes_what_generate_yields(db):
    _url, engine = db
    counts = write_cohort(engine, 120, seed=9, batch_size=50)
    expected = {"patients": 0, "episodes": 0, "treatments": 0, "prom_administrations": 0}
    for batch in generate(120, 9):
        expected["patients"] += len(batch.patients)
        expected["episodes"] += len(batch.episodes)
        expected["treatments"] += len(batch.treatments)
        expected["prom_administrations"] += len(batch.proms)
    assert counts == expected == table_counts(engine)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM patients WHERE NOT synthetic")
                            ).scalar_one() == 0
        items = conn.execute(sa.text("SELECT items FROM prom_administrations LIMIT 1")
                             ).scalar_one()
        assert isinstance(json.loads(items) if isinstance(items, str) else items, list)


def test_second_seed_appends_and_reused_seed_is_refused(db):
    _url, engine = db
    write_cohort(engine, 30, seed=1)
    write_cohort(engine, 20, seed=2)  # ids continue after the first cohort
    assert table_counts(engine)["patients"] == 50
    with pytest.raises(InputError) as info:
        write_cohort(engine, 5, seed=1)
    assert info.value.problems[0].field == "seed"
    from hipspine.registry import repository as repo
    from hipspine.registry import session_scope

    with session_scope(engine) as s:  # sequences were advanced past the explicit ids
        repo.create_patient(s, "REAL-1")


def test_synth_cli_writes_an_audited_cohort(db):
    url, engine = db
    env = {**os.environ, "HIPSPINE_DATABASE_URL": url}
    done = subprocess.run([sys.executable, "-m", "hipspine.cli", "synth", "--patients", "40",
                           "--seed", "4"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert '"synthetic": true' in done.stdout
    assert table_counts(engine)["patients"] == 40
    with engine.connect() as conn:
        [(actor, role, action, resource_id, detail)] = conn.execute(sa.text(
            "SELECT actor, role, action, resource_id, detail FROM audit_events")).all()
    detail = json.loads(detail) if isinstance(detail, str) else detail
    assert actor.startswith("cli:") and role == "cli" and action == "registry.synth"
    assert resource_id == "seed:4" and detail["patients"] == 40 and detail["seed"] == 4
    # a reused seed is refused (exit 2, naming the field) and writes nothing, audit included
    again = subprocess.run([sys.executable, "-m", "hipspine.cli", "synth", "--patients", "5",
                            "--seed", "4"], env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and "seed" in again.stderr and "Traceback" not in again.stderr
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM audit_events")).scalar_one() == 1


def test_a_failing_run_writes_nothing_and_the_seed_can_run_again(db, monkeypatch):
    """All or nothing per run: batches written before a failure are rolled back with it
    (a kill -9 at random points is in tests/reliability)."""
    _url, engine = db
    write_cohort(engine, 10, seed=1)
    before = table_counts(engine)
    from hipspine.synth import writer

    real = writer._write_batch
    calls = []

    def failing(conn, batch):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        real(conn, batch)

    monkeypatch.setattr(writer, "_write_batch", failing)
    with pytest.raises(RuntimeError):
        write_cohort(engine, 100, seed=2, batch_size=20)
    assert len(calls) == 3 and table_counts(engine) == before
    monkeypatch.setattr(writer, "_write_batch", real)
    write_cohort(engine, 100, seed=2, batch_size=20)
    assert table_counts(engine)["patients"] == before["patients"] + 100
