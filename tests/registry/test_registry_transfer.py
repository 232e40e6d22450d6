"""Import/export: round trips and all-or-nothing imports (kill -9 mid-import: tests/reliability)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from hipspine.errors import InputError
from hipspine.registry.transfer import export_registry, import_rows, read_rows

SMALL = [
    {"record": "patient", "pseudonym": "A1", "year_of_birth": 1948, "sex": "male"},
    {"record": "episode", "pseudonym": "A1", "opened_on": "2023-01-05", "verdict": "spine",
     "setting": "spine_clinic", "pathway": "spine_only"},
    {"record": "treatment", "pseudonym": "A1", "type": "lumbar_decompression",
     "target": "spine", "level": "L4-L5", "performed_on": "2023-04-01",
     "episode_opened_on": "2023-01-05"},
    {"record": "prom", "pseudonym": "A1", "instrument": "odi", "administered_on": "2023-03-20",
     "items": [3, 3, 2, 3, 2, 3, 2, None, 2, 3], "episode_opened_on": "2023-01-05"},
    {"record": "prom", "pseudonym": "A1", "instrument": "odi", "administered_on": "2024-04-10",
     "items": "1,1,1,1,1,1,0,,1,1", "episode_opened_on": "2023-01-05"},
    {"record": "prom", "pseudonym": "A1", "instrument": "ohs", "administered_on": "2024-04-10",
     "score": 40, "timepoint": "12m"},
]


def export_text(engine, fmt: str) -> str:
    out = io.StringIO()
    export_registry(engine, out, fmt)
    return out.getvalue()


def test_import_scores_links_and_assigns_timepoints(engine):
    result = import_rows(engine, SMALL)
    assert result.as_dict() == {"patients": 1, "episodes": 1, "treatments": 1, "proms": 3,
                                "synthetic_rows": 0}
    rows = json.loads(export_text(engine, "json"))["rows"]
    proms = [r for r in rows if r["record"] == "prom"]
    # timepoints from the surgery date (2023-04-01): -12 days -> baseline, +375 -> 12m
    assert [p.get("timepoint") for p in proms] == ["baseline", "12m", "12m"]
    assert proms[0]["score"] == round(23 / 45 * 100, 1)
    assert proms[2]["score"] == 40 and "items" not in proms[2]


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_import_export_is_identical(engine, db_url, fmt, tmp_path):
    import_rows(engine, SMALL)
    first = export_text(engine, fmt)
    from hipspine.registry import get_engine, migrate

    # a second, empty database of the same kind
    if db_url.startswith("sqlite"):
        other = get_engine(f"sqlite:///{tmp_path / 'other.sqlite'}")
    else:
        pytest.importorskip("psycopg")
        other = engine
        from hipspine.registry.database import downgrade

        downgrade(other, "base")
        migrate(other)
    import_rows(other, read_rows(first, fmt))
    second = export_text(other, fmt)
    if fmt == "json":
        first_rows, second_rows = json.loads(first)["rows"], json.loads(second)["rows"]
        assert first_rows == second_rows
    else:
        assert first == second


def test_one_bad_row_imports_nothing_and_names_row_and_field(engine, table_counts):
    import_rows(engine, SMALL)
    before = table_counts(engine)
    rows = [{"record": "patient", "pseudonym": f"B{n}"} for n in range(17)]
    rows.append({"record": "prom", "pseudonym": "B3", "instrument": "womac",
                 "administered_on": "2024-01-01", "items": [1]})
    rows += [{"record": "patient", "pseudonym": "B99"}]
    with pytest.raises(InputError) as info:
        import_rows(engine, rows)
    assert [p.field for p in info.value.problems] == ["rows[17].instrument"]
    assert "odi" in info.value.problems[0].allowed
    assert table_counts(engine) == before


def test_problems_found_late_still_roll_everything_back(engine, table_counts):
    before = table_counts(engine)
    rows = [{"record": "patient", "pseudonym": "C1"},
            {"record": "prom", "pseudonym": "C2", "instrument": "odi",
             "administered_on": "2024-01-01", "items": [1] * 10}]
    with pytest.raises(InputError) as info:
        import_rows(engine, rows)
    assert info.value.problems[0].field == "rows[1].pseudonym"
    assert table_counts(engine) == before


@pytest.mark.parametrize(("row", "field"), [
    ({"record": "visit"}, "rows[0].record"),
    ({"record": "patient", "pseudonym": "X", "sex": "F"}, "rows[0].sex"),
    ({"record": "patient", "pseudonym": "X", "year_of_birth": "19x0"}, "rows[0].year_of_birth"),
    ({"record": "patient", "pseudonym": "X", "nhs_number": "123"}, "rows[0].nhs_number"),
    ({"record": "episode", "pseudonym": "A1", "opened_on": "2024-13-01"}, "rows[0].opened_on"),
    ({"record": "treatment", "pseudonym": "A1", "type": "knee_replacement", "target": "hip",
      "performed_on": "2024-01-01"}, "rows[0].type"),
    ({"record": "prom", "pseudonym": "A1", "instrument": "odi", "administered_on": "2024-01-01",
      "items": [1, 1, 1, 1, 1, 1, 1, 1, 1, 9]}, "rows[0].items[9]"),
    ({"record": "prom", "pseudonym": "A1", "instrument": "ohs", "administered_on": "2024-01-01",
      "score": 60}, "rows[0].score"),
])
def test_each_kind_of_bad_value_is_named(engine, row, field):
    import_rows(engine, SMALL)
    with pytest.raises(InputError) as info:
        import_rows(engine, [row])
    assert info.value.problems[0].field == field


def test_csv_reader_rejects_unknown_columns():
    with pytest.raises(InputError) as info:
        read_rows("record,pseudonym,name\npatient,P,Jane\n", "csv")
    assert info.value.problems[0].field == "header"


def test_export_labels_synthetic_rows(engine):
    from hipspine.synth import write_cohort

    write_cohort(engine, 20, seed=5)
    doc = json.loads(export_text(engine, "json"))
    assert doc["synthetic_rows"] == doc["row_count"] > 20
    assert all(r["synthetic"] is True for r in doc["rows"])
    assert "SYNTHETIC" in doc["synthetic_notice"]
    rows = list(csv.DictReader(io.StringIO(export_text(engine, "csv"))))
    assert {r["synthetic"] for r in rows} == {"true"}


def test_fhir_questionnaire_responses_import_as_prom_rows(engine, table_counts):
    from hipspine.ehr.fhir_out import prom_resources
    from hipspine.registry.transfer import rows_from_fhir

    resources = (prom_resources("odi", [2, 3, 1, None, 0, 2, 1, 3, 2, 1], date="2024-02-20")
                 + prom_resources("ohs", [4] * 12, date="2024-09-01"))
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": r} for r in resources]}
    rows = rows_from_fhir(json.dumps(bundle), "F-1", register_patient=True)
    import_rows(engine, rows)
    doc = json.loads(export_text(engine, "json"))
    proms = [r for r in doc["rows"] if r["record"] == "prom"]
    assert [(p["instrument"], p["score"]) for p in proms] == [("odi", 33.3), ("ohs", 48.0)]
    assert proms[0]["items"] == [2, 3, 1, None, 0, 2, 1, 3, 2, 1]
    with pytest.raises(InputError):
        rows_from_fhir(json.dumps({"resourceType": "Bundle", "entry": []}), "F-2",
                       register_patient=True)
