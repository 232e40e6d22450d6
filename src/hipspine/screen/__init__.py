"""Population screening of Bulk FHIR exports: worklists of patients whose second problem
(hip or spine) may have been missed.

    from hipspine.screen import screen_export
    result = screen_export("export/", engine="duckdb")
    result.rows   # [WorklistRow(patient_id, category, evidence, first_seen, last_seen)]

The signals and categories are data (`knowledge/screen/rules.yaml`, codes from
`knowledge/valuesets/`); the same SQL runs on DuckDB (default) and Apache Spark.
"""

from __future__ import annotations

from hipspine.screen.engine import ScreenResult, screen_export, spark_session
from hipspine.screen.worklist import WORKLIST_COLUMNS, WorklistRow, read_worklist, write_worklist

__all__ = [
    "WORKLIST_COLUMNS",
    "ScreenResult",
    "WorklistRow",
    "read_worklist",
    "screen_export",
    "spark_session",
    "write_worklist",
]
