"""Read a radiology report into the case format's imaging fields.

    from hipspine.nlp import read_report
    reading = read_report("AP pelvis: severe joint space narrowing of the left hip.")
    reading.imaging.hip_oa  # HipOA(side='left', kellgren_lawrence=4)

Each finding the reader sees becomes a `Mention` (with its ConText modifiers); the imaging
fields are then aggregated from the mentions that are asserted (not negated, not hedged):
worst hip grade per side, worst stenosis with every affected level, highest slip grade.
Negated or normal statements fill "no disease" values (Kellgren-Lawrence 0, stenosis
"none") only when nothing positive was said.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from pydantic import BaseModel, ConfigDict, Field

from hipspine.kb import knowledge_version
from hipspine.models.case import HipOA, Lesion, LumbarStenosis, Spondylolisthesis
from hipspine.nlp.alarms import raised_fields, raised_lesions, sentence_alarms
from hipspine.nlp.context import Modifiers, SentenceContext
from hipspine.nlp.evidence import EvidenceItem
from hipspine.nlp.knowledge import SEVERITY_ORDER, NlpKnowledge, Severity, load_nlp_knowledge
from hipspine.nlp.text import (
    Sentence,
    level_order,
    level_spans,
    normalise_level,
    split_sentences,
)
from hipspine.version import ENGINE_VERSION

READING_FORMAT = "hipspine.nlp/1"
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5}
_STENOSIS_SEVERITY: dict[Severity, str] = {
    "minimal": "mild", "mild": "mild", "moderate": "moderate", "severe": "severe"}
_STENOSIS_RANK = {"none": 0, "mild": 1, "moderate": 2, "severe": 3}
_TYPE_PRIORITY = {"central": 0, "lateral_recess": 1, "foraminal": 2}


class ImagingFindings(BaseModel):
    model_config = ConfigDict(frozen=True)

    hip_oa: HipOA | None = None
    lumbar_stenosis: LumbarStenosis | None = None
    spondylolisthesis: Spondylolisthesis | None = None
    # red-flag alarms (nlp/alarms.yaml): True when raised, else absent
    suspected_malignancy: bool | None = None
    fracture: bool | None = None
    infection: bool | None = None
    lesions: list[Lesion] = Field(default_factory=list)  # specific lesions (nlp/alarms.yaml)


class ReportReading(BaseModel):
    """What `hipspine nlp` prints: imaging fields in the case format, and the evidence."""

    model_config = ConfigDict(frozen=True)

    format: str = READING_FORMAT
    engine_version: str = ENGINE_VERSION
    knowledge_version: str
    imaging: ImagingFindings
    replaced_hips: list[str] = []
    evidence: list[EvidenceItem]


@dataclass
class Mention:
    field: str
    rule: str
    sentence: str
    start: int
    end: int
    mods: Modifiers
    source: str | None = None
    side: str | None = None
    kellgren_lawrence: int | None = None
    severity: str | None = None
    type: str | None = None
    levels: list[str] = dataclass_field(default_factory=list)
    grade: int | None = None
    normal: bool = False
    in_findings: bool = True

    @property
    def asserted(self) -> bool:
        return self.in_findings and not (self.mods.negated or self.mods.uncertain or self.normal)

    @property
    def denied(self) -> bool:
        return self.in_findings and (self.mods.negated or self.normal) and not self.mods.uncertain

    def evidence(self) -> EvidenceItem:
        value: dict[str, object] = {}
        for key in ("side", "kellgren_lawrence", "severity", "type", "grade"):
            v = getattr(self, key)
            if v is not None:
                value[key] = v
        if self.levels:
            value["levels"] = list(self.levels)
        if not self.in_findings:
            value["section"] = "indication_or_history"  # read, never used to fill a field
        return EvidenceItem(field=self.field, text=self.sentence,
                            negated=self.mods.negated or self.normal,
                            uncertain=self.mods.uncertain, historical=self.mods.historical,
                            rule=self.rule, value=value, source=self.source)


def read_report(text: str | Iterable[str], kb: NlpKnowledge | None = None,
                sources: Iterable[str] | None = None) -> ReportReading:
    """Read one report (or several of the same patient) into imaging fields and evidence."""
    kb = kb or load_nlp_knowledge()
    texts = [text] if isinstance(text, str) else list(text)
    names = list(sources) if sources is not None else [None] * len(texts)
    mentions: list[Mention] = []
    alarms: list[EvidenceItem] = []
    for report, source in zip(texts, names, strict=False):
        mentions.extend(_read_sentences(report, kb, source, alarms))
    imaging, replaced = aggregate(mentions)
    raised = raised_fields(alarms)
    update: dict[str, object] = {f.split(".", 1)[1]: True for f in raised}
    lesions = raised_lesions(alarms)
    if lesions:
        update["lesions"] = lesions
    if update:
        imaging = imaging.model_copy(update=update)
    return ReportReading(knowledge_version=knowledge_version(), imaging=imaging,
                         replaced_hips=replaced,
                         evidence=[m.evidence() for m in mentions] + alarms)


def find_mentions(report: str, kb: NlpKnowledge, source: str | None = None) -> list[Mention]:
    """Every hip, stenosis, listhesis and arthroplasty statement in one report."""
    return _read_sentences(report, kb, source, [])


def _read_sentences(report: str, kb: NlpKnowledge, source: str | None,
                    alarms: list[EvidenceItem]) -> list[Mention]:
    """One pass over the report's sentences: the mentions, and (appended to `alarms`) the
    red-flag alarm statements, sharing each sentence's ConText triggers."""
    sentences = split_sentences(report, kb)
    # an unanchored sentence ("Mild degenerative change.") is about the hip only in a report
    # that is mostly about the hip, not in a lumbar MRI that mentions the pelvis once
    hip_words = len(kb.hip_anchor.findall(report))
    report_is_hip = hip_words > 0 and hip_words >= len(kb.other_anchor.findall(report))
    mentions: list[Mention] = []
    carried_side: str | None = None
    for sentence in sentences:
        ctx = SentenceContext(sentence.text, kb)
        anchors = _Anchors.of(sentence.text, kb)
        found = _hip_mentions(sentence, ctx, kb, anchors, report_is_hip, carried_side)
        found += _stenosis_mentions(sentence, ctx, kb, anchors)
        found += _listhesis_mentions(sentence, ctx, kb)
        if anchors.sides and anchors.hip:
            carried_side = anchors.sides[-1][0]
        for m in found:
            m.source = source
            m.in_findings = sentence.in_findings
        mentions.extend(found)
        alarms += sentence_alarms(sentence, ctx, kb, source)
    return mentions


