"""The instrument knowledge files: strict shape, resolvable citations, real case fields."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from tests.instruments.conftest import make_case

from hipspine.errors import NotFoundError
from hipspine.instruments import InstrumentKnowledge, evaluate_all
from hipspine.instruments.definitions import InstrumentDefinition
from hipspine.instruments.knowledge import case_field_exists
from hipspine.kb import load_references

TINY: dict[str, Any] = {
    "id": "tiny", "name": "Tiny", "subject": "case", "target": "hip",
    "citation": "altman1991", "verified": "unverified", "score": "points",
    "score_min": 0, "score_max": 1,
    "items": [{"id": "groin", "label": "Groin pain",
               "when": {"field": "symptoms.pain_locations", "contains_any": ["groin"]},
               "points": 1}],
    "positive_if": {"score_at_least": 1},
    "interpretation": {"positive": "P.", "negative": "N.", "undecided": "U."},
    "examples": [{"name": "x", "source": "y", "input": {}, "score": "incomplete",
                  "positive": None}],
}


def test_public_api_is_curated() -> None:
    import hipspine.instruments as api
    assert sorted(api.__all__) == sorted(
        ["InstrumentDefinition", "InstrumentKnowledge", "Question", "evaluate",
         "evaluate_all", "load_instrument_knowledge", "questions", "score_self_report",
         "summaries"])


def test_every_instrument_cites_a_known_reference_and_reads_real_fields(
        kb: InstrumentKnowledge) -> None:
    refs = load_references()
    assert len(kb.instruments) >= 8
    for defn in kb.instruments:
        assert defn.citation in refs
        assert kb.citation(defn).startswith(refs[defn.citation].authors.split(" ")[0])
        if defn.subject == "case":
            assert all(case_field_exists(f) for f in defn.fields())


def test_issue_instruments_are_present(kb: InstrumentKnowledge) -> None:
    ids = {d.id for d in kb.instruments}
    assert {"konno2007_lss", "acr1991_hip_oa_clinical", "acr1991_hip_oa_clinical_radiographic",
            "sutlive2008_hip_oa", "laslett2005_sij", "nadeau2013_neurogenic_claudication",
            "nadeau2013_vascular_claudication", "konno2007_sshq",
            "sugioka2008_self_report_lss"} <= ids
    assert kb.get("sutlive2008_hip_oa").preliminary


def test_case_field_check_rejects_typos() -> None:
    assert case_field_exists("exam.faber_positive")
    assert case_field_exists("imaging.hip_oa.kellgren_lawrence")
    assert not case_field_exists("exam.faber_postive")
    assert not case_field_exists("imaging.hip_oa.grade")


def test_core_takes_a_hand_made_knowledge_base() -> None:
    kb = InstrumentKnowledge(instruments=(InstrumentDefinition.model_validate(TINY),),
                             citations={"altman1991": "Altman 1991"}, version="test")
    [result] = evaluate_all(make_case({"symptoms": {"pain_locations": ["groin"]}}), kb)
    assert (result.id, result.score, result.positive) == ("tiny", 1, True)
    [unknown] = evaluate_all(make_case({}), kb)
    assert unknown.score == "incomplete" and unknown.missing_items == ["symptoms.pain_locations"]
    with pytest.raises(NotFoundError):
        kb.get("nope")


@pytest.mark.parametrize(("change", "message"), [
    ({"surprise": 1}, "Extra inputs"),
    ({"score_max": 0}, "outside declared"),
    ({"positive_if": {"rule": {"item": "ghost"}}}, "unknown item"),
    ({"positive_if": {}}, "exactly one"),
    ({"items": [{"id": "a", "label": "A", "when": {"field": "age"}, "points": 1}]},
     "exactly one test"),
    ({"items": [{"id": "a", "label": "A", "when": {"field": "age", "above": 1, "below": 9},
                 "points": 1}]}, "exactly one test"),
    ({"examples": []}, "at least 1"),
])
def test_malformed_definitions_are_rejected(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        InstrumentDefinition.model_validate({**TINY, **change})


def test_evaluate_all_matches_one_by_one_scoring(kb: InstrumentKnowledge) -> None:
    from hipspine.instruments import evaluate

    for data in ({}, {"age": 72, "symptoms": {"pain_locations": ["groin"]}},
                 {"exam": {"sij_provocation_positive_count": 4}}):
        case = make_case(data)
        together = evaluate_all(case, kb)
        assert together == [evaluate(r.id, case, kb) for r in together]
        assert evaluate_all(case, kb) == together  # memoised results are stable


def test_instrument_page_names_every_instrument(kb: InstrumentKnowledge) -> None:
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "instruments.md").read_text()
    for defn in kb.instruments:
        assert f"`{defn.id}`" in page, f"docs/instruments.md lacks {defn.id}"


def test_summaries_list_every_instrument_with_its_source(kb: InstrumentKnowledge) -> None:
    from hipspine.instruments import summaries

    rows = summaries(kb)
    assert [r["id"] for r in rows] == [d.id for d in kb.instruments]
    assert all(r["citation"] and r["verified"] in {"primary", "secondary", "unverified"}
               for r in rows)
