"""The study summary recomputed from the raw tables with plain pandas."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from hipspine.proms import packaged_timepoints
from hipspine.studies import StudyFilters, StudyOptions, StudySummary, study_summary
from hipspine.studies.stats import kaplan_meier, survival_at
from studies import recompute


@pytest.fixture(scope="module")
def summary(registry: tuple[str, Engine]) -> StudySummary:
    return study_summary(registry[1])


@pytest.fixture(scope="module")
def raw(registry: tuple[str, Engine]) -> dict[str, pd.DataFrame]:
    tables = recompute.read_tables(registry[1])
    idx = recompute.patient_index(tables)
    scores = recompute.scores(tables, idx, list(packaged_timepoints().windows))
    return {"index": idx, "scores": scores, "change": recompute.change(scores)}


def test_summary_carries_versions_sources_and_no_identifiers(summary: StudySummary) -> None:
    text = summary.to_json()
    assert summary.engine_version and summary.knowledge_version
    assert summary.min_cell == 10 and summary.suppression.citation
    assert "SYN-0" not in text  # pseudonyms never leave the registry
    assert "sqlite:///" not in text and summary.database == "sqlite"
    assert any("SYNTHETIC" in note for note in summary.notes)
    assert {w.timepoint for w in summary.windows} >= {"baseline", "12m"}


def test_cohort_counts(summary: StudySummary, raw: dict[str, pd.DataFrame]) -> None:
    idx = raw["index"]
    assert summary.cohort.patients == len(idx)
    assert summary.cohort.operated == int(idx["first_surgery_on"].notna().sum())
    assert summary.cohort.hip_first == int((idx["strategy"] == "hip_first").sum())
    assert summary.cohort.reoperated == int(idx["reoperation_on"].notna().sum())


def test_completeness_pre_post_and_paired(summary: StudySummary,
                                          raw: dict[str, pd.DataFrame]) -> None:
    idx, scores = raw["index"], raw["scores"]
    windows = {w.timepoint: w for w in packaged_timepoints().windows}
    as_of = idx["last_contact_on"].max()
    row = next(r for r in summary.completeness if r.instrument == "odi" and r.timepoint == "12m"
               and r.surgery == "all")
    due = idx[idx["first_surgery_on"].notna()
              & ((as_of - idx["index_on"]).dt.days >= windows["12m"].to_day)].index
    odi = scores[(scores["instrument"] == "odi") & scores["patient_id"].isin(due)]
    pre = set(odi.loc[odi["timepoint"] == "baseline", "patient_id"])
    post = set(odi.loc[odi["timepoint"] == "12m", "patient_id"])
    assert (row.eligible, row.preoperative, row.postoperative, row.paired) == (
        len(due), len(pre), len(post), len(pre & post))
    assert row.paired_pct == pytest.approx(round(100 * len(pre & post) / len(due), 1))
    assert row.paired <= min(row.preoperative, row.postoperative)  # type: ignore[type-var]


def test_change_from_baseline_and_responders(summary: StudySummary,
                                             raw: dict[str, pd.DataFrame]) -> None:
    change = raw["change"].merge(raw["index"][["strategy"]], left_on="patient_id",
                                 right_index=True)
    for strategy in ("all", "spine_first"):
        part = change if strategy == "all" else change[change["strategy"] == strategy]
        odi = part[(part["instrument"] == "odi") & (part["timepoint"] == "12m")]["change"]
        row = next(r for r in summary.change if r.instrument == "odi"
                   and r.timepoint == "12m" and r.strategy == strategy)
        assert row.n == len(odi)
        assert row.mean_change == pytest.approx(odi.mean())
        half = 1.96 * odi.std() / len(odi) ** 0.5  # normal approximation, n > 100
        assert row.ci_upper - row.ci_lower == pytest.approx(2 * half, rel=0.01)  # type: ignore[operator]
        mic = next(t for t in row.responders if t.threshold_id == "odi_mic_ostelo_10")
        assert mic.default and mic.value == 10
        assert mic.responders == int((-odi >= 10).sum())
        pct = next(t for t in row.responders if t.unit == "percent")
        base = part[(part["instrument"] == "odi") & (part["timepoint"] == "12m")]
        expected = int(((-base["change"] >= 0.3 * base["score_baseline"].abs())
                        & (base["score_baseline"] != 0)).sum())
        assert pct.responders == expected


def test_trajectories_are_means_of_assigned_scores(summary: StudySummary,
                                                   raw: dict[str, pd.DataFrame]) -> None:
    s = raw["scores"]
    for tp in ("baseline", "3m", "12m"):
        scores = s[(s["instrument"] == "ohs") & (s["timepoint"] == tp)]["score"].dropna()
        point = next(p for p in summary.trajectories if p.instrument == "ohs"
                     and p.strategy == "all" and p.timepoint == tp)
        assert point.n == len(scores) and point.mean == pytest.approx(scores.mean())


def test_survival_matches_lifelines_on_unit_rows(summary: StudySummary,
                                                 raw: dict[str, pd.DataFrame]) -> None:
    idx = raw["index"]
    op = idx[idx["first_surgery_on"].notna()]
    event = op["reoperation_on"].notna()
    end = op["reoperation_on"].where(event, op["last_contact_on"])
    units = pd.DataFrame({"duration": (end - op["first_surgery_on"]).dt.days,
                          "event": event.astype(int), "n": 1})
    expected = survival_at(kaplan_meier(units), 365)
    curve = next(c for c in summary.survival
                 if c.analysis == "time_to_reoperation" and c.group == "all")
    assert curve.n == len(op) and curve.events == int(event.sum())
    at = next(d for d in curve.at_days if d["day"] == 365)
    assert expected is not None and at["survival"] == pytest.approx(expected["survival"])
    assert all(p.at_risk >= summary.min_cell for p in curve.points)


def test_weighted_comparisons_balance_the_confounded_cohort(summary: StudySummary) -> None:
    hip_spine = [c for c in summary.comparisons if c.id == "hip_first_vs_spine_first"
                 and c.subgroup == "all"]
    assert {c.instrument for c in hip_spine} == {"odi", "ohs"}
    for c in hip_spine:
        assert c.max_smd_before is not None and c.max_smd_after is not None
        assert c.max_smd_before > 0.2 and c.max_smd_after < 0.1 and c.balanced
        assert c.ci_lower < c.difference < c.ci_upper  # type: ignore[operator]
    ohs = next(c for c in hip_spine if c.instrument == "ohs")
    assert ohs.difference > 0  # the generator gives hip-first a larger OHS gain


def test_small_cells_are_suppressed(registry: tuple[str, Engine]) -> None:
    big = study_summary(registry[1], options=StudyOptions(min_cell=5000))
    assert big.cohort.patients is None and "patients" in big.cohort.suppressed
    assert all(r.suppressed and r.eligible is None for r in big.completeness)
    assert all(r.n is None and r.mean_change is None for r in big.change)
    assert all(c.suppressed for c in big.comparisons)
    assert all(c.suppressed and not c.points for c in big.survival)
    assert "SYN-" not in big.to_json()


def test_filters_restrict_the_cohort(registry: tuple[str, Engine],
                                     raw: dict[str, pd.DataFrame]) -> None:
    only_hip = study_summary(registry[1], StudyFilters(verdicts=["hip"]))
    assert only_hip.cohort.patients == int((raw["index"]["verdict"] == "hip").sum())
    none = study_summary(registry[1], StudyFilters(synthetic="exclude"))
    assert none.cohort.patients == 0 and none.change == [] and none.comparisons == []


def test_custom_windows_and_bad_options(registry: tuple[str, Engine]) -> None:
    from hipspine.errors import InputError

    with pytest.raises(InputError) as err:
        study_summary(registry[1], options=StudyOptions(outcome_timepoint="7y"))
    assert "outcome_timepoint" in str(err.value) and "12m" in str(err.value)
    narrow = [w.model_copy(update={"from_day": w.target_day - 5, "to_day": w.target_day + 5})
              if w.timepoint == "12m" else w for w in packaged_timepoints().windows]
    default = study_summary(registry[1])
    tight = study_summary(registry[1], options=StudyOptions(windows=narrow))
    n = {s.timepoint: s.n for s in default.trajectories if s.instrument == "odi"
         and s.strategy == "all"}
    m = {s.timepoint: s.n for s in tight.trajectories if s.instrument == "odi"
         and s.strategy == "all"}
    assert m["12m"] < n["12m"] and m["3m"] == n["3m"]


def test_database_and_duckdb_backends_agree(registry: tuple[str, Engine],
                                            summary: StudySummary) -> None:
    in_sqlite = study_summary(registry[1], options=StudyOptions(backend="database"))
    skip = {"generated_at"}
    a, b = in_sqlite.model_dump(exclude=skip), summary.model_dump(exclude=skip)
    assert a["cohort"] == b["cohort"] and a["completeness"] == b["completeness"]
    assert [(r["n"], r["responders"]) for r in a["change"]] == \
        [(r["n"], r["responders"]) for r in b["change"]]
    assert [r["mean_change"] for r in a["change"]] == pytest.approx(
        [r["mean_change"] for r in b["change"]], nan_ok=True)
    assert [c["difference"] for c in a["comparisons"]] == pytest.approx(
        [c["difference"] for c in b["comparisons"]])
    assert [c["points"] for c in a["survival"]] == [c["points"] for c in b["survival"]]


def test_comparisons_repeat_within_each_verdict(summary: StudySummary,
                                                raw: dict[str, pd.DataFrame]) -> None:
    both = [c for c in summary.comparisons if c.subgroup == "both"
            and c.id == "surgical_vs_conservative" and c.instrument == "odi"]
    assert len(both) == 1
    change = raw["change"].merge(raw["index"][["strategy", "verdict"]], left_on="patient_id",
                                 right_index=True)
    part = change[(change["instrument"] == "odi") & (change["timepoint"] == "12m")
                  & (change["verdict"] == "both")]
    assert both[0].n_treated == int((part["strategy"] != "conservative").sum())
    assert both[0].n_control == int((part["strategy"] == "conservative").sum())


def test_summary_serialises_with_its_schema_name(summary: StudySummary) -> None:
    dumped = summary.model_dump(mode="json")
    assert dumped["schema"] == "hipspine.study/1" and "schema_" not in dumped
    assert StudySummary.model_validate(dumped) == summary


COUNT_KEYS = {"n", "eligible", "preoperative", "postoperative", "paired", "responders",
              "events", "at_risk", "n_treated", "n_control", "patients", "operated",
              "conservative", "hip_first", "spine_first", "reoperated", "synthetic"}


def _counts(node: object) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in COUNT_KEYS and isinstance(value, int) and not isinstance(value, bool):
                found.append((key, value))
            else:
                found.extend(_counts(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_counts(item))
    return found


@pytest.mark.parametrize("min_cell", [10, 40, 150])
def test_no_published_count_describes_fewer_than_min_cell_patients(
        registry: tuple[str, Engine], min_cell: int) -> None:
    study = study_summary(registry[1], options=StudyOptions(min_cell=min_cell))
    counts = _counts(study.model_dump(mode="json"))
    assert counts, "the walk must find the counts"
    small = [(k, v) for k, v in counts if 0 < v < min_cell]
    assert small == []


def test_registry_instrument_ids_resolve_through_aliases() -> None:
    from hipspine.proms import packaged_instruments
    from hipspine.studies.summary import _resolve

    known = _resolve(packaged_instruments(), ["ODI", "odi", "not-a-prom"])
    assert known["ODI"].id == known["odi"].id == "odi"
    assert "not-a-prom" not in known


def test_a_withheld_strategy_cannot_be_recovered_by_subtraction() -> None:
    from hipspine.studies.summary import _cohort, _hidden_rows

    frame = pd.DataFrame({"instrument": "odi", "timepoint": "12m",
                          "strategy": ["all", "conservative", "hip_first", "spine_first"],
                          "n": [130, 4, 40, 86]})
    hide = _hidden_rows(frame, 10)
    assert hide.tolist() == [False, True, True, False]  # hip_first withheld alongside
    cohort = _cohort({"patients": 100, "operated": 95, "conservative": 5, "hip_first": 60,
                      "spine_first": 35}, 10)
    # conservative is small; operated would give it back (patients - operated), and
    # hip_first + spine_first would give operated back: one of them goes too
    assert cohort.conservative is None and cohort.operated is None
    assert cohort.spine_first is None and cohort.hip_first == 60 and cohort.patients == 100


def test_survival_groups_are_protected_from_subtraction() -> None:
    from hipspine.studies.summary import _survival

    rows = []
    for grp, n, events in (("hip", 60, 20), ("spine", 50, 15), ("mimic", 4, 0)):
        rows += [{"grp": grp, "duration": 100 + k, "event": int(k < events), "n": 1}
                 for k in range(n)]
    curves = {c.group: c for c in _survival("time_to_surgery", pd.DataFrame(rows), 10, 0.95,
                                            [365])}
    assert curves["all"].n == 114 and curves["mimic"].n is None
    assert curves["spine"].n is None and curves["hip"].n == 60  # 114 - 60 - ? stays unknown


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 60), min_size=2, max_size=5), st.integers(2, 30))
def test_hidden_rows_never_leave_one_part_alone(parts: list[int], min_cell: int) -> None:
    from hipspine.studies.summary import _hidden_rows

    frame = pd.DataFrame({"instrument": "odi", "timepoint": "12m",
                          "strategy": ["all", *[f"s{i}" for i in range(len(parts))]],
                          "n": [sum(parts), *parts]})
    hide = _hidden_rows(frame, min_cell)
    assert all(hide[1:][frame["n"][1:] < min_cell])  # every small part is withheld
    if not hide[0]:
        assert int(hide[1:].sum()) != 1


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 40), st.integers(0, 40), st.integers(0, 40))
def test_cohort_counts_never_recoverable_by_arithmetic(hip: int, spine: int,
                                                       conservative: int) -> None:
    from hipspine.studies.summary import _cohort

    counts = {"hip_first": hip, "spine_first": spine, "operated": hip + spine,
              "conservative": conservative, "patients": hip + spine + conservative}
    c = _cohort(counts, 10).model_dump()
    for total, parts in (("patients", ("operated", "conservative")),
                         ("operated", ("hip_first", "spine_first"))):
        shown = [c[p] is not None for p in parts]
        if c[total] is not None:
            assert sum(not s for s in shown) != 1
        else:
            assert not all(shown)
    assert all(v is None or v == 0 or v >= 10 for k, v in c.items() if k != "suppressed")
