"""`hipspine prom score|list` through the real entry point (exit codes included)."""

from __future__ import annotations

import json
import subprocess
import sys


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hipspine.cli", *args],
                          capture_output=True, text=True, timeout=60)


def test_score_odi_json_matches_the_product_example():
    out = run("prom", "score", "odi", "2,3,1,,0,2,1,3,2,1", "--format", "json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["instrument"] == "odi"
    assert doc["score"] == round(15 / 45 * 100, 1)
    assert doc["missing_items"] == ["s4"]
    assert doc["range"] == [0, 100]
    assert doc["citation"] == "fairbank2000"
    assert "moderate" in doc["interpretation"]


def test_score_text_names_default_threshold():
    out = run("prom", "score", "ohs", "4,4,4,4,4,4,4,4,4,4,4,4")
    assert out.returncode == 0, out.stderr
    assert "48" in out.stdout and "(default)" in out.stdout


def test_bad_item_exits_2_naming_the_position():
    out = run("prom", "score", "odi", "2,3,1,7,0,2,1,3,2,1")
    assert out.returncode == 2
    assert "items[3]" in out.stderr and "Traceback" not in out.stderr


def test_unknown_instrument_exits_2():
    out = run("prom", "score", "nope", "1")
    assert out.returncode == 2 and "odi" in out.stderr


def test_list_json_has_every_instrument():
    out = run("prom", "list", "--format", "json")
    assert out.returncode == 0, out.stderr
    assert {d["id"] for d in json.loads(out.stdout)} >= {"odi", "hoos_jr", "ohs", "zcq", "eq5d5l"}
