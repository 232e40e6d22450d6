"""The case format: strict validation that names the field, the value and what is allowed."""

from __future__ import annotations

import json

import pytest

from hipspine.errors import InputError
from hipspine.models import Case, parse_case

BASE = {"format": "hipspine.case/1"}


def _problem(data: dict) -> str:
    with pytest.raises(InputError) as info:
        parse_case(data)
    assert len(info.value.problems) >= 1
    return str(info.value)


def test_examples_validate(example_cases: dict[str, dict]) -> None:
    for name, data in example_cases.items():
        case = parse_case(data)
        assert case.format == "hipspine.case/1", name


def test_absent_means_unknown_not_negative() -> None:
    case = parse_case(BASE)
    assert case.symptoms.limp is None
    assert case.exam.straight_leg_raise_positive is None
    negative = parse_case({**BASE, "symptoms": {"limp": False}})
    assert negative.symptoms.limp is False


@pytest.mark.parametrize(
    ("data", "field", "value_text", "allowed_text"),
    [
        ({"age": 250}, "age", "250", "from 18 to 110"),
        ({"symptoms": {"pain_locations": ["knee-ish"]}}, "symptoms.pain_locations[0]",
         "'knee-ish'", "'groin'"),
        ({"tests": {"intra_articular_hip_injection_relief_pct": 140}},
         "tests.intra_articular_hip_injection_relief_pct", "140", "from 0 to 100"),
        ({"symptoms": {"pain_locatons": ["groin"]}}, "symptoms.pain_locatons", "['groin']",
         "did you mean 'pain_locations'"),
        ({"symptoms": {"limp": "yes"}}, "symptoms.limp", "'yes'", "true, false"),
        ({"setting": "emergency"}, "setting", "'emergency'", "'spine_clinic'"),
        ({"imaging": {"hip_oa": {"kellgren_lawrence": 5}}}, "imaging.hip_oa.kellgren_lawrence",
         "5", "from 0 to 4"),
        ({"imaging": {"lumbar_stenosis": {"levels": ["L4/5"]}}},
         "imaging.lumbar_stenosis.levels[0]", "'L4/5'", "L4-L5"),
        ({"history": {"prior_treatments": [{"type": "massage", "target": "hip"}]}},
         "history.prior_treatments[0].type", "'massage'", "'physiotherapy'"),
    ],
)
def test_bad_input_names_field_value_and_allowed(data: dict, field: str, value_text: str,
                                                 allowed_text: str) -> None:
    message = _problem({**BASE, **data})
    assert f"{field}: got {value_text}" in message
    assert allowed_text in message


def test_wrong_format_tag_and_missing_format() -> None:
    assert "format" in _problem({"format": "hipspine.case/2"})
    assert "required" in _problem({})


def test_json_text_errors_are_input_errors() -> None:
    with pytest.raises(InputError) as info:
        parse_case("{not json")
    assert "not valid JSON" in str(info.value)
    with pytest.raises(InputError):
        parse_case("[1, 2]")


def test_problem_dict_is_json_serialisable() -> None:
    with pytest.raises(InputError) as info:
        parse_case({**BASE, "age": 250, "sex": "x"})
    payload = info.value.as_dict()
    json.dumps(payload)
    assert {p["field"] for p in payload["problems"]} == {"age", "sex"}


def test_json_schema_export_mentions_every_section() -> None:
    schema = Case.model_json_schema()
    for section in ("history", "symptoms", "exam", "imaging", "tests", "proms", "notes"):
        assert section in schema["properties"]
