"""Population screening on DuckDB and Spark against each engine's raw read of the same files.

    python benchmarks/bench_screen.py --quick     # 2,000 patients, both engines (< 2 minutes)
    python benchmarks/bench_screen.py             # 100,000 patients, both engines
    python benchmarks/bench_screen.py --million   # 1,000,000 patients, both (DuckDB if it fits)

One run writes a synthetic Bulk FHIR export (planted cases and noise, streamed to disk), then
runs each step in its own child process, so that each step's memory is its own:
  raw read   DuckDB `read_json` count of every file; Spark `spark.read.json` count (schema
             inferred, as a user would first read an export)
  screen     `screen_export` on the same files (rules loaded beforehand and shown apart;
             Spark's session start-up is shown apart too)
Memory: while a child runs, the parent reads /proc ten times a second and sums VmRSS over
the child and all its descendants (Spark's JVM is a grandchild of the Python child); "peak
tree" is the largest such sum, "largest process" the largest kernel high-water mark
(VmHWM) of any one process in the tree. Worklists are compared row for row between the
engines (every column) and with the planted truth (patient and category). The export,
worklists and spill folders are deleted afterwards unless --keep is given.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

SIZES = {"quick": 2_000, "default": 100_000, "million": 1_000_000}
SEED = 2026
DUCKDB_MEMORY = "4GB"   # DuckDB memory_limit; tables, joins and sorts spill to disk past it
SPARK_MEMORY = "2g"     # Spark driver heap: in local mode the only JVM, so the run's cap
SPARK_MASTER = "local[2]"
SAMPLE_SECONDS = 0.1


# --- child side: one step per process ---------------------------------------------------

def _child(task: dict[str, Any]) -> dict[str, Any]:
    step, export = task["step"], Path(task["export"])
    if step == "generate":
        from hipspine.screen.synth_export import write_synthetic_export_streamed

        started = time.perf_counter()
        counts = write_synthetic_export_streamed(export, task["patients"], task["planted"],
                                                 seed=SEED)
        return {"seconds": time.perf_counter() - started, "resources": sum(counts.values()),
                "bytes": sum(p.stat().st_size for p in export.iterdir())}
    from hipspine.screen.export import find_export_files

    files = {t: ps for t, ps in find_export_files(export).items() if ps}
    if step == "duckdb_raw":
        from hipspine.screen.engine import duckdb_connection

        con = duckdb_connection(task["duckdb_memory"], task["spill"])
        started = time.perf_counter()
        total = 0
        for paths in files.values():
            listing = "[" + ", ".join(f"'{p}'" for p in paths) + "]"
            row = con.execute(f"SELECT count(*) FROM read_json({listing}, "
                              "format = 'newline_delimited')").fetchone()
            total += int(row[0]) if row else 0
        return {"seconds": time.perf_counter() - started, "resources": total}
    out: dict[str, Any] = {}
    spark = None
    if step.startswith("spark"):
        from hipspine.screen.engine import spark_session

        started = time.perf_counter()
        spark = spark_session(SPARK_MASTER, driver_memory=task["spark_memory"],
                              local_dir=task["spill"])
        out["startup"] = time.perf_counter() - started
        out["shuffle_partitions"] = spark.conf.get("spark.sql.shuffle.partitions")
    if step == "spark_raw":
        assert spark is not None
        started = time.perf_counter()
        total = sum(spark.read.json([str(p) for p in paths]).count() for paths in files.values())
        spark.stop()
        return {**out, "seconds": time.perf_counter() - started, "resources": total}
    from hipspine.screen import screen_export, write_worklist
    from hipspine.screen.rules import code_rows, load_screen_rules

    started = time.perf_counter()
    rules = load_screen_rules()
    code_rows(rules)  # value sets expanded once per process; a cost apart from the screen
    out["rules"] = time.perf_counter() - started
    if step == "duckdb_screen":
        result = screen_export(export, engine="duckdb", rules=rules,
                               memory_limit=task["duckdb_memory"])
    else:
        result = screen_export(export, engine="spark", rules=rules, spark=spark)
        assert spark is not None
        spark.stop()
    write_worklist(result.rows, task["worklist"])
    return {**out, "seconds": result.seconds, "resources": result.resources_read,
            "rows": len(result.rows)}


# --- parent side: run a child, watch its process tree --------------------------------------

def _process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = defaultdict(list)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        children[int(stat.rsplit(")", 1)[1].split()[1])].append(int(entry))
    tree = [root]
    for pid in tree:
        tree += children.get(pid, [])
    return tree


def _memory_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of one process in kB; zeros once it is gone."""
    rss = hwm = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    except OSError:
        pass
    return rss, hwm


