"""The screening rules (`knowledge/screen/rules.yaml`) and the code table they expand to.

Signals name what a resource shows (a hip diagnosis, a spine procedure, a report phrase);
groups are unions of signals; categories are rules over groups. Codes come from the value
sets in `knowledge/valuesets/` (engineer G's, plus `screen_*` files), looked up by category.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from pydantic import Field, model_validator

from hipspine.errors import KnowledgeBaseError
from hipspine.kb import KBModel, Verification, load_section
from hipspine.kb.schema import Evidence

CATEGORY_IDS = ("unrecognised_hip", "unrecognised_spine", "failed_single_organ_treatment",
                "co_occurring")
_ID = r"^[a-z][a-z0-9_]*$"
_ONE_LINE = r"^[^\n]{1,200}$"  # a description shown on every worklist row: one line


class ObservationCode(KBModel):
    system: str
    code: str
    min_value: float | None = None


class Signal(KBModel):
    id: str
    description: str = Field(pattern=_ONE_LINE)
    valueset_categories: list[str] = Field(default_factory=list)
    observation: ObservationCode | None = None
    report_phrase: str | None = None
    report_denial: str | None = None
    citation: str | None = None
    verified: Verification | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Signal:
        sources = [bool(self.valueset_categories), self.observation is not None,
                   self.report_phrase is not None]
        if sum(sources) != 1:
            raise ValueError(f"signal {self.id!r} needs exactly one of valueset_categories, "
                             "observation, report_phrase")
        return self


class After(KBModel):
    first: str
    then: str
    min_days: int = Field(ge=0)


class Rule(KBModel):
    """One way into a category; its id and description are written on the worklist row."""

    id: str = Field(pattern=_ID)
    description: str = Field(pattern=_ONE_LINE)
    all_of: list[str] = Field(default_factory=list)
    none_of: list[str] = Field(default_factory=list)
    after: After | None = None
    never_same_day: list[str] = Field(default_factory=list, max_length=2)


class Category(KBModel):
    id: str
    label: str
    rules: list[Rule] = Field(min_length=1)


class Example(KBModel):
    """A worked patient: the signals on record (signal id, day) and every rule that must list
    them (empty: listed nowhere). Checked by tests/screen/test_categories.py."""

    id: str = Field(pattern=_ID)
    says: str
    records: list[tuple[str, int]] = Field(min_length=1)
    listed_by: list[str] = Field(default_factory=list)


class ScreenRules(KBModel):
    evidence: Evidence
    excluded_statuses: list[str]
    evidence_items_max: int = Field(default=25, ge=1)
    signals: list[Signal]
    groups: dict[str, list[str]]
    categories: list[Category]
    examples: list[Example] = Field(default_factory=list)

    def rule_ids(self) -> list[str]:
        return [r.id for c in self.categories for r in c.rules]

    @model_validator(mode="after")
    def _consistent(self) -> ScreenRules:
        signal_ids = {s.id for s in self.signals}
        for name, members in self.groups.items():
            unknown = set(members) - signal_ids
            if unknown:
                raise ValueError(f"group {name!r} names unknown signals {sorted(unknown)}")
        for cat in self.categories:
            for rule in cat.rules:
                used = [*rule.all_of, *rule.none_of, *rule.never_same_day]
                if rule.after:
                    used += [rule.after.first, rule.after.then]
                unknown = set(used) - set(self.groups)
                if unknown:
                    raise ValueError(f"category {cat.id!r} names unknown groups {sorted(unknown)}")
        if tuple(c.id for c in self.categories) != CATEGORY_IDS:
            raise ValueError(f"categories must be exactly {CATEGORY_IDS} in that order")
        rule_ids = self.rule_ids()
        twice = sorted({r for r in rule_ids if rule_ids.count(r) > 1})
        if twice:
            raise ValueError(f"rule ids must be unique across categories; repeated: {twice}")
        for example in self.examples:
            unknown = {s for s, _ in example.records} - signal_ids
            if unknown:
                raise ValueError(f"example {example.id!r} names unknown signals {sorted(unknown)}")
            unknown = set(example.listed_by) - set(rule_ids)
            if unknown:
                raise ValueError(f"example {example.id!r}: listed_by names unknown rules "
                                 f"{sorted(unknown)}; allowed: {rule_ids}")
        return self


@dataclass(frozen=True)
class CodeRow:
    """One (system, code) that marks a signal; `min_value` for numeric observations."""

    system: str
    code: str
    signal: str
    display: str
    min_value: float | None = None


def normalise_code(code: str) -> str:
    """Codes compare without dots and case (ICD-10-CM 'M48.062' == 'm48062')."""
    return code.replace(".", "").strip().upper()


@functools.cache
def load_screen_rules() -> ScreenRules:
    return load_section("screen/rules.yaml", ScreenRules)


def code_rows(rules: ScreenRules) -> list[CodeRow]:
    """Every code that marks a signal, under each spelling of its system (URI and OIDs)."""
    from hipspine.ehr.valuesets import load_code_index, load_code_systems

    index = load_code_index()
    aliases: dict[str, list[str]] = {}
    for code_system in load_code_systems():
        aliases[code_system.uri] = [code_system.uri, *code_system.aliases]
    rows: list[CodeRow] = []
    for signal in rules.signals:
        entries: list[tuple[str, str, str, float | None]] = []
        for category in signal.valueset_categories:
            sets = index.in_category(category)
            if not sets:
                raise KnowledgeBaseError(f"screen signal {signal.id!r}: no value set has "
                                         f"category {category!r}")
            entries += [(c.system, c.code, c.display, None) for vs in sets for c in vs.codes]
        if signal.observation:
            o = signal.observation
            entries.append((o.system, o.code, signal.id, o.min_value))
        for system, code, display, min_value in entries:
            for spelling in aliases.get(system, [system]):
                rows.append(CodeRow(spelling, normalise_code(code), signal.id, display, min_value))
    return sorted(set(rows), key=lambda r: (r.signal, r.system, r.code))
