"""Stream the registry's study columns into a disk-backed DuckDB, chunk by chunk.

Registry databases are row stores built for safe writes; study queries scan whole tables.
Copying only the columns a study reads into a temporary DuckDB file (fixed memory limit,
spilling to disk) makes the scans columnar while never holding the registry in RAM.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from hipspine.errors import HipspineError

# table -> (column, DuckDB type); only what hipspine.studies.queries reads.
STUDY_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "patients": [("id", "BIGINT"), ("year_of_birth", "INTEGER"), ("sex", "VARCHAR"),
                 ("synthetic", "BOOLEAN")],
    "episodes": [("id", "BIGINT"), ("patient_id", "BIGINT"), ("opened_on", "DATE"),
                 ("closed_on", "DATE"), ("verdict", "VARCHAR"),
                 ("pathway", "VARCHAR")],
    "treatments": [("id", "BIGINT"), ("patient_id", "BIGINT"), ("type", "VARCHAR"),
                   ("target", "VARCHAR"), ("performed_on", "DATE")],
    "prom_administrations": [("id", "BIGINT"), ("patient_id", "BIGINT"),
                             ("instrument", "VARCHAR"), ("administered_on", "DATE"),
                             ("score", "DOUBLE")],
}


def open_duckdb(path: str, memory_limit: str = "1GB", threads: int = 2) -> Any:
    import duckdb

    conn = duckdb.connect(path)
    conn.execute(f"SET memory_limit = '{memory_limit}'")
    conn.execute(f"SET threads = {int(threads)}")
    conn.execute("SET preserve_insertion_order = false")
    return conn


def stage_registry(engine: Engine, duck: Any, chunk_rows: int = 100_000,
                   progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Copy the study columns of every registry table into `duck`; returns rows per table."""
    counts: dict[str, int] = {}
    # The driver's own cursor: SQLAlchemy Row objects would triple the cost of a full scan.
    raw = engine.raw_connection()
    try:
        dbapi: Any = raw.driver_connection
        for table, columns in STUDY_COLUMNS.items():
            names = [c for c, _ in columns]
            ddl = ", ".join(f"{c} {t}" for c, t in columns)
            duck.execute(f"DROP TABLE IF EXISTS {table}")
            duck.execute(f"CREATE TABLE {table} ({ddl})")
            # PostgreSQL: a named (server-side) cursor streams instead of buffering it all.
            cursor = (dbapi.cursor(name=f"hs_stage_{table}")
                      if engine.dialect.name == "postgresql" else dbapi.cursor())
            try:
                cursor.execute(f"SELECT {', '.join(names)} FROM {table}")  # noqa: S608
            except Exception as exc:  # the driver's own error classes differ per database
                raise HipspineError(
                    f"could not read registry table {table!r} ({type(exc).__name__}); "
                    "is the registry migrated? `hipspine registry migrate`") from None
            total = 0
            while rows := cursor.fetchmany(chunk_rows):
                chunk = pd.DataFrame.from_records(rows, columns=names)
                duck.register("hs_chunk", chunk)
                duck.execute(f"INSERT INTO {table} SELECT * FROM hs_chunk")  # noqa: S608
                duck.unregister("hs_chunk")
                total += len(rows)
                if progress:
                    progress(table, total)
            cursor.close()
            counts[table] = total
        raw.rollback()
    finally:
        raw.close()
    return counts