@dataclass(frozen=True)
class _Anchors:
    """Where a sentence names the hip, another body part, and a side: read once per
    sentence and shared by the hip, stenosis and side rules."""

    hip: list[int]
    other: list[int]
    sides: list[tuple[str, int, int]]

    @classmethod
    def of(cls, text: str, kb: NlpKnowledge) -> _Anchors:
        return cls([m.start() for m in kb.hip_anchor.finditer(text)],
                   [m.start() for m in kb.other_anchor.finditer(text)], _sides(text, kb))


# --- hip -------------------------------------------------------------------------------

def _hip_mentions(sentence: Sentence, ctx: SentenceContext, kb: NlpKnowledge,
                  anchors: _Anchors, report_is_hip: bool,
                  carried_side: str | None) -> list[Mention]:
    text = sentence.text
    hip_anchors = anchors.hip
    other_anchors = anchors.other
    if not hip_anchors and (not report_is_hip or other_anchors):
        return []
    out: list[Mention] = []
    taken: list[tuple[int, int]] = []

    def about_hip(start: int) -> bool:
        if not other_anchors:
            return True
        if not hip_anchors:
            return False
        nearest_hip = min(abs(a - start) for a in hip_anchors)
        return nearest_hip <= min(abs(a - start) for a in other_anchors)

    def add(rule: str, m: re.Match[str], **values: object) -> Mention | None:
        if any(s < m.end() and m.start() < e for s, e in taken) or not about_hip(m.start()):
            return None
        taken.append((m.start(), m.end()))
        mention = Mention("hip_oa", rule, text, m.start(), m.end(),
                          ctx.modifiers(m.start(), m.end()),
                          side=_side_near(m.start(), m.end(), ctx, anchors.sides)
                          or carried_side)
        for key, value in values.items():
            setattr(mention, key, value)
        out.append(mention)
        return mention

    for m in kb.arthroplasty.finditer(text):
        hit = add("hip_arthroplasty", m)
        if hit:
            hit.field = "hip_arthroplasty"
    for m in kb.kl_explicit.finditer(text):
        g = m.group("grade").lower()
        add("kellgren_lawrence_explicit", m, kellgren_lawrence=int(g) if g.isdigit() else _ROMAN[g])
    for rx in kb.hip_normal:
        for m in rx.finditer(text):
            add("hip_normal", m, kellgren_lawrence=0, normal=True)
    first_target = None
    for target, rx in kb.hip_targets:
        for m in rx.finditer(text):
            step = (_severity_before(text, m.start(), ctx, kb, m.end())
                    or _severity_after(text, m.end(), kb))
            if add(target.id, m, kellgren_lawrence=target.grades[step or "unqualified"]):
                first_target = first_target or target
    if first_target is not None:
        for m in kb.hip_elliptical.finditer(text):
            step = _step(m.group("severity"), kb)
            hit = add(f"{first_target.id}_elliptical", m,
                      kellgren_lawrence=first_target.grades[step or "unqualified"])
            if hit:
                hit.side = m.group("side").lower()
    return out


