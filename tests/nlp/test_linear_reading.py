"""Reading stays linear in the length of the text, whatever its shape, and at most
`TEXT_LIMIT_PER_CASE` characters of a case are read (the rest reported, never refused).

No test here is timed: the cost is measured by benchmarks/bench_nlp.py. The tests assert the
structure that makes reading linear (bounded sentence pieces, bounded searches per mention,
triggers filed by clause) and that bounding it loses nothing. Two patterns that took
exponential or quadratic time are read under a generous CPU budget, so that a regression
fails instead of hanging the suite.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import hipspine
from hipspine.cli import app
from hipspine.ehr.fhir_in import import_resources
from hipspine.models import parse_case
from hipspine.nlp import enrich_case, load_nlp_knowledge, read_report
from hipspine.nlp.alarms import read_alarms
from hipspine.nlp.context import Modifiers, SentenceContext
from hipspine.nlp.knowledge import EXCLUDED_REACH, NlpKnowledge
from hipspine.nlp.limits import TEXT_LIMIT_PER_CASE, cut_text, limit_texts
from hipspine.nlp.notes import read_exam_findings
from hipspine.nlp.text import SENTENCE_CAP, bounded_spans, level_spans, split_sentences

KB = load_nlp_knowledge()
FILLER = "the patient walked to the shop and back again and "  # no finding, no full stop


@contextmanager
def cpu_budget(seconds: float) -> Iterator[None]:
    """Fail (instead of hanging) when the block uses more than `seconds` of CPU; the regex
    engine checks for signals as it runs, so a runaway pattern is stopped too."""
    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"over {seconds} s of CPU")

    previous = signal.signal(signal.SIGPROF, expired)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def _one_sentence(size: int, ending: str) -> str:
    return (FILLER * (size // len(FILLER) + 1))[:size - len(ending)] + ending


# --- bounded sentence pieces ---------------------------------------------------------------

def test_a_1mb_sentence_is_read_in_bounded_pieces_and_its_last_red_flag_is_found() -> None:
    text = _one_sentence(1_000_000, " and now with fever")
    sentences = split_sentences(text, KB)
    assert len(sentences) >= 1_000_000 // SENTENCE_CAP
    assert max(len(s.text) for s in sentences) <= SENTENCE_CAP
    assert not sentences[0].continued and all(s.continued for s in sentences[1:])
    raised, _ = read_alarms([text], KB, "notes")
    assert raised == {"symptoms.fever"}


def test_a_sentence_is_cut_after_a_comma_where_it_can_be() -> None:
    text = ("FABER positive on the right, " * 80).strip()
    spans = bounded_spans(text, 0, len(text))
    assert len(spans) > 1
    assert all(text[s:e].rstrip().endswith(",") for s, e in spans[:-1])
    values, _ = read_exam_findings([text], KB)
    assert values == {"faber_positive": True}


def test_pieces_of_a_long_sentence_keep_its_level_heading_and_section() -> None:
    text = "Indication: " + _one_sentence(3 * SENTENCE_CAP, " possible fracture")
    sentences = split_sentences(text, KB)
    assert len(sentences) >= 3
    assert not any(s.in_findings for s in sentences)  # all under the indication heading
    assert read_report(text, KB).imaging.fracture is None
    listed = split_sentences("L4-5: " + _one_sentence(3 * SENTENCE_CAP, " stenosis"), KB)
    assert {s.heading_levels for s in listed} == {("L4-L5",)}


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab ,\t\u00a0.;"), max_size=400),
       st.integers(min_value=2, max_value=60))
def test_bounded_spans_cover_the_text_exactly_in_bounded_pieces(text: str, cap: int) -> None:
    spans = bounded_spans(text, 0, len(text), cap)
    assert "".join(text[s:e] for s, e in spans) == text  # splitting never loses text
    assert all(e - s <= cap for s, e in spans)
    assert all(e > s for s, e in spans[:-1])
    assert spans[0][0] == 0 and spans[-1][1] == len(text)


_note_words = st.sampled_from([
    "FABER", "positive", "negative", "SLR", "fever", "weight loss", "night pain", "no",
    "denies", "history of", "breast cancer", "L4-5", "and", "but", ",", ";", ".", "\n", "?",
    "saddle anaesthesia", "wakes him at night", "the", "patient", "hip", "left", "right"])


@settings(max_examples=100, deadline=None)
@given(st.lists(_note_words, max_size=400).map(" ".join), st.integers(20, 200))
def test_splitting_sentences_never_loses_text(text: str, cap: int) -> None:
    sentences = split_sentences(text, KB, cap=cap)
    assert all(len(s.text) <= cap for s in sentences)
    for s in sentences:
        assert text[s.start:].lstrip().startswith(s.text)
    def kept(t: str) -> str:
        return re.sub(r"[\s;]", "", t)
    assert "".join(kept(s.text) for s in sentences) == kept(text)


# --- bounded work per mention ---------------------------------------------------------------

class _Recorder:
    """Stands in for a compiled pattern and records the stretch each search looks at."""

    def __init__(self, rx: re.Pattern[str], seen: list[int]) -> None:
        self._rx = rx
        self._seen = seen

    def search(self, text: str, pos: int = 0, endpos: int = 2 ** 63) -> re.Match[str] | None:
        self._seen.append(min(endpos, len(text)) - pos)
        return self._rx.search(text, pos, endpos)


def test_each_alarm_mention_searches_a_bounded_stretch_for_its_excluding_word() -> None:
    seen: list[int] = []
    kb: NlpKnowledge = copy.copy(KB)
    kb.alarm_findings = {texts: [(f, rx, _Recorder(excluded, seen))
                                 for f, rx, excluded in found]
                         for texts, found in KB.alarm_findings.items()}
    text = ("fever and night pain and weight loss of 5 kg and " * 2000).strip()
    raised, evidence = read_alarms([text], kb, "notes")
    assert {"symptoms.fever", "symptoms.night_pain"} <= raised
    assert len(seen) == len(evidence) > 5000
    assert max(seen) <= EXCLUDED_REACH  # not the whole clause before the mention


def _modifiers_by_scanning(ctx: SentenceContext, start: int, end: int) -> Modifiers:
    """The ConText rule as first written: every clause and every trigger scanned."""
    c_start, c_end = next(((s, e) for s, e in ctx.clauses if s <= start < e), ctx.clauses[-1])
    fired: dict[str, list[str]] = {}
    for t in ctx.triggers:
        if t.start < c_start or t.end > c_end or start <= t.start < end or start < t.end <= end:
            continue
        ahead, behind = t.end <= start, t.start >= end
        if (t.direction == "forward" and ahead) or (t.direction == "backward" and behind) \
                or (t.direction == "bidirectional" and (ahead or behind)):
            fired.setdefault(t.category, []).append(t.rule)
    return Modifiers("negated" in fired, "uncertain" in fired, "historical" in fired,
                     tuple(r for rs in fired.values() for r in rs))


_report_words = st.sampled_from([
    "no", "not seen", "mild", "severe", "fracture", "stenosis", "L4-5", "but", "however",
    "which", ",", ";", "and there is", "with moderate", "history of", "possible", "?",
    "cannot be excluded", "no change", "prior study", "osteoarthritis", "hip", "  ", "   "])


@settings(max_examples=150, deadline=None)
@given(st.lists(_report_words, min_size=1, max_size=60).map(" ".join))
def test_triggers_filed_by_clause_give_the_scanning_answer(text: str) -> None:
    ctx = SentenceContext(text, KB)
    targets = [m.span() for m in re.finditer(r"fracture|stenosis|osteoarthritis", text)]
    for start, end in targets:
        assert ctx.modifiers(start, end) == _modifiers_by_scanning(ctx, start, end)
        assert ctx.clause_of(start) == next(
            ((s, e) for s, e in ctx.clauses if s <= start < e), ctx.clauses[-1])


def test_runaway_patterns_stay_linear() -> None:
    with cpu_budget(30):
        # the level heading took exponential time on a run of levels with no colon
        sentences = split_sentences("L4 L4 L5 " * 300, KB)
        assert sentences and sentences[0].heading_levels == ()
        assert split_sentences("L2-3, L3-4 & L4-5 levels: mild stenosis", KB)[0] \
            .heading_levels == ("L2-L3", "L3-L4", "L4-L5")
        # the level and clause-break patterns took quadratic time on long runs of spaces
        spaces = " " * 200_000
        assert level_spans("L4" + spaces + "x", KB) == []
        assert [s.levels for s in level_spans("L4" + spaces + "to L5", KB)] == [
            ("L4-L5",)]
        assert len(list(KB.clause_breaks.finditer("a" + spaces + "b"))) == 0
        assert read_report("No fracture at L4" + spaces + "and there is severe stenosis",
                           KB).imaging.fracture is None


@pytest.mark.parametrize("padding", ["\n" + " " * 5_000 + "\n", "\n" + FILLER * 400 + "\n",
                                     "\n" + "Seen today. " * 2_000 + "\n"])
def test_long_padding_between_sentences_changes_no_field(padding: str) -> None:
    note = ("FABER positive on the right, SLR negative. Denies saddle anaesthesia. "
            "Night pain and weight loss of 6 kg. History of breast cancer.")
    report = ("AP pelvis: moderate joint space narrowing of the right hip.\n"
              "L4-5: severe central canal stenosis. Grade 1 anterolisthesis of L4 on L5.\n"
              "Lytic lesion in the right iliac wing, concerning for metastasis.")
    padded_note = padding + note.replace(". ", "." + padding) + padding
    padded_report = padding + report.replace("\n", padding) + padding
    assert read_exam_findings([padded_note], KB)[0] == read_exam_findings([note], KB)[0]
    assert read_alarms([padded_note], KB, "notes")[0] == read_alarms([note], KB, "notes")[0]
    assert read_report(padded_report, KB).imaging == read_report(report, KB).imaging


@settings(max_examples=50, deadline=None)
@given(st.lists(_note_words, max_size=40).map(" ".join), st.integers(1, 3000))
def test_any_note_reads_the_same_with_long_whitespace_padding(note: str, n: int) -> None:
    pad = "\n" + " " * n + "\n"
    assert read_exam_findings([pad + note + pad], KB)[0] == read_exam_findings([note], KB)[0]
    assert read_alarms([pad + note + pad], KB, "notes")[0] == read_alarms([note], KB,
                                                                           "notes")[0]


# --- the per-case text limit ----------------------------------------------------------------

def test_the_limit_reads_at_least_1_mb_per_case() -> None:
    assert TEXT_LIMIT_PER_CASE >= 1_000_000
    case = parse_case({"format": "hipspine.case/1",
                       "notes": [_one_sentence(500_000, "."),
                                 _one_sentence(500_000, " and now with fever.")]})
    enriched = enrich_case(case)
    assert enriched.truncated == []
    assert enriched.texts_read == ["notes[0]", "notes[1]"]
    assert enriched.case.symptoms.fever is True


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("ab .\n"), max_size=80), max_size=6),
       st.integers(0, 200))
def test_truncation_is_reported_exactly_when_the_limit_is_exceeded(
        texts: list[str], limit: int) -> None:
    named = [(f"notes[{i}]", t) for i, t in enumerate(texts)]
    kept, cuts = limit_texts(named, limit)
    assert bool(cuts) == (sum(map(len, texts)) > limit)
    assert sum(map(len, kept)) <= limit
    assert all(t.startswith(k) for k, t in zip(kept, texts, strict=True))
    assert [c.name for c in cuts] == [n for (n, t), k in zip(named, kept, strict=True)
                                      if len(k) < len(t)]
    assert all(c.total - c.kept == len(t) - len(k) for c, (k, t) in zip(
        cuts, [(k, t) for k, t in zip(kept, texts, strict=True) if len(k) < len(t)],
        strict=True))


def test_a_cut_text_ends_at_a_sentence_end_so_no_half_sentence_is_read() -> None:
    text = "FABER negative. Fracture: none. Fever: none."
    cut = cut_text(text, text.index("none.") + 2)  # the limit falls inside "Fracture: none"
    assert cut == "FABER negative. "
    assert cut_text("FABER negative. Fracture", 16) == "FABER negative. "
    assert cut_text("SLR positive", 3) == "SLR"  # the limit falls at the end of a word
    assert cut_text("fractured neck of femur excluded", 8) == ""  # not "fracture"
    assert cut_text("a" * 5000, 2000) == "a" * 2000  # no word at all: cut at the limit
    assert cut_text("abc", 3) == "abc" and cut_text("abc", 0) == ""


def test_enrich_case_cuts_text_beyond_the_limit_and_reports_it() -> None:
    case = parse_case({"format": "hipspine.case/1", "age": 70,
                       "imaging": {"reports": ["Severe right hip osteoarthritis."]},
                       "notes": ["FABER positive. " + "Walks daily. " * 20,
                                 "SLR positive. Fever and night pain."]})
    whole = enrich_case(case)
    assert whole.truncated == [] and whole.case.symptoms.fever is True
    limit = len(case.imaging.reports[0]) + len(case.notes[0])
    enriched = enrich_case(case, text_limit=limit)
    assert enriched.texts_read == ["imaging.reports[0]", "notes[0]"]  # notes[1]: nothing
    assert enriched.case.exam.faber_positive is True
    assert enriched.case.exam.straight_leg_raise_positive is None
    assert enriched.case.symptoms.fever is None
    assert enriched.truncated == [f"notes[1]: 35 of 35 characters not read (text limit "
                                  f"{limit:,} characters per case)"]
    partly = enrich_case(case, text_limit=limit + len("SLR positive. Fev"))
    assert partly.texts_read == ["imaging.reports[0]", "notes[0]", "notes[1]"]
    assert partly.case.exam.straight_leg_raise_positive is True  # its first sentence read
    assert partly.case.symptoms.fever is None
    assert partly.truncated == [f"notes[1]: 21 of 35 characters not read (text limit "
                                f"{limit + 17:,} characters per case)"]
    early = enrich_case(case, text_limit=len(case.imaging.reports[0]) + 40)
    assert early.texts_read == ["imaging.reports[0]", "notes[0]"]
    assert [t.split(":")[0] for t in early.truncated] == ["notes[0]", "notes[1]"]


def test_the_assessment_shows_texts_read_in_part() -> None:
    big = "Walks daily to the shops. " * (TEXT_LIMIT_PER_CASE // 26 + 10)
    case = {"format": "hipspine.case/1", "age": 66, "notes": [big, "Fever."]}
    assessment = hipspine.assess(case)
    assert [t.split(":")[0] for t in assessment.texts_truncated] == ["notes[0]", "notes[1]"]
    assert assessment.texts_not_read == ["notes[1]"]  # cut to nothing
    assert hipspine.assess({**case, "notes": ["Fever."]}).texts_truncated == []


def _document(did: str, text: str) -> dict[str, Any]:
    return {"resourceType": "DocumentReference", "id": did, "status": "current",
            "content": [{"attachment": {"contentType": "text/plain",
                                        "data": base64.b64encode(text.encode()).decode()}}]}


def test_fhir_import_cuts_text_beyond_the_limit_and_warns() -> None:
    first = "Walks daily to the shops. " * (TEXT_LIMIT_PER_CASE // 26 - 2)
    second = "Night pain. Fever for a week. " * 20
    result = import_resources([{"resourceType": "Patient", "id": "p"},
                               _document("a", first), _document("b", second),
                               _document("c", "SLR positive.")])
    notes = result.case.notes
    assert notes[0] == first.strip()
    assert notes[1] and second.startswith(notes[1]) and len(notes[1]) < len(second)
    assert len(notes) == 2  # the third text came after the limit
    assert sum(map(len, notes)) <= TEXT_LIMIT_PER_CASE
    cut = [w for w in result.report.warnings if "not imported" in w]
    assert [w.split(":")[0] for w in cut] == ["DocumentReference/b", "DocumentReference/c"]
    assert f" of {len(second.strip()):,} characters of text not imported" in cut[0]
    assert "13 of 13 characters" in cut[1]


def test_fhir_import_of_texts_within_the_limit_warns_nothing() -> None:
    result = import_resources([{"resourceType": "Patient", "id": "p"},
                               _document("a", "Groin pain. FABER positive.")])
    assert result.case.notes == ["Groin pain. FABER positive."]
    assert not any("not imported" in w for w in result.report.warnings)


def test_hipspine_assess_prints_the_texts_read_in_part() -> None:
    big = "Walks daily to the shops. " * (TEXT_LIMIT_PER_CASE // 26 + 10)
    case = json.dumps({"format": "hipspine.case/1", "age": 66, "notes": [big]})
    result = CliRunner().invoke(app, ["assess", "-"], input=case)
    assert result.exit_code == 0, result.output
    assert "Texts read in part:" in result.output and "notes[0]:" in result.output


def test_a_note_dense_with_history_and_symptom_mentions_is_read_in_bounded_time() -> None:
    from hipspine.nlp.statements import stated_values

    note = ("Groin pain on walking, relieved by sitting, ex-smoker, mother diabetic, "
            "worse standing, " * 12_000)  # about 1 MB, one sentence, every pattern busy
    with cpu_budget(60):
        _, evidence = read_exam_findings([note], KB)
    values = stated_values(evidence)
    assert values["symptoms.relief_sitting"] is True
    assert values["history.smoker"] is False
    assert "history.diabetes" not in values
