"""The worklist categories as an analyst reads them: a coded symptom is evidence, a work-up
is imaging, a specialist visit, an injection, an operation or a structural diagnosis of
that organ; each row names the rule that made it.

Two layers: the worked examples in `knowledge/screen/rules.yaml` (signals and days, run
through the screening SQL itself), and small NDJSON exports per category, coded from the
code systems' listings (tests/screen/listed_codes.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from tests.screen.listed_codes import (
    ENCOUNTER_FOR_PROBLEM,
    HIP_KNEE_SURGEON,
    HIP_OA,
    HIP_OA_LEFT,
    HIP_PAIN,
    KNEE_OA,
    LOW_BACK_PAIN,
    LUMBAGO_WITH_SCIATICA,
    LUMBAR_FACET_INJECTION,
    LUMBAR_STENOSIS,
    MAJOR_JOINT_INJECTION,
    ORTHOPEDIC_ADMISSION,
    RADICULOPATHY,
    SCIATICA,
    SPINE_SURGEON,
    SPONDYLOLISTHESIS,
    TOTAL_HIP_REPLACEMENT,
    TROCHANTERIC_BURSITIS,
    Patient,
    write_export,
)

from hipspine.screen import WorklistRow, screen_export
from hipspine.screen import sql as screen_sql
from hipspine.screen.rules import Example, load_screen_rules

RULES = load_screen_rules()
RULE_CATEGORY = {r.id: c.id for c in RULES.categories for r in c.rules}
RULE_DESCRIPTION = {r.id: r.description for c in RULES.categories for r in c.rules}


# --- the worked examples in the rules data ------------------------------------------------

def _hits_for(example: Example) -> set[str]:
    """Rule ids that list the example's patient, from the screening SQL on DuckDB."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("CREATE TABLE facts (patient_id VARCHAR, signal VARCHAR, day DATE, "
                    "item VARCHAR)")
        start = date(2020, 1, 1)
        con.executemany("INSERT INTO facts VALUES ('p', ?, ?, ?)",
                        [(signal, start + timedelta(days=day), f"{signal} {day}")
                         for signal, day in example.records])
        con.execute(f"CREATE TABLE patient_groups AS {screen_sql.patient_groups_sql(RULES)}")
        for name, select in screen_sql.same_day_sql(RULES).items():
            con.execute(f"CREATE TABLE {name} AS {select}")
        rows = con.execute(screen_sql.hits_sql(RULES, screen_sql.DUCKDB)).fetchall()
    finally:
        con.close()
    for _, category, rule, description in rows:
        assert (RULE_CATEGORY[rule], RULE_DESCRIPTION[rule]) == (category, description)
    return {rule for _, _, rule, _ in rows}


@pytest.mark.parametrize("example", RULES.examples, ids=[e.id for e in RULES.examples])
def test_every_worked_example_in_the_rules_holds(example: Example) -> None:
    assert _hits_for(example) == set(example.listed_by), example.says


def test_every_rule_has_a_worked_example_and_every_category_a_near_miss() -> None:
    listed = {r for e in RULES.examples for r in e.listed_by}
    assert listed == set(RULE_CATEGORY)
    for category in RULES.categories:
        groups = {g for r in category.rules for g in r.all_of}
        signals = {s for g in groups for s in RULES.groups[g]}
        misses = [e for e in RULES.examples
                  if not set(e.listed_by) & {r.id for r in category.rules}
                  and {s for s, _ in e.records} & signals]
        assert misses, f"{category.id}: no example that looks like it but is not listed"


def test_a_symptom_is_evidence_never_a_workup() -> None:
    """The data itself: symptom and report-phrase signals sit in no work-up group."""
    workup = set(RULES.groups["hip_workup"]) | set(RULES.groups["spine_workup"])
    evidence = set(RULES.groups["hip_evidence"]) | set(RULES.groups["spine_evidence"])
    assert not workup & evidence
    symptom_sets = {c for s in RULES.signals if s.id in ("hip_symptom", "spine_symptom")
                    for c in s.valueset_categories}
    assert symptom_sets >= {"hip_pain", "trochanteric", "low_back_pain", "radiculopathy"}


