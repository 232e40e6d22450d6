"""`hipspine synth --patients 2000` then `hipspine report`: every figure recomputes."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from typer.testing import CliRunner

from hipspine.cli import app
from hipspine.proms import packaged_timepoints
from hipspine.registry import get_engine
from studies import recompute

runner = CliRunner()


@pytest.fixture(scope="module")
def synth_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict, str]:
    tmp = tmp_path_factory.mktemp("synth")
    env = {"HIPSPINE_DATABASE_URL": f"sqlite:///{tmp}/registry.sqlite"}
    made = runner.invoke(app, ["synth", "--patients", "2000", "--seed", "4"], env=env)
    assert made.exit_code == 0, made.output
    out = tmp / "report.html"
    done = runner.invoke(app, ["report", "--out", str(out), "--no-progress"], env=env)
    assert done.exit_code == 0, done.output
    html = out.read_text(encoding="utf-8")
    match = re.search(r'<script type="application/json" id="hipspine-study">(.*?)</script>',
                      html, re.S)
    assert match
    return env["HIPSPINE_DATABASE_URL"], json.loads(match.group(1).replace("<\\/", "</")), html


@pytest.fixture(scope="module")
def raw(synth_run: tuple[str, dict, str]) -> dict[str, pd.DataFrame]:
    engine = get_engine(synth_run[0])
    try:
        tables = recompute.read_tables(engine)
    finally:
        engine.dispose()
    idx = recompute.patient_index(tables)
    scores = recompute.scores(tables, idx, list(packaged_timepoints().windows))
    change = recompute.change(scores).merge(idx[["strategy"]], left_on="patient_id",
                                            right_index=True)
    return {"tables": tables["patients"], "index": idx, "scores": scores, "change": change}


def test_cohort_and_completeness_recompute(synth_run: tuple[str, dict, str],
                                           raw: dict[str, pd.DataFrame]) -> None:
    data, idx, scores = synth_run[1], raw["index"], raw["scores"]
    assert data["cohort"]["patients"] == len(idx) == 2000
    assert data["cohort"]["operated"] == int(idx["first_surgery_on"].notna().sum())
    windows = {w.timepoint: w for w in packaged_timepoints().windows}
    as_of = idx["last_contact_on"].max()
    for row in data["completeness"]:
        operated = idx[idx["first_surgery_on"].notna()]
        if row["surgery"] != "all":
            operated = operated[operated["first_target"] == row["surgery"]]
        due = operated[(as_of - operated["index_on"]).dt.days
                       >= windows[row["timepoint"]].to_day].index
        s = scores[(scores["instrument"] == row["instrument"]) & scores["patient_id"].isin(due)]
        pre = set(s.loc[s["timepoint"] == "baseline", "patient_id"])
        post = set(s.loc[s["timepoint"] == row["timepoint"], "patient_id"])
        counts = (len(due), len(pre), len(post), len(pre & post))
        shown = (row["eligible"], row["preoperative"], row["postoperative"], row["paired"])
        for value, expected in zip(shown, counts, strict=True):
            # withheld: small itself, or withheld with a small sibling (complementary)
            assert value == expected or (value is None and row["suppressed"])


def test_change_rows_recompute(synth_run: tuple[str, dict, str],
                               raw: dict[str, pd.DataFrame]) -> None:
    data, change = synth_run[1], raw["change"]
    assert data["change"], "the synthetic cohort must produce change rows"
    for row in data["change"]:
        part = change[(change["instrument"] == row["instrument"])
                      & (change["timepoint"] == row["timepoint"])]
        if row["strategy"] != "all":
            part = part[part["strategy"] == row["strategy"]]
        if row["suppressed"]:
            assert len(part) < data["min_cell"]
            continue
        assert row["n"] == len(part)
        assert row["mean_change"] == pytest.approx(part["change"].mean())
        if len(part) > 1:
            assert row["sd"] == pytest.approx(part["change"].std())


def test_responders_and_plots_are_in_the_page(synth_run: tuple[str, dict, str],
                                              raw: dict[str, pd.DataFrame]) -> None:
    data, html = synth_run[1], synth_run[2]
    odi = next(r for r in data["change"] if r["instrument"] == "odi"
               and r["strategy"] == "all" and r["timepoint"] == data["outcome_timepoint"])
    part = raw["change"][(raw["change"]["instrument"] == "odi")
                         & (raw["change"]["timepoint"] == data["outcome_timepoint"])]
    default = next(t for t in odi["responders"] if t["default"])
    threshold = next(t for t in data["thresholds"] if t["id"] == default["threshold_id"])
    assert threshold["citation"]  # the report says which published threshold it used
    assert default["responders"] == int((-part["change"] >= threshold["value"]).sum())
    assert html.count("<svg") >= 5 and "SYN-" not in html


def test_strategy_as_planned_uses_the_recorded_pathway(synth_run: tuple[str, dict, str],
                                                      raw: dict[str, pd.DataFrame]) -> None:
    from hipspine.studies import StudyOptions, study_summary

    engine = get_engine(synth_run[0])
    try:
        planned = study_summary(engine, options=StudyOptions(strategy_source="pathway"))
    finally:
        engine.dispose()
    assert planned.strategy_source == "pathway"
    change = raw["change"].drop(columns="strategy").merge(
        raw["index"][["pathway"]].fillna("unknown"), left_on="patient_id", right_index=True)
    rows = [r for r in planned.change if r.strategy != "all" and not r.suppressed]
    assert {r.strategy for r in rows} >= {"conservative", "hip_first", "spine_first"}
    for row in rows:
        part = change[(change["instrument"] == row.instrument)
                      & (change["timepoint"] == row.timepoint)
                      & (change["pathway"] == row.strategy)]
        assert row.n == len(part)
        assert row.mean_change == pytest.approx(part["change"].mean())


def test_returned_but_unscored_proms_count_as_captured(synth_run: tuple[str, dict, str],
                                                       raw: dict[str, pd.DataFrame]) -> None:
    data, scores = synth_run[1], raw["scores"]
    unscored = set(scores.loc[scores["score"].isna(), "instrument"]) - set(
        scores.loc[scores["score"].notna(), "instrument"])
    assert unscored, "the synthetic registry stores some PROMs without a score"
    captured = {r["instrument"] for r in data["completeness"] if r["preoperative"]
                and r["surgery"] == "all"}
    assert unscored <= captured  # completeness counts them ...
    assert not unscored & {r["instrument"] for r in data["change"]}  # ... change never does


def test_completeness_by_index_surgery_adds_up(synth_run: tuple[str, dict, str]) -> None:
    rows = synth_run[1]["completeness"]
    assert {r["surgery"] for r in rows} >= {"all", "hip", "spine"}
    for r in rows:
        if r["surgery"] != "all" or r["suppressed"]:
            continue
        parts = [p for p in rows if p["surgery"] != "all" and p["instrument"] == r["instrument"]
                 and p["timepoint"] == r["timepoint"]]
        if all(not p["suppressed"] for p in parts):
            assert sum(p["eligible"] for p in parts) == r["eligible"]
            assert sum(p["paired"] for p in parts) == r["paired"]
