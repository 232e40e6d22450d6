"""`hipspine nlp` through the CLI runner, and properties that hold for any text."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from hipspine.cli import app
from hipspine.models.case import Imaging
from hipspine.nlp import read_report
from hipspine.nlp.text import SEGMENTS, normalise_level

runner = CliRunner()


def test_nlp_json_from_stdin_has_the_product_shape() -> None:
    result = runner.invoke(app, ["nlp", "-", "--format", "json"],
                           input="Severe right hip OA. No spondylolisthesis.")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["imaging"]["hip_oa"] == {"side": "right", "kellgren_lawrence": 4}
    assert {"field", "text", "negated", "uncertain"} <= set(out["evidence"][0])
    assert out["engine_version"] and out["knowledge_version"]


def test_nlp_text_output_names_fields_and_flags(tmp_path: object) -> None:
    result = runner.invoke(app, ["nlp", "-"], input="No spinal stenosis [see prior].")
    assert result.exit_code == 0, result.output
    assert "Lumbar stenosis: severity=none" in result.output
    assert "(negated)" in result.output and "[see prior]" in result.output


def test_nlp_eval_json_reports_every_field() -> None:
    result = runner.invoke(app, ["nlp", "eval", "--format", "json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)["scores"]["all"]
    assert {"hip_oa", "lumbar_stenosis", "spondylolisthesis"} <= set(scores)


_words = st.sampled_from([
    "no", "mild", "moderate", "severe", "left", "right", "bilateral", "hip", "hips", "OA",
    "osteoarthritis", "joint space narrowing", "stenosis", "central", "foraminal",
    "lateral recess", "L4-5", "L5/S1", "L3-L5", "grade 2", "anterolisthesis of L4 on L5",
    "cannot exclude", "status post", "THA", "but", ",", ";", ".", "\n", "?", "45%", "KL 3",
])


@settings(max_examples=150, deadline=None)
@given(st.lists(_words, max_size=25).map(" ".join))
def test_any_report_reads_into_valid_case_imaging(text: str) -> None:
    reading = read_report(text)
    imaging = Imaging.model_validate(reading.imaging.model_dump())  # the case's strict shapes
    assert imaging.reports == []
    for ev in reading.evidence:
        assert ev.text in text or ev.text.strip() in text


@given(st.sampled_from(SEGMENTS), st.sampled_from(SEGMENTS))
def test_level_ranges_expand_to_adjacent_segments(upper: str, lower: str) -> None:
    levels = normalise_level(upper, lower)
    if SEGMENTS.index(lower) <= SEGMENTS.index(upper):
        assert levels == []
    else:
        assert len(levels) == SEGMENTS.index(lower) - SEGMENTS.index(upper)
        assert levels[0].startswith(upper) and levels[-1].endswith(lower)
