"""Fill a case's imaging and exam fields from its free text, never over structured values.

    from hipspine.nlp import enrich_case
    enriched = enrich_case(case)
    enriched.case          # the case with imaging/exam fields read from text
    enriched.from_text     # ["imaging.hip_oa", "imaging.fracture", "exam.faber_positive", ...]
    enriched.texts_read    # ["imaging.reports[0]", "notes[1]", ...]
    enriched.truncated     # ["notes[3]: 52,000 of 1,100,000 characters not read (...)"]

The assessment calls this before scoring, and says which findings came from text. At most
`TEXT_LIMIT_PER_CASE` characters (1 MiB) of a case's reports and notes are read
(`hipspine.nlp.limits`); text beyond it is cut, never refused, and `truncated` says which
texts were cut and by how much. A text of which nothing was read is not in `texts_read`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

from hipspine.models.case import Case
from hipspine.nlp.alarms import raised_fields
from hipspine.nlp.knowledge import NlpKnowledge, load_nlp_knowledge
from hipspine.nlp.limits import TEXT_LIMIT_PER_CASE, limit_texts
from hipspine.nlp.notes import read_exam_findings
from hipspine.nlp.reader import EvidenceItem, read_report
from hipspine.nlp.statements import stated_values


@dataclass(frozen=True)
class EnrichedCase:
    """A case with text-derived fields filled in, and which ones they were."""

    case: Case
    from_text: list[str]
    texts_read: list[str]
    evidence: list[EvidenceItem] = field(default_factory=list)
    truncated: list[str] = field(default_factory=list)
    """The texts cut at the per-case text limit, each with how many characters were not
    read; empty when every text was read whole."""


def enrich_case(case: Case, kb: NlpKnowledge | None = None,
                text_limit: int = TEXT_LIMIT_PER_CASE) -> EnrichedCase:
    """Read `imaging.reports` into absent imaging fields (alarms too: suspected malignancy,
    fracture, infection) and `notes` into absent exam fields, absent red-flag symptoms
    and history (cauda equina symptoms, fever, weight loss, night pain, cancer history) and
    the other absent symptoms and history they state (`knowledge/nlp/statements.yaml`),
    up to `text_limit` characters of text in all."""
    kb = kb or load_nlp_knowledge()
    named = ([(f"imaging.reports[{i}]", t) for i, t in enumerate(case.imaging.reports)]
             + [(f"notes[{i}]", t) for i, t in enumerate(case.notes)])
    parts, cuts = limit_texts(named, text_limit)
    read = [(name, part) for (name, text), part in zip(named, parts, strict=True)
            if part or not text]  # a text cut to nothing was not read
    reports = [(n, t) for n, t in read if n.startswith("imaging.")]
    notes = [(n, t) for n, t in read if n.startswith("notes")]
    from_text: list[str] = []
    evidence: list[EvidenceItem] = []
    imaging_update: dict[str, object] = {}
    if reports:
        reading = read_report([t for _, t in reports], kb, sources=[n for n, _ in reports])
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
    if notes:
        values, exam_evidence = read_exam_findings([t for _, t in notes], kb,
                                                   sources=[n for n, _ in notes])
        evidence.extend(exam_evidence)
        for name, value in values.items():
            if name in type(case.exam).model_fields and getattr(case.exam, name) is None:
                exam_update[name] = value
                from_text.append(f"exam.{name}")
        raised: dict[str, object] = dict.fromkeys(raised_fields(exam_evidence), True)
        stated = stated_values(exam_evidence)
        for path, said in sorted({**stated, **raised}.items()):  # a red flag wins
            part, name = path.split(".", 1)
            if getattr(getattr(case, part), name) is None:
                flag_updates.setdefault(part, {})[name] = said
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
                        texts_read=[name for name, _ in read], evidence=evidence,
                        truncated=[cut.describe(text_limit) for cut in cuts])
