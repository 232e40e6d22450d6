"""A small synthetic export with planted cases, plus the real-format Synthea sample."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hipspine.screen.synth_export import write_synthetic_export

PATIENTS = 80  # four full cycles of the twenty patient kinds


@pytest.fixture(scope="session")
def planted_export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, set[str]]]:
    out = tmp_path_factory.mktemp("export")
    truth = write_synthetic_export(out, patients=PATIENTS, seed=11)
    return out, truth


@pytest.fixture(scope="session")
def mixed_export(tmp_path_factory: pytest.TempPathFactory,
                 shared_dir: Path) -> tuple[Path, dict[str, set[str]]]:
    """Planted synthetic patients and the Synthea sample's files in one folder."""
    out = tmp_path_factory.mktemp("mixed")
    truth = write_synthetic_export(out, patients=40, seed=5)
    for path in (shared_dir / "data" / "synthea-bulk-10").glob("*.ndjson.gz"):
        rtype = path.name.split(".")[0]
        shutil.copy(path, out / f"{rtype}.synthea.ndjson.gz")
    return out, truth
