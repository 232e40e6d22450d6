"""One pre-fill model for the intake: each value with where it came from.

A `Prefill` maps an intake field path (`age`, `exam.faber_positive`, ...) to a
`PrefilledValue(value, source)`. Every way of starting an intake feeds it: the patient's
registry record (`from_record`), the patient's self-report or a case document
(`from_case`), the last stored assessment (`from_case(..., LAST_ASSESSMENT)`), and, later,
a chart read through FHIR: map the FHIR Patient to `RecordFacts` with
`source=FHIR_CHART` (`facts_from_fhir_patient`) and its findings to a case document.

`RecordFacts` are the facts about the patient a case must agree with (year of birth, sex):
`record_conflicts` names each disagreement with both values, so the intake refuses to save
a case that contradicts the record.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from hipspine.errors import Problem

Source = Literal["patient record", "self-report", "last assessment", "case document",
                 "FHIR chart"]
PATIENT_RECORD: Source = "patient record"
SELF_REPORT: Source = "self-report"
LAST_ASSESSMENT: Source = "last assessment"
CASE_DOCUMENT: Source = "case document"
FHIR_CHART: Source = "FHIR chart"

# An age from a year of birth alone is this year minus it, or one less before the birthday.
AGE_TOLERANCE_YEARS = 1


class PrefilledValue(BaseModel):
    model_config = ConfigDict(frozen=True)

    value: Any
    source: Source


class Prefill(BaseModel):
    """{field path: (value, source)} for the intake form."""

    model_config = ConfigDict(frozen=True)

    fields: dict[str, PrefilledValue] = {}

    @classmethod
    def of(cls, values: dict[str, Any], source: Source) -> Prefill:
        return cls(fields={k: PrefilledValue(value=v, source=source) for k, v in values.items()
                           if v is not None and v != "" and v != []})

    def over(self, other: Prefill) -> Prefill:
        """These values, and `other`'s where this has none (this one wins)."""
        return Prefill(fields={**other.fields, **self.fields})

    def values(self) -> dict[str, Any]:
        return {k: v.value for k, v in self.fields.items()}

    def sources(self) -> dict[str, str]:
        return {k: v.source for k, v in self.fields.items()}

    def source_names(self) -> list[str]:
        """The distinct sources, in the order first met."""
        return list(dict.fromkeys(v.source for v in self.fields.values()))


class RecordFacts(BaseModel):
    """What the patient's record says about them, and where the record is."""

    model_config = ConfigDict(frozen=True)

    year_of_birth: int | None = None
    sex: str | None = None
    source: Source = PATIENT_RECORD


def age_from_year_of_birth(year_of_birth: int, today: dt.date | None = None) -> int:
    return (today or dt.date.today()).year - year_of_birth


def from_record(facts: RecordFacts, today: dt.date | None = None) -> Prefill:
    """Age (from the year of birth) and sex from the patient's record."""
    values: dict[str, Any] = {}
    if facts.year_of_birth is not None:
        values["age"] = age_from_year_of_birth(facts.year_of_birth, today)
    if facts.sex is not None:
        values["sex"] = facts.sex
    return Prefill.of(values, facts.source)


def from_case(case: dict[str, Any], source: Source) -> Prefill:
    """A case document (self-report, case file, last assessment, FHIR chart) as a pre-fill."""
    from hipspine.web.intake import form_values

    values = form_values(case)
    values.pop("format", None)
    return Prefill.of(values, source)


def facts_from_fhir_patient(resource: dict[str, Any]) -> RecordFacts:
    """A FHIR R4 Patient's birth year and administrative gender as record facts."""
    birth = str(resource.get("birthDate", ""))[:4]
    gender = resource.get("gender")
    return RecordFacts(year_of_birth=int(birth) if birth.isdigit() else None,
                       sex=gender if gender in ("female", "male", "other") else None,
                       source=FHIR_CHART)


def record_conflicts(age: int | None, sex: str | None, facts: RecordFacts,
                     today: dt.date | None = None) -> list[Problem]:
    """Each way the case's age or sex contradicts the record, naming both values."""
    problems: list[Problem] = []
    where = "the chart" if facts.source == FHIR_CHART else "the patient record"
    if age is not None and facts.year_of_birth is not None:
        expected = age_from_year_of_birth(facts.year_of_birth, today)
        if abs(age - expected) > AGE_TOLERANCE_YEARS:
            problems.append(Problem(
                "age", age, f"an age matching {where} (born {facts.year_of_birth}: "
                f"{expected - 1} or {expected})",
                f"age {age} contradicts {where}: born {facts.year_of_birth}, so "
                f"{expected - 1} or {expected} years old"))
    if sex is not None and facts.sex is not None and sex != facts.sex:
        problems.append(Problem(
            "sex", sex, f"the sex in {where} ({facts.sex})",
            f"sex {sex} contradicts {where}: {facts.sex}"))
    return problems
