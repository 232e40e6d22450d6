"""The intake form, built from the case model itself so it can never drift from the format.

Each input is named by its field path in the case (`exam.faber_positive`,
`history.prior_treatments[0].relief_pct`), the same path a 422 problem names, so the API's
validation messages land beside the input they concern. Yes/no findings are three-way:
"not known" stays null, because absent means not examined, never negative.
"""

from __future__ import annotations

import functools
import math
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel

from hipspine.errors import InputError, Problem
from hipspine.models import parse_case
from hipspine.models.case import (
    CASE_FORMAT,
    Exam,
    HipOA,
    History,
    Imaging,
    LumbarStenosis,
    PriorTreatment,
    Spondylolisthesis,
    Symptoms,
    Tests,
)

PRIOR_TREATMENT_ROWS = 3
# Words a clinician would use where the field name is terse.
LABELS = {
    "bmi": "BMI", "egfr": "eGFR", "faber_positive": "FABER positive",
    "fadir_positive": "FADIR positive", "abi": "Ankle-brachial index",
    "esr_mm_h": "ESR", "sij_provocation_positive_count": "SIJ provocation tests positive (of 5)",
    "hip_flexion_contracture": "Hip flexion contracture (Thomas test)",
    "nsaid_intolerance": "NSAID intolerance or allergy", "gi_bleed_history": "GI bleed history",
    "antiplatelet": "On an antiplatelet", "nsaid_use": "NSAID use",
    "opioid_use": "Opioid use", "gabapentinoid_use": "Gabapentinoid use",
    "corticosteroid_use": "Systemic corticosteroid use",
    "morning_stiffness_over_60min": "Morning stiffness over 60 min",
    "kellgren_lawrence": "Kellgren-Lawrence grade", "relief_pct": "Relief",
    "intra_articular_hip_injection_relief_pct": "Intra-articular hip injection: relief",
    "epidural_injection_relief_pct": "Epidural injection: relief",
    "nerve_root_block_relief_pct": "Nerve root block: relief",
    "hip_internal_rotation_deg": "Hip internal rotation", "hip_flexion_deg": "Hip flexion",
    "romberg_abnormal": "Romberg abnormal", "duration_months": "Duration of symptoms",
    "suspected_malignancy": "Bone tumour or metastasis suspected",
    "fracture": "Current fracture (stress or insufficiency too)",
    "infection": "Infection (abscess, discitis, osteomyelitis, septic arthritis)",
}
UNITS = {"_pct": "%", "_deg": "degrees", "months": "months", "bmi": "kg/m²",
         "egfr": "mL/min/1.73m²", "esr_mm_h": "mm/h", "age": "years"}


@dataclass
class Field:
    """One input of the form."""

    path: str
    label: str
    kind: Literal["tri", "number", "choice", "text"]
    choices: list[str] = field(default_factory=list)
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    unit: str = ""
    hint: str = ""  # e.g. the red flag a finding raises


@dataclass
class Section:
    key: str
    title: str
    fields: list[Field]


def label_for(name: str) -> str:
    return LABELS.get(name) or name.replace("_", " ").capitalize()


def _unit_for(name: str) -> str:
    for suffix, unit in UNITS.items():
        if name == suffix or name.endswith(suffix):
            return unit
    return ""


def _field(prefix: str, name: str, info: Any) -> Field | None:
    annotation = info.annotation
    path = f"{prefix}.{name}" if prefix else name
    base, meta = _unwrap(annotation)
    if base is bool:
        return Field(path, label_for(name), "tri")
    if typing.get_origin(base) is Literal:
        return Field(path, label_for(name), "choice", [str(a) for a in typing.get_args(base)])
    if base in (int, float):
        lo = hi = None
        for m in meta:
            if isinstance(m, annotated_types.Ge):
                lo = float(m.ge)  # type: ignore[arg-type]
            if isinstance(m, annotated_types.Le):
                hi = float(m.le)  # type: ignore[arg-type]
        return Field(path, label_for(name), "number", minimum=lo, maximum=hi,
                     integer=base is int, unit=_unit_for(name))
    if base is str:
        return Field(path, label_for(name), "text")
    return None


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """(the scalar type inside Optional/Annotated, its constraint metadata)."""
    meta: list[Any] = []
    current: Any = annotation
    for _ in range(6):
        if typing.get_origin(current) is typing.Annotated:
            args = typing.get_args(current)
            for m in args[1:]:
                meta.append(m)
                meta.extend(getattr(m, "metadata", ()))
            current = args[0]
            continue
        if isinstance(current, types.UnionType) or typing.get_origin(current) is typing.Union:
            members = [a for a in typing.get_args(current) if a is not type(None)]
            if len(members) == 1:
                current = members[0]
                continue
        break
    return current, meta


