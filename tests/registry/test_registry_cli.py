"""`hipspine registry where|migrate|import|export` through the real entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def run(url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HIPSPINE_DATABASE_URL": url}
    return subprocess.run([sys.executable, "-m", "hipspine.cli", *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


CSV = (
    "record,pseudonym,year_of_birth,sex,opened_on,instrument,administered_on,items,"
    "episode_opened_on\n"
    """patient,Q1,1955,female,,,,,
episode,Q1,,,2024-01-10,,,,
prom,Q1,,,,odi,2024-01-05,"2,3,1,,0,2,1,3,2,1",2024-01-10
""")


def test_where_migrate_import_export(db_url, tmp_path):
    where = run(db_url, "registry", "where")
    assert where.returncode == 0 and where.stdout.strip().split("://")[0] in db_url
    assert run(db_url, "registry", "migrate").stdout.strip() == "registry at revision 0002"
    path = tmp_path / "in.csv"
    path.write_text(CSV)
    imported = run(db_url, "registry", "import", str(path))
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["imported"]["proms"] == 1
    exported = run(db_url, "registry", "export", "--format", "json")
    doc = json.loads(exported.stdout)
    [prom] = [r for r in doc["rows"] if r["record"] == "prom"]
    assert prom["score"] == 33.3 and prom["timepoint"] == "baseline"
    assert doc["synthetic_rows"] == 0


def test_bad_import_exits_2_and_names_row_and_field(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'cli.sqlite'}"  # the CLI path is the same on both
    path = tmp_path / "bad.csv"
    path.write_text(CSV.replace("odi,", "odx,"))
    out = run(db_url, "registry", "import", str(path))
    assert out.returncode == 2
    assert "rows[2].instrument" in out.stderr and "Traceback" not in out.stderr
    exported = json.loads(run(db_url, "registry", "export").stdout)
    assert exported["rows"] == []


def test_missing_file_exits_2(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    out = run(db_url, "registry", "import", "/nonexistent/file.csv")
    assert out.returncode == 2 and "path" in out.stderr
