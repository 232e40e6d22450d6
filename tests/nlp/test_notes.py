"""Exam findings from clinic notes: shorthand, lists of tests, sides, hedges."""

from __future__ import annotations

import pytest

from hipspine.nlp import load_nlp_knowledge
from hipspine.nlp.notes import read_exam_findings


@pytest.mark.parametrize(("note", "expected"), [
    ("FABER +ve right, FADIR -ve.", {"faber_positive": True, "fadir_positive": False}),
    ("Hip exam: FABER positive, FADIR negative, SLR negative.",
     {"faber_positive": True, "fadir_positive": False, "straight_leg_raise_positive": False}),
    ("FABER and FADIR positive.", {"faber_positive": True, "fadir_positive": True}),
    ("Patrick's test positive on the right.", {"faber_positive": True}),
    ("SLR (-) bilaterally.", {"straight_leg_raise_positive": False}),
    ("Straight leg raise reproduces leg pain at 40 degrees.",
     {"straight_leg_raise_positive": True}),
    ("SLR negative on the left, positive on the right.", {"straight_leg_raise_positive": True}),
    ("Hip ROM: IR painful and limited to 10 degrees.", {"pain_on_hip_internal_rotation": True}),
    ("No pain on hip internal rotation.", {"pain_on_hip_internal_rotation": False}),
    ("Tender over the left greater trochanter.", {"trochanteric_tenderness": True}),
    ("No trochanteric tenderness.", {"trochanteric_tenderness": False}),
    ("Romberg negative.", {"romberg_abnormal": False}),
    ("?positive femoral stretch test", {}),
    ("Femoral stretch test was not performed.", {}),
    ("Possibly positive FABER on the left.", {}),
])
def test_exam_findings(note: str, expected: dict[str, bool]) -> None:
    values, evidence = read_exam_findings([note], load_nlp_knowledge())
    assert values == expected
    assert all(e.field.startswith(("exam.", "symptoms.", "history.")) and e.text
               for e in evidence)