# --- small exports, one story each ----------------------------------------------------------

Story = Callable[[Patient], Patient]


def _screen(tmp_path: Path, *patients: Patient) -> list[WorklistRow]:
    return screen_export(write_export(tmp_path / "export", patients)).rows


def _listed(rows: list[WorklistRow]) -> dict[str, set[tuple[str, str]]]:
    out: dict[str, set[tuple[str, str]]] = {}
    for row in rows:
        out.setdefault(row.patient_id, set()).add((row.category, row.rule))
        assert row.rule_description == RULE_DESCRIPTION[row.rule]
        assert RULE_CATEGORY[row.rule] == row.category
    return out


UNRECOGNISED_SPINE = ("unrecognised_spine", "spine_evidence_without_spine_workup")
UNRECOGNISED_HIP = ("unrecognised_hip", "hip_evidence_without_hip_workup")
FAILED_HIP = ("failed_single_organ_treatment", "pain_persists_after_hip_operation")
CO_OCCURRING = ("co_occurring", "both_diagnosed_never_together")

STORIES: dict[str, tuple[Story, set[tuple[str, str]]]] = {
    # the patient: a hip replaced, sciatica coded later, the spine never worked up
    "hip_replaced_then_sciatica": (
        lambda p: p.procedure(0, TOTAL_HIP_REPLACEMENT)
        .encounter(300, [ENCOUNTER_FOR_PROBLEM], reason=SCIATICA.codings("icd10cm"))
        .condition(300, SCIATICA.codings("icd10cm")),
        {UNRECOGNISED_SPINE, FAILED_HIP}),
    "hip_replaced_then_lumbago_with_sciatica_within_90_days": (
        lambda p: p.procedure(0, TOTAL_HIP_REPLACEMENT)
        .condition(40, LUMBAGO_WITH_SCIATICA.codings("icd10cm")),
        {UNRECOGNISED_SPINE}),
    "hip_oa_then_radiculopathy_is_not_both_diagnosed": (
        lambda p: p.condition(0, HIP_OA_LEFT.codings("icd10cm"))
        .condition(400, RADICULOPATHY.codings("icd10cm")),
        {UNRECOGNISED_SPINE}),
    "hip_oa_then_back_pain_as_encounter_reason": (
        lambda p: p.condition(0, HIP_OA.codings("icd10cm"))
        .encounter(200, [ENCOUNTER_FOR_PROBLEM], reason=LOW_BACK_PAIN.codings("icd10cm")),
        {UNRECOGNISED_SPINE}),
    "hip_oa_back_pain_then_stenosis_diagnosed": (
        lambda p: p.condition(0, HIP_OA.codings("icd10cm"))
        .condition(200, LOW_BACK_PAIN.codings("icd10cm"))
        .condition(260, LUMBAR_STENOSIS.codings("icd10cm")),
        {CO_OCCURRING}),
    "stenosis_then_hip_pain": (
        lambda p: p.condition(0, LUMBAR_STENOSIS.codings("icd10cm"))
        .condition(150, HIP_PAIN.codings("icd10cm")),
        {UNRECOGNISED_HIP}),
    "spondylolisthesis_then_trochanteric_bursitis": (
        lambda p: p.condition(0, SPONDYLOLISTHESIS.codings("icd10cm"))
        .condition(90, TROCHANTERIC_BURSITIS.codings("icd10cm")),
        {UNRECOGNISED_HIP}),
    "stenosis_report_names_hip_oa": (
        lambda p: p.condition(0, LUMBAR_STENOSIS.codings("icd10cm"))
        .report(0, "Moderate central canal stenosis at L4-5. Incidental osteoarthritis of the "
                   "left hip."),
        {UNRECOGNISED_HIP}),
    "stenosis_hip_pain_then_hip_oa_diagnosed": (
        lambda p: p.condition(0, LUMBAR_STENOSIS.codings("icd10cm"))
        .condition(150, HIP_PAIN.codings("icd10cm"))
        .condition(170, HIP_OA_LEFT.codings("icd10cm")),
        {CO_OCCURRING}),
    "stenosis_hip_pain_entered_in_error": (
        lambda p: p.condition(0, LUMBAR_STENOSIS.codings("icd10cm"))
        .condition(150, HIP_PAIN.codings("icd10cm"), verification="entered-in-error"),
        set()),
    "symptoms_only": (
        lambda p: p.condition(0, HIP_PAIN.codings("icd10cm"))
        .condition(30, LOW_BACK_PAIN.codings("icd10cm"))
        .condition(60, SCIATICA.codings("icd10cm")),
        set()),
    # Synthea's admission for a hip OR knee replacement names no organ: no spine work-up
    "orthopedic_admission_is_not_a_spine_workup": (
        lambda p: p.condition(0, HIP_OA.codings("icd10cm"))
        .encounter(10, [ORTHOPEDIC_ADMISSION])
        .encounter(20, [ENCOUNTER_FOR_PROBLEM], reason=SCIATICA.codings("icd10cm")),
        {UNRECOGNISED_SPINE}),
    # a specialist visit is a work-up: in Encounter.type or Encounter.serviceType
    "hip_oa_sciatica_then_spine_surgeon": (
        lambda p: p.condition(0, HIP_OA.codings("icd10cm"))
        .condition(100, SCIATICA.codings("icd10cm"))
        .encounter(130, [SPINE_SURGEON]),
        set()),
    "stenosis_hip_pain_then_hip_surgeon_as_service_type": (
        lambda p: p.condition(0, LUMBAR_STENOSIS.codings("icd10cm"))
        .condition(100, HIP_PAIN.codings("icd10cm"))
        .encounter(130, [ENCOUNTER_FOR_PROBLEM], service_type=[HIP_KNEE_SURGEON]),
        set()),
    "hip_oa_sciatica_spine_surgeon_only_planned": (
        lambda p: p.condition(0, HIP_OA.codings("icd10cm"))
        .condition(100, SCIATICA.codings("icd10cm"))
        .encounter(130, [SPINE_SURGEON], status="planned"),
        {UNRECOGNISED_SPINE}),
    "spine_surgeon_visit_then_hip_pain": (
        lambda p: p.encounter(0, [SPINE_SURGEON])
        .condition(60, HIP_PAIN.codings("icd10cm")),
        {UNRECOGNISED_HIP}),
    # an injection is a work-up
    "hip_oa_back_pain_then_facet_injection": (
        lambda p: p.condition(0, HIP_OA.codings("icd10cm"))
        .condition(100, LOW_BACK_PAIN.codings("icd10cm"))
        .procedure(150, LUMBAR_FACET_INJECTION),
        set()),
    "stenosis_trochanteric_bursitis_then_joint_injection": (
        lambda p: p.condition(0, LUMBAR_STENOSIS.codings("icd10cm"))
        .condition(100, TROCHANTERIC_BURSITIS.codings("icd10cm"))
        .procedure(110, MAJOR_JOINT_INJECTION),
        set()),
    "hip_replaced_pain_persists": (
        lambda p: p.condition(0, HIP_OA.codings("icd10cm"))
        .procedure(30, TOTAL_HIP_REPLACEMENT).pain(230, 6),
        {FAILED_HIP}),
    "hip_replaced_pain_only_early": (
        lambda p: p.condition(0, HIP_OA.codings("icd10cm"))
        .procedure(30, TOTAL_HIP_REPLACEMENT).pain(60, 8).pain(230, 2),
        set()),
    "hip_replacement_only_in_preparation": (
        lambda p: p.procedure(0, TOTAL_HIP_REPLACEMENT, status="preparation").pain(200, 7)
        .condition(200, SCIATICA.codings("icd10cm")),
        set()),
    "both_diagnosed_apart": (
        lambda p: p.condition(0, HIP_OA.codings("icd10cm"))
        .condition(300, SPONDYLOLISTHESIS.codings("icd10cm")),
        {CO_OCCURRING}),
    "both_diagnosed_same_day": (
        lambda p: p.condition(0, HIP_OA.codings("icd10cm"))
        .condition(0, LUMBAR_STENOSIS.codings("icd10cm")),
        set()),
    "knee_oa_and_back_pain_is_no_hip_care": (
        lambda p: p.condition(0, KNEE_OA.codings("icd10cm"))
        .condition(100, LOW_BACK_PAIN.codings("icd10cm")),
        set()),
}


