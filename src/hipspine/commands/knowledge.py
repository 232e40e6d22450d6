"""`hipspine knowledge [--format text|json]` and `hipspine knowledge check`."""

from __future__ import annotations

import importlib
from typing import Annotated, Any

import typer

from hipspine.commands._io import OutputFormat, print_json

# Knowledge files and the model that validates each: "relpath": "module:Model".
# Files not listed are still parsed and citation-checked.
REGISTERED: dict[str, str] = {
    "assessment/sources.yaml": "hipspine.assess.knowledge:SourcesFile",
    "assessment/findings.yaml": "hipspine.assess.knowledge:FindingsFile",
    "assessment/rules.yaml": "hipspine.assess.knowledge:RulesFile",
}

# Each area's own loader validates its files against its strict models (and cross-checks
# them); running them all is the registered check for every area. "module:function".
AREA_LOADERS: tuple[str, ...] = (
    "hipspine.assess.knowledge:load_assessment_knowledge",
    "hipspine.instruments.knowledge:load_instrument_knowledge",
    "hipspine.plan.knowledge:load_plan_knowledge",
    "hipspine.spinopelvic.knowledge:load_spinopelvic_knowledge",
    "hipspine.proms.knowledge:packaged_instruments",
    "hipspine.proms.knowledge:packaged_timepoints",
    "hipspine.synth.params:packaged_params",
    "hipspine.studies.knowledge:packaged_study_defaults",
    "hipspine.nlp.knowledge:load_nlp_knowledge",
    "hipspine.screen.rules:load_screen_rules",
    "hipspine.ehr.valuesets:load_valuesets",
    "hipspine.ehr.valuesets:load_code_systems",
    "hipspine.ehr.fhir_in:load_observation_map",
    "hipspine.ehr.fhir_in:load_report_rules",
    "hipspine.ehr.fhir_out:load_prom_codes",
    "hipspine.ehr.cds.cards:load_card_rules",
    "hipspine.ehr.medications:load_medication_knowledge",
)


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="The cited knowledge base: list entries, or check every file.",
                        invoke_without_command=True, no_args_is_help=False)

    @group.callback()
    def list_entries(
        ctx: typer.Context,
        output: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.text,
    ) -> None:
        """List the assessment knowledge entries with their sources and verification status."""
        if ctx.invoked_subcommand is not None:
            return
        rows = entries()
        if output == OutputFormat.json:
            from hipspine.kb import knowledge_version

            print_json({"knowledge_version": knowledge_version(), "entries": rows})
            return
        _render(rows)

    @group.command("check")
    def check() -> None:
        """Validate every registered knowledge file; exit 1 on any defect."""
        from rich.console import Console

        con = Console()
        problems = check_all()
        for relpath, problem in problems:
            con.print(f"[red]DEFECT[/] {relpath}: {problem}", highlight=False)
        if problems:
            raise SystemExit(1)  # not typer.Exit: cli.main runs click with standalone_mode=False
        con.print("knowledge base OK")

    app.add_typer(group, name="knowledge")


