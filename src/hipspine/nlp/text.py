"""Splitting report text into sentences and clauses, and reading spinal levels.

Radiology reports are written in headed sections, lists ("L4-5: ...") and telegraphic
sentences; the splitter keeps "L4-5." and "2.5 mm" whole, and treats semicolons and line
breaks as sentence ends.

Design choice: a sentence is read in pieces of at most `SENTENCE_CAP` characters. Real
report and note sentences are short (the longest in the labelled sets is about 250
characters), but a text with no full stops at all (a dictated note, a pasted log, a
hostile input) would otherwise be one sentence, and the work per sentence grows with the
number of findings times the sentence length. A longer sentence is therefore cut into
consecutive pieces, preferably after a comma, else at whitespace (and only in a text with
neither, mid-word), each read as a sentence of its own: a ConText trigger, a level or a
side reaches no further than its piece. The cut keeps every character (`bounded_spans`),
so reading stays linear in the length of the text whatever its shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hipspine.nlp.knowledge import NlpKnowledge

SENTENCE_CAP = 1000
"""The most characters read as one sentence; a longer one is read in pieces (see above)."""

_SENTENCE_END = re.compile(
    r"(?<=[.!?])\s+(?=[A-Z(\"'\d?])"  # full stop, then a capital, digit or query
    r"|(?<=[.!?])$|;\s*|\n")
# Each level unit ("L4-5", "L4 to L5") has one way to match, and the separators and the
# ending are written without overlapping repeats, so a long run of levels or spaces costs
# linear time (the old `\s*(?:-|\s+to\s+)?\s*` took exponential time on "L4 L4 L5 L4 ...").
_LEVEL_PREFIX = re.compile(
    r"^\s*(?:[-*•]\s*|\d+[.)]\s*)?(?:at\s+)?"  # bullet or number, "At"
    r"(?P<levels>(?:(?:T12|L[1-5])(?:\s*[-–/]\s*|\s+to\s+|\s*)(?:L?[1-5]|S1)\b[\s,&and]*)+)"
    r"(?:levels?\s*)?[:\-–,]", re.IGNORECASE)
_AFTER_COMMA = re.compile(r".*,\s", re.DOTALL)  # greedy: the last comma + space in range
_AFTER_SPACE = re.compile(r".*\s", re.DOTALL)

SEGMENTS: tuple[str, ...] = ("T12", "L1", "L2", "L3", "L4", "L5", "S1")


@dataclass(frozen=True)
class Sentence:
    """One sentence of a report, with the level heading it sits under (if any)."""

    text: str
    start: int
    heading_levels: tuple[str, ...]
    previous_levels: tuple[str, ...] = ()  # the level of the clause before a semicolon
    in_findings: bool = True  # False under an indication/history/technique heading
    continued: bool = False  # a later piece of a sentence longer than SENTENCE_CAP


def split_sentences(text: str, kb: NlpKnowledge, cap: int = SENTENCE_CAP) -> list[Sentence]:
    """Sentences in reading order; a line starting "L4-5:" sets the level for its sentences.
    A sentence longer than `cap` comes as several pieces (`Sentence.continued`)."""
    out: list[Sentence] = []
    in_findings = True
    for line_match in re.finditer(r"[^\n]+", text):
        line = line_match.group(0)
        base = line_match.start()
        prefix = _LEVEL_PREFIX.match(line)
        heading = tuple(levels_in(prefix.group("levels"), kb)) if prefix else ()
        if (not in_findings and kb.section_any_heading.match(line)
                and not kb.section_not_findings.match(line)):
            in_findings = True  # a new labelled line ("MRI lumbar spine:") ends the section
        previous: tuple[str, ...] = ()
        for start, end in _line_spans(line):
            stripped = line[start:end].strip()
            if not stripped:
                continue
            pieces = bounded_spans(line, start, end, cap)
            first = line[pieces[0][0]:pieces[0][1]].strip()
            own = _LEVEL_PREFIX.match(first)
            levels = tuple(levels_in(own.group("levels"), kb)) if own else heading
            brief = bool(kb.section_brief.match(first))
            if kb.section_not_findings.match(first):
                in_findings = False
            elif kb.section_findings.match(first):
                in_findings = True
            for n, (p_start, p_end) in enumerate(pieces):
                piece = line[p_start:p_end].strip()
                if piece:
                    out.append(Sentence(piece, base + p_start, levels, previous, in_findings,
                                        continued=n > 0))
            if brief:
                in_findings = True  # "Comparison: 14/03/2021." covers its own sentence
            after_semicolon = line[end:end + 1] == ";"
            previous = tuple(levels_in(stripped, kb)) if after_semicolon else ()
    return out


def _line_spans(line: str) -> list[tuple[int, int]]:
    """Where the sentences of one line start and end (the breaks themselves left out)."""
    spans: list[tuple[int, int]] = []
    last = 0
    for m in _SENTENCE_END.finditer(line):
        if m.start() < last:
            continue
        spans.append((last, m.start()))
        last = m.end()
    spans.append((last, len(line)))
    return [(s, e) for s, e in spans if line[s:e].strip()]


def bounded_spans(text: str, start: int, end: int,
                  cap: int = SENTENCE_CAP) -> list[tuple[int, int]]:
    """`text[start:end]` as consecutive spans of at most `cap` characters that together
    cover it exactly. A span ends after the last comma and space in the second half of its
    window, else after the last whitespace there, else (a text with no space) at `cap`."""
    if cap < 2:
        raise ValueError("cap must be at least 2")
    spans: list[tuple[int, int]] = []
    pos = start
    while end - pos > cap:
        low, high = pos + cap // 2, pos + cap
        m = _AFTER_COMMA.match(text, low, high) or _AFTER_SPACE.match(text, low, high)
        cut = m.end() if m else high
        spans.append((pos, cut))
        pos = cut
    spans.append((pos, end))
    return spans


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