def test_each_story_lands_in_exactly_its_categories(tmp_path: Path) -> None:
    patients = [story(Patient(name)) for name, (story, _) in STORIES.items()]
    got = _listed(_screen(tmp_path, *patients))
    expected = {name: want for name, (_, want) in STORIES.items() if want}
    assert got == expected


@pytest.mark.spark
def test_spark_lists_the_stories_row_for_row_as_duckdb(tmp_path: Path) -> None:
    """Encounter type/serviceType and statuses read the same way in Spark SQL."""
    from hipspine.screen import spark_session

    folder = write_export(tmp_path / "export",
                          [story(Patient(name)) for name, (story, _) in STORIES.items()])
    session = spark_session("local[2]")
    try:
        sparked = screen_export(folder, engine="spark", spark=session)
    finally:
        session.stop()
    assert sparked.rows == screen_export(folder).rows


def test_every_category_has_a_positive_and_a_negative_story() -> None:
    for category in RULES.categories:
        positive = [n for n, (_, want) in STORIES.items() if category.id in dict(want)]
        negative = [n for n, (_, want) in STORIES.items() if category.id not in dict(want)]
        assert positive and negative, category.id


def test_the_multi_category_patient_has_one_row_per_rule_with_its_own_evidence(
        tmp_path: Path) -> None:
    story, _ = STORIES["hip_replaced_then_sciatica"]
    rows = _screen(tmp_path, story(Patient("p1")))
    by_rule = {r.rule: r for r in rows}
    assert set(by_rule) == {UNRECOGNISED_SPINE[1], FAILED_HIP[1]}
    for row in rows:
        assert "Procedure 52734007" in row.evidence and "M54.31" in row.evidence
        assert (row.first_seen, row.last_seen) == ("2019-01-07", "2019-11-03")
    assert "co_occurring" not in {r.category for r in rows}


