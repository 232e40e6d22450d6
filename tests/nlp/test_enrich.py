"""enrich_case: text fills absent fields only, and says which ones it filled."""

from __future__ import annotations

from hipspine.models import parse_case
from hipspine.models.case import Case
from hipspine.nlp import enrich_case


def _case(**parts: object) -> Case:
    return parse_case({"format": "hipspine.case/1", **parts})


def test_report_fills_absent_imaging_and_names_the_fields() -> None:
    case = _case(imaging={"reports": [
        "AP pelvis: moderate joint space narrowing of the right hip with osteophytes.",
        "MRI L-spine: L4-5 severe central canal stenosis. Grade 1 anterolisthesis of L4 on L5."]})
    enriched = enrich_case(case)
    imaging = enriched.case.imaging
    assert imaging.hip_oa is not None and imaging.hip_oa.side == "right"
    assert imaging.hip_oa.kellgren_lawrence == 3
    assert imaging.lumbar_stenosis is not None
    assert imaging.lumbar_stenosis.severity == "severe"
    assert imaging.lumbar_stenosis.levels == ["L4-L5"]
    assert imaging.spondylolisthesis is not None and imaging.spondylolisthesis.grade == 1
    assert enriched.from_text == ["imaging.hip_oa", "imaging.lumbar_stenosis",
                                  "imaging.spondylolisthesis"]
    assert enriched.texts_read == ["imaging.reports[0]", "imaging.reports[1]"]


def test_structured_values_are_never_overwritten() -> None:
    case = _case(imaging={"hip_oa": {"side": "left", "kellgren_lawrence": 1},
                          "reports": ["Severe right hip osteoarthritis."]},
                 exam={"faber_positive": False}, notes=["FABER positive on the right."])
    enriched = enrich_case(case)
    assert enriched.case.imaging.hip_oa == case.imaging.hip_oa
    assert enriched.case.exam.faber_positive is False
    assert enriched.from_text == []


def test_notes_fill_plain_exam_findings_and_skip_hedged_ones() -> None:
    case = _case(notes=["O/E: positive FABER on the left. SLR negative bilaterally. "
                        "?positive femoral stretch test."])
    enriched = enrich_case(case)
    assert enriched.case.exam.faber_positive is True
    assert enriched.case.exam.straight_leg_raise_positive is False
    assert enriched.case.exam.femoral_stretch_positive is None
    assert set(enriched.from_text) == {"exam.faber_positive", "exam.straight_leg_raise_positive"}


def test_case_without_text_comes_back_unchanged() -> None:
    case = _case(age=70)
    enriched = enrich_case(case)
    assert enriched.case == case and enriched.from_text == [] and enriched.texts_read == []
