"""Splitting report text into sentences and clauses, and reading spinal levels.

Radiology reports are written in headed sections, lists ("L4-5: ...") and telegraphic
sentences; the splitter keeps "L4-5." and "2.5 mm" whole, and treats semicolons and line
breaks as sentence ends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hipspine.nlp.knowledge import NlpKnowledge

_SENTENCE_END = re.compile(
    r"(?<=[.!?])\s+(?=[A-Z(\"'\d?])"  # full stop, then a capital, digit or query
    r"|(?<=[.!?])$|;\s*|\n")
_LEVEL_PREFIX = re.compile(
    r"^\s*(?:[-*•]\s*|\d+[.)]\s*)?(?:at\s+)?"  # bullet or number, "At"
    r"(?P<levels>(?:(?:T12|L[1-5])\s*(?:-|–|/|\s+to\s+)?\s*(?:L?[1-5]|S1)\b[\s,&and]*)+)"
    r"(?:\s*levels?)?\s*[:\-–,]", re.IGNORECASE)

SEGMENTS: tuple[str, ...] = ("T12", "L1", "L2", "L3", "L4", "L5", "S1")


@dataclass(frozen=True)
class Sentence:
    """One sentence of a report, with the level heading it sits under (if any)."""

    text: str
    start: int
    heading_levels: tuple[str, ...]
    previous_levels: tuple[str, ...] = ()  # the level of the clause before a semicolon
    in_findings: bool = True  # False under an indication/history/technique heading


def split_sentences(text: str, kb: NlpKnowledge) -> list[Sentence]:
    """Sentences in reading order; a line starting "L4-5:" sets the level for its sentences."""
    out: list[Sentence] = []
    in_findings = True
    for line_match in re.finditer(r"[^\n]+", text):
        line = line_match.group(0)
        prefix = _LEVEL_PREFIX.match(line)
        heading = tuple(levels_in(prefix.group("levels"), kb)) if prefix else ()
        if (not in_findings and kb.section_any_heading.match(line)
                and not kb.section_not_findings.match(line)):
            in_findings = True  # a new labelled line ("MRI lumbar spine:") ends the section
        pos = 0
        previous: tuple[str, ...] = ()
        for piece in _split_line(line):
            idx = line.find(piece, pos)
            pos = idx + len(piece)
            stripped = piece.strip()
            if not stripped:
                continue
            own = _LEVEL_PREFIX.match(stripped)
            levels = tuple(levels_in(own.group("levels"), kb)) if own else heading
            brief = bool(kb.section_brief.match(stripped))
            if kb.section_not_findings.match(stripped):
                in_findings = False
            elif kb.section_findings.match(stripped):
                in_findings = True
            out.append(Sentence(stripped, line_match.start() + idx, levels, previous,
                                in_findings))
            if brief:
                in_findings = True  # "Comparison: 14/03/2021." covers its own sentence
            after_semicolon = line[pos:pos + 1] == ";"
            previous = tuple(levels_in(stripped, kb)) if after_semicolon else ()
    return out


def _split_line(line: str) -> list[str]:
    parts: list[str] = []
    last = 0
    for m in _SENTENCE_END.finditer(line):
        if m.start() < last:
            continue
        parts.append(line[last:m.start()])
        last = m.end()
    parts.append(line[last:])
    return [p for p in parts if p.strip()]


def clause_bounds(sentence: str, kb: NlpKnowledge) -> list[tuple[int, int]]:
    """Character spans of the clauses of a sentence (ConText scope ends at a clause break)."""
    bounds: list[tuple[int, int]] = []
    last = 0
    for m in kb.clause_breaks.finditer(sentence):
        if m.start() > last:
            bounds.append((last, m.start()))
        last = max(last, m.end())
    bounds.append((last, len(sentence)))
    return bounds


def normalise_level(upper: str, lower: str) -> list[str]:
    """'L4','5' -> ['L4-L5']; 'L3','L5' -> ['L3-L4','L4-L5']; 'L5','S' -> ['L5-S1']."""
    up = upper.upper()
    low = lower.upper()
    if low == "S":
        low = "S1"
    if low.isdigit():
        low = f"L{low}"
    if up not in SEGMENTS or low not in SEGMENTS:
        return []
    i, j = SEGMENTS.index(up), SEGMENTS.index(low)
    if j <= i:
        return []
    return [f"{SEGMENTS[k]}-{SEGMENTS[k + 1]}" for k in range(i, j)]


@dataclass(frozen=True)
class LevelSpan:
    levels: tuple[str, ...]
    start: int
    end: int


def level_spans(sentence: str, kb: NlpKnowledge) -> list[LevelSpan]:
    """Every spinal level written in a sentence, normalised ("L4/5" -> "L4-L5")."""
    spans = []
    for m in kb.level.finditer(sentence):
        levels = normalise_level(m.group("upper"), m.group("lower"))
        if levels:
            spans.append(LevelSpan(tuple(levels), m.start(), m.end()))
    return spans


def levels_in(text: str, kb: NlpKnowledge) -> list[str]:
    found: list[str] = []
    for span in level_spans(text, kb):
        for level in span.levels:
            if level not in found:
                found.append(level)
    return found


def level_order(level: str) -> int:
    return SEGMENTS.index(level.split("-")[0])
