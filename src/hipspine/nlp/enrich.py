"""Fill a case's imaging and exam fields from its free text, never over structured values.

    from hipspine.nlp import enrich_case
    enriched = enrich_case(case)
    enriched.case          # the case with imaging/exam fields read from text
    enriched.from_text     # ["imaging.hip_oa", "imaging.fracture", "exam.faber_positive", ...]
    enriched.texts_read    # ["imaging.reports[0]", "notes[1]", ...]

The assessment calls this before scoring, and says which findings came from text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

from hipspine.models.case import Case
from hipspine.nlp.alarms import raised_fields
from hipspine.nlp.knowledge import NlpKnowledge, load_nlp_knowledge
from hipspine.nlp.notes import read_exam_findings
from hipspine.nlp.reader import EvidenceItem, read_report


@dataclass(frozen=True)
class EnrichedCase:
    """A case with text-derived fields filled in, and which ones they were."""

    case: Case
    from_text: list[str]
    texts_read: list[str]
    evidence: list[EvidenceItem] = field(default_factory=list)


def enrich_case(case: Case, kb: NlpKnowledge | None = None) -> EnrichedCase:
    """Read `imaging.reports` into absent imaging fields (alarms too: suspected malignancy,
    fracture, infection) and `notes` into absent exam fields and absent red-flag symptoms
    and history (cauda equina symptoms, fever, weight loss, night pain, cancer history)."""
    kb = kb or load_nlp_knowledge()
    report_names = [f"imaging.reports[{i}]" for i in range(len(case.imaging.reports))]
    note_names = [f"notes[{i}]" for i in range(len(case.notes))]
    from_text: list[str] = []
    evidence: list[EvidenceItem] = []
    imaging_update: dict[str, object] = {}
    if case.imaging.reports:
        reading = read_report(case.imaging.reports, kb, sources=report_names)
        evidence.extend(reading.evidence)
        for name in type(reading.imaging).model_fields:  # alarms and lesions included
            found, given = getattr(reading.imaging, name), getattr(case.imaging, name)
            if found is None or found == []:
                continue
            if given is None or given == []:
                imaging_update[name] = found
                from_text.append(f"imaging.{name}")
                if name == "lesions":  # the view the knowledge conditions read
                    from_text.append("imaging.lesion_kinds")
            elif isinstance(given, BaseModel):  # structured but partial: fill its gaps
                gaps = {k: v for k, v in found.model_dump().items()
                        if v is not None and getattr(given, k, None) is None}
                if gaps:
                    imaging_update[name] = given.model_copy(update=gaps)
                    from_text += [f"imaging.{name}.{k}" for k in gaps]
    exam_update: dict[str, object] = {}
    flag_updates: dict[str, dict[str, object]] = {}  # "symptoms" / "history" -> fields
    if case.notes:
        values, exam_evidence = read_exam_findings(case.notes, kb, sources=note_names)
        evidence.extend(exam_evidence)
        for name, value in values.items():
            if name in type(case.exam).model_fields and getattr(case.exam, name) is None:
                exam_update[name] = value
                from_text.append(f"exam.{name}")
        for path in sorted(raised_fields(exam_evidence)):
            part, name = path.split(".", 1)
            if getattr(getattr(case, part), name) is None:
                flag_updates.setdefault(part, {})[name] = True
                from_text.append(path)
    updates: dict[str, object] = {}
    if imaging_update:
        updates["imaging"] = case.imaging.model_copy(update=imaging_update)
    if exam_update:
        updates["exam"] = case.exam.model_copy(update=exam_update)
    for part, fields in flag_updates.items():
        updates[part] = getattr(case, part).model_copy(update=fields)
    enriched = case.model_copy(update=updates) if updates else case
    return EnrichedCase(case=enriched, from_text=from_text,
                        texts_read=report_names + note_names, evidence=evidence)
