"""How much free text is read per case: `TEXT_LIMIT_PER_CASE` characters of reports and
notes together, in the order the case lists them (imaging reports first, then notes).

Design choice: the limit bounds the time and memory one case can cost (reading is linear in
the text, about 2-10 ms per kilobyte; benchmarks/bench_nlp.py), and 1 MiB is far more than
the reports and letters of one referral (a long MRI report is 3-5 KB). Text beyond it is
not refused: it is cut, and the cut is reported (`EnrichedCase.truncated`, the assessment's
`texts_truncated`, a warning of the FHIR import). A text is cut at the last sentence end
before the limit where there is one within `SENTENCE_CAP` characters, else at whitespace,
so no half-read sentence is read ("Fracture: none" cut after "Fracture" would read as a
fracture).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from hipspine.nlp.text import SENTENCE_CAP

TEXT_LIMIT_PER_CASE = 1024 * 1024
"""Characters of reports and notes read per case (1 MiB; at least 1 MB of text in any
encoding, since a character is at least one byte)."""

_LAST_SENTENCE_END = re.compile(r".*(?:[.!?;]\s|\n)", re.DOTALL)
_LAST_SPACE = re.compile(r".*\s", re.DOTALL)


@dataclass(frozen=True)
class TextCut:
    """One text that was not read whole."""

    name: str
    kept: int  # characters read
    total: int

    def describe(self, limit: int = TEXT_LIMIT_PER_CASE) -> str:
        return (f"{self.name}: {self.total - self.kept:,} of {self.total:,} characters not "
                f"read (text limit {limit:,} characters per case)")


def cut_text(text: str, room: int) -> str:
    """`text` if it fits in `room` characters, else its beginning up to the last sentence end
    (or, failing one in the last `SENTENCE_CAP` characters, the last whitespace) within
    `room`. With no whitespace there either, a text of `SENTENCE_CAP` characters or more is
    cut at `room` (what is cut is no word), a shorter beginning is not read at all (it would
    be a word cut short: "fractured" read as "fracture")."""
    if len(text) <= room:
        return text
    if room <= 0:
        return ""
    low = max(0, room - SENTENCE_CAP)
    # the character at `room` is looked at too: a space there ends the word before it
    m = _LAST_SENTENCE_END.match(text, low, room + 1) or _LAST_SPACE.match(text, low, room + 1)
    if m:
        return text[:min(m.end(), room)]
    return text[:room] if room >= SENTENCE_CAP else ""


def limit_texts(named: Iterable[tuple[str, str]], limit: int = TEXT_LIMIT_PER_CASE
                ) -> tuple[list[str], list[TextCut]]:
    """Each text as far as it is read within `limit` characters in all, in order, and the
    texts that were cut (a text after the limit is read as the empty string)."""
    kept: list[str] = []
    cuts: list[TextCut] = []
    room = limit
    for name, text in named:
        part = cut_text(text, room)
        room -= len(part)
        if len(part) < len(text):
            room = 0  # what follows a cut text is not read either, so reading stays in order
            cuts.append(TextCut(name, len(part), len(text)))
        kept.append(part)
    return kept, cuts
