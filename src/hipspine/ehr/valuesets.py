"""Value sets (code lists) for hip and spine conditions, procedures and imaging.

The lists are data in `knowledge/valuesets/*.yaml` (one value set per file, schema in the
README beside them); this module validates them and answers "which value sets does this
coding belong to?" the same way for FHIR import, CDS Hooks and population screening.

    index = load_code_index()
    [vs.id for vs in index.match("http://hl7.org/fhir/sid/icd-10-cm", "M16.11")]
    # ['hip_oa']
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import Field, model_validator

from hipspine.errors import KnowledgeBaseError
from hipspine.kb import KBModel, Verification, knowledge_files, load_section
from hipspine.models.case import PainLocation, Side, TreatmentType

Category = Literal[
    "hip_oa", "lumbar_stenosis", "radiculopathy", "low_back_pain", "spondylolisthesis",
    "lumbar_spondylosis",
    "hip_pain", "trochanteric", "vascular", "hip_procedure", "spine_procedure",
    "hip_imaging", "spine_imaging", "comorbidity",
]
HistoryFlag = Literal["diabetes", "cardiovascular_disease", "smoker", "cancer_history"]

HIP_CATEGORIES: frozenset[str] = frozenset(
    {"hip_oa", "hip_pain", "hip_procedure", "hip_imaging"})
SPINE_CATEGORIES: frozenset[str] = frozenset(
    {"lumbar_stenosis", "radiculopathy", "low_back_pain", "spondylolisthesis",
     "lumbar_spondylosis", "spine_procedure", "spine_imaging"})


class Code(KBModel):
    system: str
    code: str
    display: str
    laterality: Side | None = None
    verified: Verification | None = None  # overrides the value set's own when one code is doubtful


class CaseMapping(KBModel):
    """What a matching resource fills in the case; at most one of the fields is set."""

    history_flag: HistoryFlag | None = None
    prior_treatment: TreatmentType | None = None
    pain_location: PainLocation | None = None

    @model_validator(mode="after")
    def _one(self) -> CaseMapping:
        if sum(v is not None for v in (self.history_flag, self.prior_treatment,
                                       self.pain_location)) != 1:
            raise ValueError("case_mapping sets exactly one of history_flag, prior_treatment, "
                             "pain_location")
        return self


class ValueSet(KBModel):
    id: str
    description: str
    category: Category
    citation: str
    citations: list[str] = Field(default_factory=list)
    verified: Verification
    note: str | None = None
    case_mapping: CaseMapping | None = None
    codes: list[Code] = Field(min_length=1)


class CodeSystem(KBModel):
    id: str
    uri: str
    aliases: list[str] = Field(default_factory=list)
    ignore_dots: bool = False
    citation: str


class CodeSystemsFile(KBModel):
    systems: list[CodeSystem]


class CodeIndex:
    """Look-up from (system, code) to the value sets containing it, tolerant of spelling.

    ICD-10-CM codes match with or without the dot and in any case; OID and legacy
    system URIs match their canonical URI.
    """

    def __init__(self, valuesets: Iterable[ValueSet], systems: Iterable[CodeSystem]) -> None:
        self.valuesets: dict[str, ValueSet] = {}
        self._canonical: dict[str, CodeSystem] = {}
        for system in systems:
            for uri in (system.uri, *system.aliases):
                self._canonical[uri.lower()] = system
        self._by_code: dict[tuple[str, str], list[tuple[ValueSet, Code]]] = {}
        for vs in valuesets:
            if vs.id in self.valuesets:
                raise KnowledgeBaseError(f"value set id {vs.id!r} is defined twice")
            self.valuesets[vs.id] = vs
            for code in vs.codes:
                self._by_code.setdefault(self._key(code.system, code.code), []).append((vs, code))

    def canonical_system(self, system: str | None) -> str | None:
        if not system:
            return None
        found = self._canonical.get(system.lower())
        return found.uri if found else system

    def _key(self, system: str | None, code: str) -> tuple[str, str]:
        found = self._canonical.get((system or "").lower())
        uri = found.uri if found else (system or "")
        text = code.strip()
        if found is not None and found.ignore_dots:
            text = text.replace(".", "").upper()
        return uri, text

    def match(self, system: str | None, code: str | None) -> list[ValueSet]:
        """Every value set that lists this coding (usually zero or one)."""
        return [vs for vs, _ in self.match_codes(system, code)]

    def match_codes(self, system: str | None, code: str | None) -> list[tuple[ValueSet, Code]]:
        """Like `match`, with the value-set entry (display, laterality) that matched."""
        if not code:
            return []
        return list(self._by_code.get(self._key(system, code), []))

    def match_concept(self, concept: Mapping[str, Any] | None) -> list[tuple[ValueSet, Code]]:
        """Match every coding of a FHIR CodeableConcept (a dict), without duplicate sets."""
        if not isinstance(concept, Mapping):
            return []
        seen: set[str] = set()
        out: list[tuple[ValueSet, Code]] = []
        codings = concept.get("coding")
        for coding in codings if isinstance(codings, list) else []:
            if not isinstance(coding, Mapping):
                continue
            for vs, code in self.match_codes(_str(coding.get("system")), _str(coding.get("code"))):
                if vs.id not in seen:
                    seen.add(vs.id)
                    out.append((vs, code))
        return out

    def in_category(self, category: str) -> list[ValueSet]:
        return [vs for vs in self.valuesets.values() if vs.category == category]


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def valueset_files() -> list[str]:
    return [f for f in knowledge_files() if f.startswith("valuesets/")]


def load_valuesets() -> list[ValueSet]:
    """Every value set in `knowledge/valuesets/`, validated; file name must equal the id."""
    out: list[ValueSet] = []
    for relpath in valueset_files():
        vs = load_section(relpath, ValueSet)
        stem = relpath.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        if vs.id != stem:
            raise KnowledgeBaseError(f"{relpath}: id {vs.id!r} must equal the file name {stem!r}")
        out.append(vs)
    return out


def load_code_systems() -> list[CodeSystem]:
    return load_section("ehr/code_systems.yaml", CodeSystemsFile).systems


@functools.cache
def load_code_index() -> CodeIndex:
    """The packaged value sets as one index (cached: knowledge files do not change at run time)."""
    return CodeIndex(load_valuesets(), load_code_systems())