def _sides(text: str, kb: NlpKnowledge) -> list[tuple[str, int, int]]:
    """Side words in order; a comparison ("R>L", "worse on the left") means both sides."""
    compared = [(m.start(), m.end()) for m in kb.side_comparison.finditer(text)]
    found = [("bilateral", s, e) for s, e in compared]
    found += [(side, m.start(), m.end()) for side, rx in kb.sides for m in rx.finditer(text)
              if not any(s <= m.start() < e for s, e in compared)]
    return sorted(found, key=lambda s: s[1])


def _side_near(start: int, end: int, ctx: SentenceContext,
               sides: list[tuple[str, int, int]]) -> str | None:
    """The side word closest to a finding, preferring its own clause."""
    c_start, c_end = ctx.clause_of(start)
    in_clause = [s for s in sides if c_start <= s[1] < c_end]
    pool = in_clause or sides
    if not pool:
        return None
    return min(pool, key=lambda s: min(abs(s[1] - end), abs(s[2] - start)))[0]


def _severity_before(text: str, start: int, ctx: SentenceContext, kb: NlpKnowledge,
                     end: int | None = None, floor: int = 0) -> Severity | None:
    """The severity qualifying a finding: the nearest one before it in its clause (and after
    `floor`) or inside its own words ("joint space is mildly narrowed"); a range takes its
    lower step."""
    c_start, _ = ctx.clause_of(start)
    window_start = max(c_start, start - 45, floor)
    before = text[window_start:end if end is not None else start]
    ranges = list(kb.severity_range.finditer(before))
    words = list(kb.any_severity.finditer(before))
    if ranges and (not words or ranges[-1].end() >= words[-1].end()):
        low = _step(ranges[-1].group("low"), kb)
        if low:
            return low
    if words:
        return _step(words[-1].group(0), kb)
    return None


_AFTER = re.compile(
    r"\s*,?\s*(?:(?:worst|greatest|most\s+(?:severe|marked|pronounced))\s+)?"
    r"(?:(?:at|in|of|on)\s+(?:the\s+)?[\w/-]+(?:\s+(?:level|hip))?\s*)?"
    r"(?:(?:has|have)\s+(?:progressed|worsened|increased)(?:\s+since\s+(?:the\s+)?(?:prior|previous|last)"
    r"(?:\s+\w+)?)?\s*(?:,|and)?\s*)?"
    r"(?:,|:|\bis\b|\bare\b|\bwas\b|\bappears?\b|\bwhich is\b|\bwhere it is\b)?\s*"
    r"(?:(?:now|currently|still)\s+)?",
    re.IGNORECASE)


