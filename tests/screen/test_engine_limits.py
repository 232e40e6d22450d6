"""Memory caps: DuckDB's memory_limit is applied, a capped run gives the same worklist, a cap
too small or malformed is a clear error naming --memory-limit, and the export generator's
memory stays flat as the export grows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hipspine.errors import InputError
from hipspine.screen import screen_export
from hipspine.screen.engine import duckdb_connection


def test_duckdb_connection_applies_the_limit_and_spill_folder(tmp_path: Path) -> None:
    con = duckdb_connection("300MB", tmp_path)
    try:
        limit, spill = con.execute("SELECT current_setting('memory_limit'), "
                                   "current_setting('temp_directory')").fetchone()
    finally:
        con.close()
    assert limit in ("286.1 MiB", "300.0 MB", "286.1MiB")  # DuckDB prints it in its own unit
    assert spill == str(tmp_path)


def test_capped_run_gives_the_same_worklist(
        planted_export: tuple[Path, dict[str, set[str]]]) -> None:
    folder, _ = planted_export
    assert screen_export(folder, memory_limit="256MB").rows == screen_export(folder).rows


@pytest.mark.parametrize("limit", ["lots", "-5GB"])
def test_malformed_limit_names_the_option(
        planted_export: tuple[Path, dict[str, set[str]]], limit: str) -> None:
    with pytest.raises(InputError) as err:
        screen_export(planted_export[0], memory_limit=limit)
    assert "--memory-limit" in str(err.value) and limit in str(err.value)


def test_limit_too_small_is_an_input_error_not_a_bad_export(
        planted_export: tuple[Path, dict[str, set[str]]]) -> None:
    with pytest.raises(InputError) as err:
        screen_export(planted_export[0], memory_limit="1MB")
    assert "--memory-limit" in str(err.value) and "--engine spark" in str(err.value)


def _generator_peak_kb(tmp_path: Path, patients: int) -> int:
    code = ("import resource, sys\n"
            "from hipspine.screen.synth_export import write_synthetic_export_streamed as w\n"
            f"w(sys.argv[1], {patients}, sys.argv[1] + '/planted.csv', seed=1)\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n")
    out = tmp_path / str(patients)
    done = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True,
                          text=True, check=True)
    return int(done.stdout.split()[-1])


def test_streamed_generator_memory_does_not_grow_with_the_export(tmp_path: Path) -> None:
    """Holding the truth (a dict of 40,000 patients) would cost well over 10 MB."""
    small, large = _generator_peak_kb(tmp_path, 200), _generator_peak_kb(tmp_path, 40_000)
    assert large < small + 6 * 1024  # 200 times the patients, under 6 MB more
    planted = (tmp_path / "40000" / "planted.csv").read_text().splitlines()
    assert planted[0] == "patient_id,category" and len(planted) == 1 + 40_000 // 2
