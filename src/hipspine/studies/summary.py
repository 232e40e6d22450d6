"""The study summary: what a department's registry says about its plans, de-identified.

`study_summary(engine, filters, options)` aggregates in the database (see `queries`), runs
the pure statistics (`stats`) on the few aggregate rows, and withholds every cell that
describes fewer than `min_cell` patients. The result is a JSON-serialisable Pydantic model
(`hipspine.study/1`) that the CLI, the HTML report and the web dashboard all render.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine

from hipspine.errors import InputError
from hipspine.proms.knowledge import Instrument, TimepointWindow
from hipspine.studies.knowledge import StudyDefaults

SCHEMA = "hipspine.study/1"
STRATEGIES = ("conservative", "hip_first", "spine_first")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StudyFilters(_Model):
    """Which patients the study covers."""

    synthetic: Literal["include", "exclude", "only"] = "include"
    verdicts: list[str] = Field(default_factory=list)
    sex: Literal["female", "male", "other"] | None = None
    age_min: int | None = Field(default=None, ge=0, le=120)
    age_max: int | None = Field(default=None, ge=0, le=120)


class StudyOptions(_Model):
    """How the study is computed; None means the cited default from the knowledge base."""

    min_cell: int | None = Field(default=None, ge=1)
    windows: list[TimepointWindow] | None = None
    outcome_timepoint: str | None = None
    confidence_level: float = Field(default=0.95, gt=0.5, lt=1.0)
    # auto: stream a SQLite registry into a temporary DuckDB (columnar scans); aggregate a
    # PostgreSQL registry where it lives. database / duckdb force one or the other.
    backend: Literal["auto", "database", "duckdb"] = "auto"
    # treatments: strategy as treated (target of the first surgery); pathway: as planned
    # (the episode's recorded pathway, e.g. hip_first, spine_only, conservative).
    strategy_source: Literal["treatments", "pathway"] = "treatments"
    duckdb_memory_limit: str = Field(default="1GB", pattern=r"^\d+(\.\d+)?\s*[KMGT]i?B$")


class Cited(_Model):
    citation: str
    verified: str
    note: str | None = None


class WindowUsed(Cited):
    timepoint: str
    from_day: int
    to_day: int
    target_day: int


class ThresholdUsed(Cited):
    instrument: str
    id: str
    kind: str
    value: float
    unit: str
    population: str
    default: bool


class CohortCounts(_Model):
    patients: int | None
    operated: int | None
    conservative: int | None
    hip_first: int | None
    spine_first: int | None
    reoperated: int | None
    synthetic: int | None
    suppressed: list[str] = Field(default_factory=list)


class CompletenessRow(_Model):
    instrument: str
    timepoint: str
    surgery: str = "all"  # index surgery: all operated patients, or hip / spine only
    eligible: int | None
    preoperative: int | None
    postoperative: int | None
    paired: int | None
    preoperative_pct: float | None
    postoperative_pct: float | None
    paired_pct: float | None
    suppressed: bool


class TrajectoryPoint(_Model):
    instrument: str
    strategy: str
    timepoint: str
    n: int | None
    mean: float | None
    ci_lower: float | None
    ci_upper: float | None
    suppressed: bool


class ResponderRate(_Model):
    threshold_id: str
    kind: str
    value: float
    unit: str
    default: bool
    responders: int | None
    rate: float | None
    ci_lower: float | None
    ci_upper: float | None
    suppressed: bool


class ChangeRow(_Model):
    instrument: str
    higher_is_better: bool | None
    strategy: str
    timepoint: str
    n: int | None
    mean_change: float | None
    sd: float | None
    ci_lower: float | None
    ci_upper: float | None
    responders: list[ResponderRate]
    suppressed: bool


class SurvivalPoint(_Model):
    time: float
    survival: float
    lower: float
    upper: float
    at_risk: int


class SurvivalCurve(_Model):
    analysis: Literal["time_to_surgery", "time_to_reoperation"]
    group: str
    n: int | None
    events: int | None
    points: list[SurvivalPoint]
    at_days: list[dict[str, float | int | None]]
    suppressed: bool


class BalanceLine(_Model):
    covariate: str
    level: str
    smd_before: float
    smd_after: float


class StrategyComparison(_Model):
    id: str
    label: str
    subgroup: str  # "all", or the episode verdict the comparison is restricted to
    instrument: str
    higher_is_better: bool | None
    timepoint: str
    treated: str
    control: str
    n_treated: int | None
    n_control: int | None
    mean_change_treated: float | None
    mean_change_control: float | None
    difference: float | None
    ci_lower: float | None
    ci_upper: float | None
    max_smd_before: float | None
    max_smd_after: float | None
    balanced: bool | None
    balance: list[BalanceLine]
    suppressed: bool
    note: str | None = None


class StudySummary(_Model):
    schema_: str = Field(SCHEMA, alias="schema")
    engine_version: str
    knowledge_version: str
    generated_at: str
    database: str
    data_cutoff: str | None
    filters: StudyFilters
    min_cell: int
    paired_target_pct: float
    suppression: Cited
    confidence_level: float
    strategy_source: str
    outcome_timepoint: str
    windows: list[WindowUsed]
    thresholds: list[ThresholdUsed]
    methods: dict[str, Cited]
    cohort: CohortCounts
    completeness: list[CompletenessRow]
    trajectories: list[TrajectoryPoint]
    change: list[ChangeRow]
    survival: list[SurvivalCurve]
    comparisons: list[StrategyComparison]
    notes: list[str]

    # `schema` on the wire (model_dump and JSON alike), `schema_` in Python.
    model_config = ConfigDict(extra="forbid", validate_by_name=True, validate_by_alias=True,
                              serialize_by_alias=True)

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2)


Progress = Callable[[str], None]


def _small(n: int | None, min_cell: int) -> bool:
    return n is None or n < min_cell


def _pct(part: int | None, whole: int | None) -> float | None:
    if part is None or not whole:
        return None
    return round(100.0 * part / whole, 1)


def _cohort(counts: dict[str, int], min_cell: int) -> CohortCounts:
    values: dict[str, Any] = dict.fromkeys(
        ("patients", "operated", "conservative", "hip_first", "spine_first", "reoperated",
         "synthetic"), 0)
    values.update({k: v for k, v in counts.items() if k in values})
    # zero reveals nobody; 1..min_cell-1 would
    hidden = {k for k, n in values.items() if 0 < n < min_cell}
    # Complementary suppression: parts that add up to a shown total must not leave exactly
    # one part hidden, or subtraction recovers it.
    # A hidden total with every part shown is recovered by addition: hide a part too.
    families = (("patients", ("operated", "conservative")),
                ("operated", ("hip_first", "spine_first")))
    changed = True
    while changed:
        changed = False
        for total, parts in families:
            n_hidden = sum(p in hidden for p in parts)
            if (total not in hidden and n_hidden == 1) or (total in hidden and n_hidden == 0):
                smallest = min((p for p in parts if p not in hidden), key=lambda p: values[p])
                hidden.add(smallest)
                changed = True
    for key in hidden:
        values[key] = None
    return CohortCounts(**values, suppressed=sorted(hidden))


def _hidden_rows(frame: pd.DataFrame, min_cell: int) -> pd.Series:
    """Rows to withhold: fewer than min_cell patients, plus, where exactly one strategy of
    an (instrument, timepoint) is withheld under a shown 'all' row, the next smallest one
    (otherwise 'all' minus the shown strategies gives the withheld count back)."""
    hide = (frame["n"] > 0) & (frame["n"] < min_cell)
    for _, group in frame.groupby(["instrument", "timepoint"]):
        parts = group[group["strategy"] != "all"]
        total = group[group["strategy"] == "all"]
        if total.empty or hide[total.index].any() or hide[parts.index].sum() != 1:
            continue
        shown = parts[~hide[parts.index]]
        if not shown.empty:
            hide[shown["n"].idxmin()] = True
    return hide


def _completeness(frame: pd.DataFrame, min_cell: int) -> list[CompletenessRow]:
    counted = ("eligible", "preoperative", "postoperative", "paired")
    hide: dict[int, set[str]] = {}
    records = frame.to_dict("records")
    for i, r in enumerate(records):
        hide[i] = {k for k in counted if 0 < int(r[k]) < min_cell}
        if int(r["eligible"]) < min_cell:
            hide[i] |= set(counted)
    # Complementary: per instrument and timepoint, 'all' = sum of the surgeries; one lone
    # withheld surgery row would be recovered by subtraction, so withhold another with it.
    groups: dict[tuple[str, str], list[int]] = {}
    for i, r in enumerate(records):
        if r["surgery"] != "all":
            groups.setdefault((r["instrument"], r["timepoint"]), []).append(i)
    for members in groups.values():
        hit = [i for i in members if hide[i]]
        if len(hit) == 1:
            others = [i for i in members if not hide[i] and int(records[i]["eligible"]) > 0]
            if others:
                smallest = min(others, key=lambda i: int(records[i]["eligible"]))
                hide[smallest] = set(counted)
    rows = []
    for i, r in enumerate(records):
        shown: dict[str, int | None] = {k: None if k in hide[i] else int(r[k]) for k in counted}
        rows.append(CompletenessRow(
            instrument=str(r["instrument"]), timepoint=str(r["timepoint"]),
            surgery=str(r["surgery"]), **shown,
            preoperative_pct=_pct(shown["preoperative"], shown["eligible"]),
            postoperative_pct=_pct(shown["postoperative"], shown["eligible"]),
            paired_pct=_pct(shown["paired"], shown["eligible"]),
            suppressed=bool(hide[i])))
    return rows


def _with_all(frame: pd.DataFrame, sum_columns: list[str]) -> pd.DataFrame:
    """Add strategy 'all' rows (sums over strategies) to a per-strategy aggregate."""
    if frame.empty:
        return frame
    total = frame.groupby(["instrument", "timepoint"], as_index=False)[sum_columns].sum()
    total["strategy"] = "all"
    return pd.concat([total, frame], ignore_index=True)


def _timepoint_order(windows: list[TimepointWindow]) -> dict[str, int]:
    return {w.timepoint: w.target_day for w in windows}


def _trajectories(frame: pd.DataFrame, min_cell: int, level: float,
                  order: dict[str, int]) -> list[TrajectoryPoint]:
    from hipspine.studies.stats import mean_ci

    out: list[TrajectoryPoint] = []
    frame = _with_all(frame, ["n", "sum_x", "sum_x2"])
    if frame.empty:
        return out
    frame = frame.reset_index(drop=True)
    frame = frame.assign(withheld=_hidden_rows(frame, min_cell),
                         _o=frame["timepoint"].map(order)).sort_values(
        ["instrument", "strategy", "_o"])
    for r in frame.itertuples(index=False):
        n = int(r.n)
        if n < min_cell or r.withheld:
            out.append(TrajectoryPoint(instrument=r.instrument, strategy=r.strategy,
                                       timepoint=r.timepoint, n=None, mean=None,
                                       ci_lower=None, ci_upper=None, suppressed=True))
            continue
        ci = mean_ci(n, float(r.sum_x), float(r.sum_x2), level)
        out.append(TrajectoryPoint(instrument=r.instrument, strategy=r.strategy,
                                   timepoint=r.timepoint, n=n, mean=ci.mean,
                                   ci_lower=ci.lower, ci_upper=ci.upper, suppressed=False))
    return out


def _resolve(instruments: dict[str, Instrument], present: list[str]) -> dict[str, Instrument]:
    """Registry instrument ids -> knowledge-base instruments, accepting aliases ('ODI',
    'oxford-hip'), as sites type them differently."""
    from hipspine.errors import NotFoundError
    from hipspine.proms import find_instrument

    known = {}
    for ins_id in present:
        try:
            known[ins_id] = instruments.get(ins_id) or find_instrument(ins_id, instruments)
        except NotFoundError:
            continue
    return known


def _thresholds(instruments: dict[str, Instrument], present: list[str],
                kinds: list[str]) -> list[ThresholdUsed]:
    used = []
    for ins_id in present:
        instrument = instruments.get(ins_id)
        if instrument is None:
            continue
        for t in instrument.thresholds:
            if t.applies_to != "change" or t.subscale is not None or t.kind not in kinds:
                continue
            used.append(ThresholdUsed(
                instrument=ins_id, id=t.id, kind=t.kind, value=t.value, unit=t.unit,
                population=t.population, default=t.default, citation=t.citation,
                verified=t.verified, note=t.note))
    return used


def _change(frame: pd.DataFrame, thresholds: list[ThresholdUsed],
            instruments: dict[str, Instrument], min_cell: int, level: float,
            order: dict[str, int]) -> list[ChangeRow]:
    from hipspine.studies.stats import mean_ci, wilson_ci

    ids = [t.id for t in thresholds]
    frame = _with_all(frame, ["n", "sum_x", "sum_x2", *ids])
    if frame.empty:
        return []
    frame = frame.reset_index(drop=True)
    frame = frame.assign(withheld=_hidden_rows(frame, min_cell),
                         _o=frame["timepoint"].map(order)).sort_values(
        ["instrument", "strategy", "_o"])
    rows = []
    for r in frame.to_dict("records"):
        n = int(r["n"])
        ins = instruments.get(r["instrument"])
        small = n < min_cell or bool(r["withheld"])
        ci = mean_ci(n, float(r["sum_x"]), float(r["sum_x2"]), level)
        rates = []
        for t in thresholds:
            if t.instrument != r["instrument"]:
                continue
            k = int(r[t.id])
            hidden = small or 0 < k < min_cell or 0 < n - k < min_cell
            lo, hi = wilson_ci(k, n, level)
            rates.append(ResponderRate(
                threshold_id=t.id, kind=t.kind, value=t.value, unit=t.unit, default=t.default,
                responders=None if hidden else k, rate=None if hidden else k / n,
                ci_lower=None if hidden else lo, ci_upper=None if hidden else hi,
                suppressed=hidden))
        rows.append(ChangeRow(
            instrument=r["instrument"], higher_is_better=ins.higher_is_better if ins else None,
            strategy=r["strategy"], timepoint=r["timepoint"], n=None if small else n,
            mean_change=None if small else ci.mean, sd=None if small else ci.sd,
            ci_lower=None if small else ci.lower, ci_upper=None if small else ci.upper,
            responders=rates, suppressed=small))
    return rows


def _complement(parts: dict[str, int], total: int, min_cell: int) -> set[str]:
    """Parts to withhold so none is recoverable as (shown total - shown parts)."""
    hidden = {k for k, v in parts.items() if 0 < v < min_cell}
    if len(hidden) == 1 and not 0 < total < min_cell:
        shown = [k for k in parts if k not in hidden and parts[k] > 0]
        if shown:
            hidden.add(min(shown, key=lambda k: parts[k]))
    return hidden


def _survival(analysis: Literal["time_to_surgery", "time_to_reoperation"],
              frame: pd.DataFrame, min_cell: int, level: float,
              report_days: list[int]) -> list[SurvivalCurve]:
    from hipspine.studies.stats import kaplan_meier, survival_at

    curves: list[SurvivalCurve] = []
    if frame.empty:
        return curves
    frame = frame[frame["duration"] >= 0]
    groups = [("all", frame.groupby(["duration", "event"], as_index=False)["n"].sum())]
    for name, part in frame.groupby("grp"):
        groups.append((str(name), part[["duration", "event", "n"]]))
    sizes = {name: int(part["n"].sum()) for name, part in groups}
    event_counts = {name: int(part.loc[part["event"] == 1, "n"].sum()) for name, part in groups}
    small_groups = _complement({k: v for k, v in sizes.items() if k != "all"},
                               sizes["all"], min_cell)
    small_events = _complement({k: v for k, v in event_counts.items() if k != "all"},
                               event_counts["all"], min_cell)
    for name, part in groups:
        n = sizes[name]
        events = event_counts[name]
        if n < min_cell or name in small_groups:
            curves.append(SurvivalCurve(analysis=analysis, group=name, n=None, events=None,
                                        points=[], at_days=[], suppressed=True))
            continue
        curve = kaplan_meier(part, level)
        # De-identify: stop the curve where fewer than min_cell remain at risk.
        shown = curve[curve["at_risk"] >= min_cell]
        points = [SurvivalPoint(time=float(p.time), survival=float(p.survival),
                                lower=float(p.lower), upper=float(p.upper),
                                at_risk=int(p.at_risk)) for p in shown.itertuples()]
        at_days: list[dict[str, float | int | None]] = []
        for day in report_days:
            found = survival_at(shown, day) if not shown.empty else None
            if found and found["at_risk"] >= min_cell:
                at_days.append(found)
            else:
                at_days.append({"day": day, "survival": None, "lower": None, "upper": None,
                                "at_risk": None})
        hidden_events = 0 < events < min_cell or name in small_events
        curves.append(SurvivalCurve(analysis=analysis, group=name, n=n,
                                    events=None if hidden_events else events, points=points,
                                    at_days=at_days, suppressed=hidden_events))
    return curves


def _compare(cells: pd.DataFrame, base: dict[str, Any], covariates: list[str],
             min_cell: int, level: float, threshold: float) -> StrategyComparison | None:
    """One weighted comparison from its cells, or a suppressed row when an arm is small."""
    from hipspine.studies.stats import iptw_difference

    n_t = int(cells.loc[cells["treated"] == 1, "n"].sum()) if not cells.empty else 0
    n_c = int(cells.loc[cells["treated"] == 0, "n"].sum()) if not cells.empty else 0
    if n_t == 0 and n_c == 0:
        return None
    if n_t < min_cell or n_c < min_cell:
        return StrategyComparison(
            **base, n_treated=None if n_t < min_cell else n_t,
            n_control=None if n_c < min_cell else n_c, mean_change_treated=None,
            mean_change_control=None, difference=None, ci_lower=None, ci_upper=None,
            max_smd_before=None, max_smd_after=None, balanced=None, balance=[],
            suppressed=True, note=f"an arm has fewer than {min_cell} patients")
    import warnings

    import numpy as np

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = iptw_difference(cells, covariates, level)
        except (ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:
            return StrategyComparison(
                **base, n_treated=n_t, n_control=n_c, mean_change_treated=None,
                mean_change_control=None, difference=None, ci_lower=None, ci_upper=None,
                max_smd_before=None, max_smd_after=None, balanced=None, balance=[],
                suppressed=True,
                note=f"propensity model could not be fitted ({type(exc).__name__})")
    # Positivity: a covariate level seen in one arm only cannot be balanced by weighting.
    no_overlap = []
    for covariate in covariates:
        arms = [set(cells.loc[(cells["treated"] == t) & (cells["n"] > 0), covariate].astype(str))
                for t in (1, 0)]
        no_overlap += [f"{covariate}={level}" for level in sorted(arms[0] ^ arms[1])]
    fit_warnings = sorted({type(w.message).__name__ for w in caught
                           if "statsmodels" in (w.filename or "")
                           or "Separation" in type(w.message).__name__
                           or "Convergence" in type(w.message).__name__})
    lines = [BalanceLine(covariate=b.covariate, level=b.level, smd_before=b.smd_before,
                         smd_after=b.smd_after) for b in result.balance]
    before = max((abs(b.smd_before) for b in lines), default=0.0)
    after = max((abs(b.smd_after) for b in lines), default=0.0)
    return StrategyComparison(
        **base, n_treated=result.n_treated, n_control=result.n_control,
        mean_change_treated=result.mean_treated, mean_change_control=result.mean_control,
        difference=result.difference, ci_lower=result.lower, ci_upper=result.upper,
        max_smd_before=before, max_smd_after=after, balanced=after < threshold,
        balance=lines, suppressed=False,
        note="; ".join(filter(None, [
            ("no overlap between arms for " + ", ".join(no_overlap)) if no_overlap else None,
            None if after < threshold else "residual imbalance after weighting: interpret "
            "with care",
            ("propensity model warnings: " + ", ".join(fit_warnings)) if fit_warnings
            else None])) or None)


def _comparisons(queries: Any, defaults: StudyDefaults, instruments: dict[str, Instrument],
                 present: list[str], timepoint: str, min_cell: int,
                 level: float) -> list[StrategyComparison]:
    """Every configured comparison, overall and within each verdict subgroup."""
    out = []
    cov = defaults.covariates
    covariates = ["age_band", "baseline_band"] + (["sex"] if cov.include_sex else [])
    subgroups: list[str | None] = [None, *defaults.subgroups.verdicts]
    for comparison in defaults.comparisons:
        for subgroup in subgroups:
            for ins_id in present:
                instrument = instruments.get(ins_id)
                if instrument is None or instrument.scoring == "health_profile":
                    continue
                cells = queries.iptw_cells(
                    ins_id, timepoint, comparison.treated, comparison.control,
                    cov.age_band_edges, instrument.range, cov.baseline_score_bands,
                    cov.include_sex, subgroup)
                base = {"id": comparison.id, "label": comparison.label,
                        "subgroup": subgroup or "all", "instrument": ins_id,
                        "higher_is_better": instrument.higher_is_better,
                        "timepoint": timepoint, "treated": comparison.treated,
                        "control": comparison.control}
                row = _compare(cells, base, covariates, min_cell, level,
                               defaults.balance.smd_threshold)
                if row is not None:
                    out.append(row)
    return out


def _database_label(engine: Engine) -> str:
    # The dialect only: a URL or a file path could identify the site or leak credentials.
    return engine.dialect.name


def study_summary(engine: Engine, filters: StudyFilters | None = None,
                  options: StudyOptions | None = None, *,
                  progress: Progress | None = None,
                  defaults: StudyDefaults | None = None,
                  instruments: dict[str, Instrument] | None = None) -> StudySummary:
    """Compute the de-identified study summary of the registry `engine` points at.

        >>> summary = study_summary(get_engine(), StudyFilters(synthetic="exclude"))
        >>> summary.completeness[0].paired_pct
    """
    from hipspine.kb import knowledge_version
    from hipspine.proms.knowledge import packaged_instruments, packaged_timepoints
    from hipspine.studies.knowledge import packaged_study_defaults
    from hipspine.studies.queries import CohortFilter, RegistryQueries
    from hipspine.version import ENGINE_VERSION

    filters = filters or StudyFilters()
    options = options or StudyOptions()
    defaults = defaults or packaged_study_defaults()
    instruments = instruments if instruments is not None else packaged_instruments()
    windows = options.windows or packaged_timepoints().windows
    known = {w.timepoint for w in windows}
    outcome_tp = options.outcome_timepoint or defaults.outcome_timepoint.timepoint
    if outcome_tp not in known:
        raise InputError.single("outcome_timepoint", outcome_tp, ", ".join(sorted(known)),
                                what="study option")
    if "baseline" not in known:
        raise InputError.single("windows", sorted(known), "a set including 'baseline'",
                                what="study option")
    min_cell = options.min_cell or defaults.suppression.min_cell
    level = options.confidence_level
    step = progress or (lambda _msg: None)
    order = _timepoint_order(windows)

    cohort = CohortFilter(synthetic=filters.synthetic, verdicts=tuple(filters.verdicts),
                          sex=filters.sex, age_min=filters.age_min, age_max=filters.age_max,
                          strategy_source=options.strategy_source)
    def _run(q: RegistryQueries) -> tuple[Any, ...]:
        step("building the long-format tables")
        q.build()
        counts = q.cohort_counts()
        present = q.instruments()
        known = _resolve(instruments, present)
        thresholds = _thresholds(known, present, list(defaults.responders.kinds))
        step("completeness")
        completeness = _completeness(
            q.completeness(defaults.completeness.preoperative,
                           defaults.completeness.postoperative), min_cell)
        step("trajectories")
        trajectories = _trajectories(q.trajectories(), min_cell, level, order)
        step("change from baseline and responders")
        specs = [{"id": t.id, "instrument": t.instrument, "value": t.value, "unit": t.unit,
                  "direction": 1 if known[t.instrument].higher_is_better else -1}
                 for t in thresholds]
        change = _change(q.change(specs), thresholds, known, min_cell, level, order)
        step("survival")
        survival = (_survival("time_to_surgery", q.time_to_surgery(), min_cell, level,
                              defaults.survival.report_days)
                    + _survival("time_to_reoperation", q.time_to_reoperation(), min_cell,
                                level, defaults.survival.report_days))
        step("weighted strategy comparisons")
        comparisons = _comparisons(q, defaults, known, present, outcome_tp, min_cell, level)
        return (counts, present, thresholds, completeness, trajectories, change, survival,
                comparisons, q.as_of)

    backend = options.backend
    if backend == "auto":
        backend = "duckdb" if engine.dialect.name == "sqlite" else "database"
    if backend == "duckdb":
        import tempfile

        from hipspine.studies.queries import DuckDBExecutor
        from hipspine.studies.staging import open_duckdb, stage_registry

        with tempfile.TemporaryDirectory(prefix="hipspine-study-") as tmp:
            duck = open_duckdb(f"{tmp}/study.duckdb", options.duckdb_memory_limit)
            try:
                step("copying the registry's study columns")
                stage_registry(engine, duck)
                results = _run(RegistryQueries(DuckDBExecutor(duck), windows, cohort))
            finally:
                duck.close()
    else:
        from sqlalchemy.exc import SQLAlchemyError

        from hipspine.errors import HipspineError
        from hipspine.studies.queries import SqlAlchemyExecutor

        try:
            with engine.connect() as conn:
                results = _run(RegistryQueries(SqlAlchemyExecutor(conn), windows, cohort))
                conn.rollback()
        except SQLAlchemyError as exc:
            raise HipspineError(
                f"could not read the registry ({type(exc).__name__}); is it migrated? "
                "`hipspine registry migrate`") from None
    counts, present, thresholds, completeness, trajectories, change, survival, \
        comparisons, as_of = results

    notes = []
    if counts.get("synthetic"):
        notes.append("This study includes SYNTHETIC patients: not real outcomes.")
    unknown = [i for i in present if i not in _resolve(instruments, present)]
    if unknown:
        notes.append("Instruments without knowledge-base entries (no thresholds): "
                     + ", ".join(unknown))
    methods = {
        "completeness": Cited(**defaults.completeness.model_dump(
            include={"citation", "verified", "note"})),
        "responders": Cited(citation=defaults.responders.citation,
                            verified=defaults.responders.verified,
                            note=f"{defaults.responders.note} Kinds counted: "
                                 + ", ".join(defaults.responders.kinds) + "."),
        "outcome_timepoint": Cited(**defaults.outcome_timepoint.model_dump(
            include={"citation", "verified", "note"})),
        "balance": Cited(citation=defaults.balance.citation, verified=defaults.balance.verified,
                         note=f"balanced when every |SMD| < {defaults.balance.smd_threshold}"),
        "weighting": Cited(citation=defaults.weighting.citation,
                           verified=defaults.weighting.verified,
                           note=defaults.weighting.method),
        "survival": Cited(citation=defaults.survival.citation,
                          verified=defaults.survival.verified, note=defaults.survival.note),
    }
    return StudySummary(
        engine_version=ENGINE_VERSION, knowledge_version=knowledge_version(),
        generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        database=_database_label(engine), data_cutoff=as_of.isoformat() if as_of else None,
        filters=filters, min_cell=min_cell,
        paired_target_pct=defaults.completeness.paired_target_pct,
        suppression=Cited(citation=defaults.suppression.citation,
                          verified=defaults.suppression.verified,
                          note=defaults.suppression.note),
        confidence_level=level, strategy_source=options.strategy_source,
        outcome_timepoint=outcome_tp,
        windows=[WindowUsed(timepoint=w.timepoint, from_day=w.from_day, to_day=w.to_day,
                            target_day=w.target_day, citation=w.citation,
                            verified=w.verified, note=w.note) for w in windows],
        thresholds=thresholds, methods=methods, cohort=_cohort(counts, min_cell),
        completeness=completeness, trajectories=trajectories, change=change,
        survival=survival, comparisons=comparisons, notes=notes)
