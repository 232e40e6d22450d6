"""Spark gives the same worklist as DuckDB, row for row (one small local session)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hipspine.screen import screen_export, spark_session


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    session = spark_session("local[2]", driver_memory="1g")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def test_spark_and_duckdb_worklists_are_identical(
        spark: Any, mixed_export: tuple[Path, dict[str, set[str]]]) -> None:
    folder, truth = mixed_export
    duck = screen_export(folder, engine="duckdb")
    sparked = screen_export(folder, engine="spark", spark=spark)
    assert sparked.rows == duck.rows
    assert sparked.resources_read == duck.resources_read > 3000  # the Synthea sample is read
    got = {(r.patient_id, r.category) for r in sparked.rows}
    assert got == {(p, c) for p, cs in truth.items() for c in cs}


def test_driver_memory_caps_the_jvm_heap() -> None:
    """In local mode the one JVM runs the whole screen: its heap is the cap asked for. The
    cap applies only to a JVM the session starts, so the check runs in a process of its own
    (a test worker may already hold another module's JVM)."""
    probe = ("from hipspine.screen import spark_session\n"
             "s = spark_session('local[2]', driver_memory='1g')\n"
             "print(s.sparkContext._jvm.java.lang.Runtime.getRuntime().maxMemory())\n"
             "print(s.conf.get('spark.sql.shuffle.partitions'))\n"
             "s.stop()\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=300, check=True)
    heap, partitions = done.stdout.split()[-2:]
    assert 0.5 * 2**30 < int(heap) <= 2**30
    assert partitions == "8"  # four per core