# --- bad rules data is refused, naming the defect -------------------------------------------

def _rules_data() -> dict:
    return RULES.model_dump(mode="json", exclude_none=True)


def test_a_repeated_rule_id_is_refused() -> None:
    from pydantic import ValidationError

    from hipspine.screen.rules import ScreenRules

    data = _rules_data()
    data["categories"][1]["rules"][0]["id"] = data["categories"][0]["rules"][0]["id"]
    with pytest.raises(ValidationError, match="hip_evidence_without_hip_workup"):
        ScreenRules.model_validate(data)


def test_an_example_naming_an_unknown_signal_or_rule_is_refused() -> None:
    from pydantic import ValidationError

    from hipspine.screen.rules import ScreenRules

    data = _rules_data()
    data["examples"][0]["records"][0] = ["hip_xray", 0]
    with pytest.raises(ValidationError, match="hip_xray"):
        ScreenRules.model_validate(data)
    data = _rules_data()
    data["examples"][0]["listed_by"] = ["unrecognised_spine"]  # a category, not a rule
    with pytest.raises(ValidationError, match="unknown rules"):
        ScreenRules.model_validate(data)


def test_a_multi_line_rule_description_is_refused() -> None:
    from pydantic import ValidationError

    from hipspine.screen.rules import ScreenRules

    data = _rules_data()
    data["categories"][0]["rules"][0]["description"] = "two\nlines"
    with pytest.raises(ValidationError, match="description"):
        ScreenRules.model_validate(data)
