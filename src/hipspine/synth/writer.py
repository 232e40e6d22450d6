"""Bulk-write a synthetic cohort into the registry.

All or nothing per run: the whole cohort, its audit event and the check that its seed is
unused are one `write_transaction` (the registry's write lock held throughout), so a killed
or failed run leaves nothing and the same seed can simply be run again. Patients are still
generated and written in batches, so memory stays bounded. SQLite gets `executemany` on the
driver; PostgreSQL gets `COPY ... FROM STDIN`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import IntegrityError

from hipspine.errors import ConflictError, Problem
from hipspine.registry.audit import AuditActor, cli_actor, record_audit
from hipspine.registry.tables import Episode, Patient

TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "patients": ("id", "pseudonym", "year_of_birth", "sex", "synthetic", "created_at"),
    "episodes": ("id", "patient_id", "opened_on", "closed_on", "setting", "verdict",
                 "pathway", "synthetic"),
    "treatments": ("patient_id", "episode_id", "type", "target", "side", "level",
                   "performed_on", "synthetic"),
    "prom_administrations": ("patient_id", "episode_id", "instrument", "timepoint",
                             "administered_on", "items", "score", "scores", "missing_items",
                             "synthetic"),
}
BATCH_ATTR = {"patients": "patients", "episodes": "episodes", "treatments": "treatments",
              "prom_administrations": "proms"}
JSON_COLUMNS = {"items", "scores"}


def rows_as_tuples(table: str, rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Rows in column order, JSON columns serialised (what the drivers take)."""
    columns = TABLE_COLUMNS[table]
    out = []
    for row in rows:
        out.append(tuple(json.dumps(row[c], separators=(",", ":")) if c in JSON_COLUMNS
                         else row[c] for c in columns))
    return out


def insert_sql(table: str, paramstyle: str = "qmark") -> str:
    columns = TABLE_COLUMNS[table]
    marks = ", ".join("?" if paramstyle == "qmark" else "%s" for _ in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608


def _write_batch(conn: Connection, batch: Any) -> None:
    dialect = conn.dialect.name
    for table, attr in BATCH_ATTR.items():
        rows = getattr(batch, attr)
        if not rows:
            continue
        tuples = rows_as_tuples(table, rows)
        if dialect == "postgresql":
            raw = conn.connection.driver_connection
            columns = ", ".join(TABLE_COLUMNS[table])
            with raw.cursor() as cursor:  # type: ignore[union-attr]
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for values in tuples:
                        copy.write_row(values)
        else:
            conn.exec_driver_sql(insert_sql(table), tuples)


def write_cohort(engine: Engine, n: int, seed: int = 0, *, batch_size: int = 2000,
                 progress: Callable[[int, int], None] | None = None,
                 actor: AuditActor | None = None) -> dict[str, int]:
    """Generate `n` synthetic patients with full follow-up and insert them in bulk, in one
    transaction with its audit event (`actor`, default the OS user as `cli:<user>`).

    Returns counts per table. Refuses a seed already used in this registry (its pseudonyms
    would clash), naming the field. `batch_size` is how many patients are generated and
    sent at a time; `progress(done, n)` is called after each batch (nothing is committed
    before the last).
    """
    from hipspine.registry.database import ensure_schema, write_transaction
    from hipspine.synth import generate, pseudonym_prefix

    generate(n, seed, batch_size=batch_size)  # refuses a bad n, seed or batch size first
    ensure_schema(engine)
    counts = {"patients": 0, "episodes": 0, "treatments": 0, "prom_administrations": 0}
    try:
        with write_transaction(engine) as conn:
            used = conn.scalar(select(func.count()).select_from(Patient).where(
                Patient.pseudonym.startswith(pseudonym_prefix(seed), autoescape=True)))
            if used:
                raise ConflictError([Problem(
                    "seed", seed, "a seed not yet used in this registry",
                    f"{used} synthetic patients with seed {seed} already exist")],
                    what="synthetic cohort (nothing written)")
            patient_offset = conn.scalar(select(func.coalesce(func.max(Patient.id), 0))) or 0
            episode_offset = conn.scalar(select(func.coalesce(func.max(Episode.id), 0))) or 0
            done = 0
            for batch in generate(n, seed, batch_size=batch_size,
                                  patient_id_offset=patient_offset,
                                  episode_id_offset=episode_offset):
                _write_batch(conn, batch)
                for table, attr in BATCH_ATTR.items():
                    counts[table] += len(getattr(batch, attr))
                done += len(batch.patients)
                if progress is not None:
                    progress(done, n)
            if conn.dialect.name == "postgresql":
                _advance_sequences(conn)
            record_audit(conn, actor or cli_actor(), "registry.synth", "cohort", f"seed:{seed}",
                         {"seed": seed, **counts})
    except IntegrityError as exc:  # ids or pseudonyms another writer took meanwhile
        raise ConflictError([Problem(
            "(registry)", str(exc.orig).splitlines()[0][:120],
            "a registry no other process writes patients to during the run",
            "another writer stored clashing records meanwhile; nothing was written: run "
            "the same seed again")], what="synthetic cohort (nothing written)") from None
    return counts


def _advance_sequences(conn: Connection) -> None:
    """Explicit ids bypass PostgreSQL sequences; move them past the highest id."""
    for table in ("patients", "episodes"):
        conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
            f"(SELECT COALESCE(MAX(id), 1) FROM {table}))")
