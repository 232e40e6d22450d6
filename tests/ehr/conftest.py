from __future__ import annotations

import gzip
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from .cds_helpers import Ehr, make_app


@pytest.fixture(scope="session")
def synthea_patients(shared_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """The Synthea Bulk FHIR sample, grouped per patient (Patient first)."""
    folder = shared_dir / "data" / "synthea-bulk-10"
    by_patient: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for path in sorted(folder.glob("*.ndjson.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                res = json.loads(line)
                if res["resourceType"] == "Patient":
                    by_patient[res["id"]].insert(0, res)
                    continue
                ref = (res.get("subject") or res.get("patient") or {}).get("reference", "")
                by_patient[ref.rsplit("/", 1)[-1] or "_none"].append(res)
    return dict(by_patient)


@pytest.fixture(scope="session")
def synthea_resources(shared_dir: Path) -> list[dict[str, Any]]:
    folder = shared_dir / "data" / "synthea-bulk-10"
    out: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.ndjson.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            out.extend(json.loads(line) for line in handle)
    return out


@pytest.fixture(scope="module")
def ehr() -> Ehr:
    """A fake EHR (its key set and FHIR server) for one test module's CDS calls."""
    return Ehr()


@pytest.fixture(scope="module")
def client(ehr: Ehr) -> TestClient:
    """The CDS Hooks service trusting that EHR."""
    return TestClient(make_app(ehr))
