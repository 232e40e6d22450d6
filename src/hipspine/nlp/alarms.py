"""Red-flag findings read from free text (`knowledge/nlp/alarms.yaml`): from imaging reports
a suspected tumour or metastasis, a fracture, an infection; from clinic notes cauda equina
symptoms, fever, weight loss, night pain and a history of cancer. They feed red flags, never a
pain source.

A mention raises its alarm when the text states or suspects it. It raises nothing when
ConText negates it ("no fracture", "denies saddle anaesthesia"), marks it historical
("previous fracture"; not for a field that is itself a history), when an excluding word
precedes it in its clause ("old healed fracture", "family history of cancer"), or when the
only hedge is a question put to the study ("to exclude fracture"): a question is not a
finding. The report reader and the notes reader call `sentence_alarms` on each sentence they
read, sharing its ConText triggers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from hipspine.models.case import Lesion
from hipspine.nlp.context import SentenceContext
from hipspine.nlp.evidence import EvidenceItem
from hipspine.nlp.knowledge import EXCLUDED_REACH, AlarmFinding, NlpKnowledge
from hipspine.nlp.text import Sentence, split_sentences


def sentence_alarms(sentence: Sentence, ctx: SentenceContext, kb: NlpKnowledge,
                    source: str | None, texts: Literal["reports", "notes"] = "reports"
                    ) -> list[EvidenceItem]:
    """Every alarm mention in one sentence of a report or a note; `value` is
    {"value": True} when it raises its field."""
    if texts == "reports" and not sentence.in_findings:
        return []  # indication, history or technique: what was asked, not what was seen
    text = sentence.text
    out: list[EvidenceItem] = []
    for finding, rx, excluded in kb.alarm_findings[texts]:
        for m in rx.finditer(text):
            mods = ctx.modifiers(m.start(), m.end())
            questioned = mods.uncertain and set(mods.rules) <= kb.alarm_request_rules
            # an excluding word ends at most EXCLUDED_GAP characters before the mention, so
            # only that stretch of its clause is searched, not the clause from its start
            clause_start = ctx.clause_of(m.start())[0]
            window = max(clause_start, m.start() - EXCLUDED_REACH)
            old = mods.historical and not finding.historical_counts
            ruled_out = bool(excluded.search(text, window, m.start()))
            raises = not (mods.negated or old or ruled_out or questioned)
            out.append(EvidenceItem(
                field=finding.field, text=text, negated=mods.negated,
                uncertain=mods.uncertain, historical=mods.historical, rule=finding.field,
                value=(_raised_value(finding) if raises else {}), source=source))
    return out


def _raised_value(finding: AlarmFinding) -> dict[str, object]:
    """What a raising mention records: True, or for `imaging.lesions` its kind (and nerve)."""
    if finding.lesion is None:
        return {"value": True}
    return {"value": finding.lesion, **({"nerve": finding.nerve} if finding.nerve else {})}


def raised_lesions(evidence: Iterable[EvidenceItem]) -> list[Lesion]:
    """The lesions (one per kind and nerve, in reading order) that statements raised."""
    seen: dict[tuple[str, str | None], Lesion] = {}
    for e in evidence:
        if e.rule == e.field == "imaging.lesions" and e.value:
            key = (str(e.value["value"]), e.value.get("nerve"))
            seen.setdefault(key, Lesion(kind=key[0], nerve=key[1]))  # type: ignore[arg-type]
    return list(seen.values())


def read_alarms(documents: Iterable[str], kb: NlpKnowledge,
                texts: Literal["reports", "notes"] = "reports",
                sources: Iterable[str | None] | None = None
                ) -> tuple[set[str], list[EvidenceItem]]:
    """The case fields (dotted paths) that reports or notes raise, with the evidence for
    every mention; `read_report` and `read_exam_findings` read the same alarms in passing."""
    docs = list(documents)
    names: list[str | None] = list(sources) if sources is not None else [None] * len(docs)
    evidence: list[EvidenceItem] = []
    for doc, source in zip(docs, names, strict=False):
        for sentence in split_sentences(doc, kb):
            evidence += sentence_alarms(sentence, SentenceContext(sentence.text, kb), kb,
                                        source, texts)
    return raised_fields(evidence), evidence


def raised_fields(evidence: Iterable[EvidenceItem]) -> set[str]:
    """The alarm fields some statement raised. Alarm evidence is told apart from the other
    readers' evidence by its rule, which is its field path (`sentence_alarms`)."""
    return {e.field for e in evidence
            if e.rule == e.field and e.value and e.field != "imaging.lesions"}
