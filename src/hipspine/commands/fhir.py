"""`hipspine fhir import|export`: FHIR R4 Bundles to cases, results to FHIR resources."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import typer

from hipspine.commands._io import OutputFormat, print_json, read_text
from hipspine.errors import InputError
from hipspine.models.validation import loads_strict

SETTINGS = ("primary_care", "spine_clinic", "arthroplasty_clinic", "physiotherapy")


def register(app: typer.Typer) -> None:
    fhir = typer.Typer(help="FHIR R4 in (Bundle -> case) and out (RiskAssessment, CarePlan, "
                            "QuestionnaireResponse + Observation).", no_args_is_help=True)
    app.add_typer(fhir, name="fhir")

    @fhir.command("import")
    def import_(
        bundle: str = typer.Argument(..., help="FHIR Bundle, resource or NDJSON file, - for "
                                     "stdin, or a Bulk FHIR export folder (with --patient)"),
        patient: str | None = typer.Option(None, "--patient", help="Patient id when the input "
                                           "holds several patients"),
        as_of: str | None = typer.Option(None, "--as-of", help="date ages are counted to "
                                         "(YYYY-MM-DD; default today)"),
        setting: str | None = typer.Option(None, "--setting", help="|".join(SETTINGS)),
        report: str | None = typer.Option(None, "--report", help="write the import report "
                                          "(JSON) here instead of text on stderr"),
        validate: bool = typer.Option(True, "--validate/--no-validate",
                                      help="check each resource against the FHIR R4 models"),
        output: OutputFormat = typer.Option(OutputFormat.json, "--format",
                                            help="json (the case, default) or text (a summary)"),
    ) -> None:
        """Read one patient's FHIR R4 resources and print a hipspine.case/1 on stdout."""
        from hipspine.ehr.fhir_in import import_resources, parse_fhir_text, read_bulk_patient
        from hipspine.ehr.r4 import r4_problem

        if setting is not None and setting not in SETTINGS:
            raise InputError.single("--setting", setting, " | ".join(SETTINGS),
                                    what="command-line option")
        if Path(bundle).is_dir():
            if patient is None:
                raise InputError.single("--patient", None, "the Patient id to read from the "
                                        "export folder", what="command-line option")
            resources = read_bulk_patient(bundle, patient)
        else:
            resources = parse_fhir_text(read_text(bundle))
        result = import_resources(resources, patient_id=patient, as_of=_date(as_of),
                                  setting=setting)
        if validate:
            for res in resources:
                problem = r4_problem(res)
                if problem:
                    result.report.warnings.append(
                        f"{res.get('resourceType')}/{res.get('id', '?')} is not valid FHIR R4 "
                        f"(read leniently): {problem}")
        case_doc = json.loads(result.case.model_dump_json(exclude_none=True))
        if output is OutputFormat.json:
            print_json(case_doc)
        else:
            _print_case_summary(case_doc, [f.as_dict() for f in result.findings])
        payload = result.report.as_dict() | {"findings": [f.as_dict() for f in result.findings]}
        if report is not None:
            Path(report).write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        else:
            sys.stderr.write(result.report.render() + "\n")

    @fhir.command("export")
    def export(
        kind: str = typer.Argument(..., help="assessment | plan | prom"),
        document: str = typer.Argument(..., help="for assessment/plan: a case (assessed or "
                                       "planned here) or an assessment/plan JSON; for prom: "
                                       "a case whose proms are exported; - for stdin"),
        patient: str | None = typer.Option(None, "--patient", help="FHIR Patient id for "
                                           "subject references (default: the case id)"),
        output: OutputFormat = typer.Option(OutputFormat.json, "--format",
                                            help="json (the Bundle, default) or text (a list)"),
    ) -> None:
        """Print a FHIR R4 Bundle (collection) of the exported resources."""
        from hipspine.ehr.fhir_out import export_document

        data = _json(read_text(document))
        exported = export_document(kind, data, patient_id=patient)
        if output is OutputFormat.json:
            print_json(exported)
            return
        for entry in exported["entry"]:
            res = entry["resource"]
            label = (res.get("code") or {}).get("text") or res.get("description") or \
                res.get("questionnaire") or ""
            sys.stdout.write(f"{res['resourceType']}/{res['id']}: {label}\n")


def _print_case_summary(case: dict[str, Any], findings: list[dict[str, Any]]) -> None:
    from rich.console import Console

    con = Console()
    con.print(f"[bold]case[/] age {case.get('age', '?')}, sex {case.get('sex', '?')}, "
              f"setting {case.get('setting', 'not set')}", highlight=False)
    for f in findings:
        side = f" ({f['laterality']})" if f.get("laterality") else ""
        when = f", {f['date']}" if f.get("date") else ""
        state = "" if f.get("active") else ", inactive"
        con.print(f"  {f['category']}{side}: {f['display']}{when}{state}", highlight=False)
    treatments = case.get("history", {}).get("prior_treatments", [])
    for t in treatments:
        con.print(f"  prior treatment: {t['type']} ({t['target']})", highlight=False)
    reports = case.get("imaging", {}).get("reports", [])
    if reports:
        con.print(f"  {len(reports)} imaging report text(s) for the NLP reader", highlight=False)


def _date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError.single("--as-of", text, "a date YYYY-MM-DD",
                                what="command-line option") from None


def _json(text: str) -> Any:
    return loads_strict(text, "input")
