"""Examination findings read from clinic letters (`notes`): "positive FABER", "SLR negative".

A finding is filled only when the note says it plainly: a positive word beside the test in
the same clause makes it True, a negative word or a ConText negation makes it False, and a
hedge ("?positive", "possibly") or a contradiction within the notes fills nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from hipspine.nlp.context import SentenceContext
from hipspine.nlp.knowledge import NlpKnowledge
from hipspine.nlp.reader import EvidenceItem
from hipspine.nlp.text import split_sentences


def read_exam_findings(notes: Iterable[str], kb: NlpKnowledge,
                       sources: Iterable[str] | None = None
                       ) -> tuple[dict[str, bool], list[EvidenceItem]]:
    """Exam fields (case `exam.*` names) read from notes, with the evidence for each."""
    values: dict[str, set[bool]] = {}
    evidence: list[EvidenceItem] = []
    texts = list(notes)
    names = list(sources) if sources is not None else [None] * len(texts)
    for note, source in zip(texts, names, strict=False):
        for sentence in split_sentences(note, kb):
            text = sentence.text
            ctx = SentenceContext(text, kb)
            for finding, rx in kb.exam_findings:
                for m in rx.finditer(text):
                    mods = ctx.modifiers(m.start(), m.end())
                    c_start, c_end = ctx.clause_of(m.start())
                    window_before = text[max(c_start, m.start() - 25):m.start()]
                    window_after = text[m.end():min(c_end, m.end() + 40)]
                    near = window_before + " " + window_after
                    positive = bool(kb.exam_positive.search(near)) or finding.implies == "positive"
                    negative = bool(kb.exam_negative.search(near)) or mods.negated
                    value: bool | None
                    if mods.uncertain or positive == negative:
                        value = None if not (finding.implies and not mods.negated) else True
                        if mods.uncertain:
                            value = None
                    else:
                        value = positive and not negative
                    if finding.implies == "positive" and mods.negated and not mods.uncertain:
                        value = False
                    evidence.append(EvidenceItem(
                        field=f"exam.{finding.field}", text=text, negated=value is False,
                        uncertain=value is None, historical=mods.historical,
                        rule=finding.field, value={} if value is None else {"value": value},
                        source=source))
                    if value is not None and not mods.historical:
                        values.setdefault(finding.field, set()).add(value)
    settled = {f: next(iter(v)) for f, v in values.items() if len(v) == 1}
    # a test positive on one side and negative on the other is a positive test
    settled.update({f: True for f, v in values.items() if len(v) > 1})
    return settled, evidence
