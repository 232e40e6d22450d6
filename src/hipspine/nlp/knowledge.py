"""The report reader's knowledge: ConText rules, vocabulary and targets (`knowledge/nlp/`).

The reader itself receives an `NlpKnowledge` as a parameter; `load_nlp_knowledge()` is the
one place that reads the files, validates them strictly and compiles the patterns.
"""

from __future__ import annotations

import functools
import re
from typing import Literal

from pydantic import Field, model_validator

from hipspine.kb import Evidence, KBModel, load_section
from hipspine.models.case import LesionKind, Nerve

EXCLUDED_GAP = 45
"""How far (characters, no full stop, semicolon or colon between) an alarm's
`excluded_before` word may stand before the mention it excludes ("old healed fracture")."""
EXCLUDED_REACH = EXCLUDED_GAP + 100
"""How far back from a mention the excluding word is looked for: the gap and the word itself
(the phrase lists' longest words are under 20 characters; 100 leaves room)."""

Severity = Literal["minimal", "mild", "moderate", "severe"]
SEVERITY_ORDER: tuple[Severity, ...] = ("minimal", "mild", "moderate", "severe")


class ContextRule(KBModel):
    id: str
    category: Literal["negated", "uncertain", "historical", "pseudo"]
    direction: Literal["forward", "backward", "bidirectional", "pseudo"]
    pattern: str


class Sections(KBModel):
    not_findings: str
    findings: str
    brief: str
    any_heading: str


class ContextFile(KBModel):
    evidence: Evidence
    clause_breaks: str
    sections: Sections
    rules: list[ContextRule]


class SeverityWord(KBModel):
    step: Severity
    pattern: str


class SideWord(KBModel):
    side: Literal["left", "right", "bilateral"]
    pattern: str


class VocabularyFile(KBModel):
    severity_words: list[SeverityWord]
    range_pattern: str
    sides: list[SideWord]
    side_comparison: str
    level_pattern: str
    single_vertebra_pattern: str


class HipTarget(KBModel):
    id: str
    pattern: str
    grades: dict[Literal["unqualified", "minimal", "mild", "moderate", "severe"],
                 int | None] = Field(min_length=5)  # null: the side only (Tönnis 1-3)


class HipFile(KBModel):
    evidence: Evidence
    hip_anchor: str
    other_anchor: str
    explicit_grade_pattern: str
    targets: list[HipTarget]
    elliptical_pattern: str
    normal_patterns: list[str]
    arthroplasty_pattern: str


class StenosisTarget(KBModel):
    id: str
    type: Literal["central", "lateral_recess", "foraminal"] | None
    pattern: str


class StenosisSection(KBModel):
    evidence: Evidence
    targets: list[StenosisTarget]
    elliptical_pattern: str
    normal_patterns: list[str]


class PercentGrade(KBModel):
    up_to_pct: float
    grade: int = Field(ge=1, le=4)


class ListhesisSection(KBModel):
    evidence: Evidence
    target_pattern: str
    excluded_pattern: str
    on_pattern: str
    grade_pattern: str
    percent_pattern: str
    spondyloptosis_grade: int = Field(ge=1, le=4)
    percent_grades: list[PercentGrade]


class LumbarFile(KBModel):
    stenosis: StenosisSection
    spondylolisthesis: ListhesisSection


class ExamFinding(KBModel):
    field: str
    pattern: str
    implies: Literal["positive"] | None = None


class ExamFile(KBModel):
    evidence: Evidence
    positive_pattern: str
    negative_pattern: str
    findings: list[ExamFinding]


class AlarmFinding(KBModel):
    field: Literal["imaging.suspected_malignancy", "imaging.fracture", "imaging.infection",
                   "symptoms.bladder_bowel_dysfunction", "symptoms.saddle_anaesthesia",
                   "symptoms.fever", "symptoms.unexplained_weight_loss", "symptoms.night_pain",
                   "history.cancer_history", "imaging.lesions"]
    texts: Literal["reports", "notes"]
    pattern: str
    excluded_before: str
    historical_counts: bool = False
    lesion: LesionKind | None = None
    """For `imaging.lesions`: the kind of lesion the pattern names (docs/case-format.md)."""
    nerve: Nerve | None = None

    @model_validator(mode="after")
    def _lesion_with_lesions(self) -> AlarmFinding:
        if (self.field == "imaging.lesions") != (self.lesion is not None):
            raise ValueError(f"{self.field}: a lesion kind goes with imaging.lesions only")
        return self


class AlarmFile(KBModel):
    evidence: Evidence
    request_rules: list[str]
    findings: list[AlarmFinding]


class Statement(KBModel):
    """A history or symptom field as a clinic note states it (`nlp/statements.yaml`)."""

    field: str
    pattern: str
    negative: str | None = None
    value: str | None = None
    """For a list field (`symptoms.pain_locations`): the item a mention adds."""
    historical_counts: bool = False

    @model_validator(mode="after")
    def _field_exists(self) -> Statement:
        from hipspine.models.case import Case

        section, _, name = self.field.partition(".")
        model = Case.model_fields.get(section)
        annotation = model.annotation if model else None
        fields = getattr(annotation, "model_fields", {})
        if section not in ("symptoms", "history") or name not in fields:
            raise ValueError(f"{self.field}: not a symptoms.* or history.* field of the case")
        if (self.value is not None) != (name == "pain_locations"):
            raise ValueError(f"{self.field}: `value` goes with symptoms.pain_locations only")
        return self


