"""Synthetic cohort generation and bulk writing, against a raw executemany of the same rows.

    python benchmarks/bench_synth.py [--quick] [--patients N] [--no-postgres]

Measured in one run, batch by batch (memory stays bounded):
  generate      `hipspine.synth.generate` alone (rows/s, no database)
  writer        the registry writer's insert of each generated batch (`executemany` on
                SQLite, `COPY` on PostgreSQL), one transaction per batch
  baseline      the same rows through a plain driver `executemany`, same batches, into an
                identical empty schema
  end-to-end    `write_cohort` (generation + writer), the `hipspine synth` path
Ratio = writer time / baseline time (target: at most 1.5x on SQLite; below 1 on PostgreSQL,
where COPY beats executemany). Quick: 1,000 patients; full: 100,000.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from hipspine.registry import get_engine
from hipspine.synth import generate, write_cohort
from hipspine.synth.writer import BATCH_ATTR, _write_batch, insert_sql, rows_as_tuples

PG_ADMIN = os.environ.get("HIPSPINE_TEST_POSTGRES_URL",
                          "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def raw_executemany(engine: sa.Engine, batch: Any) -> None:
    """The baseline: the driver's executemany, no SQLAlchemy, one transaction per batch."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        style = "qmark" if engine.dialect.name == "sqlite" else "format"
        for table, attr in BATCH_ATTR.items():
            rows = getattr(batch, attr)
            if rows:
                cursor.executemany(insert_sql(table, style), rows_as_tuples(table, rows))
        raw.commit()
    finally:
        raw.close()


def measure(label: str, make_engine: Any, patients: int, batch_size: int) -> list[str]:
    writer_engine, baseline_engine, e2e_engine = make_engine(), make_engine(), make_engine()
    rows = 0
    t_writer = t_baseline = 0.0
    for batch in generate(patients, seed=1, batch_size=batch_size):  # generation untimed here
        rows += batch.row_count
        t0 = time.perf_counter()
        with writer_engine.begin() as conn:
            _write_batch(conn, batch)
        t_writer += time.perf_counter() - t0
        t0 = time.perf_counter()
        raw_executemany(baseline_engine, batch)
        t_baseline += time.perf_counter() - t0
    t0 = time.perf_counter()
    generated = sum(b.row_count for b in generate(patients, seed=1, batch_size=batch_size))
    t_generate = time.perf_counter() - t0
    assert generated == rows
    t0 = time.perf_counter()
    write_cohort(e2e_engine, patients, seed=2, batch_size=batch_size)
    t_e2e = time.perf_counter() - t0
    for e in (writer_engine, baseline_engine, e2e_engine):
        e.dispose()
    ratio = t_writer / t_baseline if t_baseline else float("nan")
    return [
        f"{label:10} {'generate':12} {rows:>10,} rows {t_generate:8.2f} s "
        f"{rows / t_generate:>12,.0f} rows/s",
        f"{label:10} {'baseline':12} {rows:>10,} rows {t_baseline:8.2f} s "
        f"{rows / t_baseline:>12,.0f} rows/s  (driver executemany)",
        f"{label:10} {'writer':12} {rows:>10,} rows {t_writer:8.2f} s "
        f"{rows / t_writer:>12,.0f} rows/s  ratio to baseline {ratio:.2f}x",
        f"{label:10} {'end-to-end':12} {rows:>10,} rows {t_e2e:8.2f} s "
        f"{rows / t_e2e:>12,.0f} rows/s  ({patients:,} patients in {t_e2e / 60:.1f} min)",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--patients", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    patients = args.patients or (1_000 if args.quick else 100_000)
    lines: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        counter = iter(range(100))

        def sqlite_engine() -> sa.Engine:
            return get_engine(f"sqlite:///{Path(tmp) / f'bench{next(counter)}.sqlite'}")

        lines += measure("sqlite", sqlite_engine, patients, args.batch_size)
    if not args.no_postgres:
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        names: list[str] = []
        try:
            with admin.connect():
                pass
        except Exception as exc:  # no server: say so, the SQLite figures still stand
            lines.append(f"postgresql skipped: {type(exc).__name__}")
        else:
            def pg_engine() -> sa.Engine:
                name = f"hipspine_bench_{uuid.uuid4().hex[:8]}"
                with admin.connect() as conn:
                    conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
                names.append(name)
                return get_engine(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}")

            try:
                lines += measure("postgresql", pg_engine, patients, args.batch_size)
            finally:
                with admin.connect() as conn:
                    for name in names:
                        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
    print(f"bench_synth: {patients:,} synthetic patients, batches of {args.batch_size:,}")
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
