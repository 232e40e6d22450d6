"""`hipspine report` end to end: the HTML's embedded figures recompute from the registry."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from hipspine.cli import app
from hipspine.proms import packaged_timepoints
from studies import recompute

runner = CliRunner()


def _embedded(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="hipspine-study">(.*?)</script>',
                      html, re.S)
    assert match, "the report must embed its numbers"
    return json.loads(match.group(1).replace("<\\/", "</"))


@pytest.fixture(scope="module")
def report_html(registry: tuple[str, Engine], tmp_path_factory: pytest.TempPathFactory,
                ) -> str:
    url, _ = registry
    out = tmp_path_factory.mktemp("report") / "study.html"
    result = runner.invoke(app, ["report", "--out", str(out), "--no-progress"],
                           env={"HIPSPINE_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


def test_report_is_self_contained(report_html: str) -> None:
    assert report_html.startswith("<!doctype html>")
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', report_html)  # nothing fetched
    assert "<link" not in report_html and "@import" not in report_html
    assert report_html.count("<svg") >= 5  # trajectories, responders, survival curves
    assert "SYNTHETIC" in report_html and "SYN-0" not in report_html
    for section in ("completeness", "change", "survival", "comparisons", "thresholds"):
        assert f'id="{section}"' in report_html


def test_report_figures_recompute_from_the_registry(report_html: str,
                                                    registry: tuple[str, Engine]) -> None:
    data = _embedded(report_html)
    tables = recompute.read_tables(registry[1])
    idx = recompute.patient_index(tables)
    scores = recompute.scores(tables, idx, list(packaged_timepoints().windows))
    change = recompute.change(scores).merge(idx[["strategy"]], left_on="patient_id",
                                            right_index=True)
    assert data["schema"] == "hipspine.study/1"
    assert data["cohort"]["patients"] == len(idx)
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
    # the printed paired percentage is the one in the data
    first = data["completeness"][0]
    assert f"<strong>{first['paired_pct']:.1f}</strong>" in report_html


def test_json_format_and_min_cell_option(registry: tuple[str, Engine], tmp_path: Path) -> None:
    out = tmp_path / "study.json"
    result = runner.invoke(app, ["report", "--out", str(out), "--format", "json",
                                 "--min-cell", "300", "--no-progress"],
                           env={"HIPSPINE_DATABASE_URL": registry[0]})
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["min_cell"] == 300
    rows = pd.DataFrame(data["change"])
    assert rows["suppressed"].any() and (rows.loc[rows["suppressed"], "n"].isna()).all()
    assert (rows.loc[~rows["suppressed"], "n"] >= 300).all()


def test_bad_option_names_the_field(registry: tuple[str, Engine], tmp_path: Path) -> None:
    from hipspine.errors import InputError

    for args, field in ((["--verdict", "knee"], "--verdict"),
                        (["--outcome-timepoint", "7y"], "outcome_timepoint")):
        result = runner.invoke(app, ["report", "--out", str(tmp_path / "x.html"),
                                     "--no-progress", *args],
                               env={"HIPSPINE_DATABASE_URL": registry[0]})
        assert isinstance(result.exception, InputError)  # cli.main maps it to exit code 2
        assert field in str(result.exception)
        assert not (tmp_path / "x.html").exists()


def test_empty_registry_gives_an_empty_report(tmp_path: Path) -> None:
    out = tmp_path / "empty.html"
    result = runner.invoke(app, ["report", "--out", str(out), "--no-progress"],
                           env={"HIPSPINE_DATABASE_URL": f"sqlite:///{tmp_path}/empty.sqlite"})
    assert result.exit_code == 0, result.output
    data = _embedded(out.read_text())
    assert data["cohort"]["patients"] == 0 and data["comparisons"] == []


def test_a_registry_without_tables_is_a_clear_error(tmp_path: Path) -> None:
    import sqlalchemy as sa

    from hipspine.errors import HipspineError
    from hipspine.studies import StudyOptions, study_summary

    engine = sa.create_engine(f"sqlite:///{tmp_path}/bare.sqlite")  # never migrated
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE unrelated (x INTEGER)"))
    for backend in ("duckdb", "database"):
        with pytest.raises(HipspineError) as err:
            study_summary(engine, options=StudyOptions(backend=backend))  # type: ignore[arg-type]
        assert "migrate" in str(err.value)
    engine.dispose()
