"""Medicines and allergies from FHIR: which drug class a record is, and whether it counts.

A medicine is matched by its ingredient whatever the product code (RxNorm SCD, SBD or pack
through the product table; an RxNorm ingredient code directly; ATC by group prefix), and only
then, with a warning, by the ingredient or brand names in its text. Whether a record counts
(status, intent, period, authoredOn against the import's as-of date; an allergy's clinical and
verification status) is the `active_rule` of `knowledge/ehr/medications.yaml`. Pure: resources
and knowledge come in as parameters; `hipspine.ehr.fhir_in` writes the results into the case.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field, model_validator

from hipspine.ehr.fhir_dates import fhir_date
from hipspine.kb import KBModel, Verification, load_section

MedicationFact = Literal[
    "history.anticoagulant", "history.antiplatelet", "history.nsaid_use",
    "history.opioid_use", "history.gabapentinoid_use", "history.corticosteroid_use"]
AllergyFactName = Literal["history.nsaid_intolerance"]

# Every code of the R4 value sets, so the knowledge file must place each one (count or skip).
R4_REQUEST_STATUS = {"active", "on-hold", "cancelled", "completed", "entered-in-error",
                     "stopped", "draft", "unknown"}
R4_REQUEST_INTENT = {"proposal", "plan", "order", "original-order", "reflex-order",
                     "filler-order", "instance-order", "option"}
R4_STATEMENT_STATUS = {"active", "completed", "entered-in-error", "intended", "stopped",
                       "on-hold", "unknown", "not-taken"}


class AtcGroup(KBModel):
    prefix: str = Field(pattern=r"^[A-Z][0-9]{2}[A-Z]{0,2}[0-9]{0,2}$")
    name: str
    verified: Verification
    note: str | None = None


class Ingredient(KBModel):
    name: str
    rxcui: str | None = Field(default=None, pattern=r"^[0-9]+$")
    atc: list[str] = Field(default_factory=list)
    brands: list[str] = Field(default_factory=list)
    source: str
    verified: Verification
    note: str | None = None


class DrugClass(KBModel):
    id: str
    label: str
    fact: MedicationFact
    citation: str
    verified: Verification
    note: str | None = None
    exclude_form_words: list[str] = Field(default_factory=list)
    atc_groups: list[AtcGroup] = Field(default_factory=list)
    ingredients: list[Ingredient]


class AllergyFact(KBModel):
    fact: AllergyFactName
    classes: list[str]
    extra_ingredients: list[str] = Field(default_factory=list)
    citation: str
    verified: Verification
    note: str | None = None


class Product(KBModel):
    rxcui: str = Field(pattern=r"^[0-9]+$")
    name: str
    tty: Literal["SCD", "SBD", "GPCK", "BPCK"]
    ingredients: list[str] = Field(min_length=1)
    source: str
    how: str


class ProductTable(KBModel):
    citation: str
    verified: Verification
    note: str | None = None
    rows: list[Product]


class RequestRule(KBModel):
    count_status: list[str]
    skip_status: list[str]
    count_intent: list[str]
    skip_intent: list[str]
    citation: str
    verified: Verification
    note: str | None = None


class StatementRule(KBModel):
    count_status: list[str]
    skip_status: list[str]
    citation: str
    verified: Verification
    note: str | None = None


class PeriodRule(KBModel):
    stale_after_days: int = Field(ge=1)
    citation: str
    verified: Verification
    note: str | None = None


class AllergyRule(KBModel):
    skip_verification: list[str]
    skip_clinical: list[str]
    citation: str
    verified: Verification
    note: str | None = None


class ActiveRule(KBModel):
    medication_request: RequestRule
    medication_statement: StatementRule
    period: PeriodRule
    allergy: AllergyRule


class CodeSystems(KBModel):
    rxnorm: list[str]
    atc: list[str]


class MedicationKnowledge(KBModel):
    code_systems: CodeSystems
    other_ingredients: list[Ingredient] = Field(default_factory=list)
    classes: list[DrugClass]
    allergy_facts: list[AllergyFact]
    products: ProductTable
    active_rule: ActiveRule

    @model_validator(mode="after")
    def _consistent(self) -> MedicationKnowledge:
        names = [i.name for c in self.classes for i in c.ingredients]
        names += [i.name for i in self.other_ingredients]
        _unique("ingredient name", names)
        _unique("ingredient rxcui", [i.rxcui for c in self.classes for i in c.ingredients
                                     if i.rxcui] + [i.rxcui for i in self.other_ingredients
                                                    if i.rxcui])
        _unique("class id", [c.id for c in self.classes])
        _unique("class fact", [c.fact for c in self.classes])
        _unique("product rxcui", [p.rxcui for p in self.products.rows])
        known = set(names)
        for p in self.products.rows:
            for name in p.ingredients:
                if name not in known:
                    raise ValueError(f"product {p.rxcui}: ingredient {name!r} is in no class "
                                     "or other_ingredients")
        ids = {c.id for c in self.classes}
        for a in self.allergy_facts:
            for cid in a.classes:
                if cid not in ids:
                    raise ValueError(f"allergy fact {a.fact}: class {cid!r} is not defined")
            for name in a.extra_ingredients:
                if name not in known:
                    raise ValueError(f"allergy fact {a.fact}: ingredient {name!r} is unknown")
        rule = self.active_rule
        _covers("medication_request status", rule.medication_request.count_status,
                rule.medication_request.skip_status, R4_REQUEST_STATUS)
        _covers("medication_request intent", rule.medication_request.count_intent,
                rule.medication_request.skip_intent, R4_REQUEST_INTENT)
        _covers("medication_statement status", rule.medication_statement.count_status,
                rule.medication_statement.skip_status, R4_STATEMENT_STATUS)
        return self


def _unique(what: str, values: list[Any]) -> None:
    seen: set[Any] = set()
    for v in values:
        if v in seen:
            raise ValueError(f"duplicate {what} {v!r}")
        seen.add(v)


def _covers(what: str, count: list[str], skip: list[str], codes: set[str]) -> None:
    """Each R4 code placed exactly once: counted or skipped, never both, never forgotten."""
    if set(count) & set(skip) or set(count) | set(skip) != codes or \
            len(count) + len(skip) != len(codes):
        raise ValueError(f"active_rule {what}: count {count} and skip {skip} must together "
                         f"list each of {sorted(codes)} once")


@functools.cache
def load_medication_knowledge() -> MedicationKnowledge:
    """The packaged drug classes, product table and active rule (validated, cached)."""
    return load_section("ehr/medications.yaml", MedicationKnowledge)


# ---------------------------------------------------------------- matching a medicine

@dataclass(frozen=True)
class Match:
    """What a coded medicine or substance is: its ingredients and, through them, classes."""

    ingredients: tuple[str, ...]
    classes: tuple[str, ...]          # class ids
    how: str                          # "RxNorm 855332 (SCD ...) -> warfarin"
    from_text: bool = False           # matched by name in the text only: a warning
    local_form: str | None = None     # a dose-form word that makes it not systemic


@dataclass
class MedicationIndex:
    """Look-ups built once from the knowledge: product and ingredient codes, ATC groups."""

    knowledge: MedicationKnowledge
    products: dict[str, Product] = field(init=False)
    by_rxcui: dict[str, str] = field(init=False)
    class_of: dict[str, list[str]] = field(init=False)
    classes: dict[str, DrugClass] = field(init=False)
    names: re.Pattern[str] = field(init=False)
    name_of: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        kb = self.knowledge
        self.products = {p.rxcui: p for p in kb.products.rows}
        self.classes = {c.id: c for c in kb.classes}
        every = [i for c in kb.classes for i in c.ingredients] + list(kb.other_ingredients)
        self.by_rxcui = {i.rxcui: i.name for i in every if i.rxcui}
        self.class_of = {}
        for c in kb.classes:
            for i in c.ingredients:
                self.class_of.setdefault(i.name, []).append(c.id)
        self.name_of = {i.name.lower(): i.name for i in every}
        self.name_of.update({b.lower(): i.name for i in every for b in i.brands})
        words = sorted(self.name_of, key=len, reverse=True)
        self.names = re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b",
                                re.IGNORECASE)

    def match(self, concept: Any) -> Match | None:
        """The class match of a CodeableConcept: codes first, then (warned) its text."""
        if not isinstance(concept, Mapping):
            return None
        systems = self.knowledge.code_systems
        codings = [c for c in _list(concept.get("coding")) if isinstance(c, Mapping)]
        for coding in codings:
            system = str(coding.get("system", "")).rstrip("/")
            code = str(coding.get("code", "")).strip()
            if not code:
                continue
            if system in systems.rxnorm:
                found = self._rxnorm(code, concept)
            elif system in systems.atc:
                found = self._atc(code.upper())
            else:
                found = None
            if found is not None:
                return found
        return self._text(concept, codings)

    def _rxnorm(self, code: str, concept: Mapping[str, Any]) -> Match | None:
        product = self.products.get(code)
        if product is not None:
            how = (f"RxNorm {code} ({product.tty} {product.name}) -> "
                   f"{' + '.join(product.ingredients)}")
            return self._of(tuple(product.ingredients), how, product.name)
        name = self.by_rxcui.get(code)
        if name is not None:
            return self._of((name,), f"RxNorm ingredient {code} ({name})",
                            _display(concept))
        return None

    def _atc(self, code: str) -> Match | None:
        exact = tuple(i.name for c in self.knowledge.classes for i in c.ingredients
                      if code in i.atc)
        if exact:
            return self._of(exact, f"ATC {code} ({' + '.join(exact)})", "")
        for c in self.knowledge.classes:
            for group in c.atc_groups:
                if code.startswith(group.prefix):
                    named = [i.name for i in c.ingredients if code in i.atc]
                    return Match(ingredients=tuple(named), classes=(c.id,),
                                 how=f"ATC {code} (in group {group.prefix}, {group.name})")
        return None

    def _text(self, concept: Mapping[str, Any], codings: list[Mapping[str, Any]]) -> Match | None:
        texts = [concept.get("text")] + [c.get("display") for c in codings]
        for text in texts:
            if not isinstance(text, str):
                continue
            found = [self.name_of[m.lower()] for m in self.names.findall(text)]
            if found:
                ingredients = tuple(dict.fromkeys(found))
                codes = ", ".join(f"{c.get('system', '?')} {c.get('code', '?')}"
                                  for c in codings) or "no code"
                match = self._of(ingredients, f"text {text!r} names {' + '.join(ingredients)}"
                                 f" ({codes} not in the product table)", text)
                if not match.classes:
                    continue  # e.g. acetaminophen alone: in no class, nothing to warn about
                return Match(match.ingredients, match.classes, match.how, True,
                             match.local_form)
        return None

    def _of(self, ingredients: tuple[str, ...], how: str, name: str) -> Match:
        classes = tuple(dict.fromkeys(c for i in ingredients for c in self.class_of.get(i, [])))
        return Match(ingredients, classes, how, local_form=_form_word(name, classes, self))

    def counted_classes(self, match: Match) -> list[DrugClass]:
        """The classes a medicine counts for: a local (topical, inhaled) form counts for no
        class that excludes that form."""
        out = []
        for cid in match.classes:
            cls = self.classes[cid]
            if match.local_form and match.local_form in cls.exclude_form_words:
                continue
            out.append(cls)
        return out

    def allergy_facts(self, match: Match) -> list[AllergyFact]:
        """The allergy facts a substance sets (its ingredients in the fact's classes)."""
        out = []
        for a in self.knowledge.allergy_facts:
            members = {i.name for cid in a.classes for i in self.classes[cid].ingredients}
            if set(match.ingredients) & (members | set(a.extra_ingredients)) or (
                    not match.ingredients and set(match.classes) & set(a.classes)):
                out.append(a)
        return out


def _form_word(name: str, classes: tuple[str, ...], index: MedicationIndex) -> str | None:
    words = {w for cid in classes for w in index.classes[cid].exclude_form_words}
    for word in sorted(words):
        if re.search(rf"\b{re.escape(word)}\b", name, re.IGNORECASE):
            return word
    return None


@functools.cache
def packaged_index() -> MedicationIndex:
    return MedicationIndex(load_medication_knowledge())


# ---------------------------------------------------------------- does it count?

@dataclass(frozen=True)
class Verdict:
    counts: bool
    why: str
    stale: bool = False   # counts, but authored long before as-of with no end: warn


def request_verdict(res: Mapping[str, Any], rule: ActiveRule, as_of: dt.date) -> Verdict:
    """Whether a MedicationRequest counts (knowledge `active_rule.medication_request`)."""
    r = rule.medication_request
    status = _str(res.get("status"))
    if status not in r.count_status:
        return Verdict(False, f"status {status or 'missing'}{_since(res.get('authoredOn'))}")
    intent = _str(res.get("intent"))
    if intent not in r.count_intent:
        return Verdict(False, f"intent {intent or 'missing'}")
    authored = fhir_date(res.get("authoredOn"))
    if authored is not None and authored > as_of:
        return Verdict(False, f"authored {authored.isoformat()}, after as-of {as_of}")
    dispense = res.get("dispenseRequest")
    period = dispense.get("validityPeriod") if isinstance(dispense, Mapping) else None
    return _period_verdict(status, period, authored, rule.period, as_of, "validity")


def statement_verdict(res: Mapping[str, Any], rule: ActiveRule, as_of: dt.date) -> Verdict:
    """Whether a MedicationStatement counts (`active_rule.medication_statement`)."""
    status = _str(res.get("status"))
    if status not in rule.medication_statement.count_status:
        return Verdict(False, f"status {status or 'missing'}"
                              f"{_since(res.get('effectiveDateTime') or res.get('dateAsserted'))}")
    period = res.get("effectivePeriod")
    when = fhir_date(res.get("effectiveDateTime")) or fhir_date(res.get("dateAsserted"))
    if when is not None and not isinstance(period, Mapping) and when > as_of:
        return Verdict(False, f"taken from {when.isoformat()}, after as-of {as_of}")
    return _period_verdict(status, period, when, rule.period, as_of, "effective period")


def allergy_verdict(res: Mapping[str, Any], rule: ActiveRule) -> Verdict:
    """Whether an AllergyIntolerance counts (`active_rule.allergy`)."""
    a = rule.allergy
    verification = _status_code(res.get("verificationStatus"))
    if verification in a.skip_verification:
        return Verdict(False, f"verificationStatus {verification}")
    clinical = _status_code(res.get("clinicalStatus"))
    if clinical in a.skip_clinical:
        return Verdict(False, f"clinicalStatus {clinical}")
    parts = [f"clinicalStatus {clinical or 'not given'}",
             f"verificationStatus {verification or 'not given'}"]
    return Verdict(True, ", ".join(parts))


def _period_verdict(status: str | None, period: Any, start: dt.date | None,
                    rule: PeriodRule, as_of: dt.date, what: str) -> Verdict:
    begins = fhir_date(period.get("start")) if isinstance(period, Mapping) else None
    ends = fhir_date(period.get("end")) if isinstance(period, Mapping) else None
    if ends is not None and ends < as_of:
        return Verdict(False, f"status {status} but {what} ended {ends.isoformat()}, before "
                              f"as-of {as_of}")
    if begins is not None and begins > as_of:
        return Verdict(False, f"{what} starts {begins.isoformat()}, after as-of {as_of}")
    since = begins or start
    stale = ends is None and since is not None and (as_of - since).days > rule.stale_after_days
    why = f"status {status}" + (f" since {since.isoformat()}" if since else "")
    if stale:
        why += f" ({(as_of - since).days} days before as-of, no end given)"  # type: ignore[operator]
    return Verdict(True, why, stale)


def _since(value: Any) -> str:
    when = fhir_date(value)
    return f" (authored {when.isoformat()})" if when else ""


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _status_code(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        for coding in _list(value.get("coding")):
            if isinstance(coding, Mapping) and isinstance(coding.get("code"), str):
                return str(coding["code"])
    return None


def _display(concept: Mapping[str, Any]) -> str:
    if isinstance(concept.get("text"), str):
        return str(concept["text"])
    for coding in _list(concept.get("coding")):
        if isinstance(coding, Mapping) and isinstance(coding.get("display"), str):
            return str(coding["display"])
    return ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def medication_concept(res: Mapping[str, Any],
                       medications: Mapping[str, Mapping[str, Any]]) -> Any:
    """`medicationCodeableConcept`, or the code of the Medication that `medicationReference`
    names (contained `#id`, `Medication/id` or a bundle `fullUrl`)."""
    concept = res.get("medicationCodeableConcept")
    if concept is not None:
        return concept
    ref = res.get("medicationReference")
    target = ref.get("reference") if isinstance(ref, Mapping) else None
    if not isinstance(target, str):
        return None
    if target.startswith("#"):
        for inner in _list(res.get("contained")):
            if isinstance(inner, Mapping) and f"#{inner.get('id')}" == target:
                return inner.get("code")
        return None
    found = medications.get(target) or medications.get(target.rsplit("/", 1)[-1])
    return found.get("code") if found is not None else None