def entries() -> list[dict[str, Any]]:
    """One row per prior, likelihood, red flag and rule, with citation and verification."""
    from hipspine.assess.knowledge import load_assessment_knowledge

    kb = load_assessment_knowledge()
    rows: list[dict[str, Any]] = []
    for p in kb.sources.priors:
        where = ", ".join(p.settings) if p.settings else "any setting"
        band = f" age {p.age_min or ''}-{p.age_max or ''}" if p.age_min or p.age_max else ""
        cond = " when " + "; ".join(f"{c.field} {c.op} {c.value}" for c in p.when) if p.when else ""
        rows.append({"kind": "pretest", "entry": f"{p.source}: {where}{band}{cond}",
                     "value": p.probability, "citation": p.citation, "verified": p.verified,
                     "note": p.note})
    for f in kb.findings.findings:
        for lk in f.likelihoods:
            lr_pos, lr_neg = lk.effective()
            value = {"lr_positive": lr_pos, "lr_negative": lr_neg}
            if lk.derived:
                value.update(sensitivity=lk.sensitivity, specificity=lk.specificity)
            rows.append({"kind": "likelihood", "entry": f"{f.id} -> {lk.source}",
                         "value": value, "group": f.group, "citation": lk.citation,
                         "verified": lk.verified, "note": lk.note})
    for r in kb.rules.red_flags:
        rows.append({"kind": "red_flag", "entry": r.id, "value": r.urgency,
                     "citation": r.citation, "verified": r.verified, "note": r.note})
        rows += [{"kind": "red_flag_trigger", "entry": f"{r.id}: {t.finding}",
                  "value": r.urgency, "citation": t.citation, "verified": t.verified,
                  "note": t.note} for t in r.triggers if t.citation]
    v = kb.rules.verdict
    rows.append({"kind": "verdict", "entry": "act threshold",
                 "value": {"act_probability": v.act_probability,
                           "min_evidence_lr": v.min_evidence_lr},
                 "citation": v.citation, "verified": v.verified, "note": v.note})
    nt = kb.rules.next_tests
    rows.append({"kind": "rule", "entry": "next-test model",
                 "value": {"assumed_sensitivity": nt.assumed_sensitivity},
                 "citation": nt.citation, "verified": nt.verified, "note": nt.note})
    om = kb.rules.offierski_macnab
    rows.append({"kind": "rule", "entry": "offierski_macnab",
                 "value": {"misdiagnosed_relief_below_pct": om.misdiagnosed_relief_below_pct},
                 "citation": om.citation, "verified": om.verified, "note": om.note})
    return rows


def check_all() -> list[tuple[str, str]]:
    """(file, defect) for every knowledge file that fails parsing, its model or citations."""
    from hipspine.errors import HipspineError
    from hipspine.kb import knowledge_files, load_references, load_section, read_yaml
    from hipspine.kb.loader import check_citations

    problems: list[tuple[str, str]] = []
    try:
        load_references()
    except HipspineError as exc:
        return [("references/", str(exc))]
    for relpath in knowledge_files():
        try:
            if relpath in REGISTERED:
                module, _, name = REGISTERED[relpath].partition(":")
                model = getattr(importlib.import_module(module), name)
                load_section(relpath, model)
            elif not relpath.startswith("references/"):
                check_citations(read_yaml(relpath), relpath)
        except HipspineError as exc:
            problems.append((relpath, str(exc)))
        except ImportError as exc:
            problems.append((relpath, f"validating model not importable: {exc}"))
    for target in AREA_LOADERS:
        module, _, name = target.partition(":")
        try:
            loader = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as exc:
            problems.append((target, f"loader not importable: {exc}"))
            continue
        cache_clear = getattr(loader, "cache_clear", None)
        if cache_clear is not None:
            cache_clear()
        try:
            loader()
        except HipspineError as exc:
            problems.append((target, str(exc)))
        except Exception as exc:  # a loader crashing is a knowledge defect to report
            problems.append((target, f"{type(exc).__name__}: {exc}"))
    return problems


def _render(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    from hipspine.kb import knowledge_version, load_references

    refs = load_references()
    table = Table(title=f"hipspine assessment knowledge {knowledge_version()}")
    for col in ("kind", "entry", "value", "source", "verified"):
        table.add_column(col, overflow="fold")
    style = {"primary": "green", "secondary": "yellow", "unverified": "red",
             "design_choice": "cyan"}
    for r in rows:
        ref = refs.get(r["citation"])
        value = r["value"]
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                              for k, v in value.items() if v is not None)
        table.add_row(r["kind"], r["entry"], str(value), ref.short() if ref else r["citation"],
                      f"[{style[r['verified']]}]{r['verified']}[/]")
    Console().print(table)
