"""write_cohort on SQLite and PostgreSQL; the synth CLI; a killed run keeps whole batches."""

from __future__ import annotations

import json
import os
import signal
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


def test_synth_cli_then_killed_run_keeps_whole_batches(db):
    url, engine = db
    env = {**os.environ, "HIPSPINE_DATABASE_URL": url}
    done = subprocess.run([sys.executable, "-m", "hipspine.cli", "synth", "--patients", "40",
                           "--seed", "4"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert '"synthetic": true' in done.stdout
    proc = subprocess.Popen([sys.executable, "-c",
                             "import sys; from hipspine.registry import get_engine; "
                             "from hipspine.synth import write_cohort; "
                             "write_cohort(get_engine(sys.argv[1]), 200000, seed=5, "
                             "batch_size=100, progress=lambda d, n: print(d, flush=True))",
                             url], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if int(line) >= 300:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    counts = table_counts(engine)
    written = counts["patients"] - 40
    assert written >= 300 and written % 100 == 0  # whole batches only
    assert counts["episodes"] == counts["patients"]
    with engine.connect() as conn:
        orphans = conn.execute(sa.text(
            "SELECT COUNT(*) FROM prom_administrations a LEFT JOIN patients p "
            "ON p.id = a.patient_id WHERE p.id IS NULL")).scalar_one()
    assert orphans == 0
