"""`hipspine assess` and `hipspine knowledge` through Typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hipspine.cli import app

runner = CliRunner()


def test_assess_json_follows_the_contract(shared_dir: Path) -> None:
    result = runner.invoke(app, ["assess", str(shared_dir / "examples" / "hip-dominant.json"),
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    for key in ("format", "engine_version", "knowledge_version", "verdict", "urgent",
                "red_flags", "sources", "instruments", "offierski_macnab", "next_tests",
                "explanation"):
        assert key in doc
    assert doc["format"] == "hipspine.assessment/1"
    assert doc["verdict"] == "hip"
    assert [s["id"] for s in doc["sources"]] == ["hip", "spine", "sacroiliac", "trochanteric",
                                                 "vascular", "neuropathy", "nerve", "groin",
                                                 "tumour_infection"]
    for s in doc["sources"]:
        assert {"id", "label", "pretest", "probability", "contributions"} <= set(s)
        for c in s["contributions"]:
            assert {"finding", "value", "likelihood_ratio", "citation"} <= set(c)


def test_assess_text_is_readable_not_json(shared_dir: Path) -> None:
    result = runner.invoke(app, ["assess", str(shared_dir / "examples" /
                                               "hip-spine-syndrome.json")])
    assert result.exit_code == 0, result.output
    assert "Verdict: BOTH" in result.output
    assert "Suri 2010" in result.output
    assert "engine" in result.output and not result.output.lstrip().startswith("{")


def test_assess_reads_stdin() -> None:
    case = {"format": "hipspine.case/1", "symptoms": {"bladder_bowel_dysfunction": True}}
    result = runner.invoke(app, ["assess", "-", "--format", "json"], input=json.dumps(case))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["urgent"] is True and doc["red_flags"][0]["id"] == "cauda_equina"


def test_red_flags_come_first_in_text() -> None:
    case = {"format": "hipspine.case/1", "symptoms": {"fever": True, "limp": True}}
    result = runner.invoke(app, ["assess", "-"], input=json.dumps(case))
    assert result.output.index("RED FLAGS") < result.output.index("Verdict")


def test_assess_evidence_option_sets_the_policy_and_rejects_unknown_levels(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.assess.test_properties import _run_cli

    case = json.dumps({"format": "hipspine.case/1", "symptoms": {"pain_locations": ["groin"]}})
    result = runner.invoke(app, ["assess", "-", "--format", "json", "--evidence", "all"],
                           input=case)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["evidence_policy"] == "all"
    text = runner.invoke(app, ["assess", "-"], input=case)
    assert "evidence policy verified" in text.output
    code, output = _run_cli(["assess", "-", "--evidence", "secondary"], case, monkeypatch,
                            capsys)
    assert code == 2
    assert "evidence" in output and "'secondary'" in output and "'all'" in output


def test_knowledge_lists_entries_with_sources() -> None:
    result = runner.invoke(app, ["knowledge", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    kinds = {row["kind"] for row in doc["entries"]}
    assert {"pretest", "likelihood", "red_flag", "verdict"} <= kinds
    assert all(row["citation"] and row["verified"] for row in doc["entries"])
    text = runner.invoke(app, ["knowledge"])
    assert text.exit_code == 0 and "Suri 2010" in text.output


def test_knowledge_check_validates_the_assessment_files() -> None:
    from hipspine.commands.knowledge import check_all

    problems = [p for p in check_all() if p[0].startswith("assessment/")]
    assert problems == []


def test_knowledge_check_exits_1_on_a_defect(monkeypatch: object) -> None:
    import hipspine.commands.knowledge as knowledge

    def broken() -> list[tuple[str, str]]:
        return [("assessment/findings.yaml", "likelihood ratio 0 outside (0, 100]")]

    monkeypatch.setattr(knowledge, "check_all", broken)  # type: ignore[attr-defined]
    result = runner.invoke(app, ["knowledge", "check"])
    assert result.exit_code == 1
    assert "DEFECT" in result.output


def test_a_broken_report_reader_leaves_texts_listed_as_not_read(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import types

    import hipspine.assess.api as api

    def broken(case: object) -> None:
        raise RuntimeError("reader failed")

    fake = types.ModuleType("hipspine.nlp")
    fake.enrich_case = broken  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "hipspine.nlp", fake)
    a = api.assess({"format": "hipspine.case/1", "notes": ["groin pain"]})
    assert a.texts_not_read == ["notes[0]"]
    assert "notes[0]" in a.explanation


def test_a_file_that_is_not_utf8_exits_2_and_a_byte_order_mark_is_read(tmp_path) -> None:
    import subprocess
    import sys

    bad = tmp_path / "utf16.json"
    bad.write_bytes('{"format": "hipspine.case/1"}'.encode("utf-16"))
    done = subprocess.run([sys.executable, "-m", "hipspine", "assess", str(bad)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "UTF-8" in done.stderr and "Traceback" not in done.stderr
    bom = tmp_path / "bom.json"
    bom.write_bytes(b'\xef\xbb\xbf{"format": "hipspine.case/1", "age": 60}')
    done = subprocess.run([sys.executable, "-m", "hipspine", "assess", str(bom)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
