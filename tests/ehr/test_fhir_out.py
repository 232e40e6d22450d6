"""FHIR R4 export validates against the R4 models, and import -> assess -> export round-trips."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

import hipspine
from hipspine.cli import app
from hipspine.ehr.fhir_in import import_resources, resources_of
from hipspine.ehr.fhir_out import (
    bundle,
    care_plan,
    export_document,
    prom_resources,
    risk_assessment,
)
from hipspine.ehr.r4 import r4_problem
from hipspine.errors import InputError

from .bundles import AS_OF, bundle_for_case

runner = CliRunner()


def test_risk_assessment_has_a_prediction_per_source_and_versions(
        example_cases: dict[str, dict[str, Any]]) -> None:
    assessment = hipspine.assess(example_cases["hip-spine-syndrome"])
    resource = risk_assessment(assessment, "p1")
    assert r4_problem(resource) is None
    assert {p["outcome"]["coding"][0]["code"] for p in resource["prediction"]} == {
        s.id for s in assessment.sources}
    tags = {t["code"] for t in resource["meta"]["tag"]}
    assert f"engine-{assessment.engine_version}" in tags
    assert f"knowledge-{assessment.knowledge_version}" in tags
    assert resource["subject"] == {"reference": "Patient/p1"}


@pytest.mark.parametrize("name", ["hip-dominant", "spine-dominant", "hip-spine-syndrome"])
def test_round_trip_import_assess_export(example_cases: dict[str, dict[str, Any]],
                                         name: str) -> None:
    case = example_cases[name]
    imported = import_resources(resources_of(bundle_for_case(case)), as_of=AS_OF).case
    assert imported.age == case["age"] and imported.sex == case["sex"]
    assert imported.imaging.reports == case["imaging"].get("reports", [])
    assessment = hipspine.assess(imported)
    exported = bundle([risk_assessment(assessment, imported.id)])
    assert r4_problem(exported) is None
    [entry] = exported["entry"]
    assert entry["resource"]["subject"]["reference"] == "Patient/p1"


def test_care_plan_from_a_case(example_cases: dict[str, dict[str, Any]]) -> None:
    from hipspine.plan import plan_case

    plan = plan_case(hipspine.parse_case(example_cases["hip-spine-syndrome"]))
    resource = care_plan(plan, "p9")
    assert r4_problem(resource) is None
    assert resource["intent"] == "proposal"
    assert len(resource["activity"]) >= len(plan.steps)


def test_prom_exports_questionnaire_response_and_score_observation() -> None:
    qr, obs = prom_resources("odi", [2, 3, 1, None, 0, 2, 1, 3, 2, 1], date="2026-05-02",
                             patient_id="p1")
    assert r4_problem(qr) is None and r4_problem(obs) is None
    assert qr["questionnaire"] == "urn:hipspine:questionnaire:odi"
    assert "answer" not in qr["item"][3]
    assert obs["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{qr['id']}"}]
    assert obs["valueQuantity"]["value"] == hipspine_score("odi", [2, 3, 1, None, 0, 2, 1, 3, 2,
                                                                   1])
    # round trip: the QuestionnaireResponse imports back to the same items
    [prom] = import_resources([qr], as_of=AS_OF).case.proms
    assert prom.items == [2, 3, 1, None, 0, 2, 1, 3, 2, 1]


def test_nrs_pain_uses_the_checked_loinc_code() -> None:
    _, obs = prom_resources("nrs_back", [7])
    assert obs["code"]["coding"][0] == {"system": "http://loinc.org", "code": "72514-3",
                                        "display": obs["code"]["coding"][0]["display"]}


def hipspine_score(instrument: str, items: list[int | None]) -> float | None:
    from hipspine.proms import score

    return score(instrument, items).score


def test_export_document_rejects_bad_kinds_and_missing_proms() -> None:
    with pytest.raises(InputError):
        export_document("letter", {})
    with pytest.raises(InputError) as err:
        export_document("prom", {"format": "hipspine.case/1"})
    assert err.value.problems[0].field == "proms"


def test_cli_import_then_export(tmp_path: Any, example_cases: dict[str, dict[str, Any]]) -> None:
    src = tmp_path / "bundle.json"
    src.write_text(json.dumps(bundle_for_case(example_cases["spine-dominant"])))
    report = tmp_path / "report.json"
    result = runner.invoke(app, ["fhir", "import", str(src), "--as-of", "2026-06-01",
                                 "--setting", "spine_clinic", "--report", str(report)])
    assert result.exit_code == 0, result.output
    case = json.loads(result.stdout)
    assert case["format"] == "hipspine.case/1" and case["setting"] == "spine_clinic"
    assert json.loads(report.read_text())["mapped"]
    case_file = tmp_path / "case.json"
    case_file.write_text(result.stdout)
    for kind, rtype in (("assessment", "RiskAssessment"), ("plan", "CarePlan")):
        out = runner.invoke(app, ["fhir", "export", kind, str(case_file)])
        assert out.exit_code == 0, out.output
        assert json.loads(out.stdout)["entry"][0]["resource"]["resourceType"] == rtype


def test_cli_bad_input_exits_2() -> None:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "hipspine.cli", "fhir", "import", "-",
                           "--setting", "ward"], input="{}", capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 2 and "--setting" in proc.stderr


def test_synthea_patients_round_trip_without_a_crash(
        synthea_patients: dict[str, list[dict[str, Any]]]) -> None:
    """Every real Synthea R4 patient: import, assess, export a valid RiskAssessment."""
    exported = 0
    for pid, resources in synthea_patients.items():
        if resources[0].get("resourceType") != "Patient":
            continue
        imported = import_resources(resources, as_of=AS_OF)
        resource = risk_assessment(hipspine.assess(imported.case), pid)
        assert r4_problem(resource) is None
        exported += 1
    assert exported >= 10


def test_cli_imports_one_patient_from_a_bulk_export_folder(shared_dir: Any, tmp_path: Any) -> None:
    folder = shared_dir / "data" / "synthea-bulk-10"
    result = runner.invoke(app, ["fhir", "import", str(folder), "--patient",
                                 "129c6ac7-8d06-89de-ad63-0204a93e76c3", "--as-of", "2026-01-01",
                                 "--no-validate", "--report", str(tmp_path / "r.json")])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["id"] == "129c6ac7-8d06-89de-ad63-0204a93e76c3"
    report = json.loads((tmp_path / "r.json").read_text())
    assert len(report["mapped"]) + len(report["ignored"]) > 10
    missing = runner.invoke(app, ["fhir", "import", str(folder)])
    assert missing.exit_code != 0


def test_cli_text_formats(tmp_path: Any, example_cases: dict[str, dict[str, Any]]) -> None:
    src = tmp_path / "bundle.json"
    src.write_text(json.dumps(bundle_for_case(example_cases["hip-spine-syndrome"])))
    shown = runner.invoke(app, ["fhir", "import", str(src), "--as-of", "2026-06-01",
                                "--format", "text", "--no-validate"])
    assert shown.exit_code == 0, shown.output
    assert "hip_oa (left)" in shown.stdout and "age 71" in shown.stdout
    case_file = tmp_path / "case.json"
    case_file.write_text(json.dumps(example_cases["hip-spine-syndrome"]))
    listed = runner.invoke(app, ["fhir", "export", "assessment", str(case_file),
                                 "--format", "text"])
    assert listed.exit_code == 0 and listed.stdout.startswith("RiskAssessment/")
