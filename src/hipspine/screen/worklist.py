"""The worklist (PRODUCT.md section 7) and its CSV form."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

WORKLIST_COLUMNS = ("patient_id", "category", "evidence", "first_seen", "last_seen")


@dataclass(frozen=True, order=True)
class WorklistRow:
    patient_id: str
    category: str
    evidence: str
    first_seen: str | None
    last_seen: str | None


def sort_rows(rows: Iterable[tuple[object, ...]]) -> list[WorklistRow]:
    out = [WorklistRow(str(r[0]), str(r[1]), str(r[2] or ""),
                       None if r[3] is None else str(r[3]), None if r[4] is None else str(r[4]))
           for r in rows]
    return sorted(out)


def write_worklist(rows: list[WorklistRow], out: str | Path) -> None:
    with Path(out).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(WORKLIST_COLUMNS)
        for r in rows:
            writer.writerow([r.patient_id, r.category, r.evidence, r.first_seen or "",
                             r.last_seen or ""])


def read_worklist(path: str | Path) -> list[WorklistRow]:
    with Path(path).open(newline="", encoding="utf-8") as handle:
        return [WorklistRow(r["patient_id"], r["category"], r["evidence"],
                            r["first_seen"] or None, r["last_seen"] or None)
                for r in csv.DictReader(handle)]
