"""Value sets (code lists) for hip and spine conditions, procedures and imaging.

The lists are data in `knowledge/valuesets/*.yaml` (one value set per file, schema in the
README beside them); this module validates them and answers "which value sets does this
coding belong to?" the same way for FHIR import, CDS Hooks and population screening.
An ICD-10-CM entry marked `descendants: true` stands for the code and every code below it
in the ICD-10-CM tabular list (shipped by the `simple-icd-10-cm` package); it is expanded
into explicit codes once, at load time, so the screening SQL and the Python matcher see
the same flat list.

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
    "hip_imaging", "spine_imaging", "hip_encounter", "spine_encounter",
    "hip_injection", "spine_injection", "comorbidity",
]
HistoryFlag = Literal["diabetes", "cardiovascular_disease", "smoker", "cancer_history"]

HIP_CATEGORIES: frozenset[str] = frozenset(
    {"hip_oa", "hip_pain", "hip_procedure", "hip_imaging", "hip_encounter", "hip_injection"})
SPINE_CATEGORIES: frozenset[str] = frozenset(
    {"lumbar_stenosis", "radiculopathy", "low_back_pain", "spondylolisthesis",
     "lumbar_spondylosis", "spine_procedure", "spine_imaging", "spine_encounter",
     "spine_injection"})

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"


class Code(KBModel):
    system: str
    code: str
    display: str
    laterality: Side | None = None
    verified: Verification | None = None  # overrides the value set's own when one code is doubtful
    descendants: bool = False  # ICD-10-CM only: this code and every code below it


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

    Codes of a system marked `ignore_dots` (every packaged one, as the screening SQL
    normalises them) match with or without dots and in any case; OID and legacy system
    URIs match their canonical URI.
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
            vs = expand_descendants(vs, f"value set {vs.id}")
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


def expand_descendants(vs: ValueSet, where: str) -> ValueSet:
    """`vs` with each `descendants: true` entry followed by every code below it, explicitly.

    Every ICD-10-CM code must be in the tabular list, written as it is there (with the
    dot); a block (`C00-C14`) is allowed only with `descendants: true` and stands for its
    codes alone. An entry listed in the file wins over the same code reached by expansion
    (it may carry laterality). Idempotent, so an already expanded set comes back the same.
    """
    for code in vs.codes:
        if code.descendants and code.system != ICD10CM:
            raise KnowledgeBaseError(
                f"{where}: code {code.code!r} ({code.system}) has descendants: true; allowed: "
                f"only ICD-10-CM ({ICD10CM}) codes, whose hierarchy hipspine ships; list "
                "SNOMED CT descendants explicitly")
    if not any(code.system == ICD10CM for code in vs.codes):
        return vs
    tabular = _icd10cm_tabular()
    listed: set[str] = set()
    for code in vs.codes:
        key = f"{code.system}|{code.code}"
        if key in listed:
            raise KnowledgeBaseError(f"{where}: code {code.code!r} ({code.system}) is listed "
                                     "twice")
        listed.add(key)
        if code.system == ICD10CM:
            _check_icd10cm(tabular, code, where)
    out: list[Code] = []
    for code in vs.codes:
        if not (code.descendants and tabular.is_chapter_or_block(code.code)
                and not tabular.is_category_or_subcategory(code.code)):
            out.append(code)
    for code in vs.codes:
        if not code.descendants:
            continue
        for child in tabular.get_descendants(code.code):
            key = f"{ICD10CM}|{child}"
            if key in listed or not tabular.is_category_or_subcategory(child):
                continue
            listed.add(key)
            out.append(Code(system=ICD10CM, code=child, display=tabular.get_description(child),
                            laterality=code.laterality, verified=code.verified))
    return vs if len(out) == len(vs.codes) else vs.model_copy(update={"codes": out})


def _check_icd10cm(tabular: Any, code: Code, where: str) -> None:
    text = code.code
    if tabular.is_category_or_subcategory(text):
        if tabular.add_dot(text) != text:
            raise KnowledgeBaseError(
                f"{where}: ICD-10-CM code {text!r}; allowed: the code as the tabular list "
                f"writes it ({tabular.add_dot(text)!r})")
        return
    if tabular.is_chapter_or_block(text) and code.descendants:
        return
    what = ("an ICD-10-CM chapter or block, allowed only with descendants: true"
            if tabular.is_chapter_or_block(text) else
            "not in the ICD-10-CM tabular list shipped by simple-icd-10-cm "
            f"{_package_version('simple-icd-10-cm')}")
    raise KnowledgeBaseError(f"{where}: ICD-10-CM code {text!r} is {what}")


def _package_version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


def _icd10cm_tabular() -> Any:
    """The ICD-10-CM tabular list (CDC/CMS) as the `simple_icd_10_cm` module.

    Imported on first use only: parsing the tabular file takes about two seconds, paid once
    per process by the first value-set load, never by `import hipspine`.
    """
    import simple_icd_10_cm

    return simple_icd_10_cm


def valueset_files() -> list[str]:
    return [f for f in knowledge_files() if f.startswith("valuesets/")]


def load_valuesets() -> list[ValueSet]:
    """Every value set in `knowledge/valuesets/`, validated and with descendants expanded.

    The file name must equal the id; ICD-10-CM codes are checked against the tabular list.
    """
    out: list[ValueSet] = []
    for relpath in valueset_files():
        vs = load_section(relpath, ValueSet)
        stem = relpath.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        if vs.id != stem:
            raise KnowledgeBaseError(f"{relpath}: id {vs.id!r} must equal the file name {stem!r}")
        out.append(expand_descendants(vs, relpath))
    return out


def load_code_systems() -> list[CodeSystem]:
    return load_section("ehr/code_systems.yaml", CodeSystemsFile).systems


@functools.cache
def load_code_index() -> CodeIndex:
    """The packaged value sets as one index (cached: knowledge files do not change at run time)."""
    return CodeIndex(load_valuesets(), load_code_systems())
