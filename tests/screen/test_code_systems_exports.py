"""The same patients coded in SNOMED CT only, in ICD-10-CM only, and mixed (per record one
system or the other or both, as vendor exports do) give the same worklist.

The codes come from the code systems' own listings (tests/screen/listed_codes.py), not from
the value sets under test, so a concept missing from a value set in one system shows up
here as a patient the worklist misses in that export. Procedures are SNOMED CT in every
export (ICD-10-CM has none); pain scores are LOINC.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.screen.listed_codes import (
    ENCOUNTER_FOR_PROBLEM,
    HIP_OA,
    HIP_PAIN,
    ICD,
    KNEE_OA,
    LOW_BACK_PAIN,
    LUMBAR_STENOSIS,
    SCIATICA,
    SCT,
    TOTAL_HIP_REPLACEMENT,
    Coding,
    Concept,
    Patient,
    Style,
    write_export,
)

from hipspine.screen import WorklistRow, screen_export

UNRECOGNISED_SPINE = ("unrecognised_spine", "spine_evidence_without_spine_workup")
UNRECOGNISED_HIP = ("unrecognised_hip", "hip_evidence_without_hip_workup")
FAILED_HIP = ("failed_single_organ_treatment", "pain_persists_after_hip_operation")
CO_OCCURRING = ("co_occurring", "both_diagnosed_never_together")

Code = Callable[[Concept], list[Coding]]
Story = Callable[[Patient, Code], Patient]

COHORT: dict[str, tuple[Story, set[tuple[str, str]]]] = {
    "hip_replaced_then_sciatica": (
        lambda p, c: p.condition(0, c(HIP_OA)).procedure(30, TOTAL_HIP_REPLACEMENT)
        .condition(330, c(SCIATICA)),
        {UNRECOGNISED_SPINE, FAILED_HIP}),
    "hip_oa_then_back_pain_at_a_visit": (
        lambda p, c: p.condition(0, c(HIP_OA))
        .encounter(365, [ENCOUNTER_FOR_PROBLEM], reason=c(LOW_BACK_PAIN)),
        {UNRECOGNISED_SPINE}),
    "stenosis_then_hip_pain": (
        lambda p, c: p.condition(0, c(LUMBAR_STENOSIS)).condition(200, c(HIP_PAIN)),
        {UNRECOGNISED_HIP}),
    "both_diagnosed_apart": (
        lambda p, c: p.condition(0, c(HIP_OA)).condition(400, c(LUMBAR_STENOSIS)),
        {CO_OCCURRING}),
    "stenosis_hip_pain_then_hip_oa": (
        lambda p, c: p.condition(0, c(LUMBAR_STENOSIS)).condition(100, c(HIP_PAIN))
        .condition(150, c(HIP_OA)),
        {CO_OCCURRING}),
    "hip_replaced_pain_persists": (
        lambda p, c: p.condition(0, c(HIP_OA)).procedure(30, TOTAL_HIP_REPLACEMENT)
        .pain(250, 7),
        {FAILED_HIP}),
    "both_diagnosed_same_visit": (
        lambda p, c: p.condition(0, c(HIP_OA)).condition(0, c(LUMBAR_STENOSIS)),
        set()),
    "symptoms_only": (
        lambda p, c: p.condition(0, c(HIP_PAIN)).condition(50, c(LOW_BACK_PAIN))
        .condition(80, c(SCIATICA)),
        set()),
    "hip_pain_entered_in_error": (
        lambda p, c: p.condition(0, c(LUMBAR_STENOSIS))
        .condition(100, c(HIP_PAIN), verification="entered-in-error"),
        set()),
    "knee_oa_then_back_pain": (
        lambda p, c: p.condition(0, c(KNEE_OA)).condition(90, c(LOW_BACK_PAIN)),
        set()),
}
EXPECTED = {(pid, category, rule) for pid, (_, want) in COHORT.items() for category, rule in want}
STYLES = ("snomed", "icd10cm", "mixed")


def _coder(style: str) -> Code:
    """One system for every record, or (mixed) SNOMED CT, ICD-10-CM and both in turn."""
    if style != "mixed":
        return lambda concept: concept.codings(style)  # type: ignore[arg-type]
    turns: Iterator[Style] = itertools.cycle(("snomed", "icd10cm", "both"))
    return lambda concept: concept.codings(next(turns))


def _write(folder: Path, style: str) -> Path:
    code = _coder(style)
    return write_export(folder, [story(Patient(pid), code) for pid, (story, _) in COHORT.items()])


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {style: _write(tmp_path_factory.mktemp(style), style) for style in STYLES}


def _systems(folder: Path) -> set[str]:
    """Code systems of the Condition codings in an export."""
    found: set[str] = set()
    for line in (folder / "Condition.ndjson").read_text().splitlines():
        found |= {c["system"] for c in json.loads(line)["code"]["coding"]}
    return found


def _worklist(rows: list[WorklistRow]) -> set[tuple[Any, ...]]:
    """Rows without their evidence text, which quotes each export's own codes."""
    return {(r.patient_id, r.category, r.rule, r.first_seen, r.last_seen) for r in rows}


def test_each_export_is_coded_the_way_it_says(exports: dict[str, Path]) -> None:
    assert _systems(exports["snomed"]) == {SCT}
    assert _systems(exports["icd10cm"]) == {ICD}
    assert _systems(exports["mixed"]) == {SCT, ICD}


@pytest.mark.parametrize("style", STYLES)
def test_each_coding_lists_the_expected_patients(exports: dict[str, Path], style: str) -> None:
    rows = screen_export(exports[style]).rows
    assert {(r.patient_id, r.category, r.rule) for r in rows} == EXPECTED


def test_snomed_icd10cm_and_mixed_exports_give_the_same_worklist(
        exports: dict[str, Path]) -> None:
    worklists = {style: _worklist(screen_export(exports[style]).rows) for style in STYLES}
    assert worklists["snomed"] == worklists["icd10cm"] == worklists["mixed"]
    evidence = {style: " ".join(r.evidence for r in screen_export(exports[style]).rows)
                for style in ("snomed", "icd10cm")}
    assert "23056005" in evidence["snomed"] and "M54.31" not in evidence["snomed"]
    assert "M54.31" in evidence["icd10cm"] and "23056005" not in evidence["icd10cm"]


@pytest.mark.spark
def test_spark_gives_the_mixed_export_the_same_worklist_row_for_row(
        exports: dict[str, Path]) -> None:
    from hipspine.screen import spark_session

    session = spark_session("local[2]")
    try:
        sparked = screen_export(exports["mixed"], engine="spark", spark=session)
    finally:
        session.stop()
    assert sparked.rows == screen_export(exports["mixed"]).rows
