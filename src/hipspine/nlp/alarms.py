"""Alarming findings read from imaging reports: a suspected tumour or metastasis, a fracture,
an infection (`knowledge/nlp/alarms.yaml`). They feed red flags, never a pain source.

A mention raises its alarm when the report states or suspects it. It raises nothing when
ConText negates it ("no fracture"), marks it historical ("previous fracture"), when a stale
word precedes it in its clause ("old healed fracture"), or when the only hedge is a question
put to the study ("to exclude fracture", "?fracture"): a question is not a finding. The
report reader calls `sentence_alarms` on each sentence it reads (`read_report`).
"""

from __future__ import annotations

from collections.abc import Iterable

from hipspine.nlp.context import SentenceContext
from hipspine.nlp.evidence import EvidenceItem
from hipspine.nlp.knowledge import NlpKnowledge
from hipspine.nlp.text import Sentence, split_sentences


def sentence_alarms(sentence: Sentence, ctx: SentenceContext, kb: NlpKnowledge,
                    source: str | None) -> list[EvidenceItem]:
    """Every alarm mention in one sentence; `value` is {"value": True} when it raises."""
    if not sentence.in_findings:
        return []  # indication, history or technique: what was asked, not what was seen
    text = sentence.text
    out: list[EvidenceItem] = []
    for finding, rx, stale in kb.alarm_findings:
        for m in rx.finditer(text):
            mods = ctx.modifiers(m.start(), m.end())
            questioned = mods.uncertain and set(mods.rules) <= kb.alarm_request_rules
            clause_start = ctx.clause_of(m.start())[0]
            old = mods.historical or bool(stale.search(text, clause_start, m.start()))
            raises = not (mods.negated or old or questioned)
            out.append(EvidenceItem(
                field=f"imaging.{finding.field}", text=text, negated=mods.negated,
                uncertain=mods.uncertain, historical=old, rule=finding.field,
                value={"value": True} if raises else {}, source=source))
    return out


def read_imaging_alarms(reports: Iterable[str], kb: NlpKnowledge,
                        sources: Iterable[str | None] | None = None
                        ) -> tuple[set[str], list[EvidenceItem]]:
    """The alarm fields (`imaging.*` names) the reports raise, with the evidence for every
    mention; `read_report` gives the same alarms with the rest of its reading."""
    texts = list(reports)
    names: list[str | None] = list(sources) if sources is not None else [None] * len(texts)
    evidence: list[EvidenceItem] = []
    for report, source in zip(texts, names, strict=False):
        for sentence in split_sentences(report, kb):
            evidence += sentence_alarms(sentence, SentenceContext(sentence.text, kb), kb,
                                        source)
    return {e.rule for e in evidence if e.value}, evidence
