"""Running the screening SQL on DuckDB (embedded default) or Apache Spark.

Both engines read the export with explicit columns, build the same tables and run the
same SQL (`hipspine.screen.sql`), so their worklists are identical row for row.
"""

# ruff: noqa: S608  (SQL is assembled from the packaged rules, quoted literals and file paths)

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from hipspine.errors import InputError
from hipspine.screen import sql
from hipspine.screen.export import COLUMNS, duckdb_type, find_export_files, spark_type
from hipspine.screen.rules import ScreenRules, code_rows, load_screen_rules
from hipspine.screen.worklist import WorklistRow, sort_rows

Engine = Literal["duckdb", "spark"]
Progress = Callable[[str], None]


@dataclass
class ScreenResult:
    rows: list[WorklistRow]
    engine: str
    resources_read: int
    seconds: float
    files: dict[str, int] = field(default_factory=dict)


def screen_export(export_dir: str | Path, engine: Engine = "duckdb",
                  rules: ScreenRules | None = None, progress: Progress | None = None,
                  spark_master: str = "local[2]", memory_limit: str | None = None,
                  spark: Any = None) -> ScreenResult:
    """Screen one Bulk FHIR export folder and return the worklist rows (sorted)."""
    rules = rules or load_screen_rules()
    files = find_export_files(export_dir)
    started = time.perf_counter()
    step = progress or (lambda _msg: None)
    if engine == "duckdb":
        rows, count = _run_duckdb(files, rules, step, memory_limit)
    elif engine == "spark":
        rows, count = _run_spark(files, rules, step, spark_master, spark)
    else:
        raise InputError.single("engine", engine, "duckdb or spark", what="command-line option")
    return ScreenResult(sort_rows(rows), engine, count, time.perf_counter() - started,
                        {t: len(p) for t, p in files.items()})


def _statements(rules: ScreenRules, d: sql.Dialect) -> list[tuple[str, str]]:
    """(table name, SELECT) in dependency order, after facts_raw/texts_raw exist."""
    out = [("facts", sql.facts_sql(rules, d)), ("patient_groups", sql.patient_groups_sql(rules))]
    out += list(sql.same_day_sql(rules).items())
    out.append(("hits", sql.hits_sql(rules, d)))
    return out


_FACTS_RAW_COLUMNS = ("patient_id VARCHAR, resource_type VARCHAR, resource_id VARCHAR, day DATE, "
                      "status VARCHAR, system VARCHAR, code VARCHAR, code_norm VARCHAR, "
                      "display VARCHAR, value_num DOUBLE")
_TEXTS_RAW_COLUMNS = ("patient_id VARCHAR, resource_type VARCHAR, resource_id VARCHAR, day DATE, "
                      "status VARCHAR, text VARCHAR")


# --- DuckDB -----------------------------------------------------------------------------

_SIZE = re.compile(r"^\d+(\.\d+)?\s*[KMGT]i?B$", re.IGNORECASE)


def duckdb_connection(memory_limit: str | None, spill_dir: str | Path,
                      threads: int | None = None) -> Any:
    """An in-memory DuckDB connection capped at `memory_limit` (DuckDB's own default, 80% of
    RAM, when None) that spills tables, joins, sorts and aggregates to `spill_dir` past it."""
    import duckdb

    # DuckDB itself takes "-5GB" as "no limit"; a cap must be a size
    if memory_limit is not None and not _SIZE.match(memory_limit):
        raise InputError.single("--memory-limit", memory_limit, "a size such as 512MB or 4GB",
                                what="screening option")
    config: dict[str, Any] = {"preserve_insertion_order": False,
                              "temp_directory": str(spill_dir)}
    if memory_limit:
        config["memory_limit"] = memory_limit
    if threads:
        config["threads"] = threads
    try:
        return duckdb.connect(config=config)
    except duckdb.Error as exc:
        raise InputError.single("--memory-limit", memory_limit, "a size such as 512MB or 4GB",
                                what="screening option") from exc


