"""The shape of an instrument definition file (`knowledge/instruments/*.yaml`).

An instrument is data: items with the points they carry, a positivity rule (a cut-off on the
score or a logical rule over items), interpretation texts and worked examples from the source
paper. Conditions are small predicates over case fields (or questionnaire answers) evaluated
in three-valued logic, so an unknown finding stays unknown instead of counting as negative.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator

from hipspine.kb import KBModel, Verification

Scalar = bool | int | float | str


class Predicate(KBModel):
    """One condition. Exactly one form: a field test, a combinator, or an item reference.

    Field tests: `is`, `at_least`, `above`, `at_most`, `below`, `contains_any`, `map`.
    Combinators: `all`, `any`, `not`, `at_least_n` + `of`, `first_known` (the first
    sub-condition whose value is known decides; used for "ESR, or hip flexion if no ESR").
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    field: str | None = None
    is_: Scalar | None = Field(default=None, alias="is")
    at_least: float | None = None
    above: float | None = None
    at_most: float | None = None
    below: float | None = None
    contains_any: list[str] | None = None
    map: dict[int, bool | None] | None = None
    undetermined: str | None = None  # how to name the gap when `map` gives null
    all_: list[Predicate] | None = Field(default=None, alias="all")
    any_: list[Predicate] | None = Field(default=None, alias="any")
    not_: Predicate | None = Field(default=None, alias="not")
    at_least_n: int | None = None
    of: list[Predicate] | None = None
    first_known: list[Predicate] | None = None
    item: str | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Predicate:
        tests = [self.is_, self.at_least, self.above, self.at_most, self.below,
                 self.contains_any, self.map]
        n_tests = sum(t is not None for t in tests)
        forms = [self.field is not None, self.all_ is not None, self.any_ is not None,
                 self.not_ is not None, self.at_least_n is not None,
                 self.first_known is not None, self.item is not None]
        if sum(forms) != 1:
            raise ValueError("a condition needs exactly one of: field, all, any, not, "
                             "at_least_n, first_known, item")
        if self.field is not None and n_tests != 1:
            raise ValueError(f"condition on {self.field!r} needs exactly one test "
                             "(is, at_least, above, at_most, below, contains_any, map)")
        if self.field is None and n_tests:
            raise ValueError("a test (is, at_least, ...) needs a field")
        if (self.at_least_n is None) != (self.of is None):
            raise ValueError("at_least_n and of go together")
        return self


class Option(KBModel):
    when: Predicate
    points: int


class Item(KBModel):
    """One scored item. `when` + `points` is shorthand for a single option."""

    id: str
    label: str
    question: str | None = None  # published wording, for self-report instruments
    when: Predicate | None = None
    points: int | None = None
    options: list[Option] | None = None
    otherwise: int = 0
    answer_range: tuple[float, float] | None = None  # allowed numeric answer (self-report)
    note: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> Item:
        if (self.when is None) == (self.options is None):
            raise ValueError(f"item {self.id!r}: give either when+points or options")
        if self.when is not None and self.points is None:
            raise ValueError(f"item {self.id!r}: when needs points")
        return self

    def scoring_options(self) -> list[Option]:
        if self.options is not None:
            return self.options
        assert self.when is not None and self.points is not None
        return [Option(when=self.when, points=self.points)]


class PositiveIf(KBModel):
    score_at_least: int | None = None
    rule: Predicate | None = None

    @model_validator(mode="after")
    def _one(self) -> PositiveIf:
        if (self.score_at_least is None) == (self.rule is None):
            raise ValueError("positive_if needs exactly one of score_at_least, rule")
        return self


class Band(KBModel):
    """Interpretation of a complete score at or above `at_least` (highest band wins)."""

    at_least: int
    text: str
    likelihood_ratio: float | None = None


class Remark(KBModel):
    """A sentence added to the interpretation when its condition is true (e.g. a rule-out)."""

    when: Predicate
    text: str


class Interpretation(KBModel):
    positive: str
    negative: str
    undecided: str


class Example(KBModel):
    """A worked example: input (partial case or answers) and the expected result."""

    name: str
    source: str
    input: dict[str, Any]
    score: int | Literal["incomplete"]
    positive: bool | None
    missing_items: list[str] | None = None


class InstrumentDefinition(KBModel):
    id: str
    name: str
    subject: Literal["case", "answers"]
    target: Literal["hip", "spine", "sacroiliac", "vascular", "neuropathy", "trochanteric"]
    citation: str
    verified: Verification
    strength: str | None = None
    note: str | None = None
    preliminary: bool = False
    score: Literal["points", "rule"]
    score_min: int
    score_max: int
    items: list[Item]
    positive_if: PositiveIf
    interpretation: Interpretation
    plain_language: Interpretation | None = None
    bands: list[Band] = Field(default_factory=list)
    remarks: list[Remark] = Field(default_factory=list)
    examples: list[Example] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> InstrumentDefinition:
        ids = [i.id for i in self.items]
        if len(set(ids)) != len(ids):
            raise ValueError(f"{self.id}: duplicate item ids")
        lo = sum(min([o.points for o in i.scoring_options()] + [i.otherwise])
                 for i in self.items)
        hi = sum(max([o.points for o in i.scoring_options()] + [i.otherwise])
                 for i in self.items)
        if self.score == "points" and (lo < self.score_min or hi > self.score_max):
            raise ValueError(f"{self.id}: items allow {lo}..{hi}, outside declared "
                             f"{self.score_min}..{self.score_max}")
        if self.score == "rule" and self.positive_if.rule is None:
            raise ValueError(f"{self.id}: a rule-scored instrument needs positive_if.rule")
        for ref in _item_refs(self.positive_if.rule):
            if ref not in ids:
                raise ValueError(f"{self.id}: rule refers to unknown item {ref!r}")
        return self

    def fields(self) -> list[str]:
        """Every case field / answer key the definition reads, in order of first use."""
        found: list[str] = []
        preds: list[Predicate | None] = [o.when for i in self.items
                                         for o in i.scoring_options()]
        preds += [self.positive_if.rule] + [r.when for r in self.remarks]
        for p in preds:
            for f in _fields(p):
                if f not in found:
                    found.append(f)
        return found


class InstrumentFile(KBModel):
    instrument: InstrumentDefinition


def sub_conditions(p: Predicate) -> list[Predicate]:
    kids: list[Predicate] = []
    for group in (p.all_, p.any_, p.of, p.first_known):
        kids.extend(group or [])
    if p.not_ is not None:
        kids.append(p.not_)
    return kids


def _item_refs(p: Predicate | None) -> list[str]:
    if p is None:
        return []
    refs = [p.item] if p.item else []
    for kid in sub_conditions(p):
        refs += _item_refs(kid)
    return refs


def _fields(p: Predicate | None) -> list[str]:
    if p is None:
        return []
    out = [p.field] if p.field else []
    for kid in sub_conditions(p):
        out += _fields(kid)
    return out