def run_step(task: dict[str, Any], log: Path) -> dict[str, Any]:
    """Run one step in a child process; add its peak memory (MB) to its result."""
    result_file = Path(task["spill"]) / f"{task['step']}.json"
    task = {**task, "result": str(result_file)}
    with log.open("a") as err:
        child = subprocess.Popen([sys.executable, __file__, "--child", json.dumps(task)],
                                 stdout=err, stderr=err)
        peak_tree = 0
        hwm: dict[int, int] = {}
        while child.poll() is None:
            total = 0
            for pid in _process_tree(child.pid):
                rss, high = _memory_kb(pid)
                total += rss
                hwm[pid] = max(hwm.get(pid, 0), high)
            peak_tree = max(peak_tree, total)
            time.sleep(SAMPLE_SECONDS)
    out: dict[str, Any] = (json.loads(result_file.read_text()) if result_file.exists()
                           else {"error": f"exit code {child.returncode}; see {log}"})
    out["peak_tree_mb"] = peak_tree / 1024
    out["largest_process_mb"] = max(hwm.values(), default=0) / 1024
    return out


# --- comparison -----------------------------------------------------------------------------

def _rows(path: Path) -> Counter[int]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        return Counter(hash(tuple(row)) for row in reader)


def _pairs(path: Path) -> set[int]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        return {hash((row[0], row[1])) for row in reader}


def compare(worklists: dict[str, Path], planted: Path) -> list[str]:
    """Lines saying how the worklists agree with each other and with the planted truth."""
    lines = []
    truth = _pairs(planted)
    for name, path in worklists.items():
        found = _pairs(path)
        lines.append(f"{name} vs planted truth (patient, category): {len(truth - found):,} "
                     f"missed, {len(found - truth):,} extra of {len(truth):,} planted")
    if len(worklists) == 2:
        (a, pa), (b, pb) = worklists.items()
        ra, rb = _rows(pa), _rows(pb)
        differ = sum(((ra - rb) + (rb - ra)).values())
        lines.append(f"{a} vs {b} worklists (every column): {sum(ra.values()):,} and "
                     f"{sum(rb.values()):,} rows, {'identical' if differ == 0 else 'DIFFERENT'}"
                     f", {differ:,} rows in only one")
    return lines


# --- report -----------------------------------------------------------------------------------

