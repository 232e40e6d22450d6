"""Population screening throughput against DuckDB's raw read of the same NDJSON.

    python benchmarks/bench_screen.py            # 100,000 patients, DuckDB and Spark
    python benchmarks/bench_screen.py --quick    # 5,000 patients, DuckDB (add --spark for Spark)

Generates a synthetic Bulk FHIR export (planted cases and noise), then times, in the same
run: the baseline (DuckDB `read_json` of every file, count only), screening with DuckDB and
(optionally) with Spark local[2]. Prints resources/s and the ratio of each time to the
baseline; the target is DuckDB screening within 3x of the raw read.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from hipspine.screen import screen_export
from hipspine.screen.export import find_export_files
from hipspine.screen.synth_export import write_synthetic_export

TARGET_RATIO = 3.0


def raw_read_seconds(folder: Path) -> tuple[int, float]:
    """Baseline: DuckDB reads every NDJSON file of the export and counts the rows."""
    import duckdb

    files = find_export_files(folder)
    con = duckdb.connect()
    started = time.perf_counter()
    total = 0
    for paths in files.values():
        if paths:
            listing = "[" + ", ".join(f"'{p}'" for p in paths) + "]"
            row = con.execute(f"SELECT count(*) FROM read_json({listing}, "
                              "format = 'newline_delimited')").fetchone()
            total += int(row[0]) if row else 0
    seconds = time.perf_counter() - started
    con.close()
    return total, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 patients")
    parser.add_argument("--patients", type=int, default=None)
    parser.add_argument("--spark", action="store_true", help="also time Spark in --quick mode")
    parser.add_argument("--no-spark", action="store_true", help="skip Spark in a full run")
    args = parser.parse_args(argv)
    patients = args.patients or (5_000 if args.quick else 100_000)
    with_spark = (args.spark or not args.quick) and not args.no_spark

    with tempfile.TemporaryDirectory(prefix="hipspine-bench-screen-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        truth = write_synthetic_export(folder, patients=patients, seed=2026)
        generated = time.perf_counter() - started
        size_mb = sum(p.stat().st_size for p in folder.iterdir()) / 1e6

        resources, baseline = raw_read_seconds(folder)
        rows: list[tuple[str, int, float]] = [("baseline: DuckDB read_json, count", resources,
                                               baseline)]
        duck = screen_export(folder, engine="duckdb")
        rows.append(("screen, DuckDB", duck.resources_read, duck.seconds))
        expected = {(p, c) for p, cs in truth.items() for c in cs}
        found = {(r.patient_id, r.category) for r in duck.rows}
        exact = found == expected
        if with_spark:
            spark = screen_export(folder, engine="spark")
            rows.append(("screen, Spark local[2]", spark.resources_read, spark.seconds))
            exact = exact and spark.rows == duck.rows

    print(f"export: {patients:,} patients, {resources:,} resources, {size_mb:.1f} MB "
          f"(generated in {generated:.1f} s)")
    print(f"{'measure':38} {'resources':>11} {'seconds':>9} {'resources/s':>12} {'x baseline':>11}")
    for name, count, seconds in rows:
        print(f"{name:38} {count:>11,} {seconds:>9.2f} {count / seconds:>12,.0f} "
              f"{seconds / baseline:>11.2f}")
    ratio = duck.seconds / baseline
    print(f"DuckDB screening / raw read = {ratio:.2f}x (target <= {TARGET_RATIO:.1f}x: "
          f"{'met' if ratio <= TARGET_RATIO else 'NOT met'}); worklist matches planted cases"
          f"{' and engines agree' if with_spark else ''}: {exact}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