def _severity_after(text: str, end: int, kb: NlpKnowledge) -> Severity | None:
    """A severity stated right after the finding: "stenosis at L4-5 is severe", "JSN, moderate",
    "OA of the left hip has progressed since the prior study and is now severe"."""
    after = text[end:end + 80]
    m = _AFTER.match(after)
    rest = after[m.end():] if m else after
    w = kb.any_severity.match(rest)
    return _step(w.group(0), kb) if w else None


def _step(word: str, kb: NlpKnowledge) -> Severity | None:
    for step, rx in kb.severity_words:
        if rx.fullmatch(word) or rx.search(word):
            return step
    return None


# --- lumbar stenosis --------------------------------------------------------------------

def _stenosis_mentions(sentence: Sentence, ctx: SentenceContext, kb: NlpKnowledge,
                       anchors: _Anchors) -> list[Mention]:
    text = sentence.text
    if anchors.hip and not anchors.other:
        return []
    out: list[Mention] = []
    taken: list[tuple[int, int]] = []
    for rx in kb.stenosis_normal:
        for m in rx.finditer(text):
            taken.append((m.start(), m.end()))
            out.append(Mention("lumbar_stenosis", "stenosis_normal", text, m.start(), m.end(),
                               ctx.modifiers(m.start(), m.end()), severity="none", normal=True))
    found = [(target, m) for target, rx in kb.stenosis_targets for m in rx.finditer(text)]
    ends = sorted(m.end() for _, m in found)
    for target, m in found:
        if any(s < m.end() and m.start() < e for s, e in taken):
            continue
        taken.append((m.start(), m.end()))
        # the severity words of an earlier finding in the sentence are not this one's
        # ("severe central stenosis with lateral recess narrowing")
        floor = max((e for e in ends if e <= m.start()), default=0)
        step = _severity_before(text, m.start(), ctx, kb, m.end(), floor) or _severity_after(
            text, m.end(), kb)
        out.append(Mention("lumbar_stenosis", target.id, text, m.start(), m.end(),
                           ctx.modifiers(m.start(), m.end()), type=target.type,
                           severity=_STENOSIS_SEVERITY[step] if step else None))
    targets = sorted((m for m in out if not m.normal), key=lambda m: m.start)
    for m in kb.stenosis_elliptical.finditer(text):
        if any(s <= m.start() < e for s, e in taken):
            continue
        before = [t for t in targets if t.end <= m.start()]
        if not before:
            continue
        step = _step(m.group("severity"), kb)
        out.append(Mention("lumbar_stenosis", f"{before[-1].rule}_elliptical", text, m.start(),
                           m.end(), ctx.modifiers(m.start(), m.end()), type=before[-1].type,
                           severity=_STENOSIS_SEVERITY[step] if step else None))
    if not out:
        return out
    out.sort(key=lambda m: m.start)
    spans = level_spans(text, kb)
    for span in spans:
        nearest = min(out, key=lambda m: _gap(m.start, m.end, span.start, span.end))
        nearest.levels.extend(lv for lv in span.levels if lv not in nearest.levels)
    on_levels = [lv for m in kb.listhesis_on.finditer(text)
                 for lv in normalise_level(m.group("upper"), m.group("lower"))]
    fallback = ([lv for s in spans for lv in s.levels] + on_levels
                or list(sentence.heading_levels) or list(sentence.previous_levels))
    for mention in out:
        if not mention.levels:
            mention.levels = list(dict.fromkeys(fallback))
    return out


def _gap(a_start: int, a_end: int, b_start: int, b_end: int) -> int:
    if b_start >= a_end:
        return b_start - a_end
    if a_start >= b_end:
        return a_start - b_end + 1  # a level written before a finding binds slightly less
    return 0


# --- spondylolisthesis ------------------------------------------------------------------

