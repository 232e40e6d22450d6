"""The value sets load, cite real references, and match codes however real exports spell them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hipspine.ehr.valuesets import (
    SPINE_CATEGORIES,
    CodeIndex,
    CodeSystem,
    ValueSet,
    load_code_index,
    load_valuesets,
)
from hipspine.errors import KnowledgeBaseError

ICD = "http://hl7.org/fhir/sid/icd-10-cm"
SCT = "http://snomed.info/sct"


def test_every_value_set_loads_with_a_category_and_codes() -> None:
    sets = load_valuesets()
    ids = {vs.id for vs in sets}
    assert {"hip_oa", "lumbar_stenosis", "lumbar_radiculopathy", "low_back_pain",
            "hip_arthroplasty", "lumbar_fusion", "hip_imaging", "spine_imaging"} <= ids
    for vs in sets:
        assert vs.codes


@pytest.mark.parametrize(("system", "code", "expected"), [
    (ICD, "M16.11", "hip_oa"),
    (ICD, "M1611", "hip_oa"),                       # dot dropped, as many claims feeds send it
    (ICD, "m16.11", "hip_oa"),
    ("urn:oid:2.16.840.1.113883.6.90", "M48.062", "lumbar_stenosis"),
    (SCT, "239872002", "hip_oa"),                   # Synthea's hip OA code
    (SCT, "278860009", "low_back_pain"),            # present in the Synthea sample
    ("http://www.ama-assn.org/go/cpt", "27130", "hip_arthroplasty"),
    ("urn:oid:2.16.840.1.113883.6.12", "63047", "lumbar_decompression"),
    (ICD, "M48.062", "lumbar_stenosis"),            # listed only through M48.06's descendants
    ("http://nucc.org/provider-taxonomy", "207xs0117x", "spine_encounter"),  # case, as in SQL
])
def test_codes_match_in_every_spelling(system: str, code: str, expected: str) -> None:
    assert [vs.id for vs in load_code_index().match(system, code)] == [expected]


LOINC = "http://loinc.org"


@pytest.mark.parametrize(("system", "code", "expected", "side"), [
    # SNOMED CT concepts real exports use, read in the HL7 IPS free set or a VSAC expansion
    (SCT, "201835007", "hip_oa", None),                   # primary OA, pelvic region and thigh
    (SCT, "370471003", "lumbar_stenosis", None),          # lumbosacral stenosis
    (SCT, "128196005", "lumbar_radiculopathy", None),
    (SCT, "267982002", "low_back_pain", None),            # OHDSI cohort 279
    (SCT, "4046000", "spondylolisthesis", None),
    (SCT, "239880009", "lumbar_spondylosis", None),
    (SCT, "7674000", "trochanteric_pain", None),
    (SCT, "5561000119107", "peripheral_artery_disease", None),  # VSAC 2020 expansion only
    (SCT, "770606008", "hip_arthroplasty", "left"),       # VSAC Primary THA Procedure
    (SCT, "62402000", "hip_arthroplasty", None),          # revision of a total hip
    (SCT, "442118009", "lumbar_decompression", None),
    (SCT, "50172003", "lumbar_fusion", None),
    ("urn:oid:2.16.840.1.113883.6.96", "448942003", "lumbar_fusion", None),
    # LOINC imaging (VSAC X-Ray Study), side from the long common name
    (LOINC, "26131-3", "hip_imaging", "left"),            # XR Hip - left Views
    ("urn:oid:2.16.840.1.113883.6.1", "30679-5", "spine_imaging", None),  # MR L-spine WO
    (LOINC, "30817-1", "spine_injection", None),          # facet injection guidance
    (LOINC, "30638-1", "hip_injection", None),
])
def test_snomed_and_loinc_concepts_match_with_their_side(system: str, code: str, expected: str,
                                                         side: str | None) -> None:
    [(vs, entry)] = load_code_index().match_codes(system, code)
    assert (vs.id, entry.laterality) == (expected, side)


def test_a_study_of_pelvis_and_lumbar_spine_is_a_work_up_of_both() -> None:
    assert {vs.id for vs in load_code_index().match(LOINC, "37256-5")} == {
        "hip_imaging", "spine_imaging"}


def test_codes_left_out_by_design_do_not_match() -> None:
    index = load_code_index()
    for code in ("128200000",   # unconfirmed radiculopathy code, removed
                 "76107001",    # spinal stenosis of any region (cervical too)
                 "398010007",   # prosthetic arthroplasty of hip, total or partial
                 "283165009"):  # laminectomy at no named level
        assert index.match(SCT, code) == [], code
    for code in ("24867-4",     # MR Pelvis (mostly visceral)
                 "24966-4",     # DXA lumbar spine, a bone-density test
                 "37975-0"):    # thoracolumbar junction views
        assert index.match(LOINC, code) == [], code


def test_unknown_code_and_wrong_system_do_not_match() -> None:
    index = load_code_index()
    assert index.match(ICD, "J45.909") == []
    assert index.match(SCT, "M16.11") == []          # an ICD code under the SNOMED system
    assert index.match(None, None) == []


def test_laterality_comes_from_the_code() -> None:
    [(vs, code)] = load_code_index().match_codes(ICD, "M16.12")
    assert (vs.id, code.laterality) == ("hip_oa", "left")


def test_match_concept_reads_every_coding_once() -> None:
    concept = {"coding": [{"system": SCT, "code": "18347007"},
                          {"system": ICD, "code": "M48.062"}, {"code": 5}], "text": "LSS"}
    assert [vs.id for vs, _ in load_code_index().match_concept(concept)] == ["lumbar_stenosis"]
    assert load_code_index().match_concept("not a concept") == []  # type: ignore[arg-type]


def test_duplicate_value_set_ids_are_a_curation_error() -> None:
    vs = ValueSet(id="x", description="d", category="hip_oa", citation="icd10cm",
                  verified="secondary", codes=[{"system": ICD, "code": "M16.9", "display": "d"}])
    with pytest.raises(KnowledgeBaseError, match="defined twice"):
        CodeIndex([vs, vs], [])


def test_spine_categories_cover_spine_value_sets() -> None:
    spine = {vs.id for vs in load_valuesets() if vs.category in SPINE_CATEGORIES}
    assert {"lumbar_stenosis", "lumbar_fusion", "spine_imaging"} <= spine


_ICD_ONLY = CodeIndex(load_valuesets(), [CodeSystem(id="icd10cm", uri=ICD, ignore_dots=True,
                                                   citation="icd10cm")])


@settings(deadline=None)
@given(st.sampled_from([c for vs in load_valuesets() for c in vs.codes if "icd-10" in c.system]),
       st.booleans(), st.booleans())
def test_icd_codes_match_with_or_without_dot_and_case(code: object, drop_dot: bool,
                                                      lower: bool) -> None:
    index = _ICD_ONLY
    text = code.code  # type: ignore[attr-defined]
    text = text.replace(".", "") if drop_dot else text
    text = text.lower() if lower else text
    assert index.match(ICD, text)
