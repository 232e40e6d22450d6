"""Alarming findings read from imaging reports: a suspected tumour or metastasis, a fracture,
an infection (`knowledge/nlp/alarms.yaml`). They feed red flags, never a pain source.

A mention raises its alarm when the report states or suspects it. It raises nothing when
ConText negates it ("no fracture"), marks it historical ("previous fracture"), when a stale
word precedes it in its clause ("old healed fracture"), or when the only hedge is a question
put to the study ("to exclude fracture", "?fracture"): a question is not a finding.
"""

from __future__ import annotations

from collections.abc import Iterable

from hipspine.nlp.context import SentenceContext
from hipspine.nlp.knowledge import NlpKnowledge
from hipspine.nlp.reader import EvidenceItem
from hipspine.nlp.text import split_sentences


def read_imaging_alarms(reports: Iterable[str], kb: NlpKnowledge,
                        sources: Iterable[str | None] | None = None
                        ) -> tuple[set[str], list[EvidenceItem]]:
    """The `imaging.*` alarm fields the reports raise, with the evidence for every mention."""
    raised: set[str] = set()
    evidence: list[EvidenceItem] = []
    texts = list(reports)
    names: list[str | None] = list(sources) if sources is not None else [None] * len(texts)
    for report, source in zip(texts, names, strict=False):
        for sentence in split_sentences(report, kb):
            if not sentence.in_findings:
                continue  # indication, history or technique: what was asked, not seen
            text = sentence.text
            ctx: SentenceContext | None = None
            for finding, rx, stale in kb.alarm_findings:
                for m in rx.finditer(text):
                    ctx = ctx or SentenceContext(text, kb)
                    mods = ctx.modifiers(m.start(), m.end())
                    clause_start = ctx.clause_of(m.start())[0]
                    questioned = mods.uncertain and set(mods.rules) <= kb.alarm_request_rules
                    old = mods.historical or bool(stale.search(text, clause_start, m.start()))
                    raises = not (mods.negated or old or questioned)
                    evidence.append(EvidenceItem(
                        field=f"imaging.{finding.field}", text=text, negated=mods.negated,
                        uncertain=mods.uncertain, historical=old, rule=finding.field,
                        value={"value": True} if raises else {}, source=source))
                    if raises:
                        raised.add(finding.field)
    return raised, evidence