def _print_table(results: dict[str, dict[str, Any]], engines: list[str]) -> None:
    duck_raw = results.get("duckdb_raw", {}).get("seconds")
    print(f"{'engine':7} {'step':16} {'resources':>11} {'seconds':>9} {'x own raw':>10} "
          f"{'x DuckDB raw':>13} {'peak tree MB':>13} {'largest proc MB':>16}")
    for engine in engines:
        own_raw = results[f"{engine}_raw"].get("seconds")
        for step, label in (("raw", "raw read, count"), ("screen", "screen")):
            r = results[f"{engine}_{step}"]
            if "error" in r:
                print(f"{engine:7} {label:16} did not finish: {r['error']} "
                      f"(peak tree {r['peak_tree_mb']:,.0f} MB)")
                continue
            own = f"{r['seconds'] / own_raw:.2f}" if own_raw else "-"
            duck = f"{r['seconds'] / duck_raw:.2f}" if duck_raw else "-"
            print(f"{engine:7} {label:16} {r['resources']:>11,} {r['seconds']:>9.2f} {own:>10} "
                  f"{duck:>13} {r['peak_tree_mb']:>13,.0f} {r['largest_process_mb']:>16,.0f}")
    for engine in engines:
        r = results[f"{engine}_screen"]
        extra = [f"rules loaded in {r['rules']:.1f} s"] if "rules" in r else []
        if "startup" in r:
            extra.append(f"session start {r['startup']:.1f} s, "
                         f"{r['shuffle_partitions']} shuffle partitions")
        if extra:
            print(f"  {engine} screen, not in its seconds: {'; '.join(extra)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help=f"{SIZES['quick']:,} patients")
    size.add_argument("--million", action="store_true", help=f"{SIZES['million']:,} patients")
    size.add_argument("--patients", type=int, help="any number of patients")
    parser.add_argument("--engines", default="duckdb,spark", help="duckdb,spark (default both)")
    parser.add_argument("--duckdb-memory", default=DUCKDB_MEMORY, help="DuckDB memory_limit")
    parser.add_argument("--spark-memory", default=SPARK_MEMORY, help="Spark driver memory")
    parser.add_argument("--workdir", type=Path, help="folder for the export (default: temp)")
    parser.add_argument("--keep", action="store_true", help="keep the export and worklists")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        task = json.loads(args.child)
        try:
            out = _child(task)
        except Exception as exc:  # reported by the parent as "did not finish"
            out = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[-1][:200]}"}
        Path(task["result"]).write_text(json.dumps(out))
        return 0

    patients = args.patients or SIZES["quick" if args.quick else
                                      "million" if args.million else "default"]
    engines = [e for e in ("duckdb", "spark") if e in args.engines.split(",")]
    work = Path(tempfile.mkdtemp(prefix="hipspine-bench-screen-", dir=args.workdir))
    try:
        return _run(work, patients, engines, args)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def _run(work: Path, patients: int, engines: list[str], args: argparse.Namespace) -> int:
    export, spill = work / "export", work / "spill"
    spill.mkdir()
    log = work / "children.log"
    base = {"export": str(export), "spill": str(spill), "planted": str(work / "planted.csv"),
            "patients": patients, "duckdb_memory": args.duckdb_memory,
            "spark_memory": args.spark_memory}
    gen = run_step({**base, "step": "generate"}, log)
    if "error" in gen:
        print(f"generation failed: {gen['error']}")
        return 1
    print(f"export: {patients:,} patients, {gen['resources']:,} resources, "
          f"{gen['bytes'] / 1e6:,.0f} MB on disk (NDJSON, most types gzipped), generated in "
          f"{gen['seconds']:.0f} s, generator peak {gen['peak_tree_mb']:,.0f} MB")
    print(f"caps: DuckDB memory_limit {args.duckdb_memory} (spills to disk past it); Spark "
          f"{SPARK_MASTER}, driver memory {args.spark_memory} (JVM heap; the JVM's own "
          "code and buffers come on top)")
    results: dict[str, dict[str, Any]] = {}
    worklists: dict[str, Path] = {}
    for engine in engines:
        results[f"{engine}_raw"] = run_step({**base, "step": f"{engine}_raw"}, log)
        worklist = work / f"worklist-{engine}.csv"
        results[f"{engine}_screen"] = run_step(
            {**base, "step": f"{engine}_screen", "worklist": str(worklist)}, log)
        if "error" not in results[f"{engine}_screen"]:
            worklists[engine] = worklist
    _print_table(results, engines)
    for line in compare(worklists, work / "planted.csv"):
        print(line)
    failed = [k for k, r in results.items() if "error" in r]
    if failed:
        print("last lines the children wrote:")
        print("\n".join(log.read_text(errors="replace").splitlines()[-15:]))
    # at 10^6 DuckDB runs "where it fits": its not fitting is a finding, not a failure
    return 1 if [k for k in failed if not (args.million and k.startswith("duckdb"))] else 0


if __name__ == "__main__":
    sys.exit(main())
