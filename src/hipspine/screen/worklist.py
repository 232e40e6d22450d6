"""The worklist (PRODUCT.md section 7) and its CSV form.

One row per (patient, category, rule): a patient may be listed under several categories,
and each row names the rule that put it there (`rule`, `rule_description`, from
`knowledge/screen/rules.yaml`), so an analyst can see why without reading the rules.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from hipspine.errors import InputError

# PRODUCT.md's five columns first, then the rule (added compatibly at the end).
WORKLIST_COLUMNS = ("patient_id", "category", "evidence", "first_seen", "last_seen", "rule",
                    "rule_description")


@dataclass(frozen=True, order=True)
class WorklistRow:
    patient_id: str
    category: str
    evidence: str
    first_seen: str | None
    last_seen: str | None
    rule: str
    rule_description: str


def sort_rows(rows: Iterable[tuple[object, ...]]) -> list[WorklistRow]:
    out = [WorklistRow(str(r[0]), str(r[1]), str(r[2] or ""),
                       None if r[3] is None else str(r[3]), None if r[4] is None else str(r[4]),
                       str(r[5]), str(r[6]))
           for r in rows]
    return sorted(out)


def write_worklist(rows: list[WorklistRow], out: str | Path) -> None:
    with Path(out).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(WORKLIST_COLUMNS)
        for r in rows:
            writer.writerow([r.patient_id, r.category, r.evidence, r.first_seen or "",
                             r.last_seen or "", r.rule, r.rule_description])


def read_worklist(path: str | Path) -> list[WorklistRow]:
    with Path(path).open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in WORKLIST_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError.single("worklist", str(path), "a worklist CSV with the columns "
                                    + ", ".join(WORKLIST_COLUMNS),
                                    f"missing {', '.join(missing)}", what="file")
        return [WorklistRow(r["patient_id"], r["category"], r["evidence"],
                            r["first_seen"] or None, r["last_seen"] or None, r["rule"],
                            r["rule_description"])
                for r in reader]