class StatementsFile(KBModel):
    evidence: Evidence
    excluded_before: str
    pain_words: str
    statements: list[Statement]


class NlpKnowledge:
    """The seven nlp files, validated, with their patterns compiled once."""

    def __init__(self, context: ContextFile, vocabulary: VocabularyFile, hip: HipFile,
                 lumbar: LumbarFile, exam: ExamFile, alarms: AlarmFile,
                 statements: StatementsFile) -> None:
        self.context = context
        self.vocabulary = vocabulary
        self.hip = hip
        self.lumbar = lumbar
        self.exam = exam
        self.alarms = alarms
        self.clause_breaks = _rx(context.clause_breaks)
        self.section_not_findings = _rx(context.sections.not_findings)
        self.section_findings = _rx(context.sections.findings)
        self.section_brief = _rx(context.sections.brief)
        self.section_any_heading = _rx(context.sections.any_heading)
        self.context_rules = [(r, _rx(r.pattern)) for r in context.rules]
        self.severity_words = [(w.step, _rx(w.pattern)) for w in vocabulary.severity_words]
        any_word = "|".join(f"(?:{w.pattern})" for w in vocabulary.severity_words)
        self.any_severity = _rx(any_word)
        self.severity_range = _rx(vocabulary.range_pattern.replace("{word}", any_word))
        self.sides = [(s.side, _rx(s.pattern)) for s in vocabulary.sides]
        self.side_comparison = _rx(vocabulary.side_comparison)
        self.level = _rx(vocabulary.level_pattern)
        self.single_vertebra = _rx(vocabulary.single_vertebra_pattern)
        self.hip_anchor = _rx(hip.hip_anchor)
        self.other_anchor = _rx(hip.other_anchor)
        self.kl_explicit = _rx(hip.explicit_grade_pattern)
        self.hip_targets = [(t, _rx(t.pattern)) for t in hip.targets]
        self.hip_normal = [_rx(p) for p in hip.normal_patterns]
        self.hip_elliptical = _rx(hip.elliptical_pattern.replace("{severity}", f"(?:{any_word})"))
        self.stenosis_elliptical = _rx(
            lumbar.stenosis.elliptical_pattern.replace("{severity}", f"(?:{any_word})"))
        self.arthroplasty = _rx(hip.arthroplasty_pattern)
        self.stenosis_targets = [(t, _rx(t.pattern)) for t in lumbar.stenosis.targets]
        self.stenosis_normal = [_rx(p) for p in lumbar.stenosis.normal_patterns]
        sl = lumbar.spondylolisthesis
        self.listhesis = _rx(sl.target_pattern)
        self.listhesis_excluded = _rx(sl.excluded_pattern)
        self.listhesis_on = _rx(sl.on_pattern)
        self.listhesis_grade = _rx(sl.grade_pattern)
        self.listhesis_percent = _rx(sl.percent_pattern)
        self.exam_positive = _rx(exam.positive_pattern)
        self.exam_negative = _rx(exam.negative_pattern)
        self.exam_findings = [(f, _rx(f.pattern)) for f in exam.findings]
        self.alarm_findings = {
            texts: [(f, _rx(f.pattern),
                     _rx(f"(?:{f.excluded_before})[^.;:]{{0,{EXCLUDED_GAP}}}$"))
                    for f in alarms.findings if f.texts == texts]
            for texts in ("reports", "notes")}
        self.alarm_request_rules = frozenset(alarms.request_rules)
        self.statements = statements
        self.statement_excluded = _rx(f"(?:{statements.excluded_before})"
                                      f"[^.;:]{{0,{EXCLUDED_GAP}}}$")
        self.pain_words = _rx(statements.pain_words)
        self.statement_patterns = [
            (st, _rx(st.pattern), _rx(st.negative) if st.negative else None)
            for st in statements.statements]
        misplaced = [f.field for f in alarms.findings
                     if (f.texts == "reports") != f.field.startswith("imaging.")]
        if misplaced:  # the report reader fills imaging fields only, the notes reader the rest
            from hipspine.errors import KnowledgeBaseError

            raise KnowledgeBaseError(f"nlp/alarms.yaml: report alarms must fill imaging.* "
                                     f"fields and note alarms other fields: {misplaced}")
        unknown = self.alarm_request_rules - {r.id for r in context.rules}
        if unknown:
            from hipspine.errors import KnowledgeBaseError

            raise KnowledgeBaseError(f"nlp/alarms.yaml: request_rules not in context.yaml: "
                                     f"{sorted(unknown)}")


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


@functools.cache
def load_nlp_knowledge() -> NlpKnowledge:
    """Read and compile `knowledge/nlp/*.yaml` (cached: the files ship with the package)."""
    return NlpKnowledge(
        context=load_section("nlp/context.yaml", ContextFile),
        vocabulary=load_section("nlp/vocabulary.yaml", VocabularyFile),
        hip=load_section("nlp/hip_oa.yaml", HipFile),
        lumbar=load_section("nlp/lumbar.yaml", LumbarFile),
        exam=load_section("nlp/exam.yaml", ExamFile),
        alarms=load_section("nlp/alarms.yaml", AlarmFile),
        statements=load_section("nlp/statements.yaml", StatementsFile),
    )