def _model_fields(prefix: str, model: type[BaseModel], skip: tuple[str, ...] = ()) -> list[Field]:
    out = []
    for name, info in model.model_fields.items():
        if name in skip:
            continue
        f = _field(prefix, name, info)
        if f is not None:
            out.append(f)
    return out


def red_flag_fields() -> dict[str, str]:
    """{case field path: the red flags it can raise}, for the yes/no findings the assessment
    knowledge's red-flag triggers test, in the knowledge's order (the most urgent first)."""
    return dict(_red_flag_fields())


@functools.cache
def _red_flag_fields() -> tuple[tuple[str, str], ...]:
    from hipspine.assess.knowledge import load_assessment_knowledge

    found: dict[str, list[str]] = {}
    for rule in load_assessment_knowledge().rules.red_flags:
        for trigger in rule.triggers:
            for condition in trigger.all_of:
                if condition.op in ("is_true", "is_false"):
                    categories = found.setdefault(condition.field, [])
                    if rule.category not in categories:
                        categories.append(rule.category)
    return tuple((path, "; ".join(cats)) for path, cats in found.items())


def sections() -> list[Section]:
    """The intake form, section by section: the patient, then the red-flag questions (the
    yes/no findings a red flag of the assessment knowledge tests), then the rest in the
    order a consultation runs."""
    from hipspine.models.case import Case

    top = [f for f in _model_fields("", Case, ("format", "id")) if f is not None]
    rest = [
        Section("symptoms", "Symptoms", _model_fields("symptoms", Symptoms, ("pain_locations",))),
        Section("exam", "Examination", _model_fields("exam", Exam)),
        Section("history", "History", _model_fields("history", History, ("prior_treatments",))),
        Section("hip_oa", "Imaging: hip osteoarthritis", _model_fields("imaging.hip_oa", HipOA)),
        Section("lumbar_stenosis", "Imaging: lumbar stenosis",
                _model_fields("imaging.lumbar_stenosis", LumbarStenosis, ("levels",))),
        Section("spondylolisthesis", "Imaging: spondylolisthesis",
                _model_fields("imaging.spondylolisthesis", Spondylolisthesis)),
        Section("imaging_alarms", "Imaging: alarming findings (red flags)",
                _model_fields("imaging", Imaging, ("hip_oa", "lumbar_stenosis",
                                                   "spondylolisthesis", "reports"))),
        Section("tests", "Diagnostic tests", _model_fields("tests", Tests)),
    ]
    flagged = red_flag_fields()
    by_path = {f.path: f for s in rest for f in s.fields if f.kind == "tri"}
    red = []
    for path, hint in flagged.items():
        if path in by_path:
            by_path[path].hint = hint
            red.append(by_path[path])
    moved = {f.path for f in red}
    for s in rest:
        s.fields = [f for f in s.fields if f.path not in moved]
    return [Section("patient", "Patient", top),
            Section("red_flags", "Red flags: ask these first", red),
            *(s for s in rest if s.fields)]


def prior_treatment_fields(row: int) -> list[Field]:
    return _model_fields(f"history.prior_treatments[{row}]", PriorTreatment)


def pain_locations() -> list[str]:
    base, _ = _unwrap(Symptoms.model_fields["pain_locations"].annotation)
    inner = typing.get_args(base)[0]
    return [str(a) for a in typing.get_args(inner)]


# ----------------------------------------------------------------------------- form -> case

def form_lists(form: Any) -> dict[str, list[str]]:
    """A submitted form as {name: [values]} (text fields only; uploads are not case data)."""
    out: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            out.setdefault(key, []).append(value)
    return out


def case_from_form(form: dict[str, list[str]]) -> dict[str, Any]:
    """Build a case document from submitted form fields and validate it as a case.

    Unreadable numbers are reported together with the case model's own problems (ranges,
    choices), so the clinician sees every mistake at once, worded as the API words them.
    """
    case, problems = _read_form(form)
    try:
        parse_case(case)
    except InputError as exc:
        problems.extend(exc.problems)
    if problems:
        raise InputError(problems, what="case")
    return case