def _run_duckdb(files: dict[str, list[Path]], rules: ScreenRules, step: Progress,
                memory_limit: str | None) -> tuple[list[tuple[Any, ...]], int]:
    import shutil
    import tempfile

    import duckdb

    d = sql.DUCKDB
    spill = tempfile.mkdtemp(prefix="hipspine-screen-")
    con = None
    try:
        con = duckdb_connection(memory_limit, spill)
        step("reading export")
        coding_parts: list[str] = []
        count = 0
        for rtype, paths in files.items():
            if not paths:
                continue
            columns = "{" + ", ".join(f"{sql.literal(k)}: {sql.literal(duckdb_type(v))}"
                                      for k, v in COLUMNS[rtype].items()) + "}"
            path_list = "[" + ", ".join(sql.literal(str(p)) for p in paths) + "]"
            # parsed once into a table of the needed columns only: every later step
            # (codings, texts, the resource count) reads this instead of the JSON
            con.execute(f"CREATE TABLE raw_{rtype} AS SELECT * FROM read_ndjson({path_list}, "
                        f"columns = {columns}, format = 'newline_delimited')")
            if rtype in sql.EXTRACT:
                coding_parts += sql.extract_codings_sql(rtype, d)
        coding_sql = " UNION ALL ".join(coding_parts) or (
            f"SELECT * FROM (SELECT {_nulls(_FACTS_RAW_COLUMNS)}) WHERE FALSE")
        con.execute(f"CREATE VIEW facts_raw AS {coding_sql}")
        text_sql = " UNION ALL ".join(
            sql.extract_texts_sql(t, d) for t in sql.TEXTS if files[t]) or (
            f"SELECT * FROM (SELECT {_nulls(_TEXTS_RAW_COLUMNS)}) WHERE FALSE")
        con.execute(f"CREATE VIEW texts_raw AS {text_sql}")
        _small_tables_duckdb(con, rules)
        step("matching codes and report phrases")
        for name, select in _statements(rules, d):
            con.execute(f"CREATE TABLE {name} AS {select}")
        step("building worklist")
        rows = con.execute(sql.worklist_sql(d, rules.evidence_items_max)).fetchall()
        step("counting resources")
        for rtype, paths in files.items():
            if paths:
                got = con.execute(f"SELECT count(*) FROM raw_{rtype}").fetchone()
                count += int(got[0]) if got else 0
        return rows, count
    except duckdb.OutOfMemoryException as exc:
        raise InputError.single("--memory-limit", memory_limit or "DuckDB's default (80% of RAM)",
                                "a limit this export fits in, or --engine spark",
                                str(exc).splitlines()[0], what="screening option") from exc
    except duckdb.Error as exc:
        raise InputError.single("EXPORT_DIR", ", ".join(str(p) for ps in files.values()
                                                          for p in ps[:1]),
                                "newline-delimited FHIR JSON, one resource per line",
                                what="Bulk FHIR export") from _quiet(exc)
    finally:
        if con is not None:
            con.close()
        shutil.rmtree(spill, ignore_errors=True)


def _quiet(exc: Exception) -> Exception:
    return exc


def _nulls(columns: str) -> str:
    parts = []
    for col in columns.split(", "):
        name, typ = col.split(" ")
        parts.append(f"CAST(NULL AS {typ}) AS {name}")
    return ", ".join(parts)


def _small_tables_duckdb(con: Any, rules: ScreenRules) -> None:
    con.execute("CREATE TABLE screen_codes (system VARCHAR, code VARCHAR, signal VARCHAR, "
                "display VARCHAR, min_value DOUBLE)")
    con.executemany("INSERT INTO screen_codes VALUES (?, ?, ?, ?, ?)",
                    [(r.system, r.code, r.signal, r.display, r.min_value)
                     for r in code_rows(rules)])
    con.execute("CREATE TABLE category_signals (category VARCHAR, signal VARCHAR)")
    con.executemany("INSERT INTO category_signals VALUES (?, ?)",
                    sql.category_signal_rows(rules))


# --- Spark ------------------------------------------------------------------------------

SPARK_DRIVER_MEMORY = "2g"  # local mode: the one JVM's heap, so the screen's memory cap


def spark_session(master: str = "local[2]", driver_memory: str = SPARK_DRIVER_MEMORY,
                  shuffle_partitions: int | None = None, local_dir: str | None = None) -> Any:
    """A SparkSession for screening. In local mode the driver is the executor, so
    `driver_memory` caps the whole run: shuffles, sorts and cached exports spill to
    `local_dir` (the system temp folder by default) past it. The cap takes effect only
    when this starts the JVM; a session already running in this process is reused as is.
    `shuffle_partitions` defaults to four per core (smaller tasks, smaller spills), which
    adaptive execution coalesces again for small exports. No UI, bound to 127.0.0.1."""
    from pyspark.sql import SparkSession

    builder = (SparkSession.builder.master(master).appName("hipspine-screen")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.parser.escapedStringLiterals", "true")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.driver.memory", driver_memory)
               .config("spark.sql.adaptive.enabled", "true")
               .config("spark.sql.adaptive.coalescePartitions.enabled", "true"))
    if local_dir:
        builder = builder.config("spark.local.dir", local_dir)
    if master.startswith("local"):  # a cluster sizes itself and must reach the driver
        cores = _local_cores(master)
        builder = (builder.config("spark.sql.shuffle.partitions",
                                  str(shuffle_partitions or 4 * cores))
                   .config("spark.default.parallelism", str(cores))
                   .config("spark.ui.enabled", "false")
                   .config("spark.driver.host", "127.0.0.1")
                   .config("spark.driver.bindAddress", "127.0.0.1"))
    elif shuffle_partitions:
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def _local_cores(master: str) -> int:
    """Cores of a local master URL: local -> 1, local[4] -> 4, local[*] -> all."""
    import os

    inside = master[len("local"):].strip("[]").split(",")[0]
    if inside in ("", "1"):
        return 1
    if inside == "*":
        return os.cpu_count() or 1
    if not inside.isdigit():
        raise InputError.single("--spark-master", master, "local, local[N], local[*] or a "
                                "cluster URL", what="command-line option")
    return int(inside)


