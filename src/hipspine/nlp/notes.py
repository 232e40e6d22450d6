"""Examination findings read from clinic letters (`notes`): "positive FABER", "SLR negative".

A finding is filled only when the note says it plainly: a positive word beside the test in
the same clause makes it True, a negative word or a ConText negation makes it False, and a
hedge ("?positive", "possibly") or a contradiction within the notes fills nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from hipspine.nlp.alarms import sentence_alarms
from hipspine.nlp.context import SentenceContext
from hipspine.nlp.evidence import EvidenceItem
from hipspine.nlp.knowledge import ExamFinding, NlpKnowledge
from hipspine.nlp.statements import sentence_statements
from hipspine.nlp.text import split_sentences


def read_exam_findings(notes: Iterable[str], kb: NlpKnowledge,
                       sources: Iterable[str] | None = None
                       ) -> tuple[dict[str, bool], list[EvidenceItem]]:
    """Exam fields (case `exam.*` names) read from notes, with the evidence for each; the
    evidence also holds the red-flag alarms the notes state (`hipspine.nlp.alarms`) and
    their history and symptom statements (`hipspine.nlp.statements`)."""
    values: dict[str, set[bool]] = {}
    evidence: list[EvidenceItem] = []
    texts = list(notes)
    names = list(sources) if sources is not None else [None] * len(texts)
    for note, source in zip(texts, names, strict=False):
        for sentence in split_sentences(note, kb):
            text = sentence.text
            ctx = SentenceContext(text, kb)
            evidence += sentence_alarms(sentence, ctx, kb, source, "notes")
            evidence += sentence_statements(sentence, ctx, kb, source)
            hits = sorted(((m.start(), m.end(), finding) for finding, rx in kb.exam_findings
                           for m in rx.finditer(text)), key=lambda h: h[0])
            for i, (start, end, finding) in enumerate(hits):
                mods = ctx.modifiers(start, end)
                value = _polarity(text, i, hits, ctx, kb)
                if finding.implies == "positive" and value is None:
                    value = True
                if mods.negated and value is not False:
                    value = False if finding.implies == "positive" or value is None else value
                if mods.uncertain:
                    value = None
                evidence.append(EvidenceItem(
                    field=f"exam.{finding.field}", text=text, negated=value is False,
                    uncertain=value is None, historical=mods.historical,
                    rule=finding.field, value={} if value is None else {"value": value},
                    source=source))
                if value is not None and not mods.historical:
                    values.setdefault(finding.field, set()).add(value)
    # a test positive on one side and negative on the other is a positive test
    settled = {f: (True in v) for f, v in values.items()}
    return settled, evidence


def _polarity(text: str, i: int, hits: list[tuple[int, int, ExamFinding]],
              ctx: SentenceContext, kb: NlpKnowledge) -> bool | None:
    """Positive/negative words beside finding i, bounded by the neighbouring findings
    ("FABER +ve, FADIR -ve"); when none are there, the rest of the clause is read
    ("FABER and FADIR positive"). Positive wins: positive on either side is positive."""
    start, end, _ = hits[i]
    c_start, c_end = ctx.clause_of(start)
    prev_end = hits[i - 1][1] if i > 0 else c_start
    next_start = hits[i + 1][0] if i + 1 < len(hits) else c_end
    before = text[max(c_start, prev_end, start - 25):start]
    before = before.rsplit(",", 1)[-1]  # words before a comma belong to the previous finding
    windows = [before + " " + text[end:min(next_start, c_end, end + 40)],
               text[end:min(c_end, end + 40)]]
    for window in windows:
        positive = bool(kb.exam_positive.search(window))
        if positive:
            return True
        if kb.exam_negative.search(window):
            return False
    return None