def _read_form(form: dict[str, list[str]]) -> tuple[dict[str, Any], list[Problem]]:
    case: dict[str, Any] = {"format": CASE_FORMAT}
    problems: list[Problem] = []
    one = {k: (v[-1] if v else "") for k, v in form.items()}
    if one.get("id", "").strip():
        case["id"] = one["id"].strip()
    all_fields = [f for s in sections() for f in s.fields]
    for row in range(PRIOR_TREATMENT_ROWS):
        all_fields += prior_treatment_fields(row)
    for f in all_fields:
        raw = one.get(f.path, "").strip()
        if raw == "":
            continue
        value: Any
        if f.kind == "tri":
            if raw not in ("yes", "no"):
                problems.append(Problem(f.path, raw, "yes, no, or empty for not known"))
                continue
            value = raw == "yes"
        elif f.kind == "number":
            try:
                number = float(raw.replace(",", "."))
            except ValueError:
                number = math.nan
            if not math.isfinite(number):  # "nan", "inf" and "1e999" are no measurement
                problems.append(Problem(f.path, raw, _range_text(f)))
                continue
            if f.integer:
                if number != int(number):
                    problems.append(Problem(f.path, raw, "a whole number " + _range_text(f)))
                    continue
                value = int(number)
            else:
                value = number
        else:
            value = raw
        _put(case, f.path, value)
    locations = [v for v in form.get("symptoms.pain_locations", []) if v]
    if locations:
        _put(case, "symptoms.pain_locations", locations)
    levels = [lv.strip().upper() for lv in one.get("imaging.lumbar_stenosis.levels", "")
              .replace(";", ",").split(",") if lv.strip()]
    if levels:
        _put(case, "imaging.lumbar_stenosis.levels", levels)
    report = one.get("imaging.reports", "").strip()
    if report:
        _put(case, "imaging.reports", [report])
    note = one.get("notes", "").strip()
    if note:
        case["notes"] = [note]
    treatments = case.get("history", {}).get("prior_treatments")
    if isinstance(treatments, dict):  # rows were stored by index; keep them in order
        case["history"]["prior_treatments"] = [treatments[k] for k in sorted(treatments)]
    return case, problems


def _range_text(f: Field) -> str:
    if f.minimum is not None and f.maximum is not None:
        return f"a number from {f.minimum:g} to {f.maximum:g} {f.unit}".strip()
    return "a number"


def _put(doc: dict[str, Any], path: str, value: Any) -> None:
    """Set `value` at a dotted path; `name[i]` parts collect into an index-keyed dict."""
    parts = path.split(".")
    node = doc
    for part in parts[:-1]:
        if "[" in part:
            name, index = part[:-1].split("[")
            node = node.setdefault(name, {}).setdefault(int(index), {})
        else:
            node = node.setdefault(part, {})
    node[parts[-1]] = value


# ----------------------------------------------------------------------------- case -> form

def form_values(case: dict[str, Any]) -> dict[str, Any]:
    """Flatten a case document into {field path: value} to pre-fill the form."""
    out: dict[str, Any] = {}

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        elif isinstance(node, list) and prefix == "history.prior_treatments":
            for i, item in enumerate(node[:PRIOR_TREATMENT_ROWS]):
                walk(f"{prefix}[{i}]", item)
        elif isinstance(node, bool):
            out[prefix] = "yes" if node else "no"
        elif isinstance(node, list):
            out[prefix] = node
        elif node is not None:
            out[prefix] = node

    walk("", case)
    levels = out.get("imaging.lumbar_stenosis.levels")
    if isinstance(levels, list):
        out["imaging.lumbar_stenosis.levels"] = ", ".join(map(str, levels))
    reports = out.get("imaging.reports")
    if isinstance(reports, list):
        out["imaging.reports"] = "\n\n".join(map(str, reports))
    notes = out.get("notes")
    if isinstance(notes, list):
        out["notes"] = "\n\n".join(map(str, notes))
    return out


def errors_by_field(exc: InputError) -> dict[str, str]:
    """Problems keyed by field path, as the form shows them beside each input."""
    out: dict[str, str] = {}
    for p in exc.problems:
        text = f"Got {p.value!r}; allowed: {p.allowed}" if p.value is not None else p.allowed
        out[p.field] = text
    return out
