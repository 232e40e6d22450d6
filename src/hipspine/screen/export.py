"""Finding the NDJSON files of a Bulk FHIR export, and the columns read from each type.

Files are `<Type>.ndjson`, `<Type>.000.ndjson.gz`, `<Type>_1.ndjson` and the like: the type
is the first dotted or underscored part of the name, and each row's `resourceType` is
checked again when it is read. Only the fields screening uses are read (explicit columns),
so memory stays bounded by those fields, not by the size of the resources.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from hipspine.errors import InputError

RESOURCE_TYPES = ("Patient", "Condition", "Procedure", "Observation", "DiagnosticReport",
                  "DocumentReference", "Encounter")
_NAME = re.compile(r"^(?:\d+\.)?(?P<type>[A-Z][A-Za-z]+)(?:[._-].*)?\.(?:ndjson|jsonl)(?:\.gz)?$")

S = "string"
D = "double"
_CODING = [{"system": S, "code": S, "display": S}]
_CONCEPT = {"coding": _CODING, "text": S}
_REF = {"reference": S}
_COMMON = {"resourceType": S, "id": S, "subject": _REF}

# Columns read per resource type (nested: dict = struct, one-element list = array).
COLUMNS: dict[str, dict[str, Any]] = {
    "Patient": {"resourceType": S, "id": S},
    "Condition": {**_COMMON, "code": _CONCEPT, "onsetDateTime": S, "onsetPeriod": {"start": S},
                  "recordedDate": S, "verificationStatus": _CONCEPT},
    "Procedure": {**_COMMON, "code": _CONCEPT, "status": S, "performedDateTime": S,
                  "performedPeriod": {"start": S}},
    "Observation": {**_COMMON, "code": _CONCEPT, "status": S, "effectiveDateTime": S,
                    "effectivePeriod": {"start": S}, "issued": S, "valueQuantity": {"value": D}},
    "DiagnosticReport": {**_COMMON, "code": _CONCEPT, "status": S, "effectiveDateTime": S,
                         "effectivePeriod": {"start": S}, "issued": S, "conclusion": S,
                         "presentedForm": [{"contentType": S, "data": S}]},
    "DocumentReference": {**_COMMON, "status": S, "date": S,
                          "context": {"period": {"start": S}},
                          "content": [{"attachment": {"contentType": S, "data": S}}]},
    "Encounter": {**_COMMON, "status": S, "period": {"start": S}, "reasonCode": [_CONCEPT],
                  "type": [_CONCEPT], "serviceType": _CONCEPT},
}


def find_export_files(export_dir: str | Path) -> dict[str, list[Path]]:
    """NDJSON files by resource type (types screening does not read are ignored)."""
    root = Path(export_dir)
    if not root.is_dir():
        raise InputError.single("EXPORT_DIR", str(export_dir),
                                "a folder of Bulk FHIR NDJSON files (<Type>.ndjson[.gz])",
                                what="command-line argument")
    found: dict[str, list[Path]] = {t: [] for t in RESOURCE_TYPES}
    for path in sorted(root.iterdir()):
        m = _NAME.match(path.name)
        if m and m.group("type") in found and path.is_file():
            found[m.group("type")].append(path)
    if not any(found.values()):
        raise InputError.single("EXPORT_DIR", str(export_dir),
                                "a folder holding at least one of "
                                + ", ".join(f"{t}.ndjson" for t in RESOURCE_TYPES),
                                what="command-line argument")
    return found


def duckdb_type(spec: Any) -> str:
    if isinstance(spec, dict):
        return "STRUCT(" + ", ".join(f'"{k}" {duckdb_type(v)}' for k, v in spec.items()) + ")"
    if isinstance(spec, list):
        return duckdb_type(spec[0]) + "[]"
    return {"string": "VARCHAR", "double": "DOUBLE"}[spec]


def spark_type(spec: Any) -> str:
    if isinstance(spec, dict):
        return "STRUCT<" + ", ".join(f"`{k}`: {spark_type(v)}" for k, v in spec.items()) + ">"
    if isinstance(spec, list):
        return f"ARRAY<{spark_type(spec[0])}>"
    return {"string": "STRING", "double": "DOUBLE"}[spec]
