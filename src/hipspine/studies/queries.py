"""Aggregate the registry in the database: only counts and sums come back to Python.

The long format every analysis reads is built as temporary tables on one connection:

- `hs_index`   one row per patient: `patient_id, year_of_birth, sex, synthetic, verdict,
               opened_on, first_surgery_on, first_target, reoperation_on, last_contact_on,
               index_on, strategy` (strategy, as treated: conservative | hip_first |
               spine_first from the first surgical treatment; or, as planned: the
               episode's recorded `pathway`, e.g. hip_first, spine_only, conservative).
- `hs_scores`  one row per patient x instrument x timepoint: `patient_id, instrument,
               timepoint, score`; the administration whose date falls in the timepoint's
               window around the index date (first surgery, else the first episode),
               scored ones first, then closest to the window's target day. `score` is NULL
               when the PROM was returned but could not be scored: it still counts as
               captured for completeness, never in means or change.
- `hs_change`  one row per patient x instrument x follow-up timepoint with a baseline:
               `patient_id, instrument, timepoint, baseline, followup, change`.

The SQL runs unchanged on SQLite and PostgreSQL (DuckDB too); only date arithmetic differs.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

from hipspine.proms.knowledge import TimepointWindow
from hipspine.registry.tables import SURGICAL_TREATMENT_TYPES


@dataclass(frozen=True)
class CohortFilter:
    """Which patients a study includes (all conditions must hold)."""

    synthetic: str = "include"  # include | exclude | only
    verdicts: tuple[str, ...] = ()
    sex: str | None = None
    age_min: int | None = None
    age_max: int | None = None
    strategy_source: str = "treatments"  # treatments (as treated) | pathway (as planned)


def _days(dialect: str, later: str, earlier: str) -> str:
    if dialect == "sqlite":
        return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"
    if dialect == "duckdb":
        return f"date_diff('day', CAST({earlier} AS DATE), CAST({later} AS DATE))"
    return f"({later} - {earlier})"


def _year(dialect: str, column: str) -> str:
    if dialect == "sqlite":
        return f"CAST(strftime('%Y', {column}) AS INTEGER)"
    return f"CAST(EXTRACT(YEAR FROM {column}) AS INTEGER)"


def _in_list(name: str, values: Sequence[str], params: dict[str, Any]) -> str:
    keys = []
    for i, value in enumerate(values):
        key = f"{name}_{i}"
        params[key] = value
        keys.append(f":{key}")
    return ", ".join(keys) if keys else "NULL"


def _to_date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


class Executor(Protocol):
    """Runs one SQL statement with `:name` parameters; returns (columns, rows)."""

    dialect: str

    def run(self, sql: str, params: dict[str, Any]) -> tuple[list[str], list[Any]]: ...


class SqlAlchemyExecutor:
    """Runs the queries inside the registry database itself (SQLite or PostgreSQL)."""

    def __init__(self, conn: Any) -> None:
        from sqlalchemy import text

        self._text = text
        self.conn = conn
        self.dialect = conn.dialect.name

    def run(self, sql: str, params: dict[str, Any]) -> tuple[list[str], list[Any]]:
        result = self.conn.execute(self._text(sql), params)
        if not result.returns_rows:
            return [], []
        return list(result.keys()), list(result.fetchall())


_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


class DuckDBExecutor:
    """Runs the same queries on a DuckDB copy of the registry (see `staging`)."""

    dialect = "duckdb"

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def run(self, sql: str, params: dict[str, Any]) -> tuple[list[str], list[Any]]:
        used = set(_NAMED.findall(sql))
        cursor = self.conn.execute(_NAMED.sub(r"$\1", sql),
                                   {k: v for k, v in params.items() if k in used})
        if cursor.description is None:
            return [], []
        return [d[0] for d in cursor.description], cursor.fetchall()


class _Rows:
    def __init__(self, columns: list[str], rows: list[Any]) -> None:
        self.columns, self.rows = columns, rows

    def fetchone(self) -> Any:
        return self.rows[0] if self.rows else None

    def __iter__(self) -> Any:
        return iter(self.rows)


class RegistryQueries:
    """Builds the long-format temp tables through `executor` and answers aggregate questions."""

    def __init__(self, executor: Executor, windows: Sequence[TimepointWindow],
                 cohort: CohortFilter | None = None) -> None:
        self.executor = executor
        self.dialect = executor.dialect
        self.windows = list(windows)
        self.cohort = cohort or CohortFilter()
        self.as_of: dt.date | None = None
        self._instruments: list[str] | None = None

    def _exec(self, sql: str, params: dict[str, Any] | None = None) -> _Rows:
        return _Rows(*self.executor.run(sql, params or {}))

    def frame(self, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        result = self._exec(sql, params)
        return pd.DataFrame(result.rows, columns=result.columns)

    # ------------------------------------------------------------------ build
    def build(self) -> None:
        """Create hs_index, hs_scores and hs_change (temporary: gone when the connection is)."""
        for name in ("hs_change", "hs_scores", "hs_index"):
            self._exec(f"DROP TABLE IF EXISTS {name}")
        self._instruments = None
        self._build_index()
        if self.dialect != "duckdb":  # row stores need an index for the joins below
            self._exec("CREATE INDEX hs_index_patient ON hs_index (patient_id)")
        self._build_scores()
        if self.dialect != "duckdb":
            self._exec("CREATE INDEX hs_scores_key ON hs_scores "
                       "(patient_id, instrument, timepoint)")
        self._build_change()
        row = self._exec("SELECT MAX(last_contact_on) FROM hs_index").fetchone()
        self.as_of = _to_date(row[0]) if row else None

    def _build_index(self) -> None:
        d = self.dialect
        params: dict[str, Any] = {}
        surgical = _in_list("surgical", SURGICAL_TREATMENT_TYPES, params)
        where = ["1 = 1"]
        if self.cohort.synthetic == "exclude":
            where.append("p.synthetic = :f_false")
            params["f_false"] = False
        elif self.cohort.synthetic == "only":
            where.append("p.synthetic = :f_true")
            params["f_true"] = True
        if self.cohort.verdicts:
            where.append(f"e.verdict IN ({_in_list('verdict', self.cohort.verdicts, params)})")
        if self.cohort.sex:
            where.append("p.sex = :f_sex")
            params["f_sex"] = self.cohort.sex
        index_year = _year(d, "COALESCE(s.first_surgery_on, e.opened_on)")
        if self.cohort.strategy_source == "pathway":
            strategy = "COALESCE(e.pathway, 'unknown')"
        else:
            strategy = ("CASE WHEN s.first_target = 'hip' THEN 'hip_first' "
                        "WHEN s.first_target = 'spine' THEN 'spine_first' "
                        "WHEN s.first_target IS NULL THEN 'conservative' "
                        "ELSE 'other_surgery' END")
        if self.cohort.age_min is not None:
            where.append(f"{index_year} - p.year_of_birth >= :f_age_min")
            params["f_age_min"] = self.cohort.age_min
        if self.cohort.age_max is not None:
            where.append(f"{index_year} - p.year_of_birth <= :f_age_max")
            params["f_age_max"] = self.cohort.age_max
        self._exec(f"""
        CREATE TEMPORARY TABLE hs_index AS
        WITH surgery AS (
            SELECT patient_id, performed_on, target,
                   ROW_NUMBER() OVER (PARTITION BY patient_id ORDER BY performed_on, id) AS rn
            FROM treatments WHERE type IN ({surgical})
        ),
        first_surgery AS (
            SELECT f.patient_id, f.performed_on AS first_surgery_on, f.target AS first_target,
                   (SELECT MIN(r.performed_on) FROM surgery r
                     WHERE r.patient_id = f.patient_id AND r.rn > 1
                       AND r.target = f.target) AS reoperation_on
            FROM surgery f WHERE f.rn = 1
        ),
        first_episode AS (
            SELECT patient_id, opened_on, verdict, pathway,
                   ROW_NUMBER() OVER (PARTITION BY patient_id ORDER BY opened_on, id) AS rn
            FROM episodes
        ),
        contact AS (
            SELECT patient_id, MAX(d) AS last_contact_on FROM (
                SELECT patient_id, MAX(administered_on) AS d FROM prom_administrations
                GROUP BY patient_id
                UNION ALL SELECT patient_id, MAX(performed_on) FROM treatments
                GROUP BY patient_id
                UNION ALL SELECT patient_id, MAX(COALESCE(closed_on, opened_on)) FROM episodes
                GROUP BY patient_id
            ) c GROUP BY patient_id
        )
        SELECT p.id AS patient_id, p.year_of_birth, p.sex, p.synthetic, e.verdict,
               e.opened_on, s.first_surgery_on, s.first_target, s.reoperation_on,
               c.last_contact_on,
               COALESCE(s.first_surgery_on, e.opened_on) AS index_on,
               {strategy} AS strategy,
               {index_year} - p.year_of_birth AS age
        FROM patients p
        LEFT JOIN first_episode e ON e.patient_id = p.id AND e.rn = 1
        LEFT JOIN first_surgery s ON s.patient_id = p.id
        LEFT JOIN contact c ON c.patient_id = p.id
        WHERE COALESCE(s.first_surgery_on, e.opened_on) IS NOT NULL AND {' AND '.join(where)}
        """, params)  # noqa: S608

    def _windows_sql(self, params: dict[str, Any]) -> str:
        parts = []
        for i, w in enumerate(self.windows):
            params.update({f"w{i}_t": w.timepoint, f"w{i}_f": w.from_day,
                           f"w{i}_to": w.to_day, f"w{i}_g": w.target_day})
            parts.append(f"SELECT :w{i}_t AS timepoint, :w{i}_f AS from_day, "
                         f":w{i}_to AS to_day, :w{i}_g AS target_day")
        return " UNION ALL ".join(parts)

    def _build_scores(self) -> None:
        params: dict[str, Any] = {}
        windows = self._windows_sql(params)
        day = _days(self.dialect, "a.administered_on", "i.index_on")
        self._exec(f"""
        CREATE TEMPORARY TABLE hs_scores AS
        SELECT patient_id, instrument, timepoint, score FROM (
            SELECT x.patient_id, x.instrument, w.timepoint, x.score,
                   ROW_NUMBER() OVER (
                       PARTITION BY x.patient_id, x.instrument, w.timepoint
                       ORDER BY CASE WHEN x.score IS NULL THEN 1 ELSE 0 END,
                                ABS(x.day - w.target_day), x.id) AS rn
            FROM (
                SELECT a.id, a.patient_id, a.instrument, a.score, {day} AS day
                FROM prom_administrations a JOIN hs_index i ON i.patient_id = a.patient_id
            ) x
            JOIN ({windows}) w ON x.day BETWEEN w.from_day AND w.to_day
        ) ranked WHERE rn = 1
        """, params)  # noqa: S608

    def _build_change(self) -> None:
        self._exec("""
        CREATE TEMPORARY TABLE hs_change AS
        SELECT f.patient_id, f.instrument, f.timepoint, b.score AS baseline,
               f.score AS followup, f.score - b.score AS change
        FROM hs_scores f JOIN hs_scores b
          ON b.patient_id = f.patient_id AND b.instrument = f.instrument
         AND b.timepoint = 'baseline'
        WHERE f.timepoint <> 'baseline' AND f.score IS NOT NULL AND b.score IS NOT NULL
        """)

    # ------------------------------------------------------------------ questions
    def cohort_counts(self) -> dict[str, int]:
        row = self._exec("""
            SELECT COUNT(*),
                   SUM(CASE WHEN first_surgery_on IS NOT NULL THEN 1 ELSE 0 END),
                   SUM(CASE WHEN synthetic THEN 1 ELSE 0 END),
                   SUM(CASE WHEN strategy = 'hip_first' THEN 1 ELSE 0 END),
                   SUM(CASE WHEN strategy = 'spine_first' THEN 1 ELSE 0 END),
                   SUM(CASE WHEN strategy = 'conservative' THEN 1 ELSE 0 END),
                   SUM(CASE WHEN reoperation_on IS NOT NULL THEN 1 ELSE 0 END)
            FROM hs_index""").fetchone()
        keys = ("patients", "operated", "synthetic", "hip_first", "spine_first",
                "conservative", "reoperated")
        return {k: int(v or 0) for k, v in zip(keys, row or (), strict=False)}

    def instruments(self) -> list[str]:
        if self._instruments is None:
            rows = self._exec("SELECT DISTINCT instrument FROM hs_scores ORDER BY instrument")
            self._instruments = [r[0] for r in rows]
        return self._instruments

    def completeness(self, preoperative: str, postoperative: Sequence[str]) -> pd.DataFrame:
        """Per instrument, post-operative timepoint and index surgery (all, hip, spine), among
        operated patients whose window has closed by the data cut-off: eligible, pre-op
        captured, post-op captured, paired.

        One pass: a capture flag per timepoint for each patient x instrument, then sums."""
        columns = ["instrument", "timepoint", "surgery", "eligible", "preoperative",
                   "postoperative", "paired"]
        window = {w.timepoint: w for w in self.windows}
        wanted = [tp for tp in postoperative if tp in window]
        if self.as_of is None or not wanted:
            return pd.DataFrame(columns=columns)
        params: dict[str, Any] = {"as_of": self.as_of, "pre": preoperative}
        elapsed = _days(self.dialect, ":as_of", "i.index_on")
        flags, sums, due = [], [], []
        for k, tp in enumerate(wanted):
            params[f"tp{k}"] = tp
            params[f"to{k}"] = window[tp].to_day
            flags.append(f"MAX(CASE WHEN timepoint = :tp{k} THEN 1 ELSE 0 END) AS h{k}")
            closed = f"{elapsed} >= :to{k}"
            sums.append(f"SUM(CASE WHEN {closed} THEN f.h_pre ELSE 0 END) AS pre{k}, "
                        f"SUM(CASE WHEN {closed} THEN f.h{k} ELSE 0 END) AS post{k}, "
                        f"SUM(CASE WHEN {closed} THEN f.h_pre * f.h{k} ELSE 0 END) AS paired{k}")
            due.append(f"SUM(CASE WHEN {closed} THEN 1 ELSE 0 END) AS due{k}")
        counts = self.frame(f"""
            WITH flags AS (
                SELECT patient_id, instrument,
                       MAX(CASE WHEN timepoint = :pre THEN 1 ELSE 0 END) AS h_pre,
                       {", ".join(flags)}
                FROM hs_scores GROUP BY patient_id, instrument)
            SELECT f.instrument, i.first_target AS surgery, {", ".join(sums)}
            FROM flags f JOIN hs_index i ON i.patient_id = f.patient_id
            WHERE i.first_surgery_on IS NOT NULL
            GROUP BY f.instrument, i.first_target""", params)  # noqa: S608
        eligible = self.frame(f"""
            SELECT i.first_target AS surgery, {", ".join(due)} FROM hs_index i
            WHERE i.first_surgery_on IS NOT NULL
            GROUP BY i.first_target""", params)  # noqa: S608
        targets = sorted(str(t) for t in eligible["surgery"].dropna().unique())
        rows = []
        for k, tp in enumerate(wanted):
            for instrument in self.instruments():
                for surgery in ["all", *targets]:
                    due_rows = eligible if surgery == "all" else \
                        eligible[eligible["surgery"] == surgery]
                    got = counts[counts["instrument"] == instrument]
                    if surgery != "all":
                        got = got[got["surgery"] == surgery]
                    rows.append({
                        "instrument": instrument, "timepoint": tp, "surgery": surgery,
                        "eligible": int(due_rows[f"due{k}"].fillna(0).sum()),
                        "preoperative": int(got[f"pre{k}"].fillna(0).sum()),
                        "postoperative": int(got[f"post{k}"].fillna(0).sum()),
                        "paired": int(got[f"paired{k}"].fillna(0).sum())})
        return pd.DataFrame(rows, columns=columns)

    def trajectories(self) -> pd.DataFrame:
        """n, sum and sum of squares of scores per instrument, strategy and timepoint."""
        return self.frame("""
            SELECT s.instrument, i.strategy, s.timepoint, COUNT(*) AS n,
                   SUM(s.score) AS sum_x, SUM(s.score * s.score) AS sum_x2
            FROM hs_scores s JOIN hs_index i ON i.patient_id = s.patient_id
            WHERE s.score IS NOT NULL
            GROUP BY s.instrument, i.strategy, s.timepoint""")

    def change(self, thresholds: Sequence[dict[str, Any]]) -> pd.DataFrame:
        """Change from baseline per instrument, strategy, timepoint, with responder counts.

        Each threshold dict: id, instrument, value, unit ('points'|'percent'),
        direction (+1 when higher is better, -1 otherwise)."""
        params: dict[str, Any] = {}
        cols = []
        for k, t in enumerate(thresholds):
            params.update({f"t{k}_i": t["instrument"], f"t{k}_v": float(t["value"]),
                           f"t{k}_d": float(t["direction"])})
            improvement = f"(c.change * :t{k}_d)"
            if t["unit"] == "percent":
                # improvement of at least value% of the baseline score
                cond = f"{improvement} >= :t{k}_v / 100.0 * ABS(c.baseline) AND c.baseline <> 0"
            else:
                cond = f"{improvement} >= :t{k}_v"
            cols.append(f"SUM(CASE WHEN c.instrument = :t{k}_i AND {cond} THEN 1 ELSE 0 END)"
                        f" AS r{k}")
        extra = (", " + ", ".join(cols)) if cols else ""
        frame = self.frame(f"""
            SELECT c.instrument, i.strategy, c.timepoint, COUNT(*) AS n,
                   SUM(c.change) AS sum_x, SUM(c.change * c.change) AS sum_x2{extra}
            FROM hs_change c JOIN hs_index i ON i.patient_id = c.patient_id
            GROUP BY c.instrument, i.strategy, c.timepoint""", params)  # noqa: S608
        return frame.rename(columns={f"r{k}": t["id"] for k, t in enumerate(thresholds)})

    def time_to_surgery(self) -> pd.DataFrame:
        """Aggregated (group, duration, event, n) from the first episode to first surgery."""
        d = self.dialect
        to_surgery = _days(d, "first_surgery_on", "opened_on")
        to_censor = _days(d, "last_contact_on", "opened_on")
        return self.frame(f"""
            SELECT COALESCE(verdict, 'unknown') AS grp,
                   CASE WHEN first_surgery_on IS NOT NULL THEN {to_surgery}
                        ELSE {to_censor} END AS duration,
                   CASE WHEN first_surgery_on IS NOT NULL THEN 1 ELSE 0 END AS event,
                   COUNT(*) AS n
            FROM hs_index WHERE opened_on IS NOT NULL
              AND (first_surgery_on IS NULL OR first_surgery_on >= opened_on)
            GROUP BY 1, 2, 3""")  # noqa: S608

    def time_to_reoperation(self) -> pd.DataFrame:
        """Aggregated (group, duration, event, n) from the first surgery to the next one on
        the same target, censored at last contact."""
        d = self.dialect
        to_event = _days(d, "reoperation_on", "first_surgery_on")
        to_censor = _days(d, "last_contact_on", "first_surgery_on")
        return self.frame(f"""
            SELECT first_target AS grp,
                   CASE WHEN reoperation_on IS NOT NULL THEN {to_event}
                        ELSE {to_censor} END AS duration,
                   CASE WHEN reoperation_on IS NOT NULL THEN 1 ELSE 0 END AS event,
                   COUNT(*) AS n
            FROM hs_index WHERE first_surgery_on IS NOT NULL
            GROUP BY 1, 2, 3""")  # noqa: S608

    def iptw_cells(self, instrument: str, timepoint: str, treated: str, control: str,
                   age_edges: Sequence[int], score_range: tuple[float, float],
                   score_bands: int, include_sex: bool,
                   verdict: str | None = None) -> pd.DataFrame:
        """Cells (treated, age_band, sex, baseline_band, n, sum_y, sum_y2) of paired change,
        optionally within one verdict subgroup."""
        params: dict[str, Any] = {"ins": instrument, "tp": timepoint}
        subgroup = ""
        if verdict is not None:
            subgroup = "AND i.verdict = :verdict"
            params["verdict"] = verdict
        arms = {"surgical": "i.strategy NOT IN ('conservative', 'unknown')",
                "conservative": "i.strategy = 'conservative'",
                "hip_first": "i.strategy = 'hip_first'",
                "spine_first": "i.strategy = 'spine_first'"}
        age_case = ["CASE WHEN i.age IS NULL THEN 'unknown'"]
        lower = None
        for k, edge in enumerate(age_edges):
            params[f"age{k}"] = edge
            label = f"<{edge}" if lower is None else f"{lower}-{edge - 1}"
            age_case.append(f"WHEN i.age < :age{k} THEN '{label}'")
            lower = edge
        age_case.append(f"ELSE '{lower}+' END" if lower is not None else "ELSE 'all' END")
        low, high = score_range
        step = (high - low) / score_bands
        band_case = ["CASE"]
        for k in range(1, score_bands):
            params[f"b{k}"] = low + k * step
            band_case.append(f"WHEN c.baseline < :b{k} THEN 'band{k}'")
        band_case.append(f"ELSE 'band{score_bands}' END")
        sex = "COALESCE(i.sex, 'unknown')" if include_sex else "'all'"
        return self.frame(f"""
            SELECT CASE WHEN {arms[treated]} THEN 1 ELSE 0 END AS treated,
                   {' '.join(age_case)} AS age_band, {sex} AS sex,
                   {' '.join(band_case)} AS baseline_band,
                   COUNT(*) AS n, SUM(c.change) AS sum_y, SUM(c.change * c.change) AS sum_y2
            FROM hs_change c JOIN hs_index i ON i.patient_id = c.patient_id
            WHERE c.instrument = :ins AND c.timepoint = :tp
              AND (({arms[treated]}) OR ({arms[control]})) {subgroup}
            GROUP BY 1, 2, 3, 4""", params)  # noqa: S608
