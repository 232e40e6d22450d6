"""Study report generation against a plain in-memory DuckDB/pandas aggregation of the same numbers.

    python benchmarks/bench_report.py [--quick] [--sizes 100000,1000000]

For each cohort size a temporary SQLite registry is filled with a deterministic, confounded
synthetic cohort (the columnar generator of tests/studies/cohort.py, written in batches),
then two child processes run one after the other so each reports its own peak memory:

  report     `hipspine.studies.render_report`: streams the registry into a disk-backed,
             memory-limited DuckDB, aggregates, runs the statistics (KM, IPTW, CIs),
             draws the figures and writes the self-contained HTML
  baseline   the plain way: `pandas.read_sql_query` of every table into RAM, then the
             same aggregate SQL in an in-memory DuckDB (no statistics, figures or HTML)

Ratio = report time / baseline time (target: within 3x); peak RSS shows the report's
memory staying bounded while the baseline's grows with the registry.
Quick: 20,000 patients; full: 100,000 and 1,000,000.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BATCH = 100_000


def build_registry(path: Path, patients: int) -> int:
    sys.path.insert(0, str(REPO / "tests"))
    from hipspine.registry import get_engine
    from studies.cohort import make_cohort, write_cohort  # type: ignore[import-not-found]

    engine = get_engine(f"sqlite:///{path}")
    rows = 0
    for k, start in enumerate(range(0, patients, BATCH)):
        cohort = make_cohort(min(BATCH, patients - start), seed=100 + k, start_id=start + 1)
        write_cohort(engine, cohort)
        rows += sum(len(f) for f in (cohort.patients, cohort.episodes, cohort.treatments,
                                     cohort.proms))
    engine.dispose()
    return rows


def child_report(path: str) -> dict[str, object]:
    from hipspine.registry import get_engine
    from hipspine.studies import render_report

    engine = get_engine(f"sqlite:///{path}")
    out = Path(path).with_suffix(".html")
    summary = render_report(engine, out)
    return {"patients": summary.cohort.patients, "html_bytes": out.stat().st_size,
            "paired_12m": [r.paired for r in summary.completeness if r.timepoint == "12m"]}


def child_baseline(path: str) -> dict[str, object]:
    import sqlite3

    import duckdb
    import pandas as pd

    from hipspine.proms import packaged_instruments, packaged_timepoints
    from hipspine.studies.knowledge import packaged_study_defaults
    from hipspine.studies.queries import DuckDBExecutor, RegistryQueries
    from hipspine.studies.staging import STUDY_COLUMNS

    con = sqlite3.connect(path)
    duck = duckdb.connect()
    for table, typed in STUDY_COLUMNS.items():
        columns = ", ".join(c for c, _ in typed)
        dates = [c for c, kind in typed if kind == "DATE"]
        frame = pd.read_sql_query(f"SELECT {columns} FROM {table}", con, parse_dates=dates)
        duck.register(table, frame)
    defaults = packaged_study_defaults()
    instruments = packaged_instruments()
    q = RegistryQueries(DuckDBExecutor(duck), packaged_timepoints().windows)
    q.build()
    counts = q.cohort_counts()
    completeness = q.completeness(defaults.completeness.preoperative,
                                  defaults.completeness.postoperative)
    q.trajectories()
    specs = [{"id": t.id, "instrument": i.id, "value": t.value, "unit": t.unit,
              "direction": 1 if i.higher_is_better else -1}
             for i in instruments.values() if i.id in q.instruments()
             for t in i.thresholds if t.applies_to == "change" and t.subscale is None]
    q.change(specs)
    q.time_to_surgery()
    q.time_to_reoperation()
    cov = defaults.covariates
    for comparison in defaults.comparisons:
        for ins in q.instruments():
            q.iptw_cells(ins, defaults.outcome_timepoint.timepoint, comparison.treated,
                         comparison.control, cov.age_band_edges, instruments[ins].range,
                         cov.baseline_score_bands, cov.include_sex)
    return {"patients": counts["patients"],
            "paired_12m": completeness.loc[completeness["timepoint"] == "12m",
                                           "paired"].tolist()}


def warm_imports(kind: str) -> None:
    """Load each side's libraries before the clock starts: interpreter and import time are a
    fixed cost of any Python run, not of aggregating the registry."""
    import duckdb  # noqa: F401
    import pandas  # noqa: F401

    import hipspine.studies.queries

    if kind == "report":
        import lifelines  # noqa: F401
        import matplotlib.pyplot  # noqa: F401
        import scipy.stats  # noqa: F401
        import statsmodels.api  # noqa: F401

        import hipspine.studies.report  # noqa: F401


def run_child(kind: str, path: Path) -> dict[str, object]:
    done = subprocess.run([sys.executable, __file__, "--child", kind, str(path)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sizes", default=None, help="comma-separated patient counts")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, path = args.child
        start = time.perf_counter()
        warm_imports(kind)
        imports = time.perf_counter() - start
        start = time.perf_counter()
        result = (child_report if kind == "report" else child_baseline)(path)
        result["seconds"] = time.perf_counter() - start
        result["import_seconds"] = imports
        result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return

    sizes = ([int(s) for s in args.sizes.split(",")] if args.sizes
             else [20_000] if args.quick else [100_000, 1_000_000])
    header = (f"{'patients':>10} {'rows':>10} {'report s':>9} {'rows/s':>10} {'peak MB':>8} "
              f"{'baseline s':>10} {'rows/s':>10} {'peak MB':>8} {'ratio':>6}  agree")
    print(header)
    print("-" * len(header))
    worst = 0.0
    for patients in sizes:
        with tempfile.TemporaryDirectory(prefix="hipspine-bench-report-") as tmp:
            path = Path(tmp) / "registry.sqlite"
            rows = build_registry(path, patients)
            report = run_child("report", path)
            baseline = run_child("baseline", path)
        ratio = float(report["seconds"]) / float(baseline["seconds"])  # type: ignore[arg-type]
        worst = max(worst, ratio)
        agree = (report["patients"] == baseline["patients"]
                 and report["paired_12m"] == baseline["paired_12m"])
        print(f"{patients:>10,} {rows:>10,} {report['seconds']:>9.1f} "
              f"{rows / float(report['seconds']):>10,.0f} {report['peak_mb']:>8.0f} "  # type: ignore[arg-type]
              f"{baseline['seconds']:>10.1f} {rows / float(baseline['seconds']):>10,.0f} "  # type: ignore[arg-type]
              f"{baseline['peak_mb']:>8.0f} {ratio:>6.2f}  {'yes' if agree else 'NO'}")
    print(f"\nworst ratio report/baseline: {worst:.2f} (target <= 3.0); library imports before "
          "the clock starts are excluded on both sides")


if __name__ == "__main__":
    main()