def _run_spark(files: dict[str, list[Path]], rules: ScreenRules, step: Progress,
               master: str, spark: Any) -> tuple[list[tuple[Any, ...]], int]:
    from pyspark import StorageLevel
    from pyspark.sql.functions import broadcast
    from pyspark.sql.utils import AnalysisException

    d = sql.SPARK
    own = spark is None
    spark = spark or spark_session(master)
    spark.conf.set("spark.sql.parser.escapedStringLiterals", "true")
    try:
        step("reading export")
        coding_parts: list[str] = []
        frames = {}
        for rtype, paths in files.items():
            if not paths:
                continue
            schema = ", ".join(f"`{k}` {spark_type(v)}" for k, v in COLUMNS[rtype].items())
            # parsed once and kept on disk (codings, texts and the count reuse it); kept in the
            # heap instead, a 10^6-patient export ran a 2 GB heap out of memory while caching
            frame = spark.read.schema(schema).json([str(p) for p in paths]).persist(
                StorageLevel.DISK_ONLY)
            frame.createOrReplaceTempView(f"raw_{rtype}")
            frames[rtype] = frame
            if rtype in sql.EXTRACT:
                coding_parts += sql.extract_codings_sql(rtype, d)
        empty_facts = _nulls(_FACTS_RAW_COLUMNS).replace("VARCHAR", "STRING")
        coding_sql = " UNION ALL ".join(coding_parts) or (
            f"SELECT * FROM (SELECT {empty_facts}) WHERE FALSE")
        spark.sql(coding_sql).createOrReplaceTempView("facts_raw")
        empty_texts = _nulls(_TEXTS_RAW_COLUMNS).replace("VARCHAR", "STRING")
        text_sql = " UNION ALL ".join(
            sql.extract_texts_sql(t, d) for t in sql.TEXTS if files[t]) or (
            f"SELECT * FROM (SELECT {empty_texts}) WHERE FALSE")
        spark.sql(text_sql).createOrReplaceTempView("texts_raw")
        # the small tables are broadcast: Spark cannot size a table made from local rows, and a
        # shuffle join on a few hundred codes (or a handful of categories) funnels the export
        # through one or two tasks
        broadcast(spark.createDataFrame(
            [(r.system, r.code, r.signal, r.display, r.min_value) for r in code_rows(rules)],
            "system STRING, code STRING, signal STRING, display STRING, min_value DOUBLE",
        )).createOrReplaceTempView("screen_codes")
        broadcast(spark.createDataFrame(sql.category_signal_rows(rules),
                                        "category STRING, signal STRING")
                  ).createOrReplaceTempView("category_signals")
        step("matching codes and report phrases")
        for name, select in _statements(rules, d):
            table = spark.sql(select)
            if name == "facts":
                table = table.persist(StorageLevel.DISK_ONLY)
            table.createOrReplaceTempView(name)
        step("building worklist")
        worklist = spark.sql(sql.worklist_sql(d, rules.evidence_items_max))
        # partition by partition: the driver never holds the serialised worklist at once
        rows = [tuple(r) for r in worklist.toLocalIterator()]
        step("counting resources")
        counts = " + ".join(f"(SELECT count(*) FROM raw_{t})" for t in frames) or "0"
        count = int(spark.sql(f"SELECT {counts} AS n").collect()[0][0])
        return rows, count
    except AnalysisException as exc:
        raise InputError.single("EXPORT_DIR", str(next(iter(files.values()))),
                                "newline-delimited FHIR JSON, one resource per line",
                                what="Bulk FHIR export") from exc
    finally:
        spark.catalog.clearCache()
        if own:
            spark.stop()
