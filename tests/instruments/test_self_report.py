"""Patient questionnaires: strict answers, published questions, plain-language results."""

from __future__ import annotations

import pytest

from hipspine.errors import InputError
from hipspine.instruments import InstrumentKnowledge, questions, score_self_report


def test_questions_carry_wording_in_order(kb: InstrumentKnowledge) -> None:
    qs = questions(kb.get("konno2007_sshq"))
    assert [q.id for q in qs] == [f"q{i}" for i in range(1, 11)]
    assert all(q.kind == "yes_no" and q.text.endswith("?") for q in qs)
    age = questions(kb.get("sugioka2008_self_report_lss"))[0]
    assert (age.id, age.kind, age.answer_range) == ("age", "number", (18, 110))


def test_patient_sees_plain_language_without_jargon(kb: InstrumentKnowledge) -> None:
    answers = {"q1": True, "q2": True, "q3": True, "q4": True}
    result = score_self_report("konno2007_sshq", answers, kb)
    assert result.positive is True and result.score == "incomplete"
    assert "clinician" in result.interpretation
    assert "Q1" not in result.interpretation and "Still needed" not in result.interpretation


def test_unanswered_questions_are_unknown_not_no(kb: InstrumentKnowledge) -> None:
    result = score_self_report("konno2007_sshq", {"q1": True, "q2": None}, kb,
                               audience="clinician")
    assert result.positive is None
    assert "q2" in result.missing_items and "q5" in result.missing_items


@pytest.mark.parametrize(("answers", "field", "allowed"), [
    ({"q11": True}, "q11", "q1, q2"),
    ({"q1": "yes"}, "q1", "true, false or null"),
    ({"q1": 1}, "q1", "true, false or null"),
])
def test_bad_sshq_answers_name_the_question(kb: InstrumentKnowledge, answers: dict,
                                            field: str, allowed: str) -> None:
    with pytest.raises(InputError) as err:
        score_self_report("konno2007_sshq", answers, kb)
    [problem] = err.value.problems
    assert problem.field == field and allowed in problem.allowed


@pytest.mark.parametrize("age", [17, 111, True, "70", float("nan")])
def test_bad_age_is_rejected(kb: InstrumentKnowledge, age: object) -> None:
    with pytest.raises(InputError) as err:
        score_self_report("sugioka2008_self_report_lss", {"age": age}, kb)
    assert err.value.problems[0].field == "age"


def test_answers_must_be_an_object(kb: InstrumentKnowledge) -> None:
    with pytest.raises(InputError):
        score_self_report("konno2007_sshq", ["q1"], kb)  # type: ignore[arg-type]


@pytest.mark.parametrize(("calf", "thigh", "phrase"), [
    (True, True, "definite claudication"),
    (False, True, "atypical claudication"),
])
def test_edinburgh_classifies_by_pain_site(kb: InstrumentKnowledge, calf: bool, thigh: bool,
                                           phrase: str) -> None:
    answers = {"pain_walking": True, "begins_standing_or_sitting": False,
               "pain_uphill_or_hurry": True, "gone_within_10_min_standing": True,
               "pain_in_calf": calf, "pain_in_thigh_or_buttock": thigh}
    result = score_self_report("leng1992_edinburgh_claudication", answers, kb,
                               audience="clinician")
    assert result.positive is True and phrase in result.interpretation
