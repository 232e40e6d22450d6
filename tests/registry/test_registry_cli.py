"""`hipspine registry where|migrate|import|export` through the real entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from tests.cli_here import run_cli_here


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
    assert run(db_url, "registry", "migrate").stdout.strip() == "registry at revision 0003"
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


def run_here(monkeypatch, capsys, url: str, *args: str) -> tuple[int, str, str]:
    """The CLI in this process on the registry `url`: (exit code, stdout, stderr)."""
    return run_cli_here(monkeypatch, capsys, *args, database_url=url)


def audit_rows(url: str) -> list[tuple]:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT actor, role, action, resource_type, detail "
                                        "FROM audit_events ORDER BY id")).all()
    finally:
        engine.dispose()
    return [(a, r, act, rt, json.loads(d) if isinstance(d, str) else d)
            for a, r, act, rt, d in rows]


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_a_file_with_a_utf8_byte_order_mark_imports(tmp_path, monkeypatch, capsys, fmt):
    db_url = f"sqlite:///{tmp_path / 'bom.sqlite'}"
    path = tmp_path / f"in.{fmt}"
    text = CSV if fmt == "csv" else json.dumps(
        [{"record": "patient", "pseudonym": "Q1", "year_of_birth": 1955}])
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    code, out, err = run_here(monkeypatch, capsys, db_url, "registry", "import", str(path))
    assert code == 0, err
    assert json.loads(out)["imported"]["patients"] == 1


def test_import_and_export_are_audited_in_their_transaction(db_url, tmp_path, monkeypatch,
                                                           capsys):
    def cli(*args: str) -> tuple[int, str, str]:
        return run_here(monkeypatch, capsys, db_url, *args)

    path = tmp_path / "in.csv"
    path.write_text(CSV)
    assert cli("registry", "import", str(path))[0] == 0
    assert cli("registry", "export", "--format", "csv")[0] == 0
    events = audit_rows(db_url)
    assert [e[2] for e in events] == ["registry.import", "registry.export"]
    for actor, role, _action, resource_type, _detail in events:
        assert actor.startswith("cli:") and role == "cli" and resource_type == "registry"
    imported, exported = events[0][4], events[1][4]
    assert imported == {"rows": 3, "patients": 1, "episodes": 1, "treatments": 0,
                        "proms": 1, "synthetic_rows": 0, "format": "csv"}
    assert exported["rows"] == 3 and exported["format"] == "csv"
    assert "Q1" not in json.dumps(events)  # counts only, never a pseudonym
    # a failed import (one bad row, or a clash) leaves neither data nor an audit event
    path.write_text(CSV.replace("Q1", "Q2").replace("odi,", "odx,"))
    assert cli("registry", "import", str(path))[0] == 2
    path.write_text(CSV)
    code, _out, err = cli("registry", "import", str(path))
    assert code == 2 and "conflict" in err and "'Q1'" in err
    assert [e[2] for e in audit_rows(db_url)] == ["registry.import", "registry.export"]


HOSTILE_JSON = {
    "infinity": '[{"record": "patient", "pseudonym": "J1", "year_of_birth": Infinity}]',
    "nan": '[{"record": "patient", "pseudonym": "J1", "year_of_birth": NaN}]',
    "deep nesting": "[" * 100_000 + "]" * 100_000,
    "lone surrogate": '[{"record": "patient", "pseudonym": "J\\ud800"}]',
    "duplicate key": '[{"record": "patient", "pseudonym": "J1", "pseudonym": "J2"}]',
    "huge number": '[{"record": "patient", "pseudonym": "J1", "year_of_birth": 1'
                   + "0" * 400 + "}]",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_JSON))
def test_hostile_json_exits_2_without_a_traceback(tmp_path, monkeypatch, capsys, name):
    db_url = f"sqlite:///{tmp_path / 'json.sqlite'}"
    path = tmp_path / "in.json"
    path.write_text(HOSTILE_JSON[name])
    code, _out, err = run_here(monkeypatch, capsys, db_url, "registry", "import", str(path))
    assert code == 2, err[-2000:]
    assert "import file" in err


@pytest.mark.parametrize(("data", "named"), [
    (CSV.replace("Q1,1955", "Q\x001,1955").encode(), "rows[0].pseudonym"),  # NUL
    (CSV.encode("utf-16"), "UTF-8"),
    (CSV.replace("female", "f\xe9male").encode("latin-1"), "UTF-8"),
    (CSV.replace("female", '"' + "f" * 200_000 + '"'), "field larger than field limit"),
])
def test_unreadable_files_exit_2_naming_the_problem(tmp_path, monkeypatch, capsys, data,
                                                    named):
    db_url = f"sqlite:///{tmp_path / 'bad.sqlite'}"
    path = tmp_path / "in.csv"
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    code, _out, err = run_here(monkeypatch, capsys, db_url, "registry", "import", str(path))
    assert code == 2, err[-2000:]
    assert named in " ".join(err.split())
