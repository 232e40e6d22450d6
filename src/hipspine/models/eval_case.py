"""The evaluation case (`hipspine.eval-case/1`): a case with its recorded truth.

A file is either the wrapper `{"format": "hipspine.eval-case/1", "case": {...}, "truth": {...}}`
or a plain case with `truth` as an extra top-level key (docs/case-format.md). The truth is
labelled before the engine is run on the case; `hipspine eval cases` scores against it.

    python -m hipspine.models.eval_case FILE.json ...   # checks files, runs no assessment
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hipspine.errors import InputError, Problem
from hipspine.models.case import Case
from hipspine.models.validation import json_object, parse_model

EVAL_CASE_FORMAT = "hipspine.eval-case/1"

TruthSource = Literal["hip", "spine", "both", "other"]
EstablishedBy = Literal["block", "single_organ_treatment", "reference_test", "imaging",
                        "authors_judgement"]
TruthCategory = Literal["tumour", "infection", "fracture"]


class Truth(BaseModel):
    """Where the pain was settled to come from, how, and the publication that says so."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    source: TruthSource
    established_by: EstablishedBy
    reference: str = Field(min_length=4, description="doi:... or PMID:...")
    diagnosis: str | None = None
    citation: str | None = None
    category: TruthCategory | None = None
    split: Literal["dev", "test"] | None = None
    note: str | None = None


@dataclass(frozen=True)
class EvalCase:
    path: Path
    case: Case
    truth: Truth

    @property
    def name(self) -> str:
        return self.case.id or self.path.stem


def parse_eval_case(data: Any, path: Path) -> EvalCase:
    """Validate one evaluation document (either form); `InputError` names each bad field."""
    data = json_object(data, f"evaluation case {path.name}")
    if data.get("format") == EVAL_CASE_FORMAT:
        unknown = sorted(set(data) - {"format", "case", "truth"})
        if unknown:
            raise InputError.single(unknown[0], data[unknown[0]],
                                    "only 'format', 'case' and 'truth'",
                                    what=f"evaluation case {path.name}")
        case_data, truth_data = data.get("case"), data.get("truth")
    else:
        case_data = {k: v for k, v in data.items() if k != "truth"}
        truth_data = data.get("truth")
    if truth_data is None:
        raise InputError.single("truth", None, "an object with source, established_by and "
                                "reference", what=f"evaluation case {path.name}")
    problems: list[Problem] = []
    case = truth = None
    try:
        case = parse_model(Case, case_data, what="case")
    except InputError as exc:
        problems += [Problem(f"case.{p.field}", p.value, p.allowed, p.message)
                     for p in exc.problems]
    try:
        truth = parse_model(Truth, truth_data, what="truth")
    except InputError as exc:
        problems += [Problem(f"truth.{p.field}", p.value, p.allowed, p.message)
                     for p in exc.problems]
    if problems or case is None or truth is None:
        raise InputError(problems, what=f"evaluation case {path.name}")
    return EvalCase(path, case, truth)


def load_eval_cases(folder: Path) -> list[EvalCase]:
    """Every `*.json` below `folder`, sorted by path; all problems are reported together."""
    paths = sorted(p for p in folder.rglob("*.json") if p.is_file())
    if not paths:
        raise InputError.single("DIR", str(folder), "a folder holding *.json evaluation cases",
                                what="evaluation folder")
    cases, problems = [], []
    for path in paths:
        try:
            cases.append(parse_eval_case(path.read_bytes(), path))
        except InputError as exc:
            problems += [Problem(f"{path.relative_to(folder)}: {p.field}", p.value, p.allowed,
                                 p.message) for p in exc.problems]
    if problems:
        raise InputError(problems, what="evaluation cases")
    return cases


def _main(argv: list[str]) -> int:
    status = 0
    for name in argv:
        path = Path(name)
        try:
            parse_eval_case(path.read_bytes(), path)
            sys.stdout.write(f"ok: {name}\n")
        except InputError as exc:
            sys.stdout.write(f"{name}: {exc}\n")
            status = 2
    return status


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