def _listhesis_mentions(sentence: Sentence, ctx: SentenceContext,
                        kb: NlpKnowledge) -> list[Mention]:
    text = sentence.text
    sl = kb.lumbar.spondylolisthesis
    out: list[Mention] = []
    excluded = [(m.start(), m.end()) for m in kb.listhesis_excluded.finditer(text)]
    levels: list[tuple[int, int, list[str]]] | None = None  # read once, on the first mention
    names_a_level: bool | None = None
    grades: dict[tuple[int, int], tuple[list[tuple[int, int, int]], int | None]] = {}
    for m in kb.listhesis.finditer(text):
        if any(s < m.end() and m.start() < e for s, e in excluded):
            continue
        if levels is None:
            levels = _listhesis_levels(text, kb)
        if m.group(0).lower() == "slip":  # a bare "slip" is a listhesis only beside a level
            if names_a_level is None:
                names_a_level = bool(level_spans(text, kb) or kb.listhesis_on.search(text))
            if not names_a_level:
                continue
        mention = Mention("spondylolisthesis", "spondylolisthesis", text, m.start(), m.end(),
                          ctx.modifiers(m.start(), m.end()))
        mention.levels = _listhesis_level(m.start(), m.end(), levels, sentence)
        clause = ctx.clause_of(m.start())
        if clause not in grades:
            grades[clause] = _clause_grades(text, clause, kb)
        mention.grade = _listhesis_grade(m.start(), m.end(), *grades[clause])
        if mention.grade is None and "ptosis" in m.group(0).lower():
            mention.grade = sl.spondyloptosis_grade
        out.append(mention)
    return out


def _listhesis_levels(text: str, kb: NlpKnowledge) -> list[tuple[int, int, list[str]]]:
    """Where a sentence names the slipping segment: "L4 on L5" if it says so anywhere, else
    its levels ("L4-5"), else its single vertebrae ("L5" meaning L5-S1)."""
    candidates = [(m.start(), m.end(), normalise_level(m.group("upper"), m.group("lower")))
                  for m in kb.listhesis_on.finditer(text)]
    if not candidates:
        candidates = [(span.start, span.end, list(span.levels))
                      for span in level_spans(text, kb)]
    if not candidates:
        for m in kb.single_vertebra.finditer(text):
            below = normalise_level(m.group("vertebra"), str(int(m.group("vertebra")[1]) + 1)
                                    if m.group("vertebra")[1] != "5" else "S1")
            candidates.append((m.start(), m.end(), below))
    return [c for c in candidates if c[2]]


def _listhesis_level(start: int, end: int, candidates: list[tuple[int, int, list[str]]],
                     sentence: Sentence) -> list[str]:
    """The candidate level nearest the mention, else the line's heading level."""
    if candidates:
        return min(candidates, key=lambda c: _gap(start, end, c[0], c[1]))[2][:1]
    return list((sentence.heading_levels or sentence.previous_levels)[:1])


def _clause_grades(text: str, clause: tuple[int, int], kb: NlpKnowledge
                   ) -> tuple[list[tuple[int, int, int]], int | None]:
    """The slip grades written in one clause (where, and which), and the grade of its first
    percent slip that the Meyerding rows place."""
    sl = kb.lumbar.spondylolisthesis
    c_start, c_end = clause
    body = text[c_start:c_end]
    written: list[tuple[int, int, int]] = []
    for m in kb.listhesis_grade.finditer(body):
        g = (m.group("grade") or m.group("grade2") or m.group("grade3")).lower()
        grade = int(g) if g.isdigit() else _ROMAN[g]
        written.append((c_start + m.start(), c_start + m.end(),
                        min(grade, sl.spondyloptosis_grade)))
    for m in kb.listhesis_percent.finditer(body):
        pct = float(m.group("pct"))
        for row in sl.percent_grades:
            if pct <= row.up_to_pct:
                return written, row.grade
    return written, None


def _listhesis_grade(start: int, end: int, written: list[tuple[int, int, int]],
                     percent_grade: int | None) -> int | None:
    """The grade written nearest the mention in its clause, else the percent slip's."""
    best: tuple[int, int] | None = None
    for g_start, g_end, grade in written:
        dist = _gap(start, end, g_start, g_end)
        if best is None or dist < best[0]:
            best = (dist, grade)
    if best:
        return best[1]
    return percent_grade


# --- aggregation ------------------------------------------------------------------------

def aggregate(mentions: list[Mention]) -> tuple[ImagingFindings, list[str]]:
    """Combine mentions into the case's imaging fields (see the module docstring)."""
    replaced = _replaced_sides(mentions)
    hip = _aggregate_hip([m for m in mentions if m.field == "hip_oa"], replaced)
    stenosis = _aggregate_stenosis([m for m in mentions if m.field == "lumbar_stenosis"])
    listhesis = _aggregate_listhesis([m for m in mentions if m.field == "spondylolisthesis"])
    return (ImagingFindings(hip_oa=hip, lumbar_stenosis=stenosis, spondylolisthesis=listhesis),
            sorted(replaced))


def _replaced_sides(mentions: list[Mention]) -> set[str]:
    sides: set[str] = set()
    for m in mentions:
        if m.field == "hip_arthroplasty" and not m.mods.negated and not m.mods.uncertain:
            if m.side == "bilateral":
                sides.update(("left", "right"))
            elif m.side:
                sides.add(m.side)
    return sides


def _aggregate_hip(mentions: list[Mention], replaced: set[str]) -> HipOA | None:
    positive: dict[str | None, int] = {}
    normal: dict[str | None, int] = {}
    side_only: set[str | None] = set()  # a target whose grades are null (Tönnis 1-3)
    for m in mentions:
        sides: list[str | None] = ["left", "right"] if m.side == "bilateral" else [m.side]
        for side in sides:
            if side in replaced:
                continue
            if m.kellgren_lawrence is None:  # osteoarthritis stated without a K-L grade
                if m.asserted and not m.mods.historical:
                    side_only.add(side)
                continue
            if m.asserted and not m.mods.historical:
                positive[side] = max(positive.get(side, 0), m.kellgren_lawrence)
            elif m.denied:
                normal[side] = 0
    chosen = positive or normal
    if not positive and side_only:
        named = {s for s in side_only if s is not None}
        side = "bilateral" if named == {"left", "right"} else (named.pop() if len(named) == 1
                                                               else None)
        return HipOA(side=side)  # type: ignore[arg-type]
    if not chosen:
        return None
    grade = max(chosen.values())
    named = {s for s in chosen if s is not None}
    if positive:
        named = {s for s in named if positive.get(s, 0) >= 1}
        named |= {s for s in side_only if s is not None}
    side = "bilateral" if named == {"left", "right"} else (named.pop() if len(named) == 1 else None)
    return HipOA(side=side, kellgren_lawrence=grade)  # type: ignore[arg-type]


def _aggregate_stenosis(mentions: list[Mention]) -> LumbarStenosis | None:
    positive = [m for m in mentions if m.asserted and not m.mods.historical]
    if not positive:
        if any(m.denied for m in mentions):
            return LumbarStenosis(severity="none")
        return None
    ranked = [m for m in positive if m.severity]
    worst = max((_STENOSIS_RANK[m.severity] for m in ranked if m.severity), default=None)
    top = [m for m in ranked if m.severity and _STENOSIS_RANK[m.severity] == worst] or positive
    typed = sorted((m for m in top if m.type), key=lambda m: _TYPE_PRIORITY[m.type or "central"])
    if not typed and not ranked:  # no severity anywhere: any stated type
        typed = sorted((m for m in positive if m.type),
                       key=lambda m: _TYPE_PRIORITY[m.type or "central"])
    levels = sorted({lv for m in positive for lv in m.levels}, key=level_order)
    return LumbarStenosis(
        severity=top[0].severity if ranked else None,  # type: ignore[arg-type]
        levels=levels or None,
        type=typed[0].type if typed else None,  # type: ignore[arg-type]
    )


def _aggregate_listhesis(mentions: list[Mention]) -> Spondylolisthesis | None:
    positive = [m for m in mentions if m.asserted]
    if not positive:
        return None
    best = max(positive, key=lambda m: (m.grade or 0, bool(m.levels)))
    level = best.levels[0] if best.levels else next(
        (m.levels[0] for m in positive if m.levels), None)
    return Spondylolisthesis(level=level, grade=best.grade)


__all__ = [
    "SEVERITY_ORDER",
    "EvidenceItem",
    "ImagingFindings",
    "Mention",
    "ReportReading",
    "find_mentions",
    "read_report",
]
